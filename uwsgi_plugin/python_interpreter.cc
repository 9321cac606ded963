#include "python_interpreter.h"

#include <cstring>

#include "uwsgi_api.h"

namespace pyfresh_uwsgi {

InterpreterScope::InterpreterScope(PyThreadState* target) {
  // Non-null when this thread holds the GIL (3.11: the current thread
  // state is null after PyEval_SaveThread).
  if (_PyThreadState_UncheckedGet() != nullptr) {
    previous_ = PyThreadState_Swap(target);
  } else {
    PyEval_RestoreThread(target);
    acquired_gil_ = true;
  }
}

InterpreterScope::~InterpreterScope() {
  if (acquired_gil_) {
    PyEval_SaveThread();
  } else {
    PyThreadState_Swap(previous_);
  }
}

namespace {

// pyfresh's own ConfigError (and subclasses) carries a complete message
// naming the culprit; a traceback through the engine adds nothing for users.
bool IsConfigError(PyObject* type) {
  if (type == nullptr || !PyType_Check(type)) return false;
  PyObject* mro = reinterpret_cast<PyTypeObject*>(type)->tp_mro;
  if (mro == nullptr || !PyTuple_Check(mro)) return false;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); ++i) {
    // A class created at run time (PyErr_NewException) keeps only its
    // short name in tp_name; the module is in __module__. Each
    // (sub)interpreter has its own ConfigError, so compare names.
    PyObject* base = PyTuple_GET_ITEM(mro, i);
    if (std::strcmp(reinterpret_cast<PyTypeObject*>(base)->tp_name, "ConfigError") != 0) continue;
    PyObject* module = PyObject_GetAttrString(base, "__module__");
    const bool ours = module != nullptr && PyUnicode_Check(module) &&
                      PyUnicode_CompareWithASCIIString(module, "pyfresh._core") == 0;
    Py_XDECREF(module);
    PyErr_Clear();
    if (ours) return true;
  }
  return false;
}

}  // namespace

std::string ConsumePythonError() {
  if (!PyErr_Occurred()) return "unknown error";
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  std::string line;
  if (type != nullptr) {
    PyObject* name = PyObject_GetAttrString(type, "__name__");
    if (name != nullptr && PyUnicode_Check(name)) line = PyUnicode_AsUTF8(name);
    Py_XDECREF(name);
    PyErr_Clear();
  }
  if (value != nullptr) {
    PyObject* text = PyObject_Str(value);
    const char* utf8 = text != nullptr ? PyUnicode_AsUTF8(text) : nullptr;
    if (utf8 != nullptr && utf8[0] != '\0') {
      line += ": ";
      line += utf8;
    }
    Py_XDECREF(text);
    PyErr_Clear();
  }
  // The full traceback goes to the log (sys.stderr), as the python plugin
  // does for a failed app load. PyErr_Display, not PyErr_Print, which
  // would exit the process on SystemExit.
  if (type != nullptr && !IsConfigError(type)) PyErr_Display(type, value, traceback);
  PyErr_Clear();
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(traceback);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line.empty() ? "unknown error" : line;
}

}  // namespace pyfresh_uwsgi
