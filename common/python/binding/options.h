// pyfresh._core.Options and the option functions of the binding.
#ifndef PYFRESH_BINDING_OPTIONS_H_
#define PYFRESH_BINDING_OPTIONS_H_

#define PY_SSIZE_T_CLEAN
#include <Python.h>

namespace pyfresh::binding {

// Adds the Options type and the functions parse_app_spec and
// validate_module_name to `module` (which must already hold ConfigError).
// Returns -1 with an exception set on failure.
int AddOptions(PyObject* module);

}  // namespace pyfresh::binding

#endif  // PYFRESH_BINDING_OPTIONS_H_
