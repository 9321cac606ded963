// pyfresh._core.Options: the one options object the engine consumes.
//
// Built once, either by the core from a host's text (uWSGI's pyfresh-*
// pairs, Apache's serialized PYFRESH_CONFIG) or from typed Python arguments
// handed to the core as they are (a bool stays a bool, a float is never
// printed and parsed again). It keeps, per option, the spelling it came as
// ("pyfresh-watch", "PyFreshWatch", "watch=", "--watch"), so that every
// later message names the option as the user wrote it.
//
// The attributes (options.poll_interval, options.packages, ...) come from
// the core's option table: a new option in config.h needs no code here.

#include "binding/options.h"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "binding/conversions.h"
#include "binding/internal.h"
#include "pyfresh/app_spec.h"
#include "pyfresh/config.h"
#include "pyfresh/package_policy.h"

namespace pyfresh::binding {
namespace {

struct OptionsData {
  pyfresh::Config config;
  pyfresh::Spelling spelling = pyfresh::Spelling::kCore;
  // Core option name -> the spelling its value came as.
  std::vector<std::pair<std::string, std::string>> origins;

  void SetOrigin(std::string_view name, std::string label) {
    for (auto& [option, origin] : origins) {
      if (option == name) {
        origin = std::move(label);
        return;
      }
    }
    origins.emplace_back(name, std::move(label));
  }

  const std::string* OriginOf(std::string_view name) const {
    for (const auto& [option, origin] : origins) {
      if (option == name) return &origin;
    }
    return nullptr;
  }
};

struct OptionsObject {
  PyObject_HEAD
  OptionsData* data;
};

OptionsData& DataOf(PyObject* self) { return *reinterpret_cast<OptionsObject*>(self)->data; }

PyObject* ModuleOf(PyTypeObject* type) { return PyType_GetModule(type); }

// "poll_interval" (a Python attribute or keyword) or "poll-interval" -> the
// core name, when it is one.
bool CoreName(PyObject* name_object, std::string* core, pyfresh::OptionKind* kind) {
  if (!PyUnicode_Check(name_object)) return false;
  Py_ssize_t size = 0;
  const char* text = PyUnicode_AsUTF8AndSize(name_object, &size);
  if (text == nullptr) {
    PyErr_Clear();
    return false;
  }
  core->assign(text, static_cast<size_t>(size));
  std::replace(core->begin(), core->end(), '_', '-');
  return pyfresh::LookupOptionKind(*core, kind);
}

bool IsSet(const pyfresh::Config& config, const std::string& name, pyfresh::OptionKind kind) {
  bool flag;
  double seconds;
  std::string text;
  switch (kind) {
    case pyfresh::OptionKind::kSwitch:
      return pyfresh::GetSwitch(config, name, &flag);
    case pyfresh::OptionKind::kSeconds:
      return pyfresh::GetSeconds(config, name, &seconds);
    case pyfresh::OptionKind::kText:
    case pyfresh::OptionKind::kReloadScope:
      return pyfresh::GetText(config, name, &text);
    default:
      return pyfresh::GetList(config, name) != nullptr;
  }
}

// The typed value of an option, or None when it is unset.
PyObject* ValueOf(const pyfresh::Config& config, const std::string& name, pyfresh::OptionKind kind) {
  bool flag = false;
  double seconds = 0;
  std::string text;
  switch (kind) {
    case pyfresh::OptionKind::kSwitch:
      if (pyfresh::GetSwitch(config, name, &flag)) return PyBool_FromLong(flag);
      break;
    case pyfresh::OptionKind::kSeconds:
      if (pyfresh::GetSeconds(config, name, &seconds)) return PyFloat_FromDouble(seconds);
      break;
    case pyfresh::OptionKind::kText:
      if (pyfresh::GetText(config, name, &text)) return FromPathBytes(text);
      break;
    case pyfresh::OptionKind::kReloadScope:
      if (pyfresh::GetText(config, name, &text)) return PyUnicode_FromString(text.c_str());
      break;
    case pyfresh::OptionKind::kNames:
      if (const std::vector<std::string>* list = pyfresh::GetList(config, name)) return ToPyNameList(*list);
      break;
    case pyfresh::OptionKind::kIntegrations:
    case pyfresh::OptionKind::kPaths:
      if (const std::vector<std::string>* list = pyfresh::GetList(config, name)) return ToPyList(*list);
      break;
  }
  Py_RETURN_NONE;
}

std::string AttributeName(std::string_view core) {
  std::string name(core);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

bool ParseSpellingArgument(const char* word, pyfresh::Spelling* out) {
  if (word == nullptr) return true;
  if (pyfresh::ParseSpelling(word, out)) return true;
  PyErr_Format(PyExc_ValueError, "unknown spelling '%.100s' (expected core, python, command-line, uwsgi or apache)",
               word);
  return false;
}

PyObject* NewOptions(PyTypeObject* type, std::unique_ptr<OptionsData> data) {
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  reinterpret_cast<OptionsObject*>(self)->data = data.release();
  return self;
}

// -- typed intake ---------------------------------------------------------------

// Applies one keyword argument. Returns false with an exception set.
bool ApplyTyped(PyObject* module, OptionsData* data, const std::string& name, pyfresh::OptionKind kind,
                PyObject* value) {
  if (value == Py_None) return true;
  pyfresh::Config& config = data->config;
  const std::string label = pyfresh::OptionLabel(name, data->spelling);
  const std::string keyword = AttributeName(name);
  pyfresh::Status status;
  auto each_item = [&](auto&& apply) -> bool {
    PyObject* iterator = PyObject_GetIter(value);
    if (iterator == nullptr) {
      if (PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s has an unsupported type %.100s", keyword.c_str(),
                     Py_TYPE(value)->tp_name);
      }
      return false;
    }
    bool ok = true;
    while (ok) {
      PyObject* item = PyIter_Next(iterator);
      if (item == nullptr) break;
      ok = apply(item);
      Py_DECREF(item);
    }
    Py_DECREF(iterator);
    return ok && !PyErr_Occurred();
  };
  auto add_name = [&](PyObject* item) {
    if (!PyUnicode_Check(item)) {
      PyErr_Format(PyExc_TypeError, "%s must be strings, not %.100s", keyword.c_str(), Py_TYPE(item)->tp_name);
      return false;
    }
    std::string text;
    if (!ToUtf8(item, &text, keyword.c_str())) return false;
    status = config.AddItem(name, text, label);
    if (!status.ok()) {
      RaiseConfigError(module, status);
      return false;
    }
    return true;
  };
  auto add_path = [&](PyObject* item) {
    std::string path;
    if (!ToPathBytes(item, &path, keyword.c_str())) return false;
    status = config.AddItem(name, path, label);
    if (!status.ok()) {
      RaiseConfigError(module, status);
      return false;
    }
    return true;
  };

  if (kind == pyfresh::OptionKind::kPaths) {
    // A str, bytes or os.PathLike is one path, never split.
    if (PyUnicode_Check(value) || PyBytes_Check(value) || PyObject_HasAttrString(value, "__fspath__")) {
      if (!add_path(value)) return false;
    } else if (!each_item(add_path)) {
      return false;
    }
    data->SetOrigin(name, label);
    return true;
  }
  if (PyUnicode_Check(value)) {
    // Text given in Python is parsed as a host's would be ("a b" is two
    // packages, "250ms" a quarter second).
    std::string text;
    if (!ToUtf8(value, &text, keyword.c_str())) return false;
    status = config.Set(name, text, label);
  } else if (PyBool_Check(value)) {
    status = config.SetSwitch(name, value == Py_True, label);
  } else if (kind == pyfresh::OptionKind::kSeconds && (PyFloat_Check(value) || PyLong_Check(value))) {
    const double seconds = PyFloat_AsDouble(value);
    if (seconds == -1.0 && PyErr_Occurred()) return false;
    status = config.SetSeconds(name, seconds, label);
  } else if (kind == pyfresh::OptionKind::kNames) {
    if (!each_item(add_name)) return false;
  } else if (kind == pyfresh::OptionKind::kIntegrations) {
    const bool had = config.integrations.has_value();
    if (!each_item([&](PyObject* item) {
          if (!PyUnicode_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "integrations must be names (str)");
            return false;
          }
          return add_name(item);
        })) {
      return false;
    }
    // No names: no integration (as "off").
    if (!had && !config.integrations.has_value()) status = config.SetSwitch(name, false, label);
  } else {
    PyErr_Format(PyExc_TypeError, "%s has an unsupported type %.100s", keyword.c_str(), Py_TYPE(value)->tp_name);
    return false;
  }
  if (!status.ok()) {
    RaiseConfigError(module, status);
    return false;
  }
  if (IsSet(config, name, kind)) data->SetOrigin(name, label);
  return true;
}

// Options(*, spelling="python", app=None, packages=None, ...): typed values.
PyObject* OptionsNew(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  if (args != nullptr && PyTuple_GET_SIZE(args) != 0) {
    PyErr_SetString(PyExc_TypeError, "Options() takes keyword arguments only");
    return nullptr;
  }
  try {
    PyObject* module = ModuleOf(type);
    if (module == nullptr) return nullptr;
    auto data = std::make_unique<OptionsData>();
    data->spelling = pyfresh::Spelling::kPython;
    if (kwargs != nullptr) {
      PyObject* spelling = PyDict_GetItemString(kwargs, "spelling");  // borrowed
      if (spelling != nullptr) {
        const char* word = PyUnicode_Check(spelling) ? PyUnicode_AsUTF8(spelling) : nullptr;
        if (word == nullptr) {
          if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "spelling must be str");
          return nullptr;
        }
        if (!ParseSpellingArgument(word, &data->spelling)) return nullptr;
      }
      PyObject* key = nullptr;
      PyObject* value = nullptr;
      Py_ssize_t position = 0;
      while (PyDict_Next(kwargs, &position, &key, &value)) {
        if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, "spelling") == 0) continue;
        std::string name;
        pyfresh::OptionKind kind;
        // Attribute names only ("poll_interval", not "poll-interval").
        if (!CoreName(key, &name, &kind) || PyUnicode_FindChar(key, '-', 0, PyUnicode_GET_LENGTH(key), 1) >= 0) {
          PyErr_Format(PyExc_TypeError, "Options() got an unexpected keyword argument %R", key);
          return nullptr;
        }
        if (!ApplyTyped(module, data.get(), name, kind, value)) return nullptr;
      }
    }
    pyfresh::Status status = data->config.Validate();
    if (!status.ok()) return RaiseConfigError(module, status);
    return NewOptions(type, std::move(data));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

// -- host text ------------------------------------------------------------------

// Options.from_pairs(pairs, spelling="core"): (name, value[, display_name])
// text as a host read it; a pair without a display name is named in
// `spelling`.
PyObject* OptionsFromPairs(PyObject* type_object, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"pairs", "spelling", nullptr};
  PyObject* pairs = nullptr;
  const char* spelling = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|s:from_pairs", const_cast<char**>(keywords), &pairs,
                                   &spelling)) {
    return nullptr;
  }
  try {
    auto* type = reinterpret_cast<PyTypeObject*>(type_object);
    PyObject* module = ModuleOf(type);
    if (module == nullptr) return nullptr;
    auto data = std::make_unique<OptionsData>();
    if (!ParseSpellingArgument(spelling, &data->spelling)) return nullptr;
    PyObject* iterator = PyObject_GetIter(pairs);
    if (iterator == nullptr) return nullptr;
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
      const Py_ssize_t length = PySequence_Fast_GET_SIZE(sequence);
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
      if (!ok) break;
      if (display.empty() && pyfresh::IsKnownOption(name)) display = pyfresh::OptionLabel(name, data->spelling);
      pyfresh::Status status = data->config.Set(name, value, display);
      if (!status.ok()) {
        RaiseConfigError(module, status);
        ok = false;
        break;
      }
      data->SetOrigin(name, display);
    }
    Py_DECREF(iterator);
    if (!ok || PyErr_Occurred()) return nullptr;
    pyfresh::Status status = data->config.Validate();
    if (!status.ok()) return RaiseConfigError(module, status);
    return NewOptions(type, std::move(data));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

// Options.from_serialized(text, spelling="apache"): the text of
// pyfresh::SerializeConfig (Apache's PYFRESH_CONFIG); every option is named
// in `spelling`.
PyObject* OptionsFromSerialized(PyObject* type_object, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"text", "spelling", nullptr};
  PyObject* text_object = nullptr;
  const char* spelling = "apache";
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|s:from_serialized", const_cast<char**>(keywords),
                                   &text_object, &spelling)) {
    return nullptr;
  }
  try {
    auto* type = reinterpret_cast<PyTypeObject*>(type_object);
    PyObject* module = ModuleOf(type);
    if (module == nullptr) return nullptr;
    auto data = std::make_unique<OptionsData>();
    if (!ParseSpellingArgument(spelling, &data->spelling)) return nullptr;
    std::string text;
    if (!ToUtf8(text_object, &text, "config text")) return nullptr;
    pyfresh::Status status = pyfresh::ParseSerializedConfig(text, &data->config);
    if (!status.ok()) return RaiseConfigError(module, status);
    return NewOptions(type, std::move(data));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

// -- reading ----------------------------------------------------------------------

PyObject* OptionsGetAttr(PyObject* self, PyObject* name_object) {
  PyObject* found = PyObject_GenericGetAttr(self, name_object);
  if (found != nullptr || !PyErr_ExceptionMatches(PyExc_AttributeError)) return found;
  std::string name;
  pyfresh::OptionKind kind;
  if (!CoreName(name_object, &name, &kind) ||
      PyUnicode_FindChar(name_object, '-', 0, PyUnicode_GET_LENGTH(name_object), 1) >= 0) {
    return nullptr;  // the AttributeError stands
  }
  PyErr_Clear();
  try {
    return ValueOf(DataOf(self).config, name, kind);
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

int OptionsSetAttr(PyObject* self, PyObject* name, PyObject*) {
  PyErr_Format(PyExc_AttributeError, "%.100s is read-only: cannot set %R", Py_TYPE(self)->tp_name, name);
  return -1;
}

std::string LabelOf(const OptionsData& data, const std::string& name, pyfresh::OptionKind kind) {
  const bool given = IsSet(data.config, name, kind);
  const std::string* origin = given ? data.OriginOf(name) : nullptr;
  return origin != nullptr ? *origin : pyfresh::OptionLabel(name, data.spelling, given);
}

// origin_of(name): how the option is spelled where it came from
// ("pyfresh-watch", "PyFreshWatch", "watch=", "--watch"); for an option left
// unset, how that host would spell it.
PyObject* OptionsOriginOf(PyObject* self, PyObject* name_object) {
  std::string name;
  pyfresh::OptionKind kind;
  if (!CoreName(name_object, &name, &kind)) {
    if (!PyErr_Occurred()) PyErr_Format(PyExc_KeyError, "%R is no pyfresh option", name_object);
    return nullptr;
  }
  try {
    const std::string label = LabelOf(DataOf(self), name, kind);
    return PyUnicode_DecodeUTF8(label.data(), static_cast<Py_ssize_t>(label.size()), "surrogateescape");
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

// as_dict(): the set options by attribute name (the options the caller
// gave, nothing filled in).
PyObject* OptionsAsDict(PyObject* self, PyObject*) {
  try {
    const pyfresh::Config& config = DataOf(self).config;
    PyObject* dict = PyDict_New();
    if (dict == nullptr) return nullptr;
    for (size_t i = 0; !pyfresh::OptionNameAt(i).empty(); ++i) {
      const std::string name(pyfresh::OptionNameAt(i));
      pyfresh::OptionKind kind;
      pyfresh::LookupOptionKind(name, &kind);
      if (!IsSet(config, name, kind)) continue;
      PyObject* value = ValueOf(config, name, kind);
      if (value == nullptr || PyDict_SetItemString(dict, AttributeName(name).c_str(), value) < 0) {
        Py_XDECREF(value);
        Py_DECREF(dict);
        return nullptr;
      }
      Py_DECREF(value);
    }
    return dict;
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

// serialize(): the text mod_pyfresh carries per request (name=value lines).
PyObject* OptionsSerialize(PyObject* self, PyObject*) {
  try {
    const std::string text = pyfresh::SerializeConfig(DataOf(self).config);
    return PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape");
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

// merged(child): child-if-set-else-parent (the core's MergeConfig), each
// value keeping the spelling it came as; unset options are named as the
// child's host names them.
PyObject* OptionsMerged(PyObject* self, PyObject* child) {
  if (Py_TYPE(child) != Py_TYPE(self)) {
    PyErr_Format(PyExc_TypeError, "merged() needs Options, not %.100s", Py_TYPE(child)->tp_name);
    return nullptr;
  }
  try {
    const OptionsData& parent_data = DataOf(self);
    const OptionsData& child_data = DataOf(child);
    auto data = std::make_unique<OptionsData>();
    data->config = pyfresh::MergeConfig(parent_data.config, child_data.config);
    data->spelling = child_data.spelling;
    for (size_t i = 0; !pyfresh::OptionNameAt(i).empty(); ++i) {
      const std::string name(pyfresh::OptionNameAt(i));
      pyfresh::OptionKind kind;
      pyfresh::LookupOptionKind(name, &kind);
      const OptionsData& from = IsSet(child_data.config, name, kind) ? child_data : parent_data;
      if (!IsSet(from.config, name, kind)) continue;
      const std::string* origin = from.OriginOf(name);
      data->SetOrigin(name, origin != nullptr ? *origin : pyfresh::OptionLabel(name, from.spelling));
    }
    return NewOptions(Py_TYPE(self), std::move(data));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

// check_scope(app_module): ConfigError when an exclusion covers the app's
// own module or every package (the core's CheckScope), naming the options
// as they were given.
PyObject* OptionsCheckScope(PyObject* self, PyObject* app_object) {
  try {
    std::string app_module;
    if (!ToUtf8(app_object, &app_module, "module name")) return nullptr;
    const OptionsData& data = DataOf(self);
    const std::vector<std::string> none;
    const std::vector<std::string>* packages = pyfresh::GetList(data.config, "packages");
    const std::vector<std::string>* exclude = pyfresh::GetList(data.config, "exclude");
    pyfresh::Status status =
        pyfresh::CheckScope(packages ? *packages : none, exclude ? *exclude : none, app_module,
                            LabelOf(data, "packages", pyfresh::OptionKind::kNames),
                            LabelOf(data, "exclude", pyfresh::OptionKind::kNames));
    if (!status.ok()) return RaiseConfigError(ModuleOf(Py_TYPE(self)), status);
    Py_RETURN_NONE;
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

PyObject* OptionsRepr(PyObject* self) {
  PyObject* dict = OptionsAsDict(self, nullptr);
  if (dict == nullptr) return nullptr;
  PyObject* text = PyUnicode_FromFormat("<pyfresh Options %R>", dict);
  Py_DECREF(dict);
  return text;
}

// Equal when they hold the same values (spellings aside).
PyObject* OptionsRichCompare(PyObject* self, PyObject* other, int op) {
  if ((op != Py_EQ && op != Py_NE) || Py_TYPE(other) != Py_TYPE(self)) Py_RETURN_NOTIMPLEMENTED;
  try {
    const bool equal =
        pyfresh::SerializeConfig(DataOf(self).config) == pyfresh::SerializeConfig(DataOf(other).config);
    return PyBool_FromLong(equal == (op == Py_EQ));
  } catch (...) {
    return SetErrorFromCurrentException();
  }
}

PyObject* OptionsDir(PyObject* self, PyObject*) {
  PyObject* names = PyObject_Dir(reinterpret_cast<PyObject*>(Py_TYPE(self)));
  if (names == nullptr) return nullptr;
  for (size_t i = 0; !pyfresh::OptionNameAt(i).empty(); ++i) {
    PyObject* name = PyUnicode_FromString(AttributeName(pyfresh::OptionNameAt(i)).c_str());
    if (name == nullptr || PyList_Append(names, name) < 0) {
      Py_XDECREF(name);
      Py_DECREF(names);
      return nullptr;
    }
    Py_DECREF(name);
  }
  return names;
}

void OptionsDealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  delete reinterpret_cast<OptionsObject*>(self)->data;
  type->tp_free(self);
  Py_DECREF(type);
}

PyMethodDef options_methods[] = {
    {"from_pairs", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(OptionsFromPairs)),
     METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "from_pairs(pairs, spelling='core') -> Options: (name, value[, display_name]) text as a host read it; "
     "a pair without a display name is named in `spelling` (core, python, command-line, uwsgi, apache)."},
    {"from_serialized", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(OptionsFromSerialized)),
     METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "from_serialized(text, spelling='apache') -> Options: mod_pyfresh's PYFRESH_CONFIG text."},
    {"origin_of", OptionsOriginOf, METH_O,
     "origin_of(name) -> str: the option as spelled where its value came from ('pyfresh-watch', "
     "'PyFreshWatch', 'watch=', '--watch'); for an unset option, as that host would spell it."},
    {"as_dict", OptionsAsDict, METH_NOARGS, "as_dict() -> dict: the options given, by attribute name."},
    {"serialize", OptionsSerialize, METH_NOARGS, "serialize() -> str: the options as 'name=value' lines."},
    {"merged", OptionsMerged, METH_O,
     "merged(child) -> Options: the child's options where set, else these (the core's merge)."},
    {"check_scope", OptionsCheckScope, METH_O,
     "check_scope(app_module): raise ConfigError when an exclusion covers the app's module or every package."},
    {"__dir__", OptionsDir, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot options_slots[] = {
    {Py_tp_doc, const_cast<char*>(
                    "Options(*, spelling='python', app=None, packages=None, exclude=None, debug=None, ...): "
                    "pyfresh's options, validated by the core. Keyword arguments are typed values (bool, "
                    "seconds as float, lists of names or paths); str values are parsed as a host's text. "
                    "Read-only attributes, one per option (None when unset): enabled, app, packages, "
                    "exclude, debug, poll_interval, watch, restart_on, watch_ignore, drain_timeout, "
                    "integrations, live_reload, reload_scope.")},
    {Py_tp_new, reinterpret_cast<void*>(OptionsNew)},
    {Py_tp_dealloc, reinterpret_cast<void*>(OptionsDealloc)},
    {Py_tp_getattro, reinterpret_cast<void*>(OptionsGetAttr)},
    {Py_tp_setattro, reinterpret_cast<void*>(OptionsSetAttr)},
    {Py_tp_repr, reinterpret_cast<void*>(OptionsRepr)},
    {Py_tp_richcompare, reinterpret_cast<void*>(OptionsRichCompare)},
    {Py_tp_methods, options_methods},
    {0, nullptr},
};

PyType_Spec options_spec = {"pyfresh._core.Options", sizeof(OptionsObject), 0, Py_TPFLAGS_DEFAULT,
                            options_slots};

// -- functions ------------------------------------------------------------------

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

PyMethodDef option_functions[] = {
    {"parse_app_spec", ParseAppSpecPy, METH_O,
     "parse_app_spec(text) -> (kind, target, callable); kind is 'module' or 'file'."},
    {"validate_module_name", ValidateModuleNamePy, METH_O, "Raise ConfigError unless the name is a dotted identifier."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

int AddOptions(PyObject* module) {
  PyObject* type = PyType_FromModuleAndSpec(module, &options_spec, nullptr);
  if (type == nullptr) return -1;
  const int added = PyModule_AddType(module, reinterpret_cast<PyTypeObject*>(type));
  Py_DECREF(type);
  if (added < 0) return -1;
  return PyModule_AddFunctions(module, option_functions);
}

}  // namespace pyfresh::binding
