// Conversions between Python objects and the core's types, shared by the
// binding's types. Each returns false / null with a Python exception set.
#ifndef PYFRESH_PYTHON_BINDING_CONVERSIONS_H_
#define PYFRESH_PYTHON_BINDING_CONVERSIONS_H_

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string>
#include <vector>

namespace pyfresh::binding {

// Converts a C++ exception escaping the core into a Python exception; call
// it from a catch block. Returns null.
PyObject* SetErrorFromCurrentException();

// `object` (a str) as UTF-8 bytes, surrogates escaped; `what` names it in
// the TypeError.
bool ToUtf8(PyObject* object, std::string* out, const char* what);

// A path given as str, bytes or os.PathLike, as bytes.
bool ToPathBytes(PyObject* object, std::string* out, const char* what);

// Text the core kept verbatim (paths, app specs), as os functions spell it.
PyObject* FromPathBytes(const std::string& value);

// Accepts a str (one path/name) or any iterable of str.
bool ToStringList(PyObject* object, std::vector<std::string>* out, const char* what);

// Paths as a list of str in the filesystem encoding.
PyObject* ToPyList(const std::vector<std::string>& values);

// Module names as a list of str decoded as UTF-8.
PyObject* ToPyNameList(const std::vector<std::string>& names);

// A path, or an iterable of paths (str or bytes), as the filesystem's bytes.
bool ToPathList(PyObject* object, std::vector<std::string>* out);

}  // namespace pyfresh::binding

#endif  // PYFRESH_PYTHON_BINDING_CONVERSIONS_H_
