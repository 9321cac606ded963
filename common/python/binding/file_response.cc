// pyfresh._core.FileWrapper and FileResponse: the host's file response
// passed through the Gate.

#include "binding/internal.h"

namespace pyfresh::binding {

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

}  // namespace pyfresh::binding
