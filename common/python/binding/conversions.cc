// Conversions between Python objects and the core's types.

#include "binding/conversions.h"

#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace pyfresh::binding {

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

}  // namespace pyfresh::binding
