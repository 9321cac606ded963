// Table-driven tests of the plugin's option handling and app table (no
// uWSGI process; the integration tests start real ones).
#include <deque>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app_table.h"
#include "plugin_options.h"
#include "uwsgi_api.h"

namespace pyfresh_uwsgi {
namespace {

// uwsgi_string_list chains as uWSGI's option parser builds them.
class Lists {
 public:
  uwsgi_string_list* Make(std::vector<const char*> values) {
    uwsgi_string_list* head = nullptr;
    uwsgi_string_list** tail = &head;
    for (const char* value : values) {
      strings_.emplace_back(value == nullptr ? "" : value);
      nodes_.push_back(uwsgi_string_list{});
      uwsgi_string_list* node = &nodes_.back();
      node->value = value == nullptr ? nullptr : strings_.back().data();
      *tail = node;
      tail = &node->next;
    }
    return head;
  }

 private:
  std::deque<std::string> strings_;
  std::deque<uwsgi_string_list> nodes_;
};

TEST(ResolveOptions, NothingGivenIsAllUnset) {
  Options options;
  ASSERT_TRUE(ResolveOptions(RawOptions{}, &options).ok());
  EXPECT_FALSE(options.config.enabled.has_value());
  EXPECT_FALSE(options.config.packages.has_value());
  EXPECT_TRUE(options.apps.empty());
  EXPECT_TRUE(EnginePairs(options.config).empty());
}

TEST(ResolveOptions, FlagsWithoutValueMeanOn) {
  Lists lists;
  RawOptions raw{};
  raw.debug = lists.Make({nullptr});
  raw.enabled = lists.Make({""});
  raw.live_reload = lists.Make({nullptr});
  Options options;
  ASSERT_TRUE(ResolveOptions(raw, &options).ok());
  EXPECT_EQ(options.config.debug, true);
  EXPECT_EQ(options.config.enabled, true);
  EXPECT_EQ(options.config.live_reload, true);
}

TEST(ResolveOptions, ListsAppendAcrossRepetitions) {
  Lists lists;
  RawOptions raw{};
  raw.packages = lists.Make({"mysite blog", "extras,more"});
  raw.exclude = lists.Make({"mysite.settings"});
  raw.watch = lists.Make({"templates", "my dir/with, comma"});
  raw.watch_ignore = lists.Make({"*.bak", "draft *, v2"});
  Options options;
  ASSERT_TRUE(ResolveOptions(raw, &options).ok());
  EXPECT_EQ(*options.config.packages, (std::vector<std::string>{"mysite", "blog", "extras", "more"}));
  EXPECT_EQ(*options.config.watch, (std::vector<std::string>{"templates", "my dir/with, comma"}));
  EXPECT_EQ(*options.config.watch_ignore, (std::vector<std::string>{"*.bak", "draft *, v2"}));
  bool saw_display = false;
  for (const auto& [name, value, display] : EnginePairs(options.config)) {
    EXPECT_EQ(display, "pyfresh-" + name);
    saw_display = saw_display || display == "pyfresh-packages";
  }
  EXPECT_TRUE(saw_display);
}

struct BadOption {
  uwsgi_string_list* RawOptions::*field;
  const char* value;
  const char* expected_start;
  const char* expected_quote;
};

TEST(ResolveOptions, BadValuesNameTheOptionAndQuoteTheValue) {
  const BadOption cases[] = {
      {&RawOptions::packages, "my-app", "pyfresh-packages: ", "'my-app'"},
      {&RawOptions::exclude, "a..b", "pyfresh-exclude: ", "'a..b'"},
      {&RawOptions::debug, "maybe", "pyfresh-debug: ", "'maybe'"},
      {&RawOptions::live_reload, "often", "pyfresh-live-reload: ", "'often'"},
      {&RawOptions::enabled, "perhaps", "pyfresh-enabled: ", "'perhaps'"},
      {&RawOptions::poll_interval, "soon", "pyfresh-poll-interval: ", "'soon'"},
      {&RawOptions::app, "not a spec", "pyfresh-app: ", "'not a spec'"},
      {&RawOptions::app, "/blog=x y:app", "pyfresh-app: ", "'/blog=x y:app'"},
      {&RawOptions::app, "/my blog=blog.wsgi", "pyfresh-app: ", "'/my blog'"},
      {&RawOptions::watch, "", "pyfresh-watch: ", ""},
      {&RawOptions::watch_ignore, "", "pyfresh-watch-ignore: ", "empty pattern"},
      {&RawOptions::watch_ignore, "templates/*.bak", "pyfresh-watch-ignore: ", "'templates/*.bak'"},
  };
  for (const BadOption& bad : cases) {
    Lists lists;
    RawOptions raw{};
    raw.*bad.field = lists.Make({bad.value});
    Options options;
    pyfresh::Status status = ResolveOptions(raw, &options);
    ASSERT_FALSE(status.ok()) << bad.value;
    EXPECT_EQ(status.message().rfind(bad.expected_start, 0), 0u) << status.message();
    EXPECT_NE(status.message().find(bad.expected_quote), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
  }
}

TEST(ResolveOptions, AppOptionsSplitAtTheFirstEqualSign) {
  Lists lists;
  RawOptions raw{};
  raw.app = lists.Make({"mysite.wsgi:application", "/blog=blog.wsgi:app", "=other:app2"});
  Options options;
  pyfresh::Status status = ResolveOptions(raw, &options);
  // "" twice: the main app.
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("given twice"), std::string::npos) << status.message();

  raw.app = lists.Make({"mysite.wsgi:application", "/blog=blog.wsgi:app", "/shop/=/srv/shop.wsgi"});
  ASSERT_TRUE(ResolveOptions(raw, &options).ok());
  ASSERT_EQ(options.apps.size(), 3u);
  EXPECT_EQ(options.apps[0].mountpoint, "");
  EXPECT_EQ(options.apps[0].spec, "mysite.wsgi:application");
  EXPECT_EQ(options.apps[1].mountpoint, "/blog");
  EXPECT_EQ(options.apps[2].spec, "/srv/shop.wsgi");

  raw.app = lists.Make({"/a=x:app", "/a/=y:app"});
  EXPECT_FALSE(ResolveOptions(raw, &options).ok());
}

TEST(MountKey, TrailingSlashesDoNotMatter) {
  EXPECT_EQ(MountKey("/"), "");
  EXPECT_EQ(MountKey(""), "");
  EXPECT_EQ(MountKey("/blog/"), "/blog");
  EXPECT_EQ(MountKey("/blog"), "/blog");
}

struct DerivedSpec {
  const char* module;
  const char* file;
  const char* callable;
  const char* spec;  // for mountpoint ""
};

TEST(AppTable, MainAppSpecFromUwsgiOptions) {
  const DerivedSpec cases[] = {
      {"mysite.wsgi:application", nullptr, nullptr, "mysite.wsgi:application"},
      {"mysite.wsgi", nullptr, nullptr, "mysite.wsgi:application"},
      {"mysite.wsgi", nullptr, "app", "mysite.wsgi:app"},
      {"mysite.wsgi:app", nullptr, "other", "mysite.wsgi:app"},
      {nullptr, "/srv/site.wsgi", nullptr, "/srv/site.wsgi:application"},
      {nullptr, "site.wsgi", "app", "./site.wsgi:app"},
      {nullptr, "app.py", nullptr, "./app.py:application"},
      // The module wins over the file, as in the python plugin.
      {"mysite.wsgi", "/srv/site.wsgi", nullptr, "mysite.wsgi:application"},
  };
  for (const DerivedSpec& c : cases) {
    PythonAppOptions python;
    python.module = c.module;
    python.file = c.file;
    python.callable = c.callable;
    AppTable table;
    std::vector<AddedMount> mounts;
    ASSERT_TRUE(AppTable::Build(python, {}, true, &table, &mounts).ok());
    const AppSource* main = table.Find("");
    ASSERT_NE(main, nullptr);
    EXPECT_EQ(main->spec, c.spec);
    EXPECT_EQ(table.Find("/"), main);
    EXPECT_TRUE(mounts.empty());
  }
}

TEST(AppTable, LoadersWithoutASpecNeedPyfreshApp) {
  PythonAppOptions eval;
  eval.eval = "import x; application = x.make()";
  PythonAppOptions factory;
  factory.module = "mysite.wsgi:create_app()";
  PythonAppOptions paste_mount;
  paste_mount.mounts = {"/p=config:/srv/site.ini"};
  for (const PythonAppOptions* python : {&eval, &factory, &paste_mount}) {
    AppTable table;
    std::vector<AddedMount> mounts;
    pyfresh::Status status = AppTable::Build(*python, {}, true, &table, &mounts);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.message().find("pyfresh-app = "), std::string::npos) << status.message();
    // Off: nothing to re-import, no error.
    EXPECT_TRUE(AppTable::Build(*python, {}, false, &table, &mounts).ok());
  }
  AppOption named;
  named.mountpoint = "";
  named.spec = "mysite.wsgi:application";
  named.text = named.spec;
  AppTable table;
  std::vector<AddedMount> mounts;
  ASSERT_TRUE(AppTable::Build(factory, {named}, true, &table, &mounts).ok());
  EXPECT_EQ(table.Find("")->spec, "mysite.wsgi:application");
  EXPECT_TRUE(mounts.empty());
}

TEST(AppTable, NonWsgiLoadersAreLeftAlone) {
  PythonAppOptions python;
  python.pump = "pumpapp:app";
  AppTable table;
  std::vector<AddedMount> mounts;
  ASSERT_TRUE(AppTable::Build(python, {}, true, &table, &mounts).ok());
  EXPECT_FALSE(table.Find("")->is_wsgi);
}

TEST(AppTable, Mounts) {
  PythonAppOptions python;
  python.callable = "app";
  python.mounts = {"/a=alpha.wsgi:application", "/b=/srv/beta.wsgi", "/c=gamma.psgi", "/a=again:app"};
  AppTable table;
  std::vector<AddedMount> mounts;
  ASSERT_TRUE(AppTable::Build(python, {}, true, &table, &mounts).ok());
  EXPECT_EQ(table.Find("/a")->spec, "alpha.wsgi:application");  // the first wins, as in uWSGI
  EXPECT_EQ(table.Find("/b/")->spec, "/srv/beta.wsgi:app");
  EXPECT_EQ(table.Find("/c"), nullptr);  // another plugin's mount
  EXPECT_EQ(table.Find(""), nullptr);
}

TEST(AppTable, PyfreshAppForAnUnloadedMountpointIsMounted) {
  PythonAppOptions python;
  python.mounts = {"/a=alpha.wsgi:application"};
  std::vector<AppOption> apps(3);
  apps[0] = {"/blog", "blog.wsgi", "/blog=blog.wsgi"};
  apps[1] = {"", "/srv/site.wsgi", "/srv/site.wsgi"};
  apps[2] = {"/a", "alpha.other:app", "/a=alpha.other:app"};
  AppTable table;
  std::vector<AddedMount> mounts;
  ASSERT_TRUE(AppTable::Build(python, apps, true, &table, &mounts).ok());
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].mountpoint, "");  // the main app first
  EXPECT_EQ(mounts[0].target, "/srv/site.wsgi");
  EXPECT_EQ(mounts[1].mountpoint, "/blog");
  EXPECT_EQ(mounts[1].target, "blog.wsgi:application");
  EXPECT_EQ(table.Find("/a")->spec, "alpha.other:app");  // an override, not a mount
  EXPECT_EQ(table.Find("/blog")->spec, "blog.wsgi");

  // A file's callable comes from uWSGI's `callable` option.
  std::vector<AppOption> other_callable(1);
  other_callable[0] = {"/x", "/srv/x.wsgi:other", "/x=/srv/x.wsgi:other"};
  pyfresh::Status status = AppTable::Build(python, other_callable, true, &table, &mounts);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("callable = other"), std::string::npos) << status.message();
  python.callable = "other";
  EXPECT_TRUE(AppTable::Build(python, other_callable, true, &table, &mounts).ok());
}

TEST(ResolveOptions, AHugeMountpointGivesAShortOneLineError) {
  Lists lists;
  const std::string value = std::string(200 * 1024, 'm') + "\n=site.wsgi:application";
  RawOptions raw{};
  raw.app = lists.Make({value.c_str()});
  Options options;
  const pyfresh::Status status = ResolveOptions(raw, &options);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("pyfresh-app"), std::string::npos) << status.message();
  EXPECT_LT(status.message().size(), 1024u) << status.message().substr(0, 300);
  EXPECT_EQ(status.message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace pyfresh_uwsgi
