// pyfresh._core.Detector: tells when tracked files are stale.

#include <cmath>
#include <exception>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "binding/conversions.h"
#include "binding/internal.h"
#include "pyfresh/change_detector.h"
#include "pyfresh/directory_watcher.h"
#include "pyfresh/filesystem.h"

namespace pyfresh::binding {

// --- Detector ----------------------------------------------------------------

int FlushDetectorLog(DetectorObject* self) {
  std::vector<std::string> messages;
  {
    std::lock_guard<std::mutex> lock(self->pending_log->mutex);
    if (self->pending_log->messages.empty()) return 0;
    messages.swap(self->pending_log->messages);
  }
  if (self->log_callback == nullptr || self->log_callback == Py_None) return 0;
  for (const std::string& message : messages) {
    PyObject* result = PyObject_CallFunction(self->log_callback, "s#", message.data(),
                                             static_cast<Py_ssize_t>(message.size()));
    if (result == nullptr) return -1;
    Py_DECREF(result);
  }
  return 0;
}

bool HasPendingLog(DetectorObject* self) {
  std::lock_guard<std::mutex> lock(self->pending_log->mutex);
  return !self->pending_log->messages.empty();
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
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 86400) {
      PyErr_Format(PyExc_ValueError, "poll_interval must be between 0 and 86400 seconds, not %R", interval_object);
      return -1;
    }
    options.force_polling = true;
    options.poll_interval_ns = static_cast<int64_t>(seconds * 1e9);
  }
  if (log_object != Py_None && !PyCallable_Check(log_object)) {
    PyErr_SetString(PyExc_TypeError, "log must be a callable taking one str");
    return -1;
  }
  try {
    self->pending_log = new PendingLog();
    PendingLog* pending = self->pending_log;
    self->detector = new pyfresh::ChangeDetector(
        options, pyfresh::RealFilesystem(), pyfresh::RealClock(), pyfresh::CreateInotifyWatcher,
        [pending](std::string_view message) {
          std::lock_guard<std::mutex> lock(pending->mutex);
          pending->messages.emplace_back(message);
        });
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
  delete self->pending_log;
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
  if (FlushDetectorLog(self) < 0) return nullptr;
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
  if (result != nullptr && HasPendingLog(self) && FlushDetectorLog(self) < 0) Py_CLEAR(result);
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
  if (HasPendingLog(self) && FlushDetectorLog(self) < 0) return -1;
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
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 86400) {
    PyErr_Format(PyExc_ValueError, "timeout must be between 0 and 86400 seconds, not %R", timeout_object);
    return nullptr;
  }
  bool stale = false;
  std::exception_ptr failure;
  Py_BEGIN_ALLOW_THREADS
  try {
    stale = self->detector->WaitForChange(static_cast<int64_t>(seconds * 1e9));
  } catch (...) {
    failure = std::current_exception();
  }
  Py_END_ALLOW_THREADS
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (...) {
      return SetErrorFromCurrentException();
    }
  }
  if (HasPendingLog(self) && FlushDetectorLog(self) < 0) return nullptr;
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
