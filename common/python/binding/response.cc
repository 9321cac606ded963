// pyfresh._core.Response: a streaming response in flight until close().

#include "binding/internal.h"

namespace pyfresh::binding {

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

}  // namespace pyfresh::binding
