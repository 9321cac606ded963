// pyfresh_plugin.so: the uWSGI host of the pyfresh engine.
//
// A generic plugin (no .request): the python plugin keeps serving every
// request. Once the apps are loaded, in the process that loaded them (the
// master before fork; each worker with lazy-apps), a "post app" hook puts a
// pyfresh.Reloader in front of every WSGI app's callable, in that app's
// interpreter. Per request the python plugin then calls the Reloader, which
// re-imports changed code in that process. Everything about reloading is
// the engine's; this file holds the option table, the startup checks and
// the hooks. No C++ exception leaves a function uWSGI calls.
#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "app_table.h"
#include "app_wrapper.h"
#include "plugin_options.h"
#include "pyfresh/app_spec.h"
#include "pyfresh/quote.h"
#include "uwsgi_api.h"

namespace pyfresh_uwsgi {
namespace {

// One hook, "pyfresh", run at two points of uwsgi_init_all_apps, in the
// process that loads the apps: before ("pre app") and after ("post app").
constexpr char kHookName[] = "pyfresh";
constexpr char kPreAppArgument[] = "load-start";
constexpr char kPostAppArgument[] = "wrap-apps";
constexpr char kPreAppAction[] = "pyfresh:load-start";
constexpr char kPostAppAction[] = "pyfresh:wrap-apps";

// Filled by uWSGI's option parser (plain C data: no static destructor).
RawOptions g_raw;

// What init() resolved, in the master, before any app is loaded. Allocated
// once and never freed (its destructor must not run at exit inside uWSGI).
struct State {
  Options options;
  AppTable table;
  std::vector<EnginePair> pairs;
};
State* g_state = nullptr;
// The process that wrapped its apps (the hook may be listed twice).
pid_t g_wrapped_in = 0;
// When this process began loading its apps, on the clock file timestamps
// come from; -1 when unknown.
int64_t g_load_started_ns = -1;

// A configuration error: one line, and uWSGI does not start.
[[noreturn]] void ExitConfigError(const std::string& message) {
  uwsgi_log("pyfresh: %s\n", message.c_str());
  exit(1);
}

// An app could not be wrapped: reported like a failed app load. In the
// master this stops uWSGI; in a lazy-apps worker the master reports
// "failed loading app in worker N" (and stops with need-app).
[[noreturn]] void ExitAppError(const std::string& message) {
  uwsgi_log("pyfresh: %s\n", message.c_str());
  exit(kFailedAppExitCode);
}

[[noreturn]] void ExitUnexpected(const char* where, const char* what) {
  uwsgi_log("pyfresh: internal error in %s: %s\n", where, what);
  exit(1);
}

std::string Mountpoint(const struct uwsgi_app* app) { return std::string(app->mountpoint, app->mountpoint_len); }

// The python plugin's record (its symbol is named after its file, e.g.
// python311_plugin), or null when it is not loaded.
struct uwsgi_plugin* PythonPlugin() {
  if (&up == nullptr || uwsgi_request_subhandler_wsgi == nullptr) return nullptr;
  return uwsgi_plugin_get("python");
}

PythonAppOptions ReadPythonAppOptions() {
  PythonAppOptions python;
  python.module = up.wsgi_config;
  python.file = up.file_config;
  python.callable = up.callable;
  python.pecan = up.pecan;
  python.paste = up.paste;
  python.eval = up.eval;
  python.web3 = up.web3;
  python.pump = up.pump;
  python.wsgi_lite = up.wsgi_lite;
  for (struct uwsgi_string_list* mount = uwsgi.mounts; mount != nullptr; mount = mount->next) {
    if (mount->value != nullptr) python.mounts.emplace_back(mount->value);
  }
  return python;
}

// Adds the mounts pyfresh-app asks for: the main app in front, so it is
// loaded first (app 0, main interpreter), the others after uWSGI's own.
void AddMounts(const std::vector<AddedMount>& mounts) {
  for (const AddedMount& mount : mounts) {
    // uWSGI writes into the string while mounting: give it its own copy.
    char* value = uwsgi_concat3(const_cast<char*>(mount.mountpoint.c_str()), const_cast<char*>("="),
                                const_cast<char*>(mount.target.c_str()));
    if (MountKey(mount.mountpoint).empty()) {
      struct uwsgi_string_list* first = nullptr;
      uwsgi_string_new_list(&first, value);
      first->next = uwsgi.mounts;
      uwsgi.mounts = first;
    } else {
      uwsgi_string_new_list(&uwsgi.mounts, value);
    }
  }
}

int Hook(char* argument);

// Generic plugin init: options are parsed, Python is not initialised yet,
// no app is loaded. Runs once, in the master (or the only process), also
// after a graceful reload (which re-executes uWSGI).
int Init() {
  try {
    if (PythonPlugin() == nullptr) {
      ExitConfigError(
          "the python3 plugin is not loaded, and pyfresh works inside it: load it with "
          "`plugins = python3,pyfresh` (Debian package uwsgi-plugin-python3)");
    }
    const char* version = Py_GetVersion();
    const std::string built = std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION) + ".";
    if (std::strncmp(version, built.c_str(), built.size()) != 0) {
      ExitConfigError("built for Python " + built.substr(0, built.size() - 1) +
                      ", but the python plugin runs Python " + std::string(version, std::strcspn(version, " ")) +
                      ": rebuild pyfresh against that Python");
    }

    auto* state = new State();
    pyfresh::Status status = ResolveOptions(g_raw, &state->options);
    if (!status.ok()) ExitConfigError(status.message());
    const bool enabled = state->options.config.enabled.value_or(true);

    std::vector<AddedMount> mounts;
    status = AppTable::Build(ReadPythonAppOptions(), state->options.apps, /*require_specs=*/enabled,
                             &state->table, &mounts);
    if (!status.ok()) ExitConfigError(status.message());
    // Apps named only by pyfresh-app are loaded even when pyfresh is off.
    AddMounts(mounts);

    if (!enabled) {
      uwsgi_log("pyfresh: off (pyfresh-enabled = false): apps are served as loaded, without reloading\n");
      delete state;
      return 0;
    }
    uwsgi_log("pyfresh %s: the apps of this instance run the code as it is on disk\n", PYFRESH_VERSION);
    state->options.config.enabled.reset();  // on; the engine's default
    state->pairs = EnginePairs(state->options.config);
    g_state = state;

    if (up.auto_reload > 0) {
      uwsgi_log(
          "pyfresh: WARNING: py-autoreload = %d is also on: uWSGI will still restart the whole instance "
          "about %d s after a change (pyfresh reloads the code in process); remove py-autoreload\n",
          up.auto_reload, up.auto_reload);
    }
    uwsgi_register_hook(const_cast<char*>(kHookName), Hook);
    uwsgi_string_new_list(&uwsgi.hook_pre_app, uwsgi_str(const_cast<char*>(kPreAppAction)));
    uwsgi_string_new_list(&uwsgi.hook_post_app, uwsgi_str(const_cast<char*>(kPostAppAction)));
  } catch (const std::exception& e) {
    ExitUnexpected("init", e.what());
  } catch (...) {
    ExitUnexpected("init", "unknown exception");
  }
  return 0;
}

// "pre app": this process is about to import its apps. The engine takes
// the files' identities only when the app is wrapped; a file saved in
// between is noticed by comparing its timestamps with this moment.
void MarkLoadStart() {
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME_COARSE, &now) == 0) {
    g_load_started_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  }
}

// "post app": every app (mounts too) is loaded in this process. Non-lazy:
// the master (or the only process) before fork. lazy-apps: each worker,
// after fork.
void WrapApps() {
  if (g_state == nullptr || g_wrapped_in == getpid()) return;
  g_wrapped_in = getpid();
  char cwd_buffer[PATH_MAX];
  const std::string cwd = getcwd(cwd_buffer, sizeof cwd_buffer) != nullptr ? cwd_buffer : "";
  const uint8_t python_modifier = PythonPlugin()->modifier1;
  for (int id = 0; id < uwsgi_apps_cnt; ++id) {
    struct uwsgi_app* app = &uwsgi_apps[id];
    if (app->modifier1 != python_modifier) continue;  // another language's app
    const std::string mountpoint = Mountpoint(app);
    if (app->request_subhandler != uwsgi_request_subhandler_wsgi) {
      uwsgi_log("pyfresh: app %d (mountpoint=%s) is not a WSGI app; it is served without pyfresh\n", id,
                pyfresh::QuoteForMessage(mountpoint).c_str());
      continue;
    }
    const AppSource* source = g_state->table.Find(mountpoint);
    if (source == nullptr || source->spec.empty()) {
      ExitAppError("app " + std::to_string(id) + " (mountpoint=" + pyfresh::QuoteForMessage(mountpoint) +
                   ") was not loaded from an option pyfresh knows (a module's `applications` dict?): "
                   "say which callable to reload with " + PyfreshAppSuggestion(mountpoint));
    }
    pyfresh::Status status =
        WrapApp(id, pyfresh::AbsoluteAppSpec(source->spec, cwd), g_state->pairs, g_load_started_ns);
    if (!status.ok()) ExitAppError(status.message());
  }
  // Apps uWSGI could not load (the code was broken at startup): pyfresh
  // serves their error response and, once a save fixes the code, the app.
  for (const AppSource& source : g_state->table.sources()) {
    if (source.spec.empty() || !source.is_wsgi) continue;
    std::string mountpoint = source.mountpoint;
    if (uwsgi_get_app_id(nullptr, mountpoint.data(), static_cast<uint16_t>(mountpoint.size()), -1) != -1) continue;
    bool served = false;
    pyfresh::Status status =
        ServeUnloadedApp(mountpoint, pyfresh::AbsoluteAppSpec(source.spec, cwd), g_state->pairs, &served);
    if (!status.ok()) ExitAppError(status.message());
    if (!served) {
      uwsgi_log("pyfresh: uWSGI could not load the app at mountpoint=%s (%s), and this python plugin does not "
                "let pyfresh serve it: fix the code and restart uWSGI\n",
                pyfresh::QuoteForMessage(mountpoint).c_str(), source.origin.c_str());
    }
  }
}

int Hook(char* argument) {
  try {
    if (std::strcmp(argument, kPreAppArgument) == 0) {
      MarkLoadStart();
    } else if (std::strcmp(argument, kPostAppArgument) == 0) {
      WrapApps();
    } else {
      uwsgi_log("pyfresh: unknown hook action 'pyfresh:%s' (pyfresh adds its hooks itself)\n", argument);
    }
  } catch (const std::exception& e) {
    ExitUnexpected("its app hook", e.what());
  } catch (...) {
    ExitUnexpected("its app hook", "unknown exception");
  }
  return 0;
}

// Master, after the apps (none yet with lazy-apps), before fork. With
// lazy-apps the workers import pyfresh; say now if they cannot.
void PostinitApps() {
  try {
    if (g_state == nullptr || !(uwsgi.lazy || uwsgi.lazy_apps)) return;
    std::string detail;
    if (!PythonModuleFindable("pyfresh", &detail)) {
      ExitConfigError("the Python package 'pyfresh' is not importable (" + detail +
                      "): install it (cmake --install) or add its directory with `pythonpath`");
    }
  } catch (const std::exception& e) {
    ExitUnexpected("postinit_apps", e.what());
  } catch (...) {
    ExitUnexpected("postinit_apps", "unknown exception");
  }
}

void OptionAdd(char* option, char* value, void* list) {
  // uWSGI's own list handler, which only allocates (and exits on failure).
  uwsgi_opt_add_string_list(option, value, list);
}

constexpr char kHelpEnabled[] =
    "turn pyfresh on or off (default: on when the plugin is loaded); off serves the apps as loaded";
constexpr char kHelpApp[] =
    "[MOUNTPOINT=]SPEC: the app pyfresh re-imports for a mountpoint (default: the main app), as "
    "package.module:callable or /path/app.wsgi; mounted if no other option loads an app there";
constexpr char kHelpPackages[] =
    "packages cleared and re-imported on a change (space or comma separated, repeatable); default: inferred "
    "from what the app imports";
constexpr char kHelpExclude[] = "modules kept across reloads (space or comma separated, repeatable)";
constexpr char kHelpDebug[] = "answer a failed reload with the traceback (default: off)";
constexpr char kHelpLiveReload[] =
    "development: open HTML pages reload by themselves after a save; /_pyfresh/ answers their checks "
    "(default: off)";
constexpr char kHelpPollInterval[] =
    "force stat polling instead of inotify, at most one full check per interval (e.g. 0.5, 250ms)";
constexpr char kHelpDrainTimeout[] =
    "seconds a reload waits for requests still running (streams until closed) before it goes ahead; new "
    "requests wait meanwhile (default: 1)";
constexpr char kHelpIntegrations[] =
    "framework integrations: on (every one, the default), off, or the names of those to use (django flask bottle)";
constexpr char kHelpReloadScope[] =
    "what a reload clears: packages (every module of the packages, the default) or dependents (the changed "
    "modules and those importing them; falls back to packages when unsure)";
constexpr char kHelpWatch[] =
    "a non-Python file, directory (recursive) or glob whose change reloads the app; one per value, repeatable";
constexpr char kHelpRestartOn[] =
    "a file, directory or glob whose change reloads the whole uWSGI instance instead; one per value, repeatable";
constexpr char kHelpWatchIgnore[] =
    "a file-name pattern (fnmatch, e.g. *.bak) that pyfresh-watch and pyfresh-restart-on skip, besides editors' "
    "and VCS files; one per value, repeatable";

struct uwsgi_option g_options[] = {
    {const_cast<char*>("pyfresh-enabled"), no_argument, 0, const_cast<char*>(kHelpEnabled), OptionAdd,
     &g_raw.enabled, 0},
    {const_cast<char*>("pyfresh-app"), required_argument, 0, const_cast<char*>(kHelpApp), OptionAdd, &g_raw.app, 0},
    {const_cast<char*>("pyfresh-packages"), required_argument, 0, const_cast<char*>(kHelpPackages), OptionAdd,
     &g_raw.packages, 0},
    {const_cast<char*>("pyfresh-exclude"), required_argument, 0, const_cast<char*>(kHelpExclude), OptionAdd,
     &g_raw.exclude, 0},
    {const_cast<char*>("pyfresh-debug"), no_argument, 0, const_cast<char*>(kHelpDebug), OptionAdd, &g_raw.debug, 0},
    {const_cast<char*>("pyfresh-poll-interval"), required_argument, 0, const_cast<char*>(kHelpPollInterval),
     OptionAdd, &g_raw.poll_interval, 0},
    {const_cast<char*>("pyfresh-watch"), required_argument, 0, const_cast<char*>(kHelpWatch), OptionAdd,
     &g_raw.watch, 0},
    {const_cast<char*>("pyfresh-restart-on"), required_argument, 0, const_cast<char*>(kHelpRestartOn), OptionAdd,
     &g_raw.restart_on, 0},
    {const_cast<char*>("pyfresh-watch-ignore"), required_argument, 0, const_cast<char*>(kHelpWatchIgnore),
     OptionAdd, &g_raw.watch_ignore, 0},
    {const_cast<char*>("pyfresh-drain-timeout"), required_argument, 0, const_cast<char*>(kHelpDrainTimeout),
     OptionAdd, &g_raw.drain_timeout, 0},
    {const_cast<char*>("pyfresh-integrations"), required_argument, 0, const_cast<char*>(kHelpIntegrations),
     OptionAdd, &g_raw.integrations, 0},
    {const_cast<char*>("pyfresh-live-reload"), no_argument, 0, const_cast<char*>(kHelpLiveReload), OptionAdd,
     &g_raw.live_reload, 0},
    {const_cast<char*>("pyfresh-reload-scope"), required_argument, 0, const_cast<char*>(kHelpReloadScope),
     OptionAdd, &g_raw.reload_scope, 0},
    {nullptr, 0, 0, nullptr, nullptr, nullptr, 0},
};

}  // namespace
}  // namespace pyfresh_uwsgi

// (The ELF section "uwsgi" with "requires=python3", which makes uWSGI load
// the python3 plugin first, is added by the build with objcopy, as uWSGI's
// own build does: a variable placed in a section named "uwsgi" makes the
// linker resolve the symbol `uwsgi` to that section.)
extern "C" {
extern __attribute__((visibility("default"))) struct uwsgi_plugin pyfresh_plugin;
}
struct uwsgi_plugin pyfresh_plugin = {
    .name = "pyfresh",
    .init = pyfresh_uwsgi::Init,
    .options = pyfresh_uwsgi::g_options,
    .postinit_apps = pyfresh_uwsgi::PostinitApps,
};
