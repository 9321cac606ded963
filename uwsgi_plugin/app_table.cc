#include "app_table.h"

#include <utility>

#include "pyfresh/app_spec.h"
#include "pyfresh/quote.h"

namespace pyfresh_uwsgi {
namespace {

using pyfresh::IsScriptFileName;
using pyfresh::kDefaultCallable;
using pyfresh::QuoteForMessage;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsSpec(const std::string& text) { return pyfresh::ParseAppSpec(text).ok(); }

// The python plugin's module loader: "pkg.mod:callable", or "pkg.mod" with
// the `callable` option. "pkg.mod:factory()" calls a factory: no spec.
std::string ModuleSpec(const std::string& module, const char* callable) {
  std::string spec = module;
  if (module.find(':') == std::string::npos) {
    spec += ':';
    spec += callable != nullptr ? callable : kDefaultCallable;
  }
  return IsSpec(spec) ? spec : std::string();
}

// The python plugin's file loader takes the callable from `callable`.
std::string FileSpec(const std::string& file, const char* callable) {
  if (file.rfind("sym://", 0) == 0 || file.rfind("http://", 0) == 0 || file.rfind("data://", 0) == 0) {
    return {};
  }
  // Only a '/' makes a file spec ("site.wsgi" alone would be a module).
  std::string spec = file.find('/') == std::string::npos ? "./" + file : file;
  spec += ":";
  spec += callable != nullptr ? callable : kDefaultCallable;
  return IsSpec(spec) ? spec : std::string();
}

std::string Origin(const char* option, std::string_view value) {
  std::string origin = "`";
  origin += option;
  origin += " = ";
  origin.append(value);
  origin += '`';
  return origin;
}

// The main app: the first of the python plugin's loaders that is set, in
// the order its init_apps runs them (later ones are skipped by uWSGI).
bool MainSource(const PythonAppOptions& python, AppSource* out) {
  out->mountpoint = "";
  out->is_wsgi = true;
  if (python.module != nullptr) {
    out->spec = ModuleSpec(python.module, python.callable);
    out->origin = Origin("module", python.module);
    return true;
  }
  if (python.file != nullptr) {
    out->spec = FileSpec(python.file, python.callable);
    out->origin = Origin("wsgi-file", python.file);
    return true;
  }
  const struct {
    const char* name;
    const char* value;
    bool is_wsgi;
  } others[] = {
      {"pecan", python.pecan, true}, {"paste", python.paste, true},        {"eval", python.eval, true},
      {"web3", python.web3, false},  {"pump", python.pump, false},         {"wsgi-lite", python.wsgi_lite, false},
  };
  for (const auto& other : others) {
    if (other.value != nullptr) {
      out->spec.clear();
      out->origin = Origin(other.name, other.value);
      out->is_wsgi = other.is_wsgi;
      return true;
    }
  }
  return false;
}

// One `mount = MOUNTPOINT=TARGET`, as the python plugin's mount loader
// reads it; false when the target is for another plugin.
bool MountSource(const std::string& mount, const char* callable, AppSource* out) {
  const size_t equal = mount.find('=');
  if (equal == std::string::npos) return false;
  const std::string target = mount.substr(equal + 1);
  const bool is_file = IsScriptFileName(target);
  if (!is_file && target.find(':') == std::string::npos) return false;
  out->mountpoint = mount.substr(0, equal);
  out->origin = Origin("mount", mount);
  out->is_wsgi = true;
  if (is_file) {
    out->spec = FileSpec(target, callable);
  } else if (EndsWith(target, ".ini")) {
    out->spec.clear();  // paste.deploy
  } else {
    out->spec = ModuleSpec(target, nullptr);
  }
  return true;
}

// What uWSGI's mount loader needs to load `app.spec` the way the engine
// will re-import it.
pyfresh::StatusOr<std::string> MountTarget(const AppOption& app, const char* callable) {
  pyfresh::StatusOr<pyfresh::AppSpec> parsed = pyfresh::ParseAppSpec(app.spec);
  if (!parsed.ok()) return parsed.status();
  const pyfresh::AppSpec& spec = *parsed;
  if (spec.kind == pyfresh::AppSpec::Kind::kModule) return spec.target + ":" + spec.callable;
  const std::string file_callable = callable != nullptr ? callable : kDefaultCallable;
  if (spec.callable != file_callable) {
    return pyfresh::Status::Error(
        UwsgiOptionName("app") + ": " + QuoteForMessage(app.text) + " names the callable " +
        QuoteForMessage(spec.callable) + " of a file, but uWSGI takes a file's callable from its `callable` option (" +
        QuoteForMessage(file_callable) + "): set `callable = " + spec.callable + "` or use a module spec");
  }
  if (!IsScriptFileName(spec.target)) {
    return pyfresh::Status::Error(UwsgiOptionName("app") + ": " + QuoteForMessage(app.text) +
                                  ": uWSGI loads only .py and .wsgi files; use a module spec");
  }
  return spec.target;
}

}  // namespace

std::string PyfreshAppSuggestion(const std::string& mountpoint) {
  if (MountKey(mountpoint).empty()) return "`pyfresh-app = package.module:callable`";
  return "`pyfresh-app = " + mountpoint + "=package.module:callable`";
}

const AppSource* AppTable::Find(std::string_view mountpoint) const {
  const std::string_view key = MountKey(mountpoint);
  for (const AppSource& source : sources_) {
    if (MountKey(source.mountpoint) == key) return &source;
  }
  return nullptr;
}

pyfresh::Status AppTable::Build(const PythonAppOptions& python, const std::vector<AppOption>& apps,
                                bool require_specs, AppTable* table, std::vector<AddedMount>* mounts) {
  AppTable built;
  std::vector<AddedMount> added;
  AppSource main;
  if (MainSource(python, &main)) built.sources_.push_back(std::move(main));
  for (const std::string& mount : python.mounts) {
    AppSource source;
    if (!MountSource(mount, python.callable, &source)) continue;
    // uWSGI skips a second app on the same mountpoint ("already configured").
    if (built.Find(source.mountpoint) != nullptr) continue;
    built.sources_.push_back(std::move(source));
  }

  for (const AppOption& app : apps) {
    const std::string origin = "`" + UwsgiOptionName("app") + " = " + app.text + "`";
    AppSource* existing = nullptr;
    for (AppSource& source : built.sources_) {
      if (MountKey(source.mountpoint) == MountKey(app.mountpoint)) existing = &source;
    }
    if (existing != nullptr) {
      existing->spec = app.spec;
      existing->origin = origin;
      continue;
    }
    AddedMount mount;
    mount.mountpoint = app.mountpoint;
    pyfresh::StatusOr<std::string> target = MountTarget(app, python.callable);
    if (!target.ok()) return target.status();
    mount.target = std::move(target).value();
    AppSource source;
    source.mountpoint = app.mountpoint;
    source.spec = app.spec;
    source.origin = origin;
    built.sources_.push_back(std::move(source));
    // The main app first, so that it is app 0 in the main interpreter, as
    // with `module`.
    if (MountKey(app.mountpoint).empty()) {
      added.insert(added.begin(), std::move(mount));
    } else {
      added.push_back(std::move(mount));
    }
  }

  if (require_specs) {
    for (const AppSource& source : built.sources_) {
      if (source.is_wsgi && source.spec.empty()) {
        return pyfresh::Status::Error(
            "the app at mountpoint " + QuoteForMessage(source.mountpoint) + " is loaded by " + source.origin +
            ", which pyfresh cannot import again by itself; say which callable to reload with " +
            PyfreshAppSuggestion(source.mountpoint) + " (or turn pyfresh off with `pyfresh-enabled = false`)");
      }
    }
  }
  *table = std::move(built);
  *mounts = std::move(added);
  return pyfresh::Status::Ok();
}

}  // namespace pyfresh_uwsgi
