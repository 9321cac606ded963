// The pyfresh-* options as uWSGI hands them over, and their translation
// into the core's configuration. Validation is the core's
// (pyfresh::Config::Set); this file only maps names and splits
// "MOUNTPOINT=SPEC".
#ifndef PYFRESH_UWSGI_PLUGIN_OPTIONS_H_
#define PYFRESH_UWSGI_PLUGIN_OPTIONS_H_

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "pyfresh/config.h"
#include "pyfresh/status.h"

struct uwsgi_string_list;

namespace pyfresh_uwsgi {

// Every occurrence of each option, in the order given, as uWSGI's option
// table collects them (uwsgi_opt_add_string_list: nodes allocated by uWSGI,
// never freed). Plain C data, so the global instance has no destructor.
// A flag given without a value (--pyfresh-debug) has a null value.
struct RawOptions {
  uwsgi_string_list* enabled;
  uwsgi_string_list* app;
  uwsgi_string_list* packages;
  uwsgi_string_list* exclude;
  uwsgi_string_list* debug;
  uwsgi_string_list* poll_interval;
  uwsgi_string_list* watch;       // one path, directory or glob per value
  uwsgi_string_list* restart_on;  // same
  uwsgi_string_list* watch_ignore;  // one file-name pattern per value
  uwsgi_string_list* drain_timeout;
  uwsgi_string_list* integrations;
  uwsgi_string_list* live_reload;
  uwsgi_string_list* reload_scope;
};

// One `pyfresh-app = [MOUNTPOINT=]SPEC`.
struct AppOption {
  std::string mountpoint;  // as written; "" for the main app
  std::string spec;        // as written (validated)
  std::string text;        // the whole option value, for messages
};

// The options after validation. Copyable.
struct Options {
  pyfresh::Config config;  // everything but `app`
  std::vector<AppOption> apps;
};

// Validates every occurrence through the core. The error is one line that
// names the option ("pyfresh-packages") and quotes the bad value.
pyfresh::Status ResolveOptions(const RawOptions& raw, Options* out);

// (name, value, display name) text for the engine's
// Reloader.from_config(): the core vocabulary, uWSGI spelling for messages.
using EnginePair = std::tuple<std::string, std::string, std::string>;
std::vector<EnginePair> EnginePairs(const pyfresh::Config& config);

// The uWSGI spelling of a core option name: "packages" -> "pyfresh-packages".
std::string UwsgiOptionName(std::string_view core_name);

// Mountpoints compare without a trailing '/': "/" is the main app, as "".
std::string_view MountKey(std::string_view mountpoint);

}  // namespace pyfresh_uwsgi

#endif  // PYFRESH_UWSGI_PLUGIN_OPTIONS_H_
