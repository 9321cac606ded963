#include "app_wrapper.h"

#include "pyfresh/quote.h"
#include "python_interpreter.h"
#include "uwsgi_api.h"

namespace pyfresh_uwsgi {
namespace {

constexpr char kHostModule[] = "pyfresh.hosts.uwsgi";

// A new reference to [(name, value, display), ...] or null with an error set.
PyObject* PairsToPython(const std::vector<EnginePair>& pairs) {
  PyObject* list = PyList_New(0);
  if (list == nullptr) return nullptr;
  for (const auto& [name, value, display] : pairs) {
    // Values may be paths in any bytes: surrogateescape hands the engine
    // (and the core behind it) back the very same bytes.
    PyObject* text = PyUnicode_DecodeUTF8(value.data(), static_cast<Py_ssize_t>(value.size()), "surrogateescape");
    PyObject* item = text == nullptr ? nullptr
                                     : Py_BuildValue("(s#Ns#)", name.data(), static_cast<Py_ssize_t>(name.size()),
                                                     text, display.data(), static_cast<Py_ssize_t>(display.size()));
    if (item == nullptr || PyList_Append(list, item) != 0) {
      Py_XDECREF(item);
      Py_DECREF(list);
      return nullptr;
    }
    Py_DECREF(item);
  }
  return list;
}

// A new reference to the Reloader, or null with an error set.
PyObject* BuildReloader(struct uwsgi_app* app, int app_id, const std::vector<EnginePair>& pairs,
                        int64_t load_started_ns) {
  PyObject* host = PyImport_ImportModule(kHostModule);
  if (host == nullptr) return nullptr;
  PyObject* py_pairs = PairsToPython(pairs);
  PyObject* mountpoint =
      PyUnicode_DecodeUTF8(app->mountpoint, app->mountpoint_len, "surrogateescape");
  PyObject* load_started = load_started_ns >= 0 ? PyLong_FromLongLong(load_started_ns) : Py_NewRef(Py_None);
  PyObject* reloader = nullptr;
  if (py_pairs != nullptr && mountpoint != nullptr && load_started != nullptr) {
    reloader = PyObject_CallMethod(host, "wrap", "OOOiO", py_pairs, static_cast<PyObject*>(app->callable),
                                   mountpoint, app_id, load_started);
  }
  Py_XDECREF(load_started);
  Py_XDECREF(mountpoint);
  Py_XDECREF(py_pairs);
  Py_DECREF(host);
  return reloader;
}

}  // namespace

pyfresh::Status WrapApp(int app_id, const std::string& spec, const std::vector<EnginePair>& pairs,
                        int64_t load_started_ns) {
  struct uwsgi_app* app = &uwsgi_apps[app_id];
  std::vector<EnginePair> app_pairs = pairs;
  app_pairs.emplace_back("app", spec, UwsgiOptionName("app"));

  InterpreterScope scope(static_cast<PyThreadState*>(app->interpreter));
  PyObject* reloader = BuildReloader(app, app_id, app_pairs, load_started_ns);
  if (reloader == nullptr) {
    const std::string error = ConsumePythonError();
    const std::string mountpoint(app->mountpoint, app->mountpoint_len);
    return pyfresh::Status::Error("cannot put pyfresh in front of app " + std::to_string(app_id) + " (mountpoint=" +
                                  pyfresh::QuoteForMessage(mountpoint) + ", " + spec + "): " + error);
  }
  PyObject* loaded = static_cast<PyObject*>(app->callable);
  app->callable = reloader;  // the app's reference
  if (uwsgi.mywid == 0) {
    // Before fork the python plugin copied the app to every worker's slot
    // (uwsgi_emulate_cow_for_apps); they must serve the Reloader too.
    for (int worker = 1; worker <= uwsgi.numproc; ++worker) {
      uwsgi.workers[worker].apps[app_id].callable = reloader;
    }
  }
  Py_DECREF(loaded);  // the Reloader holds it now
  return pyfresh::Status::Ok();
}

pyfresh::Status ServeUnloadedApp(const std::string& mountpoint, const std::string& spec,
                                 const std::vector<EnginePair>& pairs, bool* served) {
  *served = false;
  // A mount runs in a sub-interpreter of its own unless single-interpreter.
  const bool own_interpreter = !mountpoint.empty() && !uwsgi.single_interpreter;
  if (init_uwsgi_app == nullptr || uwsgi.wsgi_req == nullptr || mountpoint.size() >= 0xff ||
      (own_interpreter && (init_pyargv == nullptr || init_uwsgi_embedded_module == nullptr ||
                           init_uwsgi_vars == nullptr))) {
    return pyfresh::Status::Ok();
  }
  std::vector<EnginePair> app_pairs = pairs;
  app_pairs.emplace_back("app", spec, UwsgiOptionName("app"));
  InterpreterScope scope(up.main_thread);
  PyThreadState* interpreter = up.main_thread;
  if (own_interpreter) {
    // The python plugin ended the mount's interpreter when the import
    // failed: set one up as it does (init_uwsgi_app) and serve from there.
    interpreter = Py_NewInterpreter();
    if (interpreter == nullptr) {
      PyThreadState_Swap(up.main_thread);
      return pyfresh::Status::Error("cannot create a Python interpreter for the app uWSGI could not load "
                                    "(mountpoint=" + pyfresh::QuoteForMessage(mountpoint) + ")");
    }
    init_pyargv();
    init_uwsgi_embedded_module();
    init_uwsgi_vars();
  }
  PyObject* host = PyImport_ImportModule(kHostModule);
  PyObject* py_pairs = host != nullptr ? PairsToPython(app_pairs) : nullptr;
  PyObject* py_mountpoint =
      py_pairs != nullptr
          ? PyUnicode_DecodeUTF8(mountpoint.data(), static_cast<Py_ssize_t>(mountpoint.size()), "surrogateescape")
          : nullptr;
  PyObject* reloader = py_mountpoint != nullptr
                           ? PyObject_CallMethod(host, "serve_unloaded", "OO", py_pairs, py_mountpoint)
                           : nullptr;
  Py_XDECREF(py_mountpoint);
  Py_XDECREF(py_pairs);
  Py_XDECREF(host);
  if (reloader == nullptr) {
    const std::string error = ConsumePythonError();
    if (own_interpreter) {
      Py_EndInterpreter(interpreter);
      PyThreadState_Swap(up.main_thread);
    }
    return pyfresh::Status::Error("cannot serve the app uWSGI could not load (mountpoint=" +
                                  pyfresh::QuoteForMessage(mountpoint) + ", " + spec + "): " + error);
  }
  // The python plugin keeps the callable without a reference of its own
  // (its callable loader): this one is the app's, for the process's life.
  struct wsgi_request* request = uwsgi.wsgi_req;
  char* saved_appid = request->appid;
  const uint16_t saved_appid_len = request->appid_len;
  request->appid = const_cast<char*>(mountpoint.c_str());
  request->appid_len = static_cast<uint16_t>(mountpoint.size());
  const int id = init_uwsgi_app(LOADER_CALLABLE, reloader, request, interpreter, PYTHON_APP_TYPE_WSGI);
  request->appid = saved_appid;
  request->appid_len = saved_appid_len;
  if (id < 0) {
    PyThreadState_Swap(interpreter);  // the Reloader's
    Py_DECREF(reloader);
    if (own_interpreter) Py_EndInterpreter(interpreter);
    PyThreadState_Swap(up.main_thread);
    return pyfresh::Status::Error("the python plugin did not add the app at mountpoint " +
                                  pyfresh::QuoteForMessage(mountpoint));
  }
  // With threads, init_uwsgi_app leaves the thread's saved state current:
  // back to the main interpreter, which the scope leaves from.
  PyThreadState_Swap(up.main_thread);
  *served = true;
  return pyfresh::Status::Ok();
}

bool PythonModuleFindable(const char* module, std::string* detail) {
  InterpreterScope scope(up.main_thread);
  bool found = false;
  PyObject* util = PyImport_ImportModule("importlib.util");
  PyObject* spec = util != nullptr ? PyObject_CallMethod(util, "find_spec", "s", module) : nullptr;
  if (spec == nullptr) {
    *detail = ConsumePythonError();
  } else {
    found = spec != Py_None;
    if (!found) {
      PyObject* path = PySys_GetObject("path");  // borrowed
      PyObject* text = path != nullptr ? PyObject_Repr(path) : nullptr;
      const char* utf8 = text != nullptr ? PyUnicode_AsUTF8(text) : nullptr;
      *detail = std::string("sys.path = ") + (utf8 != nullptr ? utf8 : "?");
      Py_XDECREF(text);
      PyErr_Clear();
    }
  }
  Py_XDECREF(spec);
  Py_XDECREF(util);
  return found;
}

}  // namespace pyfresh_uwsgi
