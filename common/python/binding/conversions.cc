#include "conversions.h"

#include <exception>
#include <new>

namespace pyfresh_binding {

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

bool ToPathBytes(PyObject* object, std::string* out, const char* what) {
  PyObject* path = PyOS_FSPath(object);
  if (path == nullptr) {
    if (PyErr_ExceptionMatches(PyExc_TypeError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "%s must be paths (str or os.PathLike), not %.100s", what,
                   Py_TYPE(object)->tp_name);
    }
    return false;
  }
  bool ok = true;
  if (PyBytes_Check(path)) {
    out->assign(PyBytes_AS_STRING(path), static_cast<size_t>(PyBytes_GET_SIZE(path)));
  } else {
    ok = ToUtf8(path, out, what);
  }
  Py_DECREF(path);
  return ok;
}

PyObject* FromPathBytes(const std::string& value) {
  return PyUnicode_DecodeFSDefaultAndSize(value.data(), static_cast<Py_ssize_t>(value.size()));
}

namespace {

PyObject* ToList(const std::vector<std::string>& values, PyObject* (*convert)(const std::string&)) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(values.size()));
  if (list == nullptr) return nullptr;
  for (size_t i = 0; i < values.size(); ++i) {
    PyObject* item = convert(values[i]);
    if (item == nullptr) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
  }
  return list;
}

PyObject* FromName(const std::string& name) {
  return PyUnicode_DecodeUTF8(name.data(), static_cast<Py_ssize_t>(name.size()), "surrogateescape");
}

}  // namespace

PyObject* ToPyList(const std::vector<std::string>& values) { return ToList(values, FromPathBytes); }

PyObject* ToPyNameList(const std::vector<std::string>& names) { return ToList(names, FromName); }

PyObject* RaiseConfigError(PyObject* module, const pyfresh::Status& status) {
  PyObject* error_type = module == nullptr ? nullptr : PyObject_GetAttrString(module, "ConfigError");
  if (error_type == nullptr) return nullptr;
  PyErr_SetString(error_type, status.message().c_str());
  Py_DECREF(error_type);
  return nullptr;
}

}  // namespace pyfresh_binding
