#include "python_interpreter.h"

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
  if (type != nullptr) PyErr_Display(type, value, traceback);
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
