// libFuzzer target over the core's text parsers: Config::Set (every
// option, with and without a host's display name) and Config::AddItem (one
// typed list element), ParseSerializedConfig,
// ParseAppSpec, PackagePolicy::Create, ValidateModuleName and
// ValidatePathValue. Built with clang++ -fsanitize=fuzzer,address,undefined
// (tests/fuzz/CMakeLists.txt); ASan/UBSan catch memory errors, and the
// checks below turn broken contracts into crashes libFuzzer reports:
//
//  * an error message is one short printable-ASCII line that starts with
//    the option's name (what uWSGI logs and `apache2 -t` prints);
//  * whatever Set accepted passes Validate, and serializing the config and
//    parsing it back gives the same options (what mod_pyfresh carries to
//    the entry script per request);
//  * a parsed app spec is well formed; a created policy covers exactly its
//    packages minus the exclusions.
//
// Input: byte 0 picks the parser; the rest is its text (for Config::Set, a
// sequence of records "<option byte><value>\0").
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyfresh/app_spec.h"
#include "pyfresh/config.h"
#include "pyfresh/package_policy.h"
#include "pyfresh/status.h"

namespace {

// Three quoted values of at most 200 bytes, each byte at most "\xNN".
constexpr size_t kMaxMessageBytes = 4096;

constexpr const char* kOptions[] = {"enabled", "app",   "packages", "exclude",
                                    "debug",   "poll-interval", "watch", "restart-on", "drain-timeout",
                                    "watch-ignore", "integrations", "live-reload", "reload-scope"};
constexpr const char* kDisplayNames[] = {"PyFresh",          "PyFreshApp",   "PyFreshPackages",
                                         "PyFreshExclude",   "PyFreshDebug", "PyFreshPollInterval",
                                         "PyFreshWatch",     "PyFreshRestartOn", "PyFreshDrainTimeout",
                                         "PyFreshWatchIgnore", "PyFreshIntegrations", "PyFreshLiveReload",
                                         "PyFreshReloadScope"};
static_assert(sizeof kOptions == sizeof kDisplayNames, "one display name per option");
static_assert(2 * (sizeof kOptions / sizeof kOptions[0]) < 32, "the selector leaves room for unknown names");

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "pyfresh fuzz check failed: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void Check(bool condition, const char* what, const std::string& detail = {}) {
  if (!condition) Fail(what, detail);
}

void CheckMessage(const pyfresh::Status& status, std::string_view must_start_with = {}) {
  const std::string& message = status.message();
  Check(!message.empty(), "an error without a message");
  Check(message.size() <= kMaxMessageBytes, "an error message longer than 4096 bytes", message.substr(0, 300));
  for (char ch : message) {
    const auto c = static_cast<unsigned char>(ch);
    Check(c >= 0x20 && c < 0x7f, "an error message with a control or non-ASCII byte", message.substr(0, 300));
  }
  if (!must_start_with.empty()) {
    Check(message.compare(0, must_start_with.size(), must_start_with) == 0,
          "an error message that does not start with the option's name", message.substr(0, 300));
  }
}

// The option's name, then ':' or ' ' ("packages: invalid ...", "packages needs ...").
void CheckOptionMessage(const pyfresh::Status& status, const std::string& label) {
  CheckMessage(status, label);
  const std::string& message = status.message();
  Check(message.size() > label.size() && (message[label.size()] == ':' || message[label.size()] == ' '),
        "an error message that does not start with the option's name", message.substr(0, 300));
}

bool IsKnown(std::string_view name) {
  for (const char* option : kOptions) {
    if (name == option) return true;
  }
  return false;
}

void CheckRoundTrip(const pyfresh::Config& config) {
  const std::string text = pyfresh::SerializeConfig(config);
  pyfresh::Config parsed;
  pyfresh::Status status = pyfresh::ParseSerializedConfig(text, &parsed);
  Check(status.ok(), "a serialized config does not parse back", status.message() + "\n" + text.substr(0, 500));
  Check(pyfresh::ConfigToPairs(parsed) == pyfresh::ConfigToPairs(config), "the serialized config changed",
        text.substr(0, 500));
  Check(pyfresh::SerializeConfig(parsed) == text, "serializing is not stable", text.substr(0, 500));
}

void FuzzSet(std::string_view data) {
  for (size_t i = 0; i < sizeof kOptions / sizeof kOptions[0]; ++i) {
    Check(pyfresh::OptionLabel(kOptions[i], pyfresh::Spelling::kApache) == kDisplayNames[i],
          "the core spells an option unlike httpd.conf", kDisplayNames[i]);
  }
  pyfresh::Config config;
  pyfresh::Config parent;
  Check(parent.Set("packages", "base").ok() && parent.Set("debug", "on").ok(), "the parent config");
  size_t start = 0;
  int records = 0;
  while (start < data.size() && records++ < 64) {
    size_t end = data.find('\0', start);
    if (end == std::string_view::npos) end = data.size();
    std::string_view record = data.substr(start, end - start);
    start = end + 1;
    if (record.empty()) continue;
    const auto selector = static_cast<unsigned char>(record[0]);
    std::string_view value = record.substr(1);
    const size_t count = sizeof kOptions / sizeof kOptions[0];
    std::string name;
    std::string display;
    if (selector % 32 < count) {
      name = kOptions[selector % 32];
    } else if (selector % 32 < 2 * count) {
      name = kOptions[selector % 32 - count];
      display = kDisplayNames[selector % 32 - count];
    } else {
      // An unknown (or fuzzed) option name: up to the first '='.
      const size_t equals = value.find('=');
      name = std::string(value.substr(0, equals));
      value = equals == std::string_view::npos ? std::string_view() : value.substr(equals + 1);
    }
    // Bit 0x40 hands a list option's value over as one typed element
    // (AddItem, what the Python binding does), never split.
    pyfresh::OptionKind kind = pyfresh::OptionKind::kText;
    const bool as_item = (selector & 0x40) != 0 && pyfresh::LookupOptionKind(name, &kind) &&
                         (kind == pyfresh::OptionKind::kNames || kind == pyfresh::OptionKind::kPaths ||
                          kind == pyfresh::OptionKind::kIntegrations);
    pyfresh::Status status = as_item ? config.AddItem(name, value, display) : config.Set(name, value, display);
    if (status.ok()) {
      Check(IsKnown(name), "an unknown option was accepted", name);
      pyfresh::Status valid = config.Validate();
      Check(valid.ok(), "Set accepted what Validate refuses", valid.message());
    } else if (IsKnown(name)) {
      CheckOptionMessage(status, display.empty() ? name : display);
    } else {
      CheckMessage(status, "unknown pyfresh option");
    }
  }
  Check(config.Validate().ok(), "the config is no longer valid");
  CheckRoundTrip(config);
  pyfresh::Config merged = pyfresh::MergeConfig(parent, config);
  Check(merged.Validate().ok(), "a merge of valid configs is invalid", merged.Validate().message());
  CheckRoundTrip(merged);
}

void FuzzSerialized(std::string_view data) {
  pyfresh::Config config;
  pyfresh::Status status = pyfresh::ParseSerializedConfig(data, &config);
  if (!status.ok()) {
    CheckMessage(status);
    return;
  }
  CheckRoundTrip(config);
}

bool IsDottedIdentifier(std::string_view text) { return pyfresh::ValidateModuleName(text).ok(); }

void FuzzAppSpec(std::string_view data) {
  pyfresh::AppSpec spec;
  pyfresh::Status status = pyfresh::ParseAppSpec(data, &spec);
  if (!status.ok()) {
    CheckMessage(status, "invalid app spec '");
    return;
  }
  Check(!spec.target.empty(), "an app spec with an empty target", std::string(data.substr(0, 300)));
  Check(IsDottedIdentifier(spec.callable), "an app spec with a bad callable", spec.callable.substr(0, 300));
  const bool has_slash = data.find('/') != std::string_view::npos;
  Check((spec.kind == pyfresh::AppSpec::Kind::kFile) == has_slash, "the spec kind does not follow the '/' rule",
        std::string(data.substr(0, 300)));
  if (spec.kind == pyfresh::AppSpec::Kind::kModule) {
    Check(IsDottedIdentifier(spec.target), "a module spec with a bad module name", spec.target.substr(0, 300));
  } else {
    Check(spec.target.size() <= 4095, "a file spec longer than PATH_MAX");
    Check(spec.target.back() != '/', "a file spec naming a directory");
  }
  pyfresh::Config config;
  Check(config.Set("app", data).ok(), "ParseAppSpec and Config::Set(app) disagree", std::string(data.substr(0, 300)));
}

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= text.size() && words.size() < 64) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    words.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

void FuzzPolicy(std::string_view data) {
  const size_t bar = data.find('|');
  std::vector<std::string> packages = Words(data.substr(0, bar));
  std::vector<std::string> exclude =
      bar == std::string_view::npos ? std::vector<std::string>() : Words(data.substr(bar + 1));
  pyfresh::PackagePolicy policy;
  pyfresh::Status status = pyfresh::PackagePolicy::Create(packages, exclude, &policy);
  if (!status.ok()) {
    CheckMessage(status, "invalid package name '");
    return;
  }
  for (const std::string& name : packages) {
    Check(IsDottedIdentifier(name), "a policy accepted a bad package name", name.substr(0, 300));
    Check(policy.Covers(name) == !policy.IsExcluded(name), "a package is neither covered nor excluded", name);
    Check(policy.Covers(name + ".sub") == !policy.IsExcluded(name + ".sub"), "a submodule is not covered", name);
    Check(!pyfresh::IsUnderPrefix(name + "x", name), "a prefix matched a longer name", name);
  }
  for (const std::string& name : exclude) {
    Check(!policy.Covers(name), "an excluded module is covered", name);
  }
  Check(!policy.Covers(""), "the empty name is covered");
}

void FuzzNames(std::string_view data) {
  pyfresh::Status name = pyfresh::ValidateModuleName(data);
  if (!name.ok()) CheckMessage(name, "invalid package name '");
  pyfresh::Status path = pyfresh::ValidatePathValue(data);
  if (!path.ok()) CheckMessage(path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  switch (bytes[0] % 5) {
    case 0:
      FuzzSet(data);
      break;
    case 1:
      FuzzSerialized(data);
      break;
    case 2:
      FuzzAppSpec(data);
      break;
    case 3:
      FuzzPolicy(data);
      break;
    default:
      FuzzNames(data);
      break;
  }
  return 0;
}
