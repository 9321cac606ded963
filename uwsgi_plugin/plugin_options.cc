#include "plugin_options.h"

#include <cstdio>

#include "pyfresh/quote.h"
#include "uwsgi_api.h"

namespace pyfresh_uwsgi {
namespace {

constexpr char kPrefix[] = "pyfresh-";

// A flag written without a value (`--pyfresh-debug`, or an empty ini
// value) means "on", as for uWSGI's own flags.
std::string_view FlagValue(const char* value) {
  if (value == nullptr || value[0] == '\0') return "on";
  return value;
}

pyfresh::Status SetAll(pyfresh::Config* config, const char* core_name, uwsgi_string_list* values,
                       bool is_flag) {
  const std::string display = UwsgiOptionName(core_name);
  for (uwsgi_string_list* item = values; item != nullptr; item = item->next) {
    std::string_view value = is_flag ? FlagValue(item->value) : std::string_view(item->value ? item->value : "");
    pyfresh::Status status = config->Set(core_name, value, display);
    if (!status.ok()) return status;
  }
  return pyfresh::Status::Ok();
}

// "MOUNTPOINT=SPEC" (as uWSGI's `mount`) or "SPEC" for the main app.
pyfresh::Status ParseAppOption(std::string_view text, AppOption* out) {
  const std::string display = UwsgiOptionName("app");
  std::string_view mountpoint;
  std::string_view spec = text;
  const size_t equal = text.find('=');
  if (equal != std::string_view::npos) {
    mountpoint = text.substr(0, equal);
    spec = text.substr(equal + 1);
  }
  for (char c : mountpoint) {
    if (c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20) {
      return pyfresh::Status::Error(display + ": invalid mountpoint " + pyfresh::QuoteForMessage(mountpoint) +
                                    " in " + pyfresh::QuoteForMessage(text) +
                                    " (expected MOUNTPOINT=SPEC, e.g. /blog=blog.wsgi:app)");
    }
  }
  if (mountpoint.size() >= 0xff) {
    return pyfresh::Status::Error(display + ": mountpoint " + pyfresh::QuoteForMessage(mountpoint) +
                                  " is longer than uWSGI allows (254 bytes)");
  }
  // The core validates the spec and words the error.
  pyfresh::Config scratch;
  pyfresh::Status status = scratch.Set("app", spec, display);
  if (!status.ok()) {
    if (equal == std::string_view::npos) return status;
    return pyfresh::Status::Error(status.message() + " in " + pyfresh::QuoteForMessage(text));
  }
  out->mountpoint = std::string(mountpoint);
  out->spec = std::string(spec);
  out->text = std::string(text);
  return pyfresh::Status::Ok();
}

}  // namespace

std::string_view MountKey(std::string_view mountpoint) {
  while (!mountpoint.empty() && mountpoint.back() == '/') mountpoint.remove_suffix(1);
  return mountpoint;
}

std::string UwsgiOptionName(std::string_view core_name) {
  std::string name(kPrefix);
  name.append(core_name);
  return name;
}

pyfresh::Status ResolveOptions(const RawOptions& raw, Options* out) {
  Options options;
  struct {
    const char* core_name;
    uwsgi_string_list* values;
    bool is_flag;
  } const lists[] = {
      {"enabled", raw.enabled, true},   {"packages", raw.packages, false},
      {"exclude", raw.exclude, false},  {"debug", raw.debug, true},
      {"poll-interval", raw.poll_interval, false}, {"watch", raw.watch, false},
      {"watch-ignore", raw.watch_ignore, false},
      {"restart-on", raw.restart_on, false}, {"drain-timeout", raw.drain_timeout, false},
      {"integrations", raw.integrations, false},
      {"live-reload", raw.live_reload, true},
      {"reload-scope", raw.reload_scope, false},
  };
  for (const auto& list : lists) {
    pyfresh::Status status = SetAll(&options.config, list.core_name, list.values, list.is_flag);
    if (!status.ok()) return status;
  }
  for (uwsgi_string_list* item = raw.app; item != nullptr; item = item->next) {
    AppOption app;
    pyfresh::Status status = ParseAppOption(item->value ? item->value : "", &app);
    if (!status.ok()) return status;
    for (const AppOption& other : options.apps) {
      if (MountKey(other.mountpoint) == MountKey(app.mountpoint)) {
        return pyfresh::Status::Error(UwsgiOptionName("app") + ": mountpoint " + pyfresh::QuoteForMessage(app.mountpoint) +
                                      " is given twice (" + pyfresh::QuoteForMessage(other.text) + " and " +
                                      pyfresh::QuoteForMessage(app.text) + ")");
      }
    }
    options.apps.push_back(std::move(app));
  }
  pyfresh::Status status = options.config.Validate();
  if (!status.ok()) return status;
  *out = std::move(options);
  return pyfresh::Status::Ok();
}

std::vector<EnginePair> EnginePairs(const pyfresh::Config& config) {
  std::vector<EnginePair> pairs;
  for (auto& [name, value] : pyfresh::ConfigToPairs(config)) {
    std::string display = UwsgiOptionName(name);
    pairs.emplace_back(std::move(name), std::move(value), std::move(display));
  }
  return pairs;
}

}  // namespace pyfresh_uwsgi
