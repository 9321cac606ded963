// The binding's internals shared between its files: the module state, the
// object layouts the Gate reads across types, each type's spec (registered
// by ModuleExec in module.cc) and the functions one file calls in another.
#ifndef PYFRESH_PYTHON_BINDING_INTERNAL_H_
#define PYFRESH_PYTHON_BINDING_INTERNAL_H_

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string>
#include <vector>

#include "pyfresh/change_detector.h"
#include "pyfresh/request_gate.h"
#include "pyfresh/status.h"

namespace pyfresh::binding {

struct ModuleState {
  PyObject* config_error;  // pyfresh.ConfigError (a ValueError)
  PyTypeObject* policy_type;
  PyTypeObject* detector_type;
  PyTypeObject* gate_type;
  PyTypeObject* response_type;
  PyTypeObject* file_wrapper_type;
  PyTypeObject* file_response_type;
};

ModuleState* StateOf(PyObject* module);

// Sets pyfresh._core.ConfigError from a core status; returns null.
PyObject* RaiseConfigError(PyObject* module, const pyfresh::Status& status);

// --- Detector ----------------------------------------------------------------

struct DetectorObject {
  PyObject_HEAD
  pyfresh::ChangeDetector* detector;
  PyObject* log_callback;  // callable(level, str) or None; level is a logging level
};

bool DetectorReady(DetectorObject* self);

// The check of Detector.check() (compares polled files now) and
// Gate.__call__ (the lock-free fast path); -1 on error.
int RunCheck(DetectorObject* self, bool synchronous);

// --- Gate and the responses it returns ----------------------------------------

struct GateObject {
  PyObject_HEAD
  pyfresh::RequestGate* gate;
  PyObject* app;                 // the current WSGI callable
  PyObject* detector;            // DetectorObject or None
  PyObject* on_stale;            // callable(gate) run when the detector finds a stale file, or None
  PyTypeObject* response_type;   // cached from module state at creation
  PyTypeObject* detector_type;
  PyTypeObject* file_wrapper_type;
  PyTypeObject* file_response_type;
  PyObject* file_wrapper_key;    // "wsgi.file_wrapper", interned
  int enabled;
  PyObject* dict;                // instance __dict__ for Python subclasses
};

struct ResponseObject {
  PyObject_HEAD
  PyObject* result;    // what the app returned
  PyObject* iterator;  // iter(result), created on first next()
  GateObject* gate;    // strong reference; released on close
  int closed;
};

// The host's file_wrapper (uWSGI, mod_wsgi) recognises the object it
// returned and sends the file itself (sendfile, or read() of a PEP 3333
// file-like object): the Gate must return that object untouched. So each
// request's environ gets a FileWrapper that hands the host a FileResponse
// standing for the app's file: every attribute is the file's, except
// close(), which also ends the request in the gate. The Gate passes the
// host's object through and lets the FileResponse carry the request.
struct FileResponseObject {
  PyObject_HEAD
  PyObject* filelike;  // what the app gave to wsgi.file_wrapper
  GateObject* gate;    // set while it carries a request; released on close
  int closed;
};

struct FileWrapperObject {
  PyObject_HEAD
  PyObject* host;                    // the server's wsgi.file_wrapper
  PyTypeObject* file_response_type;  // strong reference
  PyObject* file_response;           // the last FileResponse made, or null
  PyObject* returned;                // what the host returned for it, or null
  const void* owner;                 // the gate that made it (compared, never followed)
};


int OfferFileWrapper(GateObject* gate, PyObject* environ, PyObject** file_wrapper);
FileResponseObject* FileResponseFor(GateObject* gate, PyObject* file_wrapper, PyObject* result);

// --- type specs, registered by ModuleExec -------------------------------------

extern PyType_Spec policy_spec;
extern PyType_Spec detector_spec;
extern PyType_Spec gate_spec;
extern PyType_Spec response_spec;
extern PyType_Spec file_wrapper_spec;
extern PyType_Spec file_response_spec;

}  // namespace pyfresh::binding

extern PyModuleDef pyfresh_core_module_def;

#endif  // PYFRESH_PYTHON_BINDING_INTERNAL_H_
