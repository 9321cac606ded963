// Conversions between Python objects and the core's C++ types, shared by
// the binding's files. Every function follows the C API's convention: a
// null result (or false) means a Python exception is set.
#ifndef PYFRESH_BINDING_CONVERSIONS_H_
#define PYFRESH_BINDING_CONVERSIONS_H_

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string>
#include <vector>

#include "pyfresh/status.h"

namespace pyfresh_binding {

// Converts the C++ exception being handled into a Python exception; call
// only inside a catch block.
PyObject* SetErrorFromCurrentException();

// A str as the bytes the core keeps: UTF-8, with surrogate-escaped bytes
// (os.fsdecode() of non-UTF-8 paths) given back as they were.
bool ToUtf8(PyObject* object, std::string* out, const char* what);

// A path given as str, bytes or os.PathLike, as bytes.
bool ToPathBytes(PyObject* object, std::string* out, const char* what);

// Text the core kept verbatim (paths, app specs), as os functions spell it.
PyObject* FromPathBytes(const std::string& value);

// A list of paths (FromPathBytes each).
PyObject* ToPyList(const std::vector<std::string>& values);

// A list of module names: UTF-8 in every locale, never the filesystem
// encoding (ASCII under mod_wsgi with LANG=C would turn "donn\u00e9es" into
// surrogates that match no module).
PyObject* ToPyNameList(const std::vector<std::string>& names);

// Raises the module's ConfigError (pyfresh.ConfigError) with the core's
// message; returns null.
PyObject* RaiseConfigError(PyObject* module, const pyfresh::Status& status);

}  // namespace pyfresh_binding

#endif  // PYFRESH_BINDING_CONVERSIONS_H_
