// pyfresh._core.Detector: tells when tracked files are stale.

#include <cmath>
#include <exception>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "binding/conversions.h"
#include "binding/internal.h"
#include "pyfresh/change_detector.h"
#include "pyfresh/directory_watcher.h"
#include "pyfresh/filesystem.h"
#include "pyfresh/limits.h"

namespace pyfresh::binding {

// --- Detector ----------------------------------------------------------------

// The core's log lines reach the Python callback straight from its sink:
// the core calls the sink from the thread that called it, after releasing
// its mutex (change_detector.h), so the callback cannot deadlock against
// another thread waiting for that mutex with the GIL. Every Detector method
// holds the GIL while it calls the core, except wait(), which releases it
// and leaves its thread state here for the sink to take the GIL back.
thread_local PyThreadState* thread_state_released_by_wait = nullptr;

int PythonLogLevel(pyfresh::LogLevel level) {
  switch (level) {
    case pyfresh::LogLevel::kInfo:
      return 20;  // logging.INFO
    case pyfresh::LogLevel::kWarning:
      return 30;  // logging.WARNING
    case pyfresh::LogLevel::kError:
      return 40;  // logging.ERROR
  }
  return 30;
}

// A callback that raises leaves its exception set: the Detector method that
// called the core returns it, and the lines after it in that call are dropped.
void DeliverLog(DetectorObject* self, pyfresh::LogLevel level, std::string_view message) {
  PyThreadState* released = thread_state_released_by_wait;
  if (released != nullptr) PyEval_RestoreThread(released);
  PyObject* callback = self->log_callback;
  if (callback != nullptr && callback != Py_None && !PyErr_Occurred()) {
    Py_INCREF(callback);
    PyObject* result = PyObject_CallFunction(callback, "is#", PythonLogLevel(level), message.data(),
                                             static_cast<Py_ssize_t>(message.size()));
    Py_DECREF(callback);
    Py_XDECREF(result);
  }
  if (released != nullptr) thread_state_released_by_wait = PyEval_SaveThread();
}

int DetectorInit(PyObject* self_object, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  static const char* keywords[] = {"poll_interval", "log", nullptr};
  PyObject* interval_object = Py_None;
  PyObject* log_object = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:Detector", const_cast<char**>(keywords), &interval_object,
                                   &log_object)) {
    return -1;
  }
  if (self->detector != nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "Detector is already initialised");
    return -1;
  }
  pyfresh::DetectorOptions options;
  if (interval_object != Py_None) {
    double seconds = PyFloat_AsDouble(interval_object);
    if (seconds == -1.0 && PyErr_Occurred()) return -1;
    if (!std::isfinite(seconds) || seconds < 0 || seconds > pyfresh::kMaxPollIntervalSeconds) {
      PyErr_Format(PyExc_ValueError, "poll_interval must be between 0 and %d seconds, not %R",
                   static_cast<int>(pyfresh::kMaxPollIntervalSeconds), interval_object);
      return -1;
    }
    options.force_polling = true;
    options.poll_interval_ns = static_cast<int64_t>(seconds * 1e9);
  }
  if (log_object != Py_None && !PyCallable_Check(log_object)) {
    PyErr_SetString(PyExc_TypeError, "log must be a callable taking (level, message): a logging level and a str");
    return -1;
  }
  try {
    self->detector = new pyfresh::ChangeDetector(
        options, pyfresh::RealFilesystem(), pyfresh::RealClock(), pyfresh::CreateInotifyWatcher,
        [self](pyfresh::LogLevel level, std::string_view message) { DeliverLog(self, level, message); });
  } catch (...) {
    SetErrorFromCurrentException();
    return -1;
  }
  Py_INCREF(log_object);
  Py_XSETREF(self->log_callback, log_object);
  return 0;
}

int DetectorTraverse(PyObject* self_object, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  Py_VISIT(Py_TYPE(self_object));
  Py_VISIT(self->log_callback);
  return 0;
}

int DetectorClear(PyObject* self_object) {
  Py_CLEAR(reinterpret_cast<DetectorObject*>(self_object)->log_callback);
  return 0;
}

void DetectorDealloc(PyObject* self_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  PyTypeObject* type = Py_TYPE(self_object);
  PyObject_GC_UnTrack(self_object);
  DetectorClear(self_object);
  delete self->detector;
  type->tp_free(self_object);
  Py_DECREF(type);
}

bool DetectorReady(DetectorObject* self) {
  if (self->detector != nullptr) return true;
  PyErr_SetString(PyExc_RuntimeError, "Detector was not initialised");
  return false;
}

PyObject* DetectorTrack(PyObject* self_object, PyObject* paths_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  try {
    std::vector<std::string> paths;
    if (!ToPathList(paths_object, &paths)) return nullptr;
    self->detector->Track(paths);
  } catch (...) {
    return SetErrorFromCurrentException();
  }
  if (PyErr_Occurred()) return nullptr;  // raised by the log callback
  Py_RETURN_NONE;
}

PyObject* DetectorRetainOnly(PyObject* self_object, PyObject* paths_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  try {
    std::vector<std::string> paths;
    if (!ToPathList(paths_object, &paths)) return nullptr;
    self->detector->RetainOnly(std::unordered_set<std::string>(paths.begin(), paths.end()));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
  if (PyErr_Occurred()) return nullptr;  // raised by the log callback
  Py_RETURN_NONE;
}

PyObject* DetectorAcceptSeen(PyObject* self_object, PyObject* paths_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  try {
    std::vector<std::string> paths;
    if (!ToPathList(paths_object, &paths)) return nullptr;
    self->detector->AcceptSeen(paths);
  } catch (...) {
    return SetErrorFromCurrentException();
  }
  if (PyErr_Occurred()) return nullptr;  // raised by the log callback
  Py_RETURN_NONE;
}

PyObject* DetectorUnsettled(PyObject* self_object, PyObject* paths_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  PyObject* result = nullptr;
  try {
    std::vector<std::string> paths;
    if (!ToPathList(paths_object, &paths)) return nullptr;
    result = ToPyList(self->detector->Unsettled(paths));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
  if (result != nullptr && PyErr_Occurred()) Py_CLEAR(result);  // raised by the log callback
  return result;
}

// The check of Detector.check() (compares polled files now) and
// Gate.__call__ (the lock-free fast path); -1 on error.
int RunCheck(DetectorObject* self, bool synchronous) {
  bool stale = false;
  try {
    stale = synchronous ? self->detector->CheckNow() : self->detector->Check();
  } catch (...) {
    SetErrorFromCurrentException();
    return -1;
  }
  if (PyErr_Occurred()) return -1;  // raised by the log callback
  return stale ? 1 : 0;
}

PyObject* DetectorCheck(PyObject* self_object, PyObject*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  int stale = RunCheck(self, /*synchronous=*/true);
  if (stale < 0) return nullptr;
  return PyBool_FromLong(stale);
}

// The check a request makes (Gate.__call__): lock-free, at most one full
// comparison of polled files per poll interval. For callers that must not
// cost more than a request does (live reload's change checks).
PyObject* DetectorRequestCheck(PyObject* self_object, PyObject*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  int stale = RunCheck(self, /*synchronous=*/false);
  if (stale < 0) return nullptr;
  return PyBool_FromLong(stale);
}

// Detector.wait(timeout): WaitForChange with the GIL released; a signal
// (Ctrl-C) that ends the sleep raises here, as time.sleep() would.
PyObject* DetectorWait(PyObject* self_object, PyObject* timeout_object) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  const double seconds = PyFloat_AsDouble(timeout_object);
  if (seconds == -1.0 && PyErr_Occurred()) return nullptr;
  if (!std::isfinite(seconds) || seconds < 0 || seconds > pyfresh::kMaxWaitSeconds) {
    PyErr_Format(PyExc_ValueError, "timeout must be between 0 and %d seconds, not %R",
                 static_cast<int>(pyfresh::kMaxWaitSeconds), timeout_object);
    return nullptr;
  }
  bool stale = false;
  std::exception_ptr failure;
  PyThreadState* released = PyEval_SaveThread();
  thread_state_released_by_wait = released;  // for DeliverLog
  try {
    stale = self->detector->WaitForChange(static_cast<int64_t>(seconds * 1e9));
  } catch (...) {
    failure = std::current_exception();
  }
  thread_state_released_by_wait = nullptr;
  PyEval_RestoreThread(released);
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (...) {
      return SetErrorFromCurrentException();
    }
  }
  if (PyErr_Occurred()) return nullptr;  // raised by the log callback
  if (PyErr_CheckSignals() < 0) return nullptr;
  return PyBool_FromLong(stale);
}

PyObject* DetectorStalePaths(PyObject* self_object, PyObject*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  try {
    return ToPyList(self->detector->StalePaths());
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

PyObject* DetectorMethod(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  return PyUnicode_FromString(pyfresh::DetectionMethodName(self->detector->method()));
}

PyObject* DetectorTrackedCount(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  return PyLong_FromSize_t(self->detector->tracked_count());
}

PyObject* DetectorWatchedCount(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  return PyLong_FromSize_t(self->detector->watched_directory_count());
}

PyObject* DetectorPolledCount(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<DetectorObject*>(self_object);
  if (!DetectorReady(self)) return nullptr;
  return PyLong_FromSize_t(self->detector->polled_count());
}

PyMethodDef detector_methods[] = {
    {"track", DetectorTrack, METH_O, "Record the current identity of a path (or iterable of paths) as its baseline."},
    {"retain_only", DetectorRetainOnly, METH_O, "Stop tracking every path not in the iterable."},
    {"accept_seen", DetectorAcceptSeen, METH_O,
     "For each stale path: accept the identity seen when it was found stale (not a fresh stat), "
     "then compare once with the file now."},
    {"unsettled", DetectorUnsettled, METH_O,
     "The given paths still being written (inotify: modified and not closed; polled: changed since the "
     "previous look)."},
    {"check", DetectorCheck, METH_NOARGS,
     "True when at least one tracked file is stale; compares polled files whatever the poll interval."},
    {"stale_paths", DetectorStalePaths, METH_NOARGS, "The stale paths, sorted."},
    {"request_check", DetectorRequestCheck, METH_NOARGS,
     "The check each request makes: True when a tracked file is stale; polled files are compared at most "
     "once per poll interval."},
    {"wait", DetectorWait, METH_O,
     "wait(timeout): check(); when nothing is stale, sleep (GIL released) at most timeout seconds for a "
     "change and check again. False means nothing is stale yet (call it again)."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef detector_getset[] = {
    {"method", DetectorMethod, nullptr, "'not started', 'inotify' or 'polling'.", nullptr},
    {"tracked_count", DetectorTrackedCount, nullptr, "Number of tracked paths.", nullptr},
    {"watched_directory_count", DetectorWatchedCount, nullptr, "Number of watched directories.", nullptr},
    {"polled_count", DetectorPolledCount, nullptr,
     "Number of tracked paths compared by stat (their directory cannot be watched).", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot detector_slots[] = {
    {Py_tp_init, reinterpret_cast<void*>(DetectorInit)},
    {Py_tp_dealloc, reinterpret_cast<void*>(DetectorDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(DetectorTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(DetectorClear)},
    {Py_tp_methods, detector_methods},
    {Py_tp_getset, detector_getset},
    {Py_tp_doc, const_cast<char*>("Detector(poll_interval=None, log=None): tells when tracked files are stale.")},
    {0, nullptr},
};

PyType_Spec detector_spec = {"pyfresh._core.Detector", sizeof(DetectorObject), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, detector_slots};

}  // namespace pyfresh::binding
