// pyfresh._core's configuration functions (parse_config, serialize_config,
// parse_serialized_config, parse_app_spec, validate_module_name,
// check_scope). The rest of the binding is in binding/ (module.cc first).

#include <string>
#include <utility>
#include <vector>

#include "binding/conversions.h"
#include "binding/internal.h"
#include "pyfresh/app_spec.h"
#include "pyfresh/config.h"
#include "pyfresh/package_policy.h"

namespace pyfresh::binding {

// --- configuration -----------------------------------------------------------

PyObject* ConfigToDict(const pyfresh::Config& config) {
  PyObject* dict = PyDict_New();
  if (dict == nullptr) return nullptr;
  auto put = [dict](const char* key, PyObject* value) {
    if (value == nullptr) return false;
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc == 0;
  };
  bool ok = true;
  if (ok && config.enabled) ok = put("enabled", PyBool_FromLong(*config.enabled));
  if (ok && config.app) ok = put("app", FromPathBytes(*config.app));
  if (ok && config.packages) ok = put("packages", ToPyNameList(*config.packages));
  if (ok && config.exclude) ok = put("exclude", ToPyNameList(*config.exclude));
  if (ok && config.debug) ok = put("debug", PyBool_FromLong(*config.debug));
  if (ok && config.poll_interval_seconds) ok = put("poll_interval", PyFloat_FromDouble(*config.poll_interval_seconds));
  if (ok && config.drain_timeout_seconds) ok = put("drain_timeout", PyFloat_FromDouble(*config.drain_timeout_seconds));
  if (ok && config.integrations) ok = put("integrations", ToPyList(*config.integrations));
  if (ok && config.reload_scope) {
    ok = put("reload_scope", PyUnicode_FromString(pyfresh::ReloadScopeName(*config.reload_scope)));
  }
  if (ok && config.watch) ok = put("watch", ToPyList(*config.watch));
  if (ok && config.restart_on) ok = put("restart_on", ToPyList(*config.restart_on));
  if (ok && config.watch_ignore) ok = put("watch_ignore", ToPyList(*config.watch_ignore));
  if (ok && config.live_reload) ok = put("live_reload", PyBool_FromLong(*config.live_reload));
  if (!ok) {
    Py_DECREF(dict);
    return nullptr;
  }
  return dict;
}

// Reads an iterable of (name, value) or (name, value, display_name) tuples.
bool ApplyPairs(PyObject* module, PyObject* pairs, pyfresh::Config* config) {
  PyObject* iterator = PyObject_GetIter(pairs);
  if (iterator == nullptr) return false;
  bool ok = true;
  while (ok) {
    PyObject* item = PyIter_Next(iterator);
    if (item == nullptr) break;
    PyObject* sequence = PySequence_Fast(item, "each option must be a (name, value) pair");
    Py_DECREF(item);
    if (sequence == nullptr) {
      ok = false;
      break;
    }
    Py_ssize_t length = PySequence_Fast_GET_SIZE(sequence);
    std::string name, value, display;
    if (length != 2 && length != 3) {
      PyErr_SetString(PyExc_TypeError, "each option must be a (name, value) pair");
      ok = false;
    } else {
      PyObject** items = PySequence_Fast_ITEMS(sequence);
      ok = ToUtf8(items[0], &name, "option name") && ToUtf8(items[1], &value, "option value") &&
           (length == 2 || ToUtf8(items[2], &display, "option display name"));
    }
    Py_DECREF(sequence);
    if (ok) {
      pyfresh::Status status = config->Set(name, value, display);
      if (!status.ok()) {
        RaiseConfigError(module, status);
        ok = false;
      }
    }
  }
  Py_DECREF(iterator);
  if (ok && PyErr_Occurred()) ok = false;
  if (ok) {
    pyfresh::Status status = config->Validate();
    if (!status.ok()) {
      RaiseConfigError(module, status);
      ok = false;
    }
  }
  return ok;
}

PyObject* ParseConfig(PyObject* module, PyObject* pairs) {
  try {
    pyfresh::Config config;
    if (!ApplyPairs(module, pairs, &config)) return nullptr;
    return ConfigToDict(config);
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

PyObject* SerializeConfigPairs(PyObject* module, PyObject* pairs) {
  try {
    pyfresh::Config config;
    if (!ApplyPairs(module, pairs, &config)) return nullptr;
    std::string text = pyfresh::SerializeConfig(config);
    return PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape");
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

PyObject* ParseSerialized(PyObject* module, PyObject* text_object) {
  try {
    std::string text;
    if (!ToUtf8(text_object, &text, "config text")) return nullptr;
    pyfresh::Config config;
    pyfresh::Status status = pyfresh::ParseSerializedConfig(text, &config);
    if (!status.ok()) return RaiseConfigError(module, status);
    return ConfigToDict(config);
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

PyObject* ParseAppSpecPy(PyObject* module, PyObject* text_object) {
  try {
    std::string text;
    if (!ToUtf8(text_object, &text, "app spec")) return nullptr;
    pyfresh::AppSpec spec;
    pyfresh::Status status = pyfresh::ParseAppSpec(text, &spec);
    if (!status.ok()) return RaiseConfigError(module, status);
    const bool is_file = spec.kind == pyfresh::AppSpec::Kind::kFile;
    return Py_BuildValue("(sNs#)", is_file ? "file" : "module",
                         is_file ? FromPathBytes(spec.target)
                                 : PyUnicode_DecodeUTF8(spec.target.data(),
                                                        static_cast<Py_ssize_t>(spec.target.size()),
                                                        "surrogateescape"),
                         spec.callable.data(),
                         static_cast<Py_ssize_t>(spec.callable.size()));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

PyObject* ValidateModuleNamePy(PyObject* module, PyObject* name_object) {
  try {
    std::string name;
    if (!ToUtf8(name_object, &name, "module name")) return nullptr;
    pyfresh::Status status = pyfresh::ValidateModuleName(name);
    if (!status.ok()) return RaiseConfigError(module, status);
    Py_RETURN_NONE;
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

// check_scope(packages, exclude, app_module, packages_label, exclude_label)
PyObject* CheckScopePy(PyObject* module, PyObject* args) {
  PyObject* packages_object = nullptr;
  PyObject* exclude_object = nullptr;
  PyObject* app_object = nullptr;
  const char* packages_label = nullptr;
  const char* exclude_label = nullptr;
  if (!PyArg_ParseTuple(args, "OOOss:check_scope", &packages_object, &exclude_object, &app_object,
                        &packages_label, &exclude_label)) {
    return nullptr;
  }
  try {
    std::vector<std::string> packages, exclude;
    std::string app_module;
    if (!ToStringList(packages_object, &packages, "package name") ||
        !ToStringList(exclude_object, &exclude, "excluded module name") ||
        !ToUtf8(app_object, &app_module, "module name")) {
      return nullptr;
    }
    pyfresh::Status status = pyfresh::CheckScope(packages, exclude, app_module, packages_label, exclude_label);
    if (!status.ok()) return RaiseConfigError(module, status);
    Py_RETURN_NONE;
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

}  // namespace pyfresh::binding
