// pyfresh's one option vocabulary. Hosts spell the names their way
// (uWSGI "pyfresh-packages", Apache "PyFreshPackages", Python "packages=")
// and pass name/value text here; validation and merging live only here.
#ifndef PYFRESH_CONFIG_H_
#define PYFRESH_CONFIG_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyfresh/status.h"

namespace pyfresh {

// Option names, host-independent:
//   enabled        on|off (also true/false, yes/no, 1/0)
//   app            an app spec (see app_spec.h)
//   packages       package prefixes, space- or comma-separated; repeatable
//   exclude        modules kept across reloads; same syntax; repeatable
//   debug          on|off: error pages with traceback
//   poll-interval  seconds ("0", "0.5", "2s", "250ms"): forces stat polling
//                  with at most one full check per interval
//   drain-timeout  seconds (same syntax): how long a reload waits for the
//                  requests still inside the app (streaming responses until
//                  closed) before it goes ahead anyway; new requests wait
//                  meanwhile. The engine's default is 1 s.
//   reload-scope   what a reload clears: "packages" (the engine's default:
//                  every module under the packages but the exclusions) or
//                  "dependents" (the changed modules and the modules under
//                  the packages that import them, directly or transitively;
//                  the engine falls back to packages when its import graph
//                  cannot tell)
//   integrations   framework integrations (Django, Flask, Bottle, the
//                  user's own): "on" or "all" (the engine's default), "off"
//                  or "none", or the names of those to use, space- or
//                  comma-separated ([A-Za-z0-9_.-]); repeatable, names add up
//   watch          non-Python files whose change reloads the app: a file, a
//                  directory (recursive) or a glob pattern; ONE path per
//                  value (paths may contain spaces and commas); repeatable
//   restart-on     files, directories or globs whose change restarts the
//                  process instead of reloading; same syntax as watch
//   watch-ignore   file-name patterns (fnmatch: *, ?, [...]; case-sensitive)
//                  that watch and restart-on skip in the directories they
//                  cover, ON TOP of the engine's editor/VCS list; ONE pattern
//                  per value; repeatable. A pattern matches a name, so it
//                  holds no '/'; a file named in watch itself is never skipped
//   live-reload    on|off (default off; a development feature): HTML pages
//                  get a script that reloads them when this process
//                  reloads, and /_pyfresh/ answers their change checks
// Path values are kept verbatim (the engine resolves relative ones); only an
// empty value or a control character (NUL, newline, tab...) is refused.
enum class ReloadScope { kPackages, kDependents };

struct Config {
  // Every field unset until given; Merge takes child-if-set-else-parent.
  std::optional<bool> enabled;
  std::optional<std::string> app;
  std::optional<std::vector<std::string>> packages;
  std::optional<std::vector<std::string>> exclude;
  std::optional<bool> debug;
  std::optional<double> poll_interval_seconds;
  std::optional<double> drain_timeout_seconds;
  std::optional<ReloadScope> reload_scope;
  // Empty: off; {"all"}: every integration; else the names chosen.
  std::optional<std::vector<std::string>> integrations;
  std::optional<std::vector<std::string>> watch;
  std::optional<std::vector<std::string>> restart_on;
  std::optional<std::vector<std::string>> watch_ignore;
  std::optional<bool> live_reload;

  // Applies one option. A list option given again appends. The error names
  // the option (as `display_name` when given, e.g. "PyFreshPackages") and
  // quotes the bad value.
  Status Set(std::string_view name, std::string_view value, std::string_view display_name = {});

  // Typed values, for a binding that has them (Python's bool, float and
  // lists): the same checks and messages as Set, with no text in between.
  // SetSwitch: an on/off option; for integrations true is "all", false none.
  Status SetSwitch(std::string_view name, bool value, std::string_view display_name = {});
  // SetSeconds: poll-interval or drain-timeout, 0 to 86400.
  Status SetSeconds(std::string_view name, double seconds, std::string_view display_name = {});
  // AddItem: ONE element of a list option, never split: a package or module
  // name, a path, a pattern, an integration name. Appended unless listed.
  Status AddItem(std::string_view name, std::string_view item, std::string_view display_name = {});

  // Re-checks every set field (they are public, so they may have been
  // assigned without Set): the app spec, the module names, a non-empty
  // package list and the poll-interval and drain-timeout ranges. An exclusion that lies under
  // no package is NOT an error: it simply has no effect.
  Status Validate() const;
};

// What a binding needs to know to hand an option's value over typed.
enum class OptionKind {
  kSwitch,        // enabled, debug, live-reload: bool
  kText,          // app: one string
  kNames,         // packages, exclude: module names (UTF-8 text)
  kSeconds,       // poll-interval, drain-timeout: double
  kReloadScope,   // reload-scope: ReloadScope
  kIntegrations,  // integrations: names ({} none, {"all"} every one)
  kPaths,         // watch, restart-on, watch-ignore: paths or patterns (bytes)
};

// Looks up a core option name ("poll-interval"); false when unknown.
bool LookupOptionKind(std::string_view name, OptionKind* kind);

// The core option names, in table order: `index` from 0 while it returns
// a non-empty name.
std::string_view OptionNameAt(size_t index);

// Typed reads by name, so that a binding needs no code per option. Each
// returns false (or null) when the option is unknown, of another kind, or
// unset. GetText: app, and reload-scope as its name; GetList: names, paths,
// patterns and integrations.
bool GetSwitch(const Config& config, std::string_view name, bool* out);
bool GetSeconds(const Config& config, std::string_view name, double* out);
bool GetText(const Config& config, std::string_view name, std::string* out);
const std::vector<std::string>* GetList(const Config& config, std::string_view name);

// How a host spells the option names, for messages.
enum class Spelling {
  kCore,         // poll-interval (the vocabulary itself; also pairs without a display name)
  kPython,       // poll_interval=  (keyword arguments)
  kCommandLine,  // --poll-interval  (python3 -m pyfresh.serve, the test loop)
  kUwsgi,        // pyfresh-poll-interval
  kApache,       // PyFreshPollInterval
};

// Reads "core", "python", "command-line", "uwsgi" or "apache".
bool ParseSpelling(std::string_view word, Spelling* out);

// The name of option `name` as the host spells it. `given` is false for an
// option left at the engine's default: Python names those as the core does
// ("drain-timeout"), since "drain_timeout=" would suggest it was passed.
std::string OptionLabel(std::string_view name, Spelling spelling, bool given = true);

// A child (virtual host, mountpoint) inherits every option it leaves unset;
// a list it sets replaces the parent's list as a whole.
Config MergeConfig(const Config& parent, const Config& child);

// The set options as canonical name/value text, e.g. {"packages","a b"}.
// Path lists (watch, restart-on) and watch-ignore give one pair per entry,
// in order; such a list set to nothing gives one pair with an empty value.
std::vector<std::pair<std::string, std::string>> ConfigToPairs(const Config& config);

// One-line-per-option text ("name=value\n"), for carrying a resolved config
// through a request environment; ParseSerializedConfig reads it back.
std::string SerializeConfig(const Config& config);
Status ParseSerializedConfig(std::string_view text, Config* out);

// Checks one path value of watch / restart-on: not empty, no control byte.
Status ValidatePathValue(std::string_view path);

// "packages" / "dependents".
const char* ReloadScopeName(ReloadScope scope);

// True for the option names above.
bool IsKnownOption(std::string_view name);

}  // namespace pyfresh

#endif  // PYFRESH_CONFIG_H_
