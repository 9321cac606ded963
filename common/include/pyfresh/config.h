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

  // Re-checks every set field (they are public, so they may have been
  // assigned without Set): the app spec, the module names, a non-empty
  // package list and the poll-interval and drain-timeout ranges. An exclusion that lies under
  // no package is NOT an error: it simply has no effect.
  Status Validate() const;
};

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
