#include "pyfresh/config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace pyfresh {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Applies name/value pairs in order; fails the test on an error.
Config Make(const Pairs& settings) {
  Config config;
  for (const auto& [name, value] : settings) {
    Status status = config.Set(name, value);
    EXPECT_TRUE(status.ok()) << name << "=" << value << ": " << status.message();
  }
  return config;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct ValidSet {
  Pairs settings;  // applied in order
  Pairs canonical;  // ConfigToPairs afterwards
};

TEST(ConfigSet, ValidValues) {
  const std::vector<ValidSet> cases = {
      {{{"enabled", "on"}}, {{"enabled", "on"}}},
      {{{"enabled", "OFF"}}, {{"enabled", "off"}}},
      {{{"enabled", "True"}}, {{"enabled", "on"}}},
      {{{"enabled", "false"}}, {{"enabled", "off"}}},
      {{{"enabled", "Yes"}}, {{"enabled", "on"}}},
      {{{"enabled", "no"}}, {{"enabled", "off"}}},
      {{{"enabled", "1"}}, {{"enabled", "on"}}},
      {{{"enabled", "0"}}, {{"enabled", "off"}}},
      {{{"enabled", " on "}}, {{"enabled", "on"}}},
      {{{"debug", "on"}}, {{"debug", "on"}}},
      {{{"debug", "no"}}, {{"debug", "off"}}},
      {{{"live-reload", "on"}}, {{"live-reload", "on"}}},
      {{{"live-reload", "False"}}, {{"live-reload", "off"}}},
      {{{"app", "myapp.wsgi:app"}}, {{"app", "myapp.wsgi:app"}}},
      {{{"app", "/srv/my app/app.wsgi"}}, {{"app", "/srv/my app/app.wsgi"}}},
      {{{"packages", "myapp"}}, {{"packages", "myapp"}}},
      // PEP 3131: what str.isidentifier() accepts, per dotted part.
      {{{"packages", "donn\xc3\xa9" "es caf\xc3\xa9.vues"}}, {{"packages", "donn\xc3\xa9" "es caf\xc3\xa9.vues"}}},
      {{{"exclude", "pyfresh"}}, {{"exclude", "pyfresh"}}},
      {{{"packages", "pyfreshly"}}, {{"packages", "pyfreshly"}}},
      {{{"packages", "a b,c\td"}}, {{"packages", "a b c d"}}},
      {{{"packages", " a , , b "}}, {{"packages", "a b"}}},
      {{{"packages", "a a,a"}}, {{"packages", "a"}}},
      {{{"packages", "a"}, {"packages", "b c"}}, {{"packages", "a b c"}}},
      {{{"packages", "a b"}, {"packages", "b"}}, {{"packages", "a b"}}},
      {{{"exclude", "myapp.settings"}}, {{"exclude", "myapp.settings"}}},
      {{{"exclude", "a.x"}, {"exclude", "a.y"}}, {{"exclude", "a.x a.y"}}},
      {{{"poll-interval", "0"}}, {{"poll-interval", "0"}}},
      {{{"drain-timeout", "1"}}, {{"drain-timeout", "1"}}},
      {{{"drain-timeout", "250ms"}}, {{"drain-timeout", "0.25"}}},
      {{{"drain-timeout", "0"}}, {{"drain-timeout", "0"}}},
      {{{"drain-timeout", "30s"}, {"drain-timeout", "2"}}, {{"drain-timeout", "2"}}},
      {{{"reload-scope", "packages"}}, {{"reload-scope", "packages"}}},
      {{{"reload-scope", " Dependents "}}, {{"reload-scope", "dependents"}}},
      {{{"reload-scope", "dependents"}, {"reload-scope", "packages"}}, {{"reload-scope", "packages"}}},
      {{{"integrations", "on"}}, {{"integrations", "all"}}},
      {{{"integrations", "Off"}}, {{"integrations", "off"}}},
      {{{"integrations", "none"}}, {{"integrations", "off"}}},
      {{{"integrations", "django, flask"}}, {{"integrations", "django flask"}}},
      {{{"integrations", "django"}, {"integrations", "my-registry.v2 django"}},
       {{"integrations", "django my-registry.v2"}}},
      {{{"integrations", "off"}, {"integrations", "bottle"}}, {{"integrations", "bottle"}}},
      {{{"integrations", "bottle"}, {"integrations", "all"}}, {{"integrations", "all"}}},
      {{{"poll-interval", "0.5"}}, {{"poll-interval", "0.5"}}},
      {{{"poll-interval", ".5"}}, {{"poll-interval", "0.5"}}},
      {{{"poll-interval", "2."}}, {{"poll-interval", "2"}}},
      {{{"poll-interval", "2s"}}, {{"poll-interval", "2"}}},
      {{{"poll-interval", "2 s"}}, {{"poll-interval", "2"}}},
      {{{"poll-interval", " 1.5S "}}, {{"poll-interval", "1.5"}}},
      {{{"poll-interval", "250ms"}}, {{"poll-interval", "0.25"}}},
      {{{"poll-interval", "1ms"}}, {{"poll-interval", "0.001"}}},
      {{{"poll-interval", "0ms"}}, {{"poll-interval", "0"}}},
      {{{"poll-interval", "86400"}}, {{"poll-interval", "86400"}}},
      {{{"poll-interval", "86400000ms"}}, {{"poll-interval", "86400"}}},
      {{{"poll-interval", "007"}}, {{"poll-interval", "7"}}},
      {{{"enabled", "on"}, {"enabled", "off"}}, {{"enabled", "off"}}},
      // Paths: one per value, verbatim (spaces, commas, globs, relative).
      {{{"watch", "templates"}}, {{"watch", "templates"}}},
      {{{"watch", "/srv/my site/templates"}}, {{"watch", "/srv/my site/templates"}}},
      {{{"watch", "a,b"}}, {{"watch", "a,b"}}},
      {{{"watch", " lead"}}, {{"watch", " lead"}}},
      {{{"watch", "conf/*.env"}, {"watch", "**/*.html"}}, {{"watch", "conf/*.env"}, {"watch", "**/*.html"}}},
      {{{"watch", ".env*"}, {"watch", ".env*"}}, {{"watch", ".env*"}}},
      {{{"watch", "caf\xc3\xa9/x=y;z"}}, {{"watch", "caf\xc3\xa9/x=y;z"}}},
      {{{"restart-on", "requirements.txt"}}, {{"restart-on", "requirements.txt"}}},
      {{{"restart-on", "/a"}, {"restart-on", "b/c"}}, {{"restart-on", "/a"}, {"restart-on", "b/c"}}},
      {{{"restart-on", "x"}, {"watch", "y"}, {"packages", "p"}},
       {{"packages", "p"}, {"watch", "y"}, {"restart-on", "x"}}},
      {{{"watch-ignore", "*.bak"}}, {{"watch-ignore", "*.bak"}}},
      {{{"watch-ignore", "*.bak"}, {"watch-ignore", "[#~]*.orig"}, {"watch-ignore", "*.bak"}},
       {{"watch-ignore", "*.bak"}, {"watch-ignore", "[#~]*.orig"}}},
      {{{"watch-ignore", "my notes, draft.txt"}}, {{"watch-ignore", "my notes, draft.txt"}}},
      {{{"watch-ignore", "*.tmp"}, {"restart-on", "x"}, {"watch", "y"}},
       {{"watch", "y"}, {"restart-on", "x"}, {"watch-ignore", "*.tmp"}}},
      {{{"poll-interval", "1"}, {"app", "m"}, {"debug", "1"}, {"exclude", "x"}, {"packages", "p"},
        {"enabled", "1"}},
       {{"enabled", "on"},
        {"app", "m"},
        {"packages", "p"},
        {"exclude", "x"},
        {"debug", "on"},
        {"poll-interval", "1"}}},
  };
  for (const ValidSet& c : cases) {
    Config config = Make(c.settings);
    EXPECT_EQ(ConfigToPairs(config), c.canonical) << c.settings.front().first << "="
                                                   << c.settings.front().second;
    EXPECT_TRUE(config.Validate().ok()) << config.Validate().message();
  }
}

struct InvalidSet {
  std::string name;
  std::string value;
  std::string display_name;
  std::vector<std::string> fragments;  // all must appear in the message
};

TEST(ConfigSet, InvalidValues) {
  const std::vector<InvalidSet> cases = {
      {"enabled", "maybe", "", {"enabled: ", "'maybe'", "on or off"}},
      {"enabled", "maybe", "PyFresh", {"PyFresh: ", "'maybe'"}},
      {"enabled", "", "pyfresh-enabled", {"pyfresh-enabled: ", "''"}},
      {"enabled", "onn", "", {"'onn'"}},
      {"debug", "2", "PyFreshDebug", {"PyFreshDebug: ", "'2'"}},
      {"live-reload", "sometimes", "PyFreshLiveReload", {"PyFreshLiveReload: ", "'sometimes'", "on or off"}},
      {"packages", "", "PyFreshPackages", {"PyFreshPackages needs at least one package name", "''"}},
      {"packages", " , ,", "", {"packages needs at least one package name", "' , ,'"}},
      {"exclude", "", "PyFreshExclude", {"PyFreshExclude needs at least one module name"}},
      {"packages", "my-app", "PyFreshPackages",
       {"PyFreshPackages: invalid package name 'my-app'", "'-'"}},
      {"packages", "good 1bad", "", {"packages: ", "'1bad'", "digit"}},
      {"packages", "a..b", "", {"'a..b'", "empty component"}},
      {"packages", ".a", "", {"'.a'"}},
      {"packages", "a.", "", {"'a.'"}},
      {"packages", "class", "", {"'class'", "keyword"}},
      {"packages", "myapp.def", "", {"'def'", "keyword"}},
      {"packages", "caf\xe9", "PyFreshPackages", {"PyFreshPackages: ", "'caf\\xe9'", "not valid UTF-8"}},
      {"packages", "\xe2\x82\xacuro", "", {"packages: ", "(U+20AC) cannot appear"}},
      {"packages", "pyfresh", "pyfresh-packages", {"pyfresh-packages: ", "'pyfresh' is pyfresh itself"}},
      {"packages", "mysite pyfresh.hooks", "packages=", {"packages=: ", "'pyfresh.hooks' is pyfresh"}},
      {"packages", "a\nb", "", {"packages: ", "'a\\x0ab'", "control character"}},
      {"packages", "a\rb", "", {"'a\\x0db'"}},
      {"exclude", "x;y", "pyfresh-exclude", {"pyfresh-exclude: ", "'x;y'"}},
      {"app", "my app:application", "PyFreshApp",
       {"PyFreshApp: invalid app spec 'my app:application': expected \"package.module:callable\" or a "
        "path to a .py/.wsgi file"}},
      {"app", "", "", {"app: ", "invalid app spec ''"}},
      {"app", "a:b:c", "", {"'a:b:c'"}},
      {"app", "/srv/app.wsgi\n", "", {"app: ", "'/srv/app.wsgi\\x0a'", "control character"}},
      {"app", std::string("m\0", 2), "", {"'m\\x00'"}},
      {"poll-interval", "-1", "PyFreshPollInterval", {"PyFreshPollInterval: ", "'-1'"}},
      {"poll-interval", "nan", "", {"poll-interval: ", "'nan'"}},
      {"poll-interval", "inf", "", {"'inf'"}},
      {"poll-interval", "infinity", "", {"'infinity'"}},
      {"poll-interval", "1e3", "", {"'1e3'"}},
      {"poll-interval", "0x10", "", {"'0x10'"}},
      {"poll-interval", "abc", "", {"'abc'", "seconds"}},
      {"poll-interval", "", "", {"''"}},
      {"poll-interval", ".", "", {"'.'"}},
      {"poll-interval", "1.2.3", "", {"'1.2.3'"}},
      {"poll-interval", "5m", "", {"'5m'"}},
      {"poll-interval", "5 min", "", {"'5 min'"}},
      {"poll-interval", "ms", "", {"'ms'"}},
      {"poll-interval", "+1", "", {"'+1'"}},
      {"poll-interval", "86400.001", "", {"'86400.001'", "86400"}},
      {"poll-interval", "86400001ms", "", {"'86400001ms'", "86400"}},
      {"poll-interval", "1" + std::string(400, '0'), "", {"...'"}},
      {"drain-timeout", "-1", "PyFreshDrainTimeout", {"PyFreshDrainTimeout: ", "'-1'", "seconds"}},
      {"drain-timeout", "forever", "pyfresh-drain-timeout", {"pyfresh-drain-timeout: ", "'forever'"}},
      {"drain-timeout", "86401", "drain_timeout=", {"drain_timeout=: ", "86400"}},
      {"reload-scope", "modules", "PyFreshReloadScope", {"PyFreshReloadScope: ", "'modules'", "packages or dependents"}},
      {"reload-scope", "", "pyfresh-reload-scope", {"pyfresh-reload-scope: ", "''"}},
      {"reload-scope", "dependents packages", "reload_scope=", {"reload_scope=: ", "'dependents packages'"}},
      {"integrations", "dj/ango", "PyFreshIntegrations", {"PyFreshIntegrations: ", "'dj/ango'", "django"}},
      {"integrations", " , ", "pyfresh-integrations", {"pyfresh-integrations: ", "' , '"}},
      {"watch", "", "PyFreshWatch", {"PyFreshWatch: ", "empty path"}},
      {"restart-on", "", "pyfresh-restart-on", {"pyfresh-restart-on: ", "empty path"}},
      {"watch", "a\nb", "", {"watch: ", "'a\\x0ab'", "control character"}},
      {"watch", "a\tb", "", {"'a\\x09b'", "control character"}},
      {"watch", std::string("a\0b", 3), "", {"'a\\x00b'", "control character"}},
      {"restart-on", "x\x7f", "PyFreshRestartOn", {"PyFreshRestartOn: ", "'x\\x7f'"}},
      {"watch", "\r", "", {"'\\x0d'"}},
      {"restart_on", "x", "", {"unknown pyfresh option 'restart_on'"}},
      {"watch-ignore", "", "PyFreshWatchIgnore", {"PyFreshWatchIgnore: ", "empty pattern"}},
      {"watch-ignore", "a\nb", "pyfresh-watch-ignore", {"pyfresh-watch-ignore: ", "'a\\x0ab'", "control character"}},
      {"watch-ignore", "*.bak\x7f", "PyFreshWatchIgnore", {"PyFreshWatchIgnore: ", "'*.bak\\x7f'"}},
      {"watch-ignore", "templates/*.bak", "watch_ignore=", {"watch_ignore=: ", "'templates/*.bak'", "file names"}},
      {"watch_ignore", "*.bak", "", {"unknown pyfresh option 'watch_ignore'"}},
      {"colour", "blue", "", {"unknown pyfresh option 'colour'", "packages", "restart-on"}},
      {"Packages", "a", "", {"unknown pyfresh option 'Packages'"}},
      {"poll_interval", "1", "", {"unknown pyfresh option 'poll_interval'"}},
      {"", "x", "", {"unknown pyfresh option ''"}},
  };
  for (const InvalidSet& c : cases) {
    Config config;
    Status status = config.Set(c.name, c.value, c.display_name);
    ASSERT_FALSE(status.ok()) << c.name << "=" << c.value;
    for (const std::string& fragment : c.fragments) {
      EXPECT_TRUE(Contains(status.message(), fragment))
          << "message: " << status.message() << "\nmissing: " << fragment;
    }
    EXPECT_FALSE(Contains(status.message(), "\n")) << status.message();
    EXPECT_LT(status.message().size(), 600u) << status.message();
    // A failed Set changes nothing.
    EXPECT_TRUE(ConfigToPairs(config).empty()) << c.name << "=" << c.value;
  }
}

TEST(ConfigSet, ErrorsUseTheDisplayNameElseTheCoreName) {
  Config config;
  Status status = config.Set("debug", "perhaps");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind("debug: ", 0), 0u) << status.message();
  status = config.Set("debug", "perhaps", "pyfresh-debug");
  EXPECT_EQ(status.message().rfind("pyfresh-debug: ", 0), 0u) << status.message();
}

TEST(ConfigSet, LongValuesAreTruncatedInMessages) {
  Config config;
  const std::string value = "a" + std::string(5000, '-');
  Status status = config.Set("packages", value, "PyFreshPackages");
  ASSERT_FALSE(status.ok());
  EXPECT_LT(status.message().size(), 400u);
  EXPECT_TRUE(Contains(status.message(), "...'")) << status.message();
}

// Huge values are refused with a short message: no package directory or
// module file name is longer than 255 bytes, no path longer than PATH_MAX.
TEST(ConfigSet, HugeValuesAreRefused) {
  const std::string huge(100000, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"packages", huge}, {"exclude", huge}, {"app", huge}, {"app", "/srv/" + huge},
      {"app", "mod:" + huge}, {"watch", huge}, {"restart-on", "/" + huge}};
  for (const auto& [name, value] : cases) {
    Config config;
    Status status = config.Set(name, value);
    ASSERT_FALSE(status.ok()) << name;
    EXPECT_LT(status.message().size(), 600u) << status.message();
    EXPECT_EQ(status.message().rfind(name + ": ", 0), 0u) << status.message();
  }
  Config config;
  EXPECT_TRUE(config.Set("packages", std::string(255, 'a')).ok());
  EXPECT_FALSE(config.Set("packages", std::string(256, 'a')).ok());
  std::string dotted;
  while (dotted.size() < 5000) dotted += "abc.";
  EXPECT_FALSE(config.Set("packages", dotted + "abc").ok());
  EXPECT_TRUE(config.Set("watch", std::string(4095, 'a')).ok());
  EXPECT_FALSE(config.Set("watch", std::string(4096, 'a')).ok());
}

TEST(ConfigSet, FailedListAppendKeepsEarlierValues) {
  Config config = Make({{"packages", "a b"}});
  EXPECT_FALSE(config.Set("packages", "c bad-name d").ok());
  EXPECT_EQ(*config.packages, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigSet, PollIntervalValues) {
  Config config;
  ASSERT_TRUE(config.Set("poll-interval", "250ms").ok());
  EXPECT_DOUBLE_EQ(*config.poll_interval_seconds, 0.25);
  ASSERT_TRUE(config.Set("poll-interval", "0.000000001").ok());
  EXPECT_DOUBLE_EQ(*config.poll_interval_seconds, 1e-9);
  ASSERT_TRUE(config.Set("poll-interval", "3").ok());
  EXPECT_EQ(*config.poll_interval_seconds, 3.0);
}

TEST(IsKnownOption, CoreNamesOnly) {
  for (const char* name :
       {"enabled", "app", "packages", "exclude", "debug", "poll-interval", "watch", "restart-on", "watch-ignore",
        "live-reload"}) {
    EXPECT_TRUE(IsKnownOption(name)) << name;
  }
  for (const char* name : {"", "poll_interval", "PyFreshPackages", "pyfresh-packages", "ENABLED"}) {
    EXPECT_FALSE(IsKnownOption(name)) << name;
  }
}

TEST(ConfigValidate, ExclusionOutsidePackagesIsFine) {
  Config config = Make({{"packages", "myapp"}, {"exclude", "otherlib"}});
  EXPECT_TRUE(config.Validate().ok()) << config.Validate().message();
  Config only_exclude = Make({{"exclude", "x"}});
  EXPECT_TRUE(only_exclude.Validate().ok());
  EXPECT_TRUE(Config().Validate().ok());
}

TEST(ConfigValidate, RechecksFieldsAssignedDirectly) {
  struct Case {
    Config config;
    std::string fragment;
  };
  std::vector<Case> cases(13);
  cases[0].config.app = "bad spec";
  cases[0].fragment = "app: invalid app spec 'bad spec'";
  cases[1].config.packages = std::vector<std::string>{"ok", "not ok"};
  cases[1].fragment = "packages: invalid package name 'not ok'";
  cases[2].config.packages = std::vector<std::string>{};
  cases[2].fragment = "packages needs at least one package name";
  cases[3].config.exclude = std::vector<std::string>{"x-y"};
  cases[3].fragment = "exclude: invalid package name 'x-y'";
  cases[4].config.poll_interval_seconds = -1;
  cases[4].fragment = "poll-interval: ";
  cases[5].config.poll_interval_seconds = std::numeric_limits<double>::quiet_NaN();
  cases[5].fragment = "poll-interval: ";
  cases[6].config.watch = std::vector<std::string>{"ok", ""};
  cases[6].fragment = "watch: empty path";
  cases[7].config.restart_on = std::vector<std::string>{"a\nb"};
  cases[7].fragment = "restart-on: path 'a\\x0ab' contains a control character";
  cases[8].config.watch = std::vector<std::string>{std::string("x\0", 2)};
  cases[8].fragment = "control character";
  cases[9].config.packages = std::vector<std::string>{"mysite", "pyfresh"};
  cases[9].fragment = "packages: package 'pyfresh' is pyfresh itself";
  cases[10].config.drain_timeout_seconds = -0.5;
  cases[10].fragment = "drain-timeout: invalid value '-0.5'";
  cases[11].config.watch_ignore = std::vector<std::string>{"*.bak", "a/*.bak"};
  cases[11].fragment = "watch-ignore: pattern 'a/*.bak' contains '/'";
  cases[12].config.watch_ignore = std::vector<std::string>{""};
  cases[12].fragment = "watch-ignore: empty pattern";
  for (const Case& c : cases) {
    Status status = c.config.Validate();
    ASSERT_FALSE(status.ok()) << c.fragment;
    EXPECT_TRUE(Contains(status.message(), c.fragment)) << status.message();
  }
  Config empty_exclude;
  empty_exclude.exclude = std::vector<std::string>{};
  EXPECT_TRUE(empty_exclude.Validate().ok());
  Config empty_paths;
  empty_paths.watch = std::vector<std::string>{};
  empty_paths.restart_on = std::vector<std::string>{};
  empty_paths.watch_ignore = std::vector<std::string>{};
  EXPECT_TRUE(empty_paths.Validate().ok());
}

struct MergeCase {
  const char* what;
  Pairs parent;
  Pairs child;
  Pairs merged;
};

TEST(MergeConfig, Table) {
  const std::vector<MergeCase> cases = {
      {"both empty", {}, {}, {}},
      {"child inherits everything unset",
       {{"enabled", "on"}, {"app", "p.wsgi"}, {"packages", "p"}, {"exclude", "p.s"}, {"debug", "on"},
        {"poll-interval", "2"}},
       {},
       {{"enabled", "on"}, {"app", "p.wsgi"}, {"packages", "p"}, {"exclude", "p.s"}, {"debug", "on"},
        {"poll-interval", "2"}}},
      {"child set wins", {{"enabled", "on"}, {"debug", "on"}}, {{"enabled", "off"}},
       {{"enabled", "off"}, {"debug", "on"}}},
      {"child off is set, not unset", {{"debug", "on"}}, {{"debug", "off"}}, {{"debug", "off"}}},
      {"a child list replaces the parent's whole", {{"packages", "a b"}, {"exclude", "a.x"}},
       {{"packages", "c"}}, {{"packages", "c"}, {"exclude", "a.x"}}},
      {"child exclude replaces", {{"exclude", "a.x a.y"}}, {{"exclude", "a.z"}}, {{"exclude", "a.z"}}},
      {"child only", {}, {{"app", "c.wsgi:app"}, {"poll-interval", "250ms"}},
       {{"app", "c.wsgi:app"}, {"poll-interval", "0.25"}}},
      {"poll interval 0 is set", {{"poll-interval", "5"}}, {{"poll-interval", "0"}},
       {{"poll-interval", "0"}}},
      {"drain timeout inherited", {{"drain-timeout", "3"}}, {{"debug", "on"}},
       {{"debug", "on"}, {"drain-timeout", "3"}}},
      {"child drain timeout wins", {{"drain-timeout", "3"}}, {{"drain-timeout", "0.5"}},
       {{"drain-timeout", "0.5"}}},
      {"live reload inherited", {{"live-reload", "on"}}, {{"debug", "on"}},
       {{"debug", "on"}, {"live-reload", "on"}}},
      {"child live reload off wins", {{"live-reload", "on"}}, {{"live-reload", "off"}},
       {{"live-reload", "off"}}},
      {"reload scope inherited", {{"reload-scope", "dependents"}}, {{"debug", "on"}},
       {{"debug", "on"}, {"reload-scope", "dependents"}}},
      {"child reload scope wins", {{"reload-scope", "dependents"}}, {{"reload-scope", "packages"}},
       {{"reload-scope", "packages"}}},
      {"integrations inherited", {{"integrations", "off"}}, {{"debug", "on"}},
       {{"debug", "on"}, {"integrations", "off"}}},
      {"child integrations replace", {{"integrations", "django"}}, {{"integrations", "flask"}},
       {{"integrations", "flask"}}},
      {"paths inherited", {{"watch", "t"}, {"restart-on", "r"}}, {{"debug", "on"}},
       {{"debug", "on"}, {"watch", "t"}, {"restart-on", "r"}}},
      {"a child's watch list replaces the parent's", {{"watch", "a"}, {"watch", "b"}, {"restart-on", "r"}},
       {{"watch", "c"}}, {{"watch", "c"}, {"restart-on", "r"}}},
      {"child restart-on replaces", {{"restart-on", "x"}}, {{"restart-on", "y"}, {"restart-on", "z"}},
       {{"restart-on", "y"}, {"restart-on", "z"}}},
      {"watch-ignore inherited", {{"watch-ignore", "*.bak"}}, {{"watch", "t"}},
       {{"watch", "t"}, {"watch-ignore", "*.bak"}}},
      {"a child's watch-ignore list replaces the parent's", {{"watch-ignore", "*.bak"}, {"watch-ignore", "*.orig"}},
       {{"watch-ignore", "*.tmp"}}, {{"watch-ignore", "*.tmp"}}},
  };
  for (const MergeCase& c : cases) {
    Config merged = MergeConfig(Make(c.parent), Make(c.child));
    EXPECT_EQ(ConfigToPairs(merged), c.merged) << c.what;
  }
}

TEST(MergeConfig, ThreeLevels) {
  Config server = Make({{"packages", "base"}, {"debug", "off"}});
  Config vhost = Make({{"debug", "on"}});
  Config location = Make({{"packages", "site"}});
  Config merged = MergeConfig(MergeConfig(server, vhost), location);
  EXPECT_EQ(ConfigToPairs(merged), (Pairs{{"packages", "site"}, {"debug", "on"}}));
}

TEST(MergeConfig, ChildSetEmptyListReplacesTheParentsList) {
  Config parent = Make({{"exclude", "a.x"}});
  Config child;
  child.exclude = std::vector<std::string>{};
  Config merged = MergeConfig(parent, child);
  ASSERT_TRUE(merged.exclude.has_value());
  EXPECT_TRUE(merged.exclude->empty());
}

void ExpectSameConfig(const Config& a, const Config& b) {
  EXPECT_EQ(a.enabled, b.enabled);
  EXPECT_EQ(a.app, b.app);
  EXPECT_EQ(a.packages, b.packages);
  EXPECT_EQ(a.exclude, b.exclude);
  EXPECT_EQ(a.debug, b.debug);
  ASSERT_EQ(a.poll_interval_seconds.has_value(), b.poll_interval_seconds.has_value());
  if (a.poll_interval_seconds) {
    EXPECT_EQ(*a.poll_interval_seconds, *b.poll_interval_seconds);
  }
  EXPECT_EQ(a.watch, b.watch);
  EXPECT_EQ(a.restart_on, b.restart_on);
  EXPECT_EQ(a.watch_ignore, b.watch_ignore);
}

TEST(SerializeConfig, Format) {
  Config config = Make({{"packages", "a,b"}, {"enabled", "yes"}, {"poll-interval", "250ms"}});
  EXPECT_EQ(SerializeConfig(config), "enabled=on\npackages=a b\npoll-interval=0.25\n");
  EXPECT_EQ(SerializeConfig(Config()), "");
}

TEST(SerializeConfig, RoundTripsExactly) {
  std::vector<Config> configs;
  configs.push_back(Config());
  configs.push_back(Make({{"enabled", "on"}, {"app", "/srv/my app/a=b.wsgi:app"},
                          {"packages", "a b.c"}, {"exclude", "a.x"}, {"debug", "off"},
                          {"poll-interval", "0.3ms"}}));
  configs.push_back(Make({{"app", "myapp"}, {"enabled", "off"}, {"poll-interval", "0"}}));
  for (double seconds : {0.1, 1e-9, 0.3 / 1000, 86400.0, 1.0 / 3, 5e-324, 123.456789012345}) {
    Config config;
    config.poll_interval_seconds = seconds;
    configs.push_back(config);
  }
  Config empty_lists;
  empty_lists.exclude = std::vector<std::string>{};
  empty_lists.watch = std::vector<std::string>{};
  empty_lists.restart_on = std::vector<std::string>{};
  empty_lists.watch_ignore = std::vector<std::string>{};
  configs.push_back(empty_lists);
  configs.push_back(Make({{"watch", "/srv/my site/t=1"}, {"watch", "a,b c"}, {"watch", "**/*.html"},
                          {"restart-on", "/x/ext.so"}, {"app", "m"}, {"watch-ignore", "*.b ak,"},
                          {"watch-ignore", "[#]*"}}));
  for (const Config& config : configs) {
    const std::string text = SerializeConfig(config);
    Config parsed;
    parsed.debug = true;  // replaced, not merged
    Status status = ParseSerializedConfig(text, &parsed);
    ASSERT_TRUE(status.ok()) << text << ": " << status.message();
    ExpectSameConfig(parsed, config);
    EXPECT_EQ(SerializeConfig(parsed), text);
  }
}

TEST(ParseSerializedConfig, Errors) {
  struct Case {
    std::string text;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"garbage\n", "invalid serialized pyfresh config line 'garbage': expected name=value"},
      {"colour=blue\n", "unknown pyfresh option 'colour'"},
      {"enabled=maybe\n", "enabled: invalid value 'maybe'"},
      {"packages=a\nexclude=b c-d\n", "exclude: invalid package name 'c-d'"},
      {"app=x\r\n", "control character"},
  };
  for (const Case& c : cases) {
    Config config = Make({{"debug", "on"}});
    Status status = ParseSerializedConfig(c.text, &config);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_TRUE(Contains(status.message(), c.fragment)) << status.message();
    // Left alone on error.
    EXPECT_EQ(ConfigToPairs(config), (Pairs{{"debug", "on"}}));
  }
}

TEST(SerializeConfig, PathsOneLinePerPath) {
  Config config = Make({{"watch", "a b"}, {"watch", "c,d"}, {"restart-on", "r"}});
  EXPECT_EQ(SerializeConfig(config), "watch=a b\nwatch=c,d\nrestart-on=r\n");
}

TEST(ConfigSet, FailedPathAppendKeepsEarlierValues) {
  Config config = Make({{"watch", "a"}});
  EXPECT_FALSE(config.Set("watch", "b\nc").ok());
  EXPECT_FALSE(config.Set("watch", "").ok());
  EXPECT_EQ(*config.watch, (std::vector<std::string>{"a"}));
}

TEST(ParseSerializedConfig, AcceptsMissingFinalNewlineAndRepeatedLists) {
  Config config;
  ASSERT_TRUE(ParseSerializedConfig("packages=a\npackages=b\ndebug=on", &config).ok());
  EXPECT_EQ(ConfigToPairs(config), (Pairs{{"packages", "a b"}, {"debug", "on"}}));
}

}  // namespace
}  // namespace pyfresh

namespace pyfresh {
namespace {

// -- typed values (the Python binding's intake) ---------------------------------------

TEST(ConfigTyped, SwitchesAndSecondsAreStoredAsGiven) {
  Config config;
  ASSERT_TRUE(config.SetSwitch("debug", true, "debug=").ok());
  ASSERT_TRUE(config.SetSwitch("enabled", false).ok());
  ASSERT_TRUE(config.SetSwitch("live-reload", true).ok());
  // 1e-7 has no fixed-notation text a host would write ("1e-07"): typed, it is exact.
  ASSERT_TRUE(config.SetSeconds("poll-interval", 1e-7, "poll_interval=").ok());
  ASSERT_TRUE(config.SetSeconds("drain-timeout", 0.1).ok());
  EXPECT_EQ(config.debug, true);
  EXPECT_EQ(config.enabled, false);
  EXPECT_EQ(config.live_reload, true);
  EXPECT_EQ(config.poll_interval_seconds, 1e-7);
  EXPECT_EQ(config.drain_timeout_seconds, 0.1);
  ASSERT_TRUE(config.SetSwitch("integrations", false).ok());
  EXPECT_EQ(config.integrations, std::vector<std::string>{});
  ASSERT_TRUE(config.SetSwitch("integrations", true).ok());
  EXPECT_EQ(config.integrations, std::vector<std::string>{"all"});
  EXPECT_TRUE(config.Validate().ok());
}

TEST(ConfigTyped, BadTypedValuesNameTheOptionAndTheValueAsPythonPrintsIt) {
  struct Case {
    double seconds;
    const char* message;
  };
  const std::vector<Case> cases = {
      {-1, "drain_timeout=: invalid value '-1.0'"},
      {86401, "drain_timeout=: invalid value '86401.0' (more than 86400 seconds"},
      {std::nan(""), "drain_timeout=: invalid value 'nan'"},
      {std::numeric_limits<double>::infinity(), "drain_timeout=: invalid value 'inf'"},
      {0.5, nullptr},
  };
  for (const Case& c : cases) {
    Config config;
    Status status = config.SetSeconds("drain-timeout", c.seconds, "drain_timeout=");
    if (c.message == nullptr) {
      EXPECT_TRUE(status.ok()) << status.message();
      continue;
    }
    ASSERT_FALSE(status.ok()) << c.message;
    EXPECT_EQ(status.message().rfind(c.message, 0), 0u) << status.message();
    EXPECT_FALSE(config.drain_timeout_seconds.has_value());
  }
  Config config;
  EXPECT_EQ(config.SetSwitch("poll-interval", true, "poll_interval=").message(),
            "poll_interval=: expects a number of seconds, not on/off");
  EXPECT_FALSE(config.SetSeconds("debug", 1).ok());
  EXPECT_FALSE(config.AddItem("debug", "on").ok());
  EXPECT_EQ(config.SetSwitch("frobnicate", true).message().rfind("unknown pyfresh option 'frobnicate'", 0), 0u);
}

TEST(ConfigTyped, AddItemTakesOneElementNeverSplit) {
  Config config;
  ASSERT_TRUE(config.AddItem("watch", "my notes, v2.txt", "watch=").ok());
  ASSERT_TRUE(config.AddItem("watch", "my notes, v2.txt").ok());  // listed once
  ASSERT_TRUE(config.AddItem("packages", "a").ok());
  ASSERT_TRUE(config.AddItem("packages", "b").ok());
  ASSERT_TRUE(config.AddItem("watch-ignore", "*.bak").ok());
  ASSERT_TRUE(config.AddItem("integrations", "django").ok());
  EXPECT_EQ(config.watch, std::vector<std::string>{"my notes, v2.txt"});
  EXPECT_EQ(config.packages, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(config.watch_ignore, std::vector<std::string>{"*.bak"});
  EXPECT_EQ(config.integrations, std::vector<std::string>{"django"});

  // A name with a space is one bad name, not two good ones.
  Status status = config.AddItem("packages", "my app", "packages=");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind("packages=: ", 0), 0u) << status.message();
  EXPECT_TRUE(Contains(status.message(), "my app")) << status.message();
  EXPECT_EQ(config.AddItem("watch-ignore", "a\x01" "b", "watch_ignore=").message(),
            "watch_ignore=: value 'a\\x01b' contains a control character");
  EXPECT_TRUE(Contains(config.AddItem("watch-ignore", "t/*.bak", "watch_ignore=").message(), "contains '/'"));
  EXPECT_TRUE(Contains(config.AddItem("integrations", "dj/ango").message(), "invalid integration name 'dj/ango'"));
  EXPECT_FALSE(config.AddItem("packages", "a\tb").ok());  // a tab separates text, not typed elements
  EXPECT_EQ(config.packages, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigTyped, TypedReadsByName) {
  Config config = Make({{"debug", "on"}, {"drain-timeout", "250ms"}, {"app", "a.wsgi:app"},
                        {"reload-scope", "dependents"}, {"packages", "a b"}});
  bool flag = false;
  double seconds = 0;
  std::string text;
  EXPECT_TRUE(GetSwitch(config, "debug", &flag) && flag);
  EXPECT_FALSE(GetSwitch(config, "enabled", &flag));  // unset
  EXPECT_FALSE(GetSwitch(config, "packages", &flag));  // another kind
  EXPECT_TRUE(GetSeconds(config, "drain-timeout", &seconds) && seconds == 0.25);
  EXPECT_FALSE(GetSeconds(config, "poll-interval", &seconds));
  EXPECT_TRUE(GetText(config, "app", &text) && text == "a.wsgi:app");
  EXPECT_TRUE(GetText(config, "reload-scope", &text) && text == "dependents");
  ASSERT_NE(GetList(config, "packages"), nullptr);
  EXPECT_EQ(*GetList(config, "packages"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(GetList(config, "watch"), nullptr);
  EXPECT_EQ(GetList(config, "nonsense"), nullptr);
}

// -- the option table and the hosts' spellings ---------------------------------------

TEST(OptionTable, EveryNameHasAKindAndIsKnown) {
  size_t count = 0;
  for (; !OptionNameAt(count).empty(); ++count) {
    OptionKind kind;
    EXPECT_TRUE(LookupOptionKind(OptionNameAt(count), &kind)) << OptionNameAt(count);
    EXPECT_TRUE(IsKnownOption(OptionNameAt(count)));
  }
  EXPECT_EQ(count, 13u);
  OptionKind kind;
  EXPECT_TRUE(LookupOptionKind("watch-ignore", &kind) && kind == OptionKind::kPaths);
  EXPECT_TRUE(LookupOptionKind("drain-timeout", &kind) && kind == OptionKind::kSeconds);
  EXPECT_FALSE(LookupOptionKind("poll_interval", &kind));
}

TEST(OptionLabel, EachHostsSpelling) {
  struct Case {
    const char* name;
    Spelling spelling;
    bool given;
    const char* label;
  };
  const std::vector<Case> cases = {
      {"poll-interval", Spelling::kCore, true, "poll-interval"},
      {"poll-interval", Spelling::kPython, true, "poll_interval="},
      // Not passed in Python: named as the core names it, not as a keyword.
      {"poll-interval", Spelling::kPython, false, "poll-interval"},
      {"poll-interval", Spelling::kCommandLine, true, "--poll-interval"},
      {"poll-interval", Spelling::kUwsgi, false, "pyfresh-poll-interval"},
      {"poll-interval", Spelling::kApache, true, "PyFreshPollInterval"},
      {"watch-ignore", Spelling::kApache, false, "PyFreshWatchIgnore"},
      {"enabled", Spelling::kApache, true, "PyFresh"},
      {"enabled", Spelling::kUwsgi, true, "pyfresh-enabled"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(OptionLabel(c.name, c.spelling, c.given), c.label) << c.name;
  }
  Spelling spelling;
  EXPECT_TRUE(ParseSpelling("command-line", &spelling) && spelling == Spelling::kCommandLine);
  EXPECT_TRUE(ParseSpelling("apache", &spelling) && spelling == Spelling::kApache);
  EXPECT_FALSE(ParseSpelling("Apache", &spelling));
}

}  // namespace
}  // namespace pyfresh
