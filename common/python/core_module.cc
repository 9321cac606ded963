// pyfresh._core: the CPython binding of the reload core.
//
// Written against the C API with multi-phase initialisation (PEP 489) and
// per-module state instead of pybind11: pybind11 2.10 deadlocks when first
// imported in a sub-interpreter (mod_wsgi application groups, uWSGI
// mountpoints), while a module like this one imports and runs in every
// interpreter. Every C++ exception is caught here before it reaches CPython.

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "pyfresh/app_spec.h"
#include "pyfresh/change_detector.h"
#include "pyfresh/config.h"
#include "pyfresh/directory_watcher.h"
#include "pyfresh/filesystem.h"
#include "pyfresh/package_policy.h"
#include "pyfresh/request_gate.h"
#include "binding/options.h"

namespace {

struct ModuleState {
  PyObject* config_error;  // pyfresh.ConfigError (a ValueError)
  PyTypeObject* policy_type;
  PyTypeObject* detector_type;
  PyTypeObject* gate_type;
  PyTypeObject* response_type;
  PyTypeObject* file_wrapper_type;
  PyTypeObject* file_response_type;
};

ModuleState* StateOf(PyObject* module) { return static_cast<ModuleState*>(PyModule_GetState(module)); }

// Converts a C++ exception escaping the core into a Python exception.
PyObject* SetErrorFromCurrentException() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  } catch (const std::exception& error) {
    PyErr_Format(PyExc_RuntimeError, "pyfresh internal error: %s", error.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "pyfresh internal error");
  }
  return nullptr;
}

bool ToUtf8(PyObject* object, std::string* out, const char* what) {
  if (!PyUnicode_Check(object)) {
    PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(object)->tp_name);
    return false;
  }
  // surrogateescape: a path that os.fsdecode() (or ToPyList) made from
  // non-UTF-8 bytes, or from any non-ASCII bytes when the filesystem
  // encoding is ASCII (mod_wsgi under Debian's LANG=C), gets its bytes back.
  PyObject* bytes = PyUnicode_AsEncodedString(object, "utf-8", "surrogateescape");
  if (bytes == nullptr) return false;
  out->assign(PyBytes_AS_STRING(bytes), static_cast<size_t>(PyBytes_GET_SIZE(bytes)));
  Py_DECREF(bytes);
  return true;
}

// Text the core kept verbatim (paths, app specs), as os functions spell it.
PyObject* FromPathBytes(const std::string& value) {
  return PyUnicode_DecodeFSDefaultAndSize(value.data(), static_cast<Py_ssize_t>(value.size()));
}

// Accepts a str (one path/name) or any iterable of str.
bool ToStringList(PyObject* object, std::vector<std::string>* out, const char* what) {
  if (PyUnicode_Check(object)) {
    std::string value;
    if (!ToUtf8(object, &value, what)) return false;
    out->push_back(std::move(value));
    return true;
  }
  PyObject* iterator = PyObject_GetIter(object);
  if (iterator == nullptr) return false;
  while (PyObject* item = PyIter_Next(iterator)) {
    std::string value;
    bool ok = ToUtf8(item, &value, what);
    Py_DECREF(item);
    if (!ok) {
      Py_DECREF(iterator);
      return false;
    }
    out->push_back(std::move(value));
  }
  Py_DECREF(iterator);
  return !PyErr_Occurred();
}

PyObject* ToPyList(const std::vector<std::string>& values) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(values.size()));
  if (list == nullptr) return nullptr;
  for (size_t i = 0; i < values.size(); ++i) {
    PyObject* item = FromPathBytes(values[i]);
    if (item == nullptr) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
  }
  return list;
}

// Module names are text in every locale: UTF-8, never the filesystem
// encoding (ASCII under mod_wsgi with LANG=C would turn "donn\u00e9es" into
// surrogates that match no module).
PyObject* ToPyNameList(const std::vector<std::string>& names) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(names.size()));
  if (list == nullptr) return nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    PyObject* item = PyUnicode_DecodeUTF8(names[i].data(), static_cast<Py_ssize_t>(names[i].size()),
                                          "surrogateescape");
    if (item == nullptr) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
  }
  return list;
}

PyObject* RaiseConfigError(PyObject* module, const pyfresh::Status& status) {
  PyErr_SetString(StateOf(module)->config_error, status.message().c_str());
  return nullptr;
}

// --- PackagePolicy -----------------------------------------------------------

struct PolicyObject {
  PyObject_HEAD
  pyfresh::PackagePolicy* policy;
};

int PolicyInit(PyObject* self_object, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  static const char* keywords[] = {"packages", "exclude", nullptr};
  PyObject* packages_object = nullptr;
  PyObject* exclude_object = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:PackagePolicy", const_cast<char**>(keywords),
                                   &packages_object, &exclude_object)) {
    return -1;
  }
  try {
    std::vector<std::string> packages, exclude;
    if (!ToStringList(packages_object, &packages, "package name")) return -1;
    if (exclude_object != nullptr && !ToStringList(exclude_object, &exclude, "excluded module name")) return -1;
    pyfresh::PackagePolicy policy;
    pyfresh::Status status = pyfresh::PackagePolicy::Create(std::move(packages), std::move(exclude), &policy);
    if (!status.ok()) {
      PyObject* module = PyType_GetModule(Py_TYPE(self_object));
      if (module == nullptr) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, status.message().c_str());
      } else {
        RaiseConfigError(module, status);
      }
      return -1;
    }
    delete self->policy;
    self->policy = new pyfresh::PackagePolicy(std::move(policy));
    return 0;
  } catch (...) {
    SetErrorFromCurrentException();
    return -1;
  }
}

void PolicyDealloc(PyObject* self_object) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  PyTypeObject* type = Py_TYPE(self_object);
  delete self->policy;
  type->tp_free(self_object);
  Py_DECREF(type);
}

bool PolicyReady(PolicyObject* self) {
  if (self->policy != nullptr) return true;
  PyErr_SetString(PyExc_RuntimeError, "PackagePolicy was not initialised");
  return false;
}

// Asks the policy one question about a module name given as str.
PyObject* AskPolicy(PyObject* self_object, PyObject* name_object,
                    bool (pyfresh::PackagePolicy::*question)(std::string_view) const) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  if (!PolicyReady(self) || !PyUnicode_Check(name_object)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "module name must be str");
    return nullptr;
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(name_object, &size);
  if (data == nullptr) return nullptr;
  return PyBool_FromLong((self->policy->*question)(std::string_view(data, static_cast<size_t>(size))));
}

PyObject* PolicyCovers(PyObject* self_object, PyObject* name_object) {
  return AskPolicy(self_object, name_object, &pyfresh::PackagePolicy::Covers);
}

PyObject* PolicyIsExcluded(PyObject* self_object, PyObject* name_object) {
  return AskPolicy(self_object, name_object, &pyfresh::PackagePolicy::IsExcluded);
}

PyObject* PolicyPackages(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  if (!PolicyReady(self)) return nullptr;
  return ToPyNameList(self->policy->packages());
}

PyObject* PolicyExclude(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  if (!PolicyReady(self)) return nullptr;
  return ToPyNameList(self->policy->exclude());
}

PyMethodDef policy_methods[] = {
    {"covers", PolicyCovers, METH_O, "True when a reload clears this module."},
    {"is_excluded", PolicyIsExcluded, METH_O, "True when this module is kept across reloads."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef policy_getset[] = {
    {"packages", PolicyPackages, nullptr, "The package prefixes.", nullptr},
    {"exclude", PolicyExclude, nullptr, "The excluded modules.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot policy_slots[] = {
    {Py_tp_init, reinterpret_cast<void*>(PolicyInit)},
    {Py_tp_dealloc, reinterpret_cast<void*>(PolicyDealloc)},
    {Py_tp_methods, policy_methods},
    {Py_tp_getset, policy_getset},
    {Py_tp_doc, const_cast<char*>("PackagePolicy(packages, exclude=()): which modules a reload clears.")},
    {0, nullptr},
};

PyType_Spec policy_spec = {"pyfresh._core.PackagePolicy", sizeof(PolicyObject), 0, Py_TPFLAGS_DEFAULT, policy_slots};

// --- Detector ----------------------------------------------------------------

// Messages from the core are queued and handed to Python only after the core
// call returns: calling Python while the detector holds its mutex could let
// another thread take the GIL and block on that mutex (deadlock).
struct PendingLog {
  std::mutex mutex;
  std::vector<std::string> messages;
};

struct DetectorObject {
  PyObject_HEAD
  pyfresh::ChangeDetector* detector;
  PendingLog* pending_log;
  PyObject* log_callback;  // callable(str) or None
};

int FlushDetectorLog(DetectorObject* self) {
  std::vector<std::string> messages;
  {
    std::lock_guard<std::mutex> lock(self->pending_log->mutex);
    if (self->pending_log->messages.empty()) return 0;
    messages.swap(self->pending_log->messages);
  }
  if (self->log_callback == nullptr || self->log_callback == Py_None) return 0;
  for (const std::string& message : messages) {
    PyObject* result = PyObject_CallFunction(self->log_callback, "s#", message.data(),
                                             static_cast<Py_ssize_t>(message.size()));
    if (result == nullptr) return -1;
    Py_DECREF(result);
  }
  return 0;
}

bool HasPendingLog(DetectorObject* self) {
  std::lock_guard<std::mutex> lock(self->pending_log->mutex);
  return !self->pending_log->messages.empty();
}

int DetectorInit(PyObject* self_object, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  static const char* keywords[] = {"poll_interval", "log", nullptr};
  PyObject* interval_object = Py_None;
  PyObject* log_object = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:Detector", const_cast<char**>(keywords), &interval_object,
                                   &log_object)) {
    return -1;
  }
  if (self->detector != nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "Detector is already initialised");
    return -1;
  }
  pyfresh::DetectorOptions options;
  if (interval_object != Py_None) {
    double seconds = PyFloat_AsDouble(interval_object);
    if (seconds == -1.0 && PyErr_Occurred()) return -1;
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 86400) {
      PyErr_Format(PyExc_ValueError, "poll_interval must be between 0 and 86400 seconds, not %R", interval_object);
      return -1;
    }
    options.force_polling = true;
    options.poll_interval_ns = static_cast<int64_t>(seconds * 1e9);
  }
  if (log_object != Py_None && !PyCallable_Check(log_object)) {
    PyErr_SetString(PyExc_TypeError, "log must be a callable taking one str");
    return -1;
  }
  try {
    self->pending_log = new PendingLog();
    PendingLog* pending = self->pending_log;
    self->detector = new pyfresh::ChangeDetector(
        options, pyfresh::RealFilesystem(), pyfresh::RealClock(), pyfresh::CreateInotifyWatcher,
        [pending](std::string_view message) {
          std::lock_guard<std::mutex> lock(pending->mutex);
          pending->messages.emplace_back(message);
        });
  } catch (...) {
    SetErrorFromCurrentException();
    return -1;
  }
  Py_INCREF(log_object);
  Py_XSETREF(self->log_callback, log_object);
  return 0;
}

int DetectorTraverse(PyObject* self_object, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  Py_VISIT(Py_TYPE(self_object));
  Py_VISIT(self->log_callback);
  return 0;
}

int DetectorClear(PyObject* self_object) {
  Py_CLEAR(reinterpret_cast<DetectorObject*>(self_object)->log_callback);
  return 0;
}

void DetectorDealloc(PyObject* self_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  PyTypeObject* type = Py_TYPE(self_object);
  PyObject_GC_UnTrack(self_object);
  DetectorClear(self_object);
  delete self->detector;
  delete self->pending_log;
  type->tp_free(self_object);
  Py_DECREF(type);
}

bool DetectorReady(DetectorObject* self) {
  if (self->detector != nullptr) return true;
  PyErr_SetString(PyExc_RuntimeError, "Detector was not initialised");
  return false;
}

// A path, or an iterable of paths (str or bytes), as the filesystem's bytes.
bool ToPathList(PyObject* object, std::vector<std::string>* out) {
  auto append = [out](PyObject* item) {
    PyObject* encoded = nullptr;
    if (!PyUnicode_FSConverter(item, &encoded)) return false;
    out->emplace_back(PyBytes_AS_STRING(encoded), static_cast<size_t>(PyBytes_GET_SIZE(encoded)));
    Py_DECREF(encoded);
    return true;
  };
  if (PyUnicode_Check(object) || PyBytes_Check(object)) return append(object);
  PyObject* iterator = PyObject_GetIter(object);
  if (iterator == nullptr) return false;
  while (PyObject* item = PyIter_Next(iterator)) {
    bool ok = append(item);
    Py_DECREF(item);
    if (!ok) {
      Py_DECREF(iterator);
      return false;
    }
  }
  Py_DECREF(iterator);
  return !PyErr_Occurred();
}

PyObject* DetectorTrack(PyObject* self_object, PyObject* paths_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  try {
    std::vector<std::string> paths;
    if (!ToPathList(paths_object, &paths)) return nullptr;
    self->detector->Track(paths);
  } catch (...) {
    return SetErrorFromCurrentException();
  }
  if (FlushDetectorLog(self) < 0) return nullptr;
  Py_RETURN_NONE;
}

PyObject* DetectorRetainOnly(PyObject* self_object, PyObject* paths_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  try {
    std::vector<std::string> paths;
    if (!ToPathList(paths_object, &paths)) return nullptr;
    self->detector->RetainOnly(std::unordered_set<std::string>(paths.begin(), paths.end()));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
  Py_RETURN_NONE;
}

PyObject* DetectorAcceptSeen(PyObject* self_object, PyObject* paths_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  try {
    std::vector<std::string> paths;
    if (!ToPathList(paths_object, &paths)) return nullptr;
    self->detector->AcceptSeen(paths);
  } catch (...) {
    return SetErrorFromCurrentException();
  }
  Py_RETURN_NONE;
}

PyObject* DetectorUnsettled(PyObject* self_object, PyObject* paths_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  PyObject* result = nullptr;
  try {
    std::vector<std::string> paths;
    if (!ToPathList(paths_object, &paths)) return nullptr;
    result = ToPyList(self->detector->Unsettled(paths));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
  if (result != nullptr && HasPendingLog(self) && FlushDetectorLog(self) < 0) Py_CLEAR(result);
  return result;
}

// The check of Detector.check() (compares polled files now) and
// Gate.__call__ (the lock-free fast path); -1 on error.
int RunCheck(DetectorObject* self, bool synchronous) {
  bool stale = false;
  try {
    stale = synchronous ? self->detector->CheckNow() : self->detector->Check();
  } catch (...) {
    SetErrorFromCurrentException();
    return -1;
  }
  if (HasPendingLog(self) && FlushDetectorLog(self) < 0) return -1;
  return stale ? 1 : 0;
}

PyObject* DetectorCheck(PyObject* self_object, PyObject*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  int stale = RunCheck(self, /*synchronous=*/true);
  if (stale < 0) return nullptr;
  return PyBool_FromLong(stale);
}

// The check a request makes (Gate.__call__): lock-free, at most one full
// comparison of polled files per poll interval. For callers that must not
// cost more than a request does (live reload's change checks).
PyObject* DetectorRequestCheck(PyObject* self_object, PyObject*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  int stale = RunCheck(self, /*synchronous=*/false);
  if (stale < 0) return nullptr;
  return PyBool_FromLong(stale);
}

// Detector.wait(timeout): WaitForChange with the GIL released; a signal
// (Ctrl-C) that ends the sleep raises here, as time.sleep() would.
PyObject* DetectorWait(PyObject* self_object, PyObject* timeout_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  const double seconds = PyFloat_AsDouble(timeout_object);
  if (seconds == -1.0 && PyErr_Occurred()) return nullptr;
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 86400) {
    PyErr_Format(PyExc_ValueError, "timeout must be between 0 and 86400 seconds, not %R", timeout_object);
    return nullptr;
  }
  bool stale = false;
  std::exception_ptr failure;
  Py_BEGIN_ALLOW_THREADS
  try {
    stale = self->detector->WaitForChange(static_cast<int64_t>(seconds * 1e9));
  } catch (...) {
    failure = std::current_exception();
  }
  Py_END_ALLOW_THREADS
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (...) {
      return SetErrorFromCurrentException();
    }
  }
  if (HasPendingLog(self) && FlushDetectorLog(self) < 0) return nullptr;
  if (PyErr_CheckSignals() < 0) return nullptr;
  return PyBool_FromLong(stale);
}

PyObject* DetectorStalePaths(PyObject* self_object, PyObject*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  try {
    return ToPyList(self->detector->StalePaths());
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

PyObject* DetectorMethod(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  return PyUnicode_FromString(pyfresh::DetectionMethodName(self->detector->method()));
}

PyObject* DetectorTrackedCount(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  return PyLong_FromSize_t(self->detector->tracked_count());
}

PyObject* DetectorWatchedCount(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  return PyLong_FromSize_t(self->detector->watched_directory_count());
}

PyObject* DetectorPolledCount(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  return PyLong_FromSize_t(self->detector->polled_count());
}

PyMethodDef detector_methods[] = {
    {"track", DetectorTrack, METH_O, "Record the current identity of a path (or iterable of paths) as its baseline."},
    {"retain_only", DetectorRetainOnly, METH_O, "Stop tracking every path not in the iterable."},
    {"accept_seen", DetectorAcceptSeen, METH_O,
     "For each stale path: accept the identity seen when it was found stale (not a fresh stat), "
     "then compare once with the file now."},
    {"unsettled", DetectorUnsettled, METH_O,
     "The given paths still being written (inotify: modified and not closed; polled: changed since the "
     "previous look)."},
    {"check", DetectorCheck, METH_NOARGS,
     "True when at least one tracked file is stale; compares polled files whatever the poll interval."},
    {"stale_paths", DetectorStalePaths, METH_NOARGS, "The stale paths, sorted."},
    {"request_check", DetectorRequestCheck, METH_NOARGS,
     "The check each request makes: True when a tracked file is stale; polled files are compared at most "
     "once per poll interval."},
    {"wait", DetectorWait, METH_O,
     "wait(timeout): check(); when nothing is stale, sleep (GIL released) at most timeout seconds for a "
     "change and check again. False means nothing is stale yet (call it again)."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef detector_getset[] = {
    {"method", DetectorMethod, nullptr, "'not started', 'inotify' or 'polling'.", nullptr},
    {"tracked_count", DetectorTrackedCount, nullptr, "Number of tracked paths.", nullptr},
    {"watched_directory_count", DetectorWatchedCount, nullptr, "Number of watched directories.", nullptr},
    {"polled_count", DetectorPolledCount, nullptr,
     "Number of tracked paths compared by stat (their directory cannot be watched).", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot detector_slots[] = {
    {Py_tp_init, reinterpret_cast<void*>(DetectorInit)},
    {Py_tp_dealloc, reinterpret_cast<void*>(DetectorDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(DetectorTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(DetectorClear)},
    {Py_tp_methods, detector_methods},
    {Py_tp_getset, detector_getset},
    {Py_tp_doc, const_cast<char*>("Detector(poll_interval=None, log=None): tells when tracked files are stale.")},
    {0, nullptr},
};

PyType_Spec detector_spec = {"pyfresh._core.Detector", sizeof(DetectorObject), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, detector_slots};

// --- Gate: the WSGI hot path ---------------------------------------------------

struct GateObject {
  PyObject_HEAD
  pyfresh::RequestGate* gate;
  PyObject* app;                 // the current WSGI callable
  PyObject* detector;            // DetectorObject or None
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

}  // namespace
extern PyModuleDef pyfresh_core_module_def;
namespace {

PyObject* GateNew(PyTypeObject* type, PyObject*, PyObject*) {
  // Gate instances use the Response and Detector types of their own module
  // (each interpreter has its own); found through the (sub)class's MRO.
  PyObject* module = PyType_GetModuleByDef(type, &pyfresh_core_module_def);
  if (module == nullptr) return nullptr;
  ModuleState* state = StateOf(module);
  auto* self = reinterpret_cast<GateObject*>(type->tp_alloc(type, 0));
  if (self == nullptr) return nullptr;
  Py_INCREF(state->response_type);
  self->response_type = state->response_type;
  Py_INCREF(state->detector_type);
  self->detector_type = state->detector_type;
  Py_INCREF(state->file_wrapper_type);
  self->file_wrapper_type = state->file_wrapper_type;
  Py_INCREF(state->file_response_type);
  self->file_response_type = state->file_response_type;
  self->file_wrapper_key = PyUnicode_InternFromString("wsgi.file_wrapper");
  if (self->file_wrapper_key == nullptr) {
    Py_DECREF(self);
    return nullptr;
  }
  try {
    self->gate = new pyfresh::RequestGate();
  } catch (...) {
    Py_DECREF(self);
    return SetErrorFromCurrentException();
  }
  Py_INCREF(Py_None);
  self->app = Py_None;
  Py_INCREF(Py_None);
  self->detector = Py_None;
  self->enabled = 1;
  return reinterpret_cast<PyObject*>(self);
}

int GateTraverse(PyObject* self_object, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<GateObject*>(self_object);
  Py_VISIT(Py_TYPE(self_object));
  Py_VISIT(self->app);
  Py_VISIT(self->detector);
  Py_VISIT(self->dict);
  return 0;
}

int GateClear(PyObject* self_object) {
  auto* self = reinterpret_cast<GateObject*>(self_object);
  Py_CLEAR(self->app);
  Py_CLEAR(self->detector);
  Py_CLEAR(self->dict);
  return 0;
}

void GateDealloc(PyObject* self_object) {
  auto* self = reinterpret_cast<GateObject*>(self_object);
  PyTypeObject* type = Py_TYPE(self_object);
  PyObject_GC_UnTrack(self_object);
  GateClear(self_object);
  Py_CLEAR(self->response_type);
  Py_CLEAR(self->detector_type);
  Py_CLEAR(self->file_wrapper_type);
  Py_CLEAR(self->file_response_type);
  Py_CLEAR(self->file_wrapper_key);
  delete self->gate;
  type->tp_free(self_object);
  Py_DECREF(type);
}

int OfferFileWrapper(GateObject* gate, PyObject* environ, PyObject** file_wrapper);
FileResponseObject* FileResponseFor(GateObject* gate, PyObject* file_wrapper, PyObject* result);

PyObject* GateCall(PyObject* self_object, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<GateObject*>(self_object);
  if (!self->enabled) return PyObject_Call(self->app, args, kwargs);

  if (self->detector != Py_None) {
    int stale = RunCheck(reinterpret_cast<DetectorObject*>(self->detector), /*synchronous=*/false);
    if (stale < 0) return nullptr;
    if (stale) {
      PyObject* done = PyObject_CallMethod(self_object, "_on_stale", nullptr);
      if (done == nullptr) return nullptr;
      Py_DECREF(done);
    }
  }

  pyfresh::RequestGate* gate = self->gate;
  if (!gate->TryEnter()) {
    Py_BEGIN_ALLOW_THREADS
    gate->Enter();
    Py_END_ALLOW_THREADS
  }
  // The host's file_wrapper, if any, is replaced for this request.
  PyObject* file_wrapper = nullptr;
  if (PyTuple_GET_SIZE(args) >= 1 && PyDict_CheckExact(PyTuple_GET_ITEM(args, 0))) {
    if (OfferFileWrapper(self, PyTuple_GET_ITEM(args, 0), &file_wrapper) < 0) {
      gate->Leave();
      return nullptr;
    }
  }
  // Read the app only after entering: a reload that just ended swapped it.
  PyObject* app = self->app;
  Py_INCREF(app);
  PyObject* result = PyObject_Call(app, args, kwargs);
  Py_DECREF(app);
  if (result == nullptr) {
    Py_XDECREF(file_wrapper);
    gate->Leave();
    return nullptr;
  }
  // The host's own file response: untouched, and its FileResponse ends the
  // request when the host closes it.
  FileResponseObject* file_response = FileResponseFor(self, file_wrapper, result);
  Py_XDECREF(file_wrapper);
  if (file_response != nullptr) {
    Py_INCREF(self_object);
    file_response->gate = self;
    return result;
  }
  // A list or tuple is complete: no app code runs after this point.
  if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) {
    gate->Leave();
    return result;
  }
  auto* response = PyObject_GC_New(ResponseObject, self->response_type);
  if (response == nullptr) {
    gate->Leave();
    PyObject* close = PyObject_GetAttrString(result, "close");
    if (close != nullptr) Py_XDECREF(PyObject_CallNoArgs(close));
    Py_XDECREF(close);
    Py_DECREF(result);
    return nullptr;
  }
  Py_INCREF(self->response_type);  // instances of heap types own a type reference
  response->result = result;
  response->iterator = nullptr;
  Py_INCREF(self_object);
  response->gate = self;
  response->closed = 0;
  PyObject_GC_Track(response);
  return reinterpret_cast<PyObject*>(response);
}

PyObject* GateBeginReload(PyObject* self_object, PyObject* args) {
  auto* self = reinterpret_cast<GateObject*>(self_object);
  double timeout = 10.0;
  if (!PyArg_ParseTuple(args, "|d:begin_reload", &timeout)) return nullptr;
  if (!std::isfinite(timeout) || timeout < 0) {
    PyErr_SetString(PyExc_ValueError, "drain timeout must be a non-negative number of seconds");
    return nullptr;
  }
  bool drained = false;
  pyfresh::RequestGate::ReloadRole role;
  int64_t timeout_ns = static_cast<int64_t>(timeout * 1e9);
  Py_BEGIN_ALLOW_THREADS
  role = self->gate->BeginReload(timeout_ns, &drained);
  Py_END_ALLOW_THREADS
  return Py_BuildValue("(OO)", role == pyfresh::RequestGate::ReloadRole::kOwner ? Py_True : Py_False,
                       drained ? Py_True : Py_False);
}

PyObject* GateEndReload(PyObject* self_object, PyObject*) {
  reinterpret_cast<GateObject*>(self_object)->gate->EndReload();
  Py_RETURN_NONE;
}

PyObject* GateGetApp(PyObject* self_object, void*) {
  PyObject* app = reinterpret_cast<GateObject*>(self_object)->app;
  Py_INCREF(app);
  return app;
}

int GateSetApp(PyObject* self_object, PyObject* value, void*) {
  if (value == nullptr || !PyCallable_Check(value)) {
    PyErr_SetString(PyExc_TypeError, "app must be a WSGI callable");
    return -1;
  }
  Py_INCREF(value);
  Py_XSETREF(reinterpret_cast<GateObject*>(self_object)->app, value);
  return 0;
}

PyObject* GateGetDetector(PyObject* self_object, void*) {
  PyObject* detector = reinterpret_cast<GateObject*>(self_object)->detector;
  Py_INCREF(detector);
  return detector;
}

int GateSetDetector(PyObject* self_object, PyObject* value, void*) {
  auto* self = reinterpret_cast<GateObject*>(self_object);
  if (value == nullptr || (value != Py_None && !PyObject_TypeCheck(value, self->detector_type))) {
    PyErr_SetString(PyExc_TypeError, "detector must be a pyfresh._core.Detector or None");
    return -1;
  }
  if (value != Py_None && !DetectorReady(reinterpret_cast<DetectorObject*>(value))) return -1;
  Py_INCREF(value);
  Py_XSETREF(self->detector, value);
  return 0;
}

PyObject* GateGetEnabled(PyObject* self_object, void*) {
  return PyBool_FromLong(reinterpret_cast<GateObject*>(self_object)->enabled);
}

int GateSetEnabled(PyObject* self_object, PyObject* value, void*) {
  if (value == nullptr) {
    PyErr_SetString(PyExc_AttributeError, "enabled cannot be deleted");
    return -1;
  }
  int truth = PyObject_IsTrue(value);
  if (truth < 0) return -1;
  reinterpret_cast<GateObject*>(self_object)->enabled = truth;
  return 0;
}

PyObject* GateInFlight(PyObject* self_object, void*) {
  return PyLong_FromLong(reinterpret_cast<GateObject*>(self_object)->gate->in_flight());
}

PyObject* GateReloading(PyObject* self_object, void*) {
  return PyBool_FromLong(reinterpret_cast<GateObject*>(self_object)->gate->reloading());
}

PyMethodDef gate_methods[] = {
    {"begin_reload", GateBeginReload, METH_VARARGS,
     "begin_reload(drain_timeout) -> (owner, drained): wait (GIL released) until no request is in flight."},
    {"end_reload", GateEndReload, METH_NOARGS, "Let waiting requests in."},
    {nullptr, nullptr, 0, nullptr},
};

PyMemberDef gate_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(GateObject, dict), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyGetSetDef gate_getset[] = {
    {"app", GateGetApp, GateSetApp, "The WSGI callable requests are served by.", nullptr},
    {"detector", GateGetDetector, GateSetDetector, "The Detector checked on each request.", nullptr},
    {"enabled", GateGetEnabled, GateSetEnabled, "When false, requests go straight to the app.", nullptr},
    {"in_flight", GateInFlight, nullptr, "Requests inside the app now.", nullptr},
    {"reloading", GateReloading, nullptr, "Whether a reload is in progress now.", nullptr},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot gate_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(GateNew)},
    {Py_tp_dealloc, reinterpret_cast<void*>(GateDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(GateTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(GateClear)},
    {Py_tp_call, reinterpret_cast<void*>(GateCall)},
    {Py_tp_methods, gate_methods},
    {Py_tp_members, gate_members},
    {Py_tp_getset, gate_getset},
    {Py_tp_doc, const_cast<char*>("The per-request path of a Reloader: check, gate, call, track the response.")},
    {0, nullptr},
};

PyType_Spec gate_spec = {"pyfresh._core.Gate", sizeof(GateObject), 0,
                         Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, gate_slots};

// --- Response: keeps a streaming response in flight until close() ----------

// Closes the wrapped result once and lets the gate count the request out.
// Returns -1 with an exception set when result.close() failed.
int ResponseFinish(ResponseObject* self) {
  if (self->closed) return 0;
  self->closed = 1;
  int rc = 0;
  if (self->result != nullptr) {
    PyObject* close = PyObject_GetAttrString(self->result, "close");
    if (close == nullptr) {
      if (PyErr_ExceptionMatches(PyExc_AttributeError)) PyErr_Clear(); else rc = -1;
    } else {
      PyObject* done = PyObject_CallNoArgs(close);
      Py_DECREF(close);
      if (done == nullptr) rc = -1; else Py_DECREF(done);
    }
  }
  if (self->gate != nullptr) {
    self->gate->gate->Leave();
    Py_CLEAR(self->gate);
  }
  return rc;
}

PyObject* ResponseIter(PyObject* self_object) {
  Py_INCREF(self_object);
  return self_object;
}

PyObject* ResponseNext(PyObject* self_object) {
  auto* self = reinterpret_cast<ResponseObject*>(self_object);
  if (self->closed || self->result == nullptr) return nullptr;
  if (self->iterator == nullptr) {
    self->iterator = PyObject_GetIter(self->result);
    if (self->iterator == nullptr) return nullptr;
  }
  return PyIter_Next(self->iterator);
}

PyObject* ResponseClose(PyObject* self_object, PyObject*) {
  if (ResponseFinish(reinterpret_cast<ResponseObject*>(self_object)) < 0) return nullptr;
  Py_RETURN_NONE;
}

int ResponseTraverse(PyObject* self_object, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<ResponseObject*>(self_object);
  Py_VISIT(Py_TYPE(self_object));
  Py_VISIT(self->result);
  Py_VISIT(self->iterator);
  Py_VISIT(reinterpret_cast<PyObject*>(self->gate));
  return 0;
}

int ResponseClear(PyObject* self_object) {
  auto* self = reinterpret_cast<ResponseObject*>(self_object);
  // A response dropped without close() (a server that breaks PEP 3333) must
  // not keep the gate closed for ever.
  if (!self->closed && ResponseFinish(self) < 0) PyErr_WriteUnraisable(self_object);
  Py_CLEAR(self->iterator);
  Py_CLEAR(self->result);
  return 0;
}

void ResponseDealloc(PyObject* self_object) {
  PyTypeObject* type = Py_TYPE(self_object);
  PyObject_GC_UnTrack(self_object);
  ResponseClear(self_object);
  type->tp_free(self_object);
  Py_DECREF(type);
}

PyMethodDef response_methods[] = {
    {"close", ResponseClose, METH_NOARGS, "Close the app's response and end the request."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot response_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(ResponseDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(ResponseTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(ResponseClear)},
    {Py_tp_iter, reinterpret_cast<void*>(ResponseIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(ResponseNext)},
    {Py_tp_methods, response_methods},
    {Py_tp_doc, const_cast<char*>("A streaming WSGI response that counts as in flight until closed.")},
    {0, nullptr},
};

PyType_Spec response_spec = {"pyfresh._core.Response", sizeof(ResponseObject), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
                             response_slots};

// --- FileWrapper / FileResponse: the host's file response passed through ------

// Puts this request's FileWrapper into environ in place of the host's
// wsgi.file_wrapper (*file_wrapper: a new reference, or null when the host
// has none). -1 with an exception set on failure.
int OfferFileWrapper(GateObject* gate, PyObject* environ, PyObject** file_wrapper) {
  *file_wrapper = nullptr;
  PyObject* host = PyDict_GetItemWithError(environ, gate->file_wrapper_key);
  if (host == nullptr) return PyErr_Occurred() ? -1 : 0;
  // An environ this gate already served (a middleware calling it again with
  // the same dict): wrap the host's wrapper, not ours, so nothing nests.
  if (Py_TYPE(host) == gate->file_wrapper_type &&
      reinterpret_cast<FileWrapperObject*>(host)->owner == static_cast<const void*>(gate)) {
    host = reinterpret_cast<FileWrapperObject*>(host)->host;
  }
  auto* wrapper = PyObject_GC_New(FileWrapperObject, gate->file_wrapper_type);
  if (wrapper == nullptr) return -1;
  Py_INCREF(gate->file_wrapper_type);  // instances of heap types own a type reference
  Py_INCREF(host);
  wrapper->host = host;
  Py_INCREF(gate->file_response_type);
  wrapper->file_response_type = gate->file_response_type;
  wrapper->file_response = nullptr;
  wrapper->returned = nullptr;
  wrapper->owner = gate;
  PyObject_GC_Track(wrapper);
  if (PyDict_SetItem(environ, gate->file_wrapper_key, reinterpret_cast<PyObject*>(wrapper)) < 0) {
    Py_DECREF(wrapper);
    return -1;
  }
  *file_wrapper = reinterpret_cast<PyObject*>(wrapper);
  return 0;
}

// The FileResponse that is to carry the request when the app returned the
// host's file response (borrowed), else null. Either the object the host's
// file_wrapper returned in this request, or a FileResponse itself.
FileResponseObject* FileResponseFor(GateObject* gate, PyObject* file_wrapper, PyObject* result) {
  PyObject* candidate = nullptr;
  if (Py_TYPE(result) == gate->file_response_type) {
    candidate = result;
  } else if (file_wrapper != nullptr) {
    auto* wrapper = reinterpret_cast<FileWrapperObject*>(file_wrapper);
    if (wrapper->returned == result) candidate = wrapper->file_response;
  }
  if (candidate == nullptr) return nullptr;
  auto* file_response = reinterpret_cast<FileResponseObject*>(candidate);
  if (file_response->gate != nullptr || file_response->closed) return nullptr;
  return file_response;
}

// FileWrapper(filelike, *rest): the host's file_wrapper, given a
// FileResponse for `filelike`.
PyObject* FileWrapperCall(PyObject* self_object, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<FileWrapperObject*>(self_object);
  if (PyTuple_GET_SIZE(args) < 1) return PyObject_Call(self->host, args, kwargs);
  auto* file_response = PyObject_GC_New(FileResponseObject, self->file_response_type);
  if (file_response == nullptr) return nullptr;
  Py_INCREF(self->file_response_type);
  PyObject* filelike = PyTuple_GET_ITEM(args, 0);
  Py_INCREF(filelike);
  file_response->filelike = filelike;
  file_response->gate = nullptr;
  file_response->closed = 0;
  PyObject_GC_Track(file_response);
  const Py_ssize_t count = PyTuple_GET_SIZE(args);
  PyObject* host_args = PyTuple_New(count);
  if (host_args == nullptr) {
    Py_DECREF(file_response);
    return nullptr;
  }
  Py_INCREF(file_response);
  PyTuple_SET_ITEM(host_args, 0, reinterpret_cast<PyObject*>(file_response));
  for (Py_ssize_t i = 1; i < count; ++i) {
    PyObject* item = PyTuple_GET_ITEM(args, i);
    Py_INCREF(item);
    PyTuple_SET_ITEM(host_args, i, item);
  }
  PyObject* returned = PyObject_Call(self->host, host_args, kwargs);
  Py_DECREF(host_args);
  if (returned == nullptr) {
    Py_DECREF(file_response);
    return nullptr;
  }
  Py_XSETREF(self->file_response, reinterpret_cast<PyObject*>(file_response));
  Py_INCREF(returned);
  Py_XSETREF(self->returned, returned);
  return returned;
}

int FileWrapperTraverse(PyObject* self_object, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<FileWrapperObject*>(self_object);
  Py_VISIT(Py_TYPE(self_object));
  Py_VISIT(reinterpret_cast<PyObject*>(self->file_response_type));
  Py_VISIT(self->host);
  Py_VISIT(self->file_response);
  Py_VISIT(self->returned);
  return 0;
}

int FileWrapperClear(PyObject* self_object) {
  auto* self = reinterpret_cast<FileWrapperObject*>(self_object);
  Py_CLEAR(self->host);
  Py_CLEAR(self->file_response);
  Py_CLEAR(self->returned);
  return 0;
}

void FileWrapperDealloc(PyObject* self_object) {
  PyTypeObject* type = Py_TYPE(self_object);
  PyObject_GC_UnTrack(self_object);
  FileWrapperClear(self_object);
  Py_CLEAR(reinterpret_cast<FileWrapperObject*>(self_object)->file_response_type);
  type->tp_free(self_object);
  Py_DECREF(type);
}

PyType_Slot file_wrapper_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(FileWrapperDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(FileWrapperTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(FileWrapperClear)},
    {Py_tp_call, reinterpret_cast<void*>(FileWrapperCall)},
    {Py_tp_doc, const_cast<char*>("The server's wsgi.file_wrapper, given a FileResponse for the app's file.")},
    {0, nullptr},
};

PyType_Spec file_wrapper_spec = {"pyfresh._core.FileWrapper", sizeof(FileWrapperObject), 0,
                                 Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
                                 file_wrapper_slots};

// Closes the file once and lets the gate count the request out. -1 with an
// exception set when the file's close() failed.
int FileResponseFinish(FileResponseObject* self) {
  if (self->closed) return 0;
  self->closed = 1;
  int rc = 0;
  PyObject* close = PyObject_GetAttrString(self->filelike, "close");
  if (close == nullptr) {
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) PyErr_Clear(); else rc = -1;
  } else {
    PyObject* done = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    if (done == nullptr) rc = -1; else Py_DECREF(done);
  }
  if (self->gate != nullptr) {
    self->gate->gate->Leave();
    Py_CLEAR(self->gate);
  }
  return rc;
}

// Every attribute but its own (close) is the file's: read, fileno, seek...
PyObject* FileResponseGetAttr(PyObject* self_object, PyObject* name) {
  PyObject* found = PyObject_GenericGetAttr(self_object, name);
  if (found != nullptr || !PyErr_ExceptionMatches(PyExc_AttributeError)) return found;
  PyErr_Clear();
  return PyObject_GetAttr(reinterpret_cast<FileResponseObject*>(self_object)->filelike, name);
}

PyObject* FileResponseIter(PyObject* self_object) {
  return PyObject_GetIter(reinterpret_cast<FileResponseObject*>(self_object)->filelike);
}

PyObject* FileResponseClose(PyObject* self_object, PyObject*) {
  if (FileResponseFinish(reinterpret_cast<FileResponseObject*>(self_object)) < 0) return nullptr;
  Py_RETURN_NONE;
}

int FileResponseTraverse(PyObject* self_object, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<FileResponseObject*>(self_object);
  Py_VISIT(Py_TYPE(self_object));
  Py_VISIT(self->filelike);
  Py_VISIT(reinterpret_cast<PyObject*>(self->gate));
  return 0;
}

int FileResponseClear(PyObject* self_object) {
  auto* self = reinterpret_cast<FileResponseObject*>(self_object);
  // Dropped without close() by a server that breaks PEP 3333: the request
  // still ends (the file closes when it is freed).
  if (self->gate != nullptr) {
    self->gate->gate->Leave();
    Py_CLEAR(self->gate);
  }
  Py_CLEAR(self->filelike);
  return 0;
}

void FileResponseDealloc(PyObject* self_object) {
  PyTypeObject* type = Py_TYPE(self_object);
  PyObject_GC_UnTrack(self_object);
  FileResponseClear(self_object);
  type->tp_free(self_object);
  Py_DECREF(type);
}

PyMethodDef file_response_methods[] = {
    {"close", FileResponseClose, METH_NOARGS, "Close the file and end the request."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot file_response_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(FileResponseDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(FileResponseTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(FileResponseClear)},
    {Py_tp_getattro, reinterpret_cast<void*>(FileResponseGetAttr)},
    {Py_tp_iter, reinterpret_cast<void*>(FileResponseIter)},
    {Py_tp_methods, file_response_methods},
    {Py_tp_doc, const_cast<char*>("The app's file as given to the server's file_wrapper; in flight until closed.")},
    {0, nullptr},
};

PyType_Spec file_response_spec = {"pyfresh._core.FileResponse", sizeof(FileResponseObject), 0,
                                  Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
                                  file_response_slots};

// --- module ------------------------------------------------------------------

int ModuleExec(PyObject* module) {
  ModuleState* state = StateOf(module);
  state->config_error = PyErr_NewExceptionWithDoc(
      "pyfresh._core.ConfigError", "An invalid option value; the message names the option and the value.",
      PyExc_ValueError, nullptr);
  if (state->config_error == nullptr) return -1;
  if (PyModule_AddObjectRef(module, "ConfigError", state->config_error) < 0) return -1;
  if (PyModule_AddStringConstant(module, "__version__", PYFRESH_VERSION) < 0) return -1;
  if (pyfresh_binding::AddOptions(module) < 0) return -1;

  auto add_type = [module](PyType_Spec* spec, PyTypeObject** slot) {
    *slot = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(module, spec, nullptr));
    if (*slot == nullptr) return false;
    return PyModule_AddType(module, *slot) == 0;
  };
  if (!add_type(&policy_spec, &state->policy_type)) return -1;
  if (!add_type(&detector_spec, &state->detector_type)) return -1;
  if (!add_type(&response_spec, &state->response_type)) return -1;
  if (!add_type(&file_wrapper_spec, &state->file_wrapper_type)) return -1;
  if (!add_type(&file_response_spec, &state->file_response_type)) return -1;
  if (!add_type(&gate_spec, &state->gate_type)) return -1;
  return 0;
}

int ModuleTraverse(PyObject* module, visitproc visit, void* arg) {
  ModuleState* state = StateOf(module);
  if (state == nullptr) return 0;
  Py_VISIT(state->config_error);
  Py_VISIT(state->policy_type);
  Py_VISIT(state->detector_type);
  Py_VISIT(state->gate_type);
  Py_VISIT(state->response_type);
  Py_VISIT(state->file_wrapper_type);
  Py_VISIT(state->file_response_type);
  return 0;
}

int ModuleClear(PyObject* module) {
  ModuleState* state = StateOf(module);
  if (state == nullptr) return 0;
  Py_CLEAR(state->config_error);
  Py_CLEAR(state->policy_type);
  Py_CLEAR(state->detector_type);
  Py_CLEAR(state->gate_type);
  Py_CLEAR(state->response_type);
  Py_CLEAR(state->file_wrapper_type);
  Py_CLEAR(state->file_response_type);
  return 0;
}

void ModuleFree(void* module) { ModuleClear(static_cast<PyObject*>(module)); }

PyObject* ForkGeneration(PyObject*, PyObject*) { return PyLong_FromUnsignedLongLong(pyfresh::CurrentForkGeneration()); }

// --- find_module_globals -----------------------------------------------------

// True when `value` is one of `objects` or its type derives from one of
// `types` (both tuples). Reads the object's header only: no reference is
// taken and no Python code runs (no __class__, __eq__ or __subclasscheck__).
bool GlobalMatches(PyObject* value, PyObject* types, PyObject* objects) {
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(objects); ++i) {
    if (value == PyTuple_GET_ITEM(objects, i)) return true;
  }
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(types); ++i) {
    PyObject* type = PyTuple_GET_ITEM(types, i);
    if (PyType_Check(type) && PyType_IsSubtype(Py_TYPE(value), reinterpret_cast<PyTypeObject*>(type))) return true;
  }
  return false;
}

// Appends (module name, namespace, key, value) for the matching globals of
// one module namespace.
bool AppendMatchingGlobals(PyObject* name, PyObject* namespace_dict, PyObject* types, PyObject* objects,
                           PyObject* found) {
  Py_ssize_t position = 0;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  while (PyDict_Next(namespace_dict, &position, &key, &value)) {
    if (!GlobalMatches(value, types, objects)) continue;
    PyObject* entry = PyTuple_Pack(4, name, namespace_dict, key, value);
    if (entry == nullptr) return false;
    int appended = PyList_Append(found, entry);
    Py_DECREF(entry);
    if (appended < 0) return false;
  }
  return true;
}

// find_module_globals(modules, types, objects) -> (found, others).
//
// Why in C: a Python loop over the globals of every module takes a
// reference to each value, i.e. writes its reference count. In a worker
// forked from a master that imported the app (uWSGI's preforking), each
// such write to a page still shared with the master copies that page:
// measured 3,700 page copies and ~100-170 ms for the globals of Django and
// a project, on the worker's first reload only. Here the dicts are read
// with borrowed references and only the matches are referenced. The
// collector is off meanwhile, so no finalizer can run and change a dict
// being read.
PyObject* FindModuleGlobals(PyObject*, PyObject* args) {
  PyObject* modules = nullptr;
  PyObject* types = nullptr;
  PyObject* objects = nullptr;
  if (!PyArg_ParseTuple(args, "O!O!O!:find_module_globals", &PyDict_Type, &modules, &PyTuple_Type, &types,
                        &PyTuple_Type, &objects)) {
    return nullptr;
  }
  PyObject* found = PyList_New(0);
  PyObject* others = PyList_New(0);
  if (found == nullptr || others == nullptr) {
    Py_XDECREF(found);
    Py_XDECREF(others);
    return nullptr;
  }
  const int collector_was_on = PyGC_Disable();
  bool ok = true;
  Py_ssize_t position = 0;
  PyObject* name = nullptr;
  PyObject* module = nullptr;
  while (ok && PyDict_Next(modules, &position, &name, &module)) {
    if (module == Py_None) continue;
    if (!PyModule_Check(module)) {
      PyObject* entry = PyTuple_Pack(2, name, module);
      ok = entry != nullptr && PyList_Append(others, entry) == 0;
      Py_XDECREF(entry);
      continue;
    }
    PyObject* namespace_dict = PyModule_GetDict(module);  // borrowed; never NULL for a module object
    if (namespace_dict != nullptr && PyDict_Check(namespace_dict)) {
      ok = AppendMatchingGlobals(name, namespace_dict, types, objects, found);
    }
  }
  if (collector_was_on) PyGC_Enable();
  if (!ok) {
    Py_DECREF(found);
    Py_DECREF(others);
    return nullptr;
  }
  return Py_BuildValue("(NN)", found, others);
}

PyMethodDef module_methods[] = {
    {"fork_generation", ForkGeneration, METH_NOARGS, "How many fork()s this process descends from (for tests)."},
    {"find_module_globals", FindModuleGlobals, METH_VARARGS,
     "find_module_globals(modules, types, objects) -> (found, others): found lists (module name, namespace, key, "
     "value) for each global of each module in the dict `modules` whose value is one of the tuple `objects` or "
     "whose type derives from one of the tuple `types`, read without referencing (so without copying the pages "
     "of) the others; others lists (name, object) of the entries that are neither modules nor None."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(ModuleExec)},
    {0, nullptr},
};

}  // namespace

PyModuleDef pyfresh_core_module_def = {
    PyModuleDef_HEAD_INIT,
    "pyfresh._core",
    "The pyfresh reload core: package policy, config, change detection and the request gate.",
    sizeof(ModuleState),
    module_methods,
    module_slots,
    ModuleTraverse,
    ModuleClear,
    ModuleFree,
};

extern "C" __attribute__((visibility("default"))) PyObject* PyInit__core() {
  return PyModuleDef_Init(&pyfresh_core_module_def);
}
