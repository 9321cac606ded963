// pyfresh._core.Gate: the WSGI hot path.

#include "binding/internal.h"  // first: Python.h before structmember.h

#include <structmember.h>

#include <cmath>

#include "binding/conversions.h"
#include "pyfresh/request_gate.h"

namespace pyfresh::binding {

// --- Gate: the WSGI hot path ---------------------------------------------------

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
  Py_INCREF(Py_None);
  self->on_stale = Py_None;
  self->enabled = 1;
  return reinterpret_cast<PyObject*>(self);
}

int GateTraverse(PyObject* self_object, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<GateObject*>(self_object);
  Py_VISIT(Py_TYPE(self_object));
  Py_VISIT(self->app);
  Py_VISIT(self->detector);
  Py_VISIT(self->on_stale);
  Py_VISIT(self->dict);
  return 0;
}

int GateClear(PyObject* self_object) {
  auto* self = reinterpret_cast<GateObject*>(self_object);
  Py_CLEAR(self->app);
  Py_CLEAR(self->detector);
  Py_CLEAR(self->on_stale);
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


PyObject* GateCall(PyObject* self_object, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<GateObject*>(self_object);
  if (!self->enabled) return PyObject_Call(self->app, args, kwargs);

  if (self->detector != Py_None) {
    int stale = RunCheck(reinterpret_cast<DetectorObject*>(self->detector), /*synchronous=*/false);
    if (stale < 0) return nullptr;
    if (stale && self->on_stale != Py_None) {
      // A strong reference for the call: on_stale may replace itself.
      PyObject* on_stale = self->on_stale;
      Py_INCREF(on_stale);
      PyObject* done = PyObject_CallOneArg(on_stale, self_object);
      Py_DECREF(on_stale);
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

PyObject* GateGetOnStale(PyObject* self_object, void*) {
  PyObject* on_stale = reinterpret_cast<GateObject*>(self_object)->on_stale;
  Py_INCREF(on_stale);
  return on_stale;
}

int GateSetOnStale(PyObject* self_object, PyObject* value, void*) {
  if (value == nullptr || (value != Py_None && !PyCallable_Check(value))) {
    PyErr_SetString(PyExc_TypeError, "on_stale must be a callable taking the gate, or None");
    return -1;
  }
  Py_INCREF(value);
  Py_XSETREF(reinterpret_cast<GateObject*>(self_object)->on_stale, value);
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
    {"on_stale", GateGetOnStale, GateSetOnStale,
     "on_stale(gate): called by a request that finds a tracked file stale, before the request enters; "
     "None: requests keep the current app.",
     nullptr},
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

}  // namespace pyfresh::binding
