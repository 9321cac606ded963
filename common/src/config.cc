#include "pyfresh/config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <system_error>

#include "pyfresh/app_spec.h"
#include "pyfresh/limits.h"
#include "pyfresh/package_policy.h"
#include "text.h"

namespace pyfresh {
namespace {

enum class Option {
  kEnabled, kApp, kPackages, kExclude, kDebug, kPollInterval, kWatch, kRestartOn, kDrainTimeout,
  kIntegrations,
  kWatchIgnore,
  kLiveReload,
  kReloadScope,
};

Status ValidateNamePattern(std::string_view pattern);

// One row per option: its name, kind and field. Code that treats every
// option of a kind alike (typed reads and sets, merge, validation) goes
// through the field pointers, so a new option is one row here; only its
// text parsing (SetOption) and serialization (ConfigToPairs) name it.
struct OptionName {
  std::string_view name;
  Option option;
  OptionKind kind;
  // The field, by kind: flag for kSwitch, seconds for kSeconds, list (and
  // the check of each element) for kNames, kPaths and kIntegrations.
  std::optional<bool> Config::*flag;
  std::optional<double> Config::*seconds;
  std::optional<std::vector<std::string>> Config::*list;
  Status (*validate_item)(std::string_view);
  double max_seconds;  // kSeconds: the bound (pyfresh/limits.h)
};

constexpr OptionName kOptions[] = {
    {"enabled", Option::kEnabled, OptionKind::kSwitch, &Config::enabled, nullptr, nullptr, nullptr, 0},
    {"app", Option::kApp, OptionKind::kText, nullptr, nullptr, nullptr, nullptr, 0},
    {"packages", Option::kPackages, OptionKind::kNames, nullptr, nullptr, &Config::packages, ValidatePackageName, 0},
    {"exclude", Option::kExclude, OptionKind::kNames, nullptr, nullptr, &Config::exclude, ValidateModuleName, 0},
    {"debug", Option::kDebug, OptionKind::kSwitch, &Config::debug, nullptr, nullptr, nullptr, 0},
    {"poll-interval", Option::kPollInterval, OptionKind::kSeconds, nullptr, &Config::poll_interval_seconds, nullptr,
     nullptr, kMaxPollIntervalSeconds},
    {"watch", Option::kWatch, OptionKind::kPaths, nullptr, nullptr, &Config::watch, ValidatePathValue, 0},
    {"restart-on", Option::kRestartOn, OptionKind::kPaths, nullptr, nullptr, &Config::restart_on, ValidatePathValue, 0},
    {"watch-ignore", Option::kWatchIgnore, OptionKind::kPaths, nullptr, nullptr, &Config::watch_ignore,
     ValidateNamePattern, 0},
    {"drain-timeout", Option::kDrainTimeout, OptionKind::kSeconds, nullptr, &Config::drain_timeout_seconds, nullptr,
     nullptr, kMaxDrainTimeoutSeconds},
    // Integration names are checked as words by ParseIntegrations.
    {"integrations", Option::kIntegrations, OptionKind::kIntegrations, nullptr, nullptr, &Config::integrations,
     nullptr, 0},
    {"live-reload", Option::kLiveReload, OptionKind::kSwitch, &Config::live_reload, nullptr, nullptr, nullptr, 0},
    {"reload-scope", Option::kReloadScope, OptionKind::kReloadScope, nullptr, nullptr, nullptr, nullptr, 0},
};

constexpr char kKnownOptions[] =
    "enabled, app, packages, exclude, debug, poll-interval, watch, restart-on, watch-ignore, drain-timeout, integrations, "
    "live-reload, reload-scope";

const OptionName* FindOption(std::string_view name) {
  for (const OptionName& entry : kOptions) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

bool LookupOption(std::string_view name, Option* option) {
  const OptionName* entry = FindOption(name);
  if (entry == nullptr) return false;
  *option = entry->option;
  return true;
}

Status UnknownOption(std::string_view label);

Status OptionError(std::string_view label, const std::string& message) {
  std::string text(label);
  text += ": ";
  text += message;
  return Status::Error(std::move(text));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

// `words` must be lower case.
bool IsOneOf(std::string_view value, std::initializer_list<std::string_view> words) {
  for (std::string_view word : words) {
    if (EqualsIgnoreCase(value, word)) return true;
  }
  return false;
}

Status ParseBool(std::string_view label, std::string_view value, std::optional<bool>* out) {
  std::string_view word = internal::TrimAsciiSpace(value);
  if (IsOneOf(word, {"on", "true", "yes", "1"})) {
    *out = true;
    return Status::Ok();
  }
  if (IsOneOf(word, {"off", "false", "no", "0"})) {
    *out = false;
    return Status::Ok();
  }
  return OptionError(label, "invalid value " + QuoteForMessage(value) +
                                " (expected on or off; also true/false, yes/no, 1/0)");
}

bool IsListSeparator(char c) { return c == ' ' || c == '\t' || c == ','; }

// Splits on spaces, tabs and commas and validates every element; appends
// the new names (without duplicates) only when all are valid.
Status ParseList(std::string_view label, std::string_view value, std::string_view noun,
                 bool allow_empty, Status (*validate)(std::string_view),
                 std::optional<std::vector<std::string>>* out) {
  std::vector<std::string> names;
  size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && IsListSeparator(value[i])) ++i;
    size_t end = i;
    while (end < value.size() && !IsListSeparator(value[end])) ++end;
    if (end > i) {
      std::string_view name = value.substr(i, end - i);
      Status status = validate(name);
      if (!status.ok()) return OptionError(label, status.message());
      names.emplace_back(name);
    }
    i = end;
  }
  if (names.empty() && !allow_empty) {
    std::string message(label);
    message += " needs at least one ";
    message += noun;
    message += ", got ";
    message += QuoteForMessage(value);
    return Status::Error(std::move(message));
  }
  if (!out->has_value()) out->emplace();
  std::vector<std::string>& list = **out;
  for (std::string& name : names) {
    if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(std::move(name));
  }
  return Status::Ok();
}

// "on"/"all" selects every integration, "off"/"none" none; other words are
// integration names ([A-Za-z0-9_.-]), added to the list.
constexpr char kAllIntegrations[] = "all";

Status ParseIntegrations(std::string_view label, std::string_view value,
                         std::optional<std::vector<std::string>>* out) {
  std::optional<std::vector<std::string>> parsed = *out;
  size_t i = 0;
  bool any = false;
  while (i < value.size()) {
    while (i < value.size() && IsListSeparator(value[i])) ++i;
    size_t end = i;
    while (end < value.size() && !IsListSeparator(value[end])) ++end;
    if (end > i) {
      any = true;
      std::string_view word = value.substr(i, end - i);
      if (IsOneOf(word, {"on", "all", "true", "yes", "1"})) {
        parsed = std::vector<std::string>{kAllIntegrations};
      } else if (IsOneOf(word, {"off", "none", "false", "no", "0"})) {
        parsed = std::vector<std::string>{};
      } else {
        for (char c : word) {
          const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '_' || c == '.' || c == '-';
          if (!ok) {
            return OptionError(label, "invalid integration name " + QuoteForMessage(word) +
                                          " (expected on, off, or names such as django flask bottle)");
          }
        }
        if (!parsed.has_value()) parsed.emplace();
        std::vector<std::string>& list = *parsed;
        const bool all = std::find(list.begin(), list.end(), kAllIntegrations) != list.end();
        if (!all && std::find(list.begin(), list.end(), word) == list.end()) list.emplace_back(word);
      }
    }
    i = end;
  }
  if (!any) {
    return OptionError(label, "invalid value " + QuoteForMessage(value) +
                                  " (expected on, off, or names such as django flask bottle)");
  }
  *out = std::move(parsed);
  return Status::Ok();
}

Status ParseReloadScope(std::string_view label, std::string_view value, std::optional<ReloadScope>* out) {
  std::string_view word = internal::TrimAsciiSpace(value);
  if (EqualsIgnoreCase(word, "packages")) {
    *out = ReloadScope::kPackages;
    return Status::Ok();
  }
  if (EqualsIgnoreCase(word, "dependents")) {
    *out = ReloadScope::kDependents;
    return Status::Ok();
  }
  return OptionError(label, "invalid value " + QuoteForMessage(value) + " (expected packages or dependents)");
}

// A watch-ignore value: one fnmatch pattern for a file name.
Status ValidateNamePattern(std::string_view pattern) {
  if (pattern.empty()) return Status::Error("empty pattern (expected a file name pattern such as '*.bak')");
  if (pattern.size() > internal::kMaxPathBytes) {
    return Status::Error("pattern " + QuoteForMessage(pattern) + " is longer than 4095 bytes");
  }
  for (char c : pattern) {
    if (internal::IsControlByte(static_cast<unsigned char>(c))) {
      return Status::Error("pattern " + QuoteForMessage(pattern) + " contains a control character");
    }
  }
  if (pattern.find('/') != std::string_view::npos) {
    return Status::Error("pattern " + QuoteForMessage(pattern) +
                         " contains '/': it is matched against file names, never paths");
  }
  return Status::Ok();
}

// One path (or pattern) per value, kept verbatim; appended unless already
// listed. With allow_empty (serialized text), an empty value marks the list
// as set.
Status ParsePath(std::string_view label, std::string_view value, bool allow_empty,
                 std::optional<std::vector<std::string>>* out,
                 Status (*validate)(std::string_view) = ValidatePathValue) {
  if (value.empty() && allow_empty) {
    if (!out->has_value()) out->emplace();
    return Status::Ok();
  }
  Status status = validate(value);
  if (!status.ok()) return OptionError(label, status.message());
  if (!out->has_value()) out->emplace();
  std::vector<std::string>& list = **out;
  if (std::find(list.begin(), list.end(), value) == list.end()) list.emplace_back(value);
  return Status::Ok();
}

std::string FormatSeconds(double seconds);

// `max_seconds`: the option's bound (pyfresh/limits.h).
Status ParseSeconds(std::string_view label, std::string_view value, double max_seconds, std::optional<double>* out) {
  const Status invalid = OptionError(
      label, "invalid value " + QuoteForMessage(value) +
                 " (expected a number of seconds, e.g. \"0\", \"0.5\", \"2s\" or \"250ms\")");
  std::string_view text = internal::TrimAsciiSpace(value);
  size_t digits = 0;
  size_t dots = 0;
  size_t end = 0;
  for (; end < text.size(); ++end) {
    const char c = text[end];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '.') {
      ++dots;
    } else {
      break;
    }
  }
  if (digits == 0 || dots > 1) return invalid;
  std::string_view unit = internal::TrimAsciiSpace(text.substr(end));
  double scale = 1;
  if (unit.empty() || EqualsIgnoreCase(unit, "s")) {
    scale = 1;
  } else if (EqualsIgnoreCase(unit, "ms")) {
    scale = 1000;
  } else {
    return invalid;
  }
  double number = 0;
  const char* first = text.data();
  const char* last = text.data() + end;
  std::from_chars_result result = std::from_chars(first, last, number, std::chars_format::fixed);
  if (result.ec != std::errc() || result.ptr != last) return invalid;
  const double seconds = number / scale;
  if (!std::isfinite(seconds) || seconds < 0) return invalid;
  if (seconds > max_seconds) {
    return OptionError(label, "invalid value " + QuoteForMessage(value) + " (more than " +
                                  FormatSeconds(max_seconds) + " seconds)");
  }
  *out = seconds;
  return Status::Ok();
}

// Shortest decimal text that reads back as exactly `seconds`; never uses
// an exponent, so ParseSeconds accepts it.
std::string FormatSeconds(double seconds) {
  std::array<char, 1200> buffer;
  std::to_chars_result result =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), seconds, std::chars_format::fixed);
  if (result.ec != std::errc()) return "0";
  return std::string(buffer.data(), result.ptr);
}

// The text of a typed number in a message: as Python prints a float
// ("-1.0", "86401.0", "nan"), since that is what the user passed.
std::string FormatSecondsForMessage(double seconds) {
  std::string text = FormatSeconds(seconds);
  if (std::isfinite(seconds) && text.find('.') == std::string::npos) text += ".0";
  return text;
}

Status UnknownOption(std::string_view label) {
  return Status::Error("unknown pyfresh option " + QuoteForMessage(label) + " (known options: " +
                       kKnownOptions + ")");
}

// A value with a control byte breaks logs and the serialized form; only a
// tab between list elements is a separator.
Status CheckControlBytes(std::string_view label, std::string_view value, bool allow_tab) {
  for (char c : value) {
    if (internal::IsControlByte(static_cast<unsigned char>(c)) && !(allow_tab && c == '\t')) {
      return OptionError(label, "value " + QuoteForMessage(value) + " contains a control character");
    }
  }
  return Status::Ok();
}

Status SetOption(Config* config, std::string_view name, std::string_view value,
                 std::string_view display_name, bool allow_empty_list) {
  const std::string_view label = display_name.empty() ? name : display_name;
  Option option;
  if (!LookupOption(name, &option)) return UnknownOption(label);
  const bool is_list = option == Option::kPackages || option == Option::kExclude;
  // Paths are not lists in this sense: a tab in one is refused too.
  Status clean = CheckControlBytes(label, value, /*allow_tab=*/is_list);
  if (!clean.ok()) return clean;
  switch (option) {
    case Option::kEnabled:
      return ParseBool(label, value, &config->enabled);
    case Option::kDebug:
      return ParseBool(label, value, &config->debug);
    case Option::kLiveReload:
      return ParseBool(label, value, &config->live_reload);
    case Option::kApp: {
      AppSpec spec;
      Status status = ParseAppSpec(value, &spec);
      if (!status.ok()) return OptionError(label, status.message());
      config->app = std::string(value);
      return Status::Ok();
    }
    case Option::kPackages:
      return ParseList(label, value, "package name", allow_empty_list, ValidatePackageName, &config->packages);
    case Option::kExclude:
      return ParseList(label, value, "module name", allow_empty_list, ValidateModuleName, &config->exclude);
    case Option::kPollInterval:
      return ParseSeconds(label, value, kMaxPollIntervalSeconds, &config->poll_interval_seconds);
    case Option::kWatch:
      return ParsePath(label, value, allow_empty_list, &config->watch);
    case Option::kRestartOn:
      return ParsePath(label, value, allow_empty_list, &config->restart_on);
    case Option::kWatchIgnore:
      return ParsePath(label, value, allow_empty_list, &config->watch_ignore, ValidateNamePattern);
    case Option::kDrainTimeout:
      return ParseSeconds(label, value, kMaxDrainTimeoutSeconds, &config->drain_timeout_seconds);
    case Option::kIntegrations:
      return ParseIntegrations(label, value, &config->integrations);
    case Option::kReloadScope:
      return ParseReloadScope(label, value, &config->reload_scope);
  }
  return Status::Error("internal error: unhandled option");
}

std::string JoinList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out.push_back(' ');
    out += name;
  }
  return out;
}

Status ValidateList(std::string_view label, const std::vector<std::string>& names,
                    Status (*validate)(std::string_view)) {
  for (const std::string& name : names) {
    Status status = validate(name);
    if (!status.ok()) return OptionError(label, status.message());
  }
  return Status::Ok();
}

void AppendPathPairs(const char* name, const std::optional<std::vector<std::string>>& paths,
                     std::vector<std::pair<std::string, std::string>>* pairs) {
  if (!paths.has_value()) return;
  if (paths->empty()) pairs->emplace_back(name, "");
  for (const std::string& path : *paths) pairs->emplace_back(name, path);
}

}  // namespace

Status ValidatePathValue(std::string_view path) {
  if (path.empty()) return Status::Error("empty path (expected a file, a directory or a glob pattern)");
  if (path.size() > internal::kMaxPathBytes) {
    return Status::Error("path " + QuoteForMessage(path) + " is longer than 4095 bytes (PATH_MAX)");
  }
  for (char c : path) {
    if (internal::IsControlByte(static_cast<unsigned char>(c))) {
      return Status::Error("path " + QuoteForMessage(path) + " contains a control character");
    }
  }
  return Status::Ok();
}

Status Config::Set(std::string_view name, std::string_view value, std::string_view display_name) {
  return SetOption(this, name, value, display_name, /*allow_empty_list=*/false);
}

Status Config::Validate() const {
  if (app.has_value()) {
    AppSpec spec;
    Status status = ParseAppSpec(*app, &spec);
    if (!status.ok()) return OptionError("app", status.message());
  }
  if (packages.has_value() && packages->empty()) {
    return Status::Error("packages needs at least one package name");
  }
  for (const OptionName& entry : kOptions) {
    if (entry.seconds != nullptr && (this->*entry.seconds).has_value()) {
      const double seconds = *(this->*entry.seconds);
      if (!std::isfinite(seconds) || seconds < 0 || seconds > entry.max_seconds) {
        return OptionError(entry.name, "invalid value " + QuoteForMessage(FormatSeconds(seconds)) +
                                           " (expected 0 to " + FormatSeconds(entry.max_seconds) + " seconds)");
      }
    }
    if (entry.list != nullptr && entry.validate_item != nullptr && (this->*entry.list).has_value()) {
      Status status = ValidateList(entry.name, *(this->*entry.list), entry.validate_item);
      if (!status.ok()) return status;
    }
  }
  // An exclusion outside every package is not an error: it has no effect.
  return Status::Ok();
}

Status Config::SetSwitch(std::string_view name, bool value, std::string_view display_name) {
  const std::string_view label = display_name.empty() ? name : display_name;
  const OptionName* entry = FindOption(name);
  if (entry == nullptr) return UnknownOption(label);
  if (entry->flag != nullptr) {
    this->*entry->flag = value;
    return Status::Ok();
  }
  if (entry->option == Option::kIntegrations) {
    integrations = value ? std::vector<std::string>{kAllIntegrations} : std::vector<std::string>{};
    return Status::Ok();
  }
  return OptionError(label, std::string("expects ") +
                                (entry->kind == OptionKind::kSeconds ? "a number of seconds" : "text") +
                                ", not on/off");
}

Status Config::SetSeconds(std::string_view name, double seconds, std::string_view display_name) {
  const std::string_view label = display_name.empty() ? name : display_name;
  const OptionName* entry = FindOption(name);
  if (entry == nullptr) return UnknownOption(label);
  if (entry->seconds == nullptr) return OptionError(label, "expects text, not a number");
  if (!std::isfinite(seconds) || seconds < 0) {
    return OptionError(label, "invalid value " + QuoteForMessage(FormatSecondsForMessage(seconds)) +
                                  " (expected a number of seconds from 0 to " + FormatSeconds(entry->max_seconds) +
                                  ")");
  }
  if (seconds > entry->max_seconds) {
    return OptionError(label, "invalid value " + QuoteForMessage(FormatSecondsForMessage(seconds)) +
                                  " (more than " + FormatSeconds(entry->max_seconds) + " seconds)");
  }
  this->*entry->seconds = seconds;
  return Status::Ok();
}

Status Config::AddItem(std::string_view name, std::string_view item, std::string_view display_name) {
  const std::string_view label = display_name.empty() ? name : display_name;
  const OptionName* entry = FindOption(name);
  if (entry == nullptr) return UnknownOption(label);
  if (entry->list == nullptr) return OptionError(label, "takes one value, not a list");
  Status clean = CheckControlBytes(label, item, /*allow_tab=*/false);
  if (!clean.ok()) return clean;
  // One name, or on/off: the words the text form accepts.
  if (entry->option == Option::kIntegrations) return ParseIntegrations(label, item, &integrations);
  return ParsePath(label, item, /*allow_empty=*/false, &(this->*entry->list), entry->validate_item);
}

Config MergeConfig(const Config& parent, const Config& child) {
  Config merged;
  merged.app = child.app.has_value() ? child.app : parent.app;
  merged.reload_scope = child.reload_scope.has_value() ? child.reload_scope : parent.reload_scope;
  for (const OptionName& entry : kOptions) {
    if (entry.flag != nullptr) {
      merged.*entry.flag = (child.*entry.flag).has_value() ? child.*entry.flag : parent.*entry.flag;
    } else if (entry.seconds != nullptr) {
      merged.*entry.seconds = (child.*entry.seconds).has_value() ? child.*entry.seconds : parent.*entry.seconds;
    } else if (entry.list != nullptr) {
      merged.*entry.list = (child.*entry.list).has_value() ? child.*entry.list : parent.*entry.list;
    }
  }
  return merged;
}

std::vector<std::pair<std::string, std::string>> ConfigToPairs(const Config& config) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (config.enabled.has_value()) pairs.emplace_back("enabled", *config.enabled ? "on" : "off");
  if (config.app.has_value()) pairs.emplace_back("app", *config.app);
  if (config.packages.has_value()) pairs.emplace_back("packages", JoinList(*config.packages));
  if (config.exclude.has_value()) pairs.emplace_back("exclude", JoinList(*config.exclude));
  if (config.debug.has_value()) pairs.emplace_back("debug", *config.debug ? "on" : "off");
  if (config.poll_interval_seconds.has_value()) {
    pairs.emplace_back("poll-interval", FormatSeconds(*config.poll_interval_seconds));
  }
  if (config.drain_timeout_seconds.has_value()) {
    pairs.emplace_back("drain-timeout", FormatSeconds(*config.drain_timeout_seconds));
  }
  if (config.integrations.has_value()) {
    pairs.emplace_back("integrations", config.integrations->empty() ? "off" : JoinList(*config.integrations));
  }
  if (config.reload_scope.has_value()) pairs.emplace_back("reload-scope", ReloadScopeName(*config.reload_scope));
  AppendPathPairs("watch", config.watch, &pairs);
  AppendPathPairs("restart-on", config.restart_on, &pairs);
  AppendPathPairs("watch-ignore", config.watch_ignore, &pairs);
  if (config.live_reload.has_value()) pairs.emplace_back("live-reload", *config.live_reload ? "on" : "off");
  return pairs;
}

std::string SerializeConfig(const Config& config) {
  std::string text;
  for (const auto& [name, value] : ConfigToPairs(config)) {
    text += name;
    text.push_back('=');
    for (char c : value) {
      // Set() never stores control bytes; a field assigned directly must not
      // break the line structure (ParseSerializedConfig then reports it).
      text.push_back(internal::IsControlByte(static_cast<unsigned char>(c)) ? '?' : c);
    }
    text.push_back('\n');
  }
  return text;
}

Status ParseSerializedConfig(std::string_view text, Config* out) {
  Config parsed;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return Status::Error("invalid serialized pyfresh config line " + QuoteForMessage(line) +
                           ": expected name=value");
    }
    // An empty list is representable here (a list set to nothing by the
    // Python API), so that serializing and parsing back is exact.
    Status status = SetOption(&parsed, line.substr(0, equals), line.substr(equals + 1), {},
                              /*allow_empty_list=*/true);
    if (!status.ok()) return status;
  }
  *out = std::move(parsed);
  return Status::Ok();
}

const char* ReloadScopeName(ReloadScope scope) {
  return scope == ReloadScope::kDependents ? "dependents" : "packages";
}

bool GetSwitch(const Config& config, std::string_view name, bool* out) {
  const OptionName* entry = FindOption(name);
  if (entry == nullptr || entry->flag == nullptr || !(config.*entry->flag).has_value()) return false;
  *out = *(config.*entry->flag);
  return true;
}

bool GetSeconds(const Config& config, std::string_view name, double* out) {
  const OptionName* entry = FindOption(name);
  if (entry == nullptr || entry->seconds == nullptr || !(config.*entry->seconds).has_value()) return false;
  *out = *(config.*entry->seconds);
  return true;
}

bool GetText(const Config& config, std::string_view name, std::string* out) {
  const OptionName* entry = FindOption(name);
  if (entry == nullptr) return false;
  if (entry->option == Option::kApp && config.app.has_value()) {
    *out = *config.app;
    return true;
  }
  if (entry->option == Option::kReloadScope && config.reload_scope.has_value()) {
    *out = ReloadScopeName(*config.reload_scope);
    return true;
  }
  return false;
}

const std::vector<std::string>* GetList(const Config& config, std::string_view name) {
  const OptionName* entry = FindOption(name);
  if (entry == nullptr || entry->list == nullptr || !(config.*entry->list).has_value()) return nullptr;
  return &*(config.*entry->list);
}

bool LookupOptionKind(std::string_view name, OptionKind* kind) {
  const OptionName* entry = FindOption(name);
  if (entry == nullptr) return false;
  *kind = entry->kind;
  return true;
}

std::string_view OptionNameAt(size_t index) {
  return index < std::size(kOptions) ? kOptions[index].name : std::string_view();
}

bool ParseSpelling(std::string_view word, Spelling* out) {
  constexpr std::pair<std::string_view, Spelling> kSpellings[] = {
      {"core", Spelling::kCore},   {"python", Spelling::kPython}, {"command-line", Spelling::kCommandLine},
      {"uwsgi", Spelling::kUwsgi}, {"apache", Spelling::kApache},
  };
  for (const auto& [name, spelling] : kSpellings) {
    if (name == word) {
      *out = spelling;
      return true;
    }
  }
  return false;
}

std::string OptionLabel(std::string_view name, Spelling spelling, bool given) {
  std::string label;
  switch (given ? spelling : (spelling == Spelling::kPython ? Spelling::kCore : spelling)) {
    case Spelling::kCore:
      return std::string(name);
    case Spelling::kPython:
      label.assign(name);
      std::replace(label.begin(), label.end(), '-', '_');
      label.push_back('=');
      return label;
    case Spelling::kCommandLine:
      return "--" + std::string(name);
    case Spelling::kUwsgi:
      return "pyfresh-" + std::string(name);
    case Spelling::kApache: {
      // "poll-interval" -> "PyFreshPollInterval": each word capitalised;
      // "enabled" is the bare `PyFresh On|Off`.
      label = "PyFresh";
      if (name == "enabled") return label;
      bool word_start = true;
      for (char c : name) {
        if (c == '-') {
          word_start = true;
          continue;
        }
        label.push_back(word_start && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
        word_start = false;
      }
      return label;
    }
  }
  return std::string(name);
}

bool IsKnownOption(std::string_view name) {
  Option option;
  return LookupOption(name, &option);
}

}  // namespace pyfresh
