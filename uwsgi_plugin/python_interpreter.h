// Entering an app's Python interpreter from a uWSGI hook.
#ifndef PYFRESH_UWSGI_PYTHON_INTERPRETER_H_
#define PYFRESH_UWSGI_PYTHON_INTERPRETER_H_

#include <string>

typedef struct _ts PyThreadState;

namespace pyfresh_uwsgi {

// Makes `target` (an app's thread state: uwsgi_apps[i].interpreter) the
// current one, with the GIL, for the scope's lifetime; restores what was
// current before. Works in both states the python plugin leaves a thread
// in at a hook: holding the GIL (the master before fork, or no threads)
// or having released it (lazy-apps workers, py-call-uwsgi-fork-hooks).
// Neither copyable nor movable.
class InterpreterScope {
 public:
  explicit InterpreterScope(PyThreadState* target);
  ~InterpreterScope();
  InterpreterScope(const InterpreterScope&) = delete;
  InterpreterScope& operator=(const InterpreterScope&) = delete;

 private:
  PyThreadState* previous_ = nullptr;
  bool acquired_gil_ = false;
};

// The pending Python exception as one line ("ModuleNotFoundError: No
// module named 'pyfresh'"), after printing its traceback to the log
// (sys.stderr, which uWSGI routes to its log). Clears it. Needs the GIL.
std::string ConsumePythonError();

}  // namespace pyfresh_uwsgi

#endif  // PYFRESH_UWSGI_PYTHON_INTERPRETER_H_
