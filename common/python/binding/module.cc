// pyfresh._core: the CPython binding of the reload core.
//
// Written against the C API with multi-phase initialisation (PEP 489) and
// per-module state instead of pybind11: pybind11 2.10 deadlocks when first
// imported in a sub-interpreter (mod_wsgi application groups, uWSGI
// mountpoints), while a module like this one imports and runs in every
// interpreter. Every C++ exception is caught here before it reaches CPython.
//
// One file per concern: conversions, policy, detector, gate, response,
// file_response, options; internal.h declares what they share.

#include "binding/conversions.h"
#include "binding/internal.h"
#include "binding/options.h"
#include "pyfresh/app_spec.h"
#include "pyfresh/fork_generation.h"
#include "pyfresh/restart_status.h"

namespace pyfresh::binding {

ModuleState* StateOf(PyObject* module) { return static_cast<ModuleState*>(PyModule_GetState(module)); }

PyObject* RaiseConfigError(PyObject* module, const pyfresh::Status& status) {
  PyErr_SetString(StateOf(module)->config_error, status.message().c_str());
  return nullptr;
}

// --- module ------------------------------------------------------------------

int ModuleExec(PyObject* module) {
  ModuleState* state = StateOf(module);
  state->config_error = PyErr_NewExceptionWithDoc(
      "pyfresh._core.ConfigError", "An invalid option value; the message names the option and the value.",
      PyExc_ValueError, nullptr);
  if (state->config_error == nullptr) return -1;
  if (PyModule_AddObjectRef(module, "ConfigError", state->config_error) < 0) return -1;
  if (AddOptions(module) < 0) return -1;
  if (PyModule_AddStringConstant(module, "__version__", PYFRESH_VERSION) < 0) return -1;
  if (PyModule_AddIntConstant(module, "RESTART_EXIT_STATUS", pyfresh::kRestartExitStatus) < 0) return -1;

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

PyObject* AbsolutePathPy(PyObject*, PyObject* args) {
  PyObject* path = nullptr;
  PyObject* cwd = nullptr;
  if (!PyArg_ParseTuple(args, "O&O&:absolute_path", PyUnicode_FSConverter, &path, PyUnicode_FSConverter, &cwd)) {
    Py_XDECREF(path);
    return nullptr;
  }
  PyObject* result = nullptr;
  try {
    result = FromPathBytes(pyfresh::AbsolutePath(PyBytes_AS_STRING(path), PyBytes_AS_STRING(cwd)));
  } catch (...) {
    result = SetErrorFromCurrentException();
  }
  Py_DECREF(path);
  Py_DECREF(cwd);
  return result;
}

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
    {"absolute_path", AbsolutePathPy, METH_VARARGS,
     "absolute_path(path, cwd) -> str: path made absolute against cwd and normalised, as os.path.abspath does."},
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

}  // namespace pyfresh::binding

PyModuleDef pyfresh_core_module_def = {
    PyModuleDef_HEAD_INIT,
    "pyfresh._core",
    "The pyfresh reload core: package policy, config, change detection and the request gate.",
    sizeof(pyfresh::binding::ModuleState),
    pyfresh::binding::module_methods,
    pyfresh::binding::module_slots,
    pyfresh::binding::ModuleTraverse,
    pyfresh::binding::ModuleClear,
    pyfresh::binding::ModuleFree,
};

extern "C" __attribute__((visibility("default"))) PyObject* PyInit__core() {
  return PyModuleDef_Init(&pyfresh_core_module_def);
}
