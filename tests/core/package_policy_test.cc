#include "pyfresh/package_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pyfresh {
namespace {

TEST(ValidateModuleName, AcceptsDottedIdentifiers) {
  for (const char* name : {"a", "myapp", "my_app", "_private", "a.b", "a.b_c.d", "App2", "x9.y8",
                           "match", "case", "_", "type", "__main__", "a.__init__",
                           // PEP 3131 (str.isidentifier): donn\u00e9es, caf\u00e9.vues, \u540d\u524d,
                           // \u03a9mega, _\u00e9t\u00e9, x\u0301 (a combining mark after the first).
                           "donn\xc3\xa9" "es", "caf\xc3\xa9.vues", "\xe5\x90\x8d\xe5\x89\x8d",
                           "\xce\xa9mega", "_\xc3\xa9t\xc3\xa9", "x\xcc\x81"}) {
    EXPECT_TRUE(ValidateModuleName(name).ok()) << name << ": " << ValidateModuleName(name).message();
  }
}

struct InvalidName {
  std::string name;
  std::vector<std::string> fragments;  // all must appear in the message
};

TEST(ValidateModuleName, RejectsWithAQuotedReason) {
  const std::vector<InvalidName> cases = {
      {"", {"invalid package name ''", "empty"}},
      {"my app", {"invalid package name 'my app': ", "whitespace"}},
      {" myapp", {"' myapp'", "whitespace"}},
      {"myapp\t", {"'myapp\\x09'", "whitespace"}},
      {"1abc", {"'1abc'", "starts with a digit"}},
      {"a.2b", {"'a.2b'", "'2b' starts with a digit"}},
      {"a..b", {"'a..b'", "empty component"}},
      {".a", {"'.a'", "starts with '.'"}},
      {"a.", {"'a.'", "ends with '.'"}},
      {".", {"'.'"}},
      {"my-app", {"'my-app'", "'-' cannot appear"}},
      {"a/b", {"'a/b'", "'/'"}},
      {"a:b", {"'a:b'", "':'"}},
      // Not UTF-8: a Latin-1 byte, an overlong '/', an encoded surrogate, a cut sequence.
      {"caf\xe9", {"'caf\\xe9'", "not valid UTF-8"}},
      {"a\xc0\xaf", {"not valid UTF-8"}},
      {"a\xed\xa0\x80", {"not valid UTF-8"}},
      {"caf\xc3", {"not valid UTF-8"}},
      // Valid UTF-8 that is no identifier: U+20AC, U+00A0 (no-break space),
      // a combining mark or an Arabic-Indic digit first.
      {"\xe2\x82\xacuro", {"'\\xe2\\x82\\xac' (U+20AC) cannot appear in a Python identifier"}},
      {"a\xc2\xa0" "b", {"(U+00A0) cannot appear"}},
      {"\xcc\x81" "a", {"(U+0301) cannot start a Python identifier"}},
      {"a.\xd9\xa3" "b", {"(U+0663) cannot start"}},
      {std::string("a\0b", 3), {"'a\\x00b'", "control character"}},
      {"a\x7f", {"'a\\x7f'", "control character"}},
      {"class", {"'class'", "Python keyword"}},
      {"myapp.import", {"'import' is a Python keyword"}},
      {"None", {"'None' is a Python keyword"}},
  };
  for (const InvalidName& c : cases) {
    Status status = ValidateModuleName(c.name);
    ASSERT_FALSE(status.ok()) << c.name;
    for (const std::string& fragment : c.fragments) {
      EXPECT_NE(status.message().find(fragment), std::string::npos)
          << "message: " << status.message() << "\nmissing: " << fragment;
    }
    EXPECT_EQ(status.message().find('\n'), std::string::npos);
  }
}

TEST(ValidateModuleName, TruncatesLongValues) {
  const std::string name(1000, '-');
  Status status = ValidateModuleName(name);
  ASSERT_FALSE(status.ok());
  EXPECT_LT(status.message().size(), 300u);
  EXPECT_NE(status.message().find("...'"), std::string::npos);
}

TEST(ValidatePackageName, RefusesPyfreshItself) {
  for (const char* name : {"pyfresh", "pyfresh.hooks", "pyfresh._core"}) {
    Status status = ValidatePackageName(name);
    ASSERT_FALSE(status.ok()) << name;
    EXPECT_NE(status.message().find("is pyfresh itself"), std::string::npos) << status.message();
  }
  for (const char* name : {"pyfreshly", "my.pyfresh", "mysite"}) {
    EXPECT_TRUE(ValidatePackageName(name).ok()) << name;
  }
  EXPECT_NE(ValidatePackageName("a b").message().find("whitespace"), std::string::npos);
}

struct ScopeCase {
  std::vector<std::string> packages;
  std::vector<std::string> exclude;
  const char* app_module;
  std::vector<std::string> fragments;  // empty: accepted
};

TEST(CheckScope, Table) {
  const std::vector<ScopeCase> cases = {
      {{"mysite", "blog"}, {"mysite.settings"}, "mysite.wsgi", {}},
      {{}, {}, "mysite.wsgi", {}},
      {{"blog"}, {"blog"}, "blog_site", {"PyFreshExclude: 'blog' covers every package of PyFreshPackages "
                                          "('blog')", "reload nothing"}},
      // The app's own module excluded: it would never reload.
      {{"mysite", "blog"}, {"mysite"}, "mysite.wsgi",
       {"PyFreshExclude: 'mysite' covers the app's own module 'mysite.wsgi'", "never reload", "'mysite.settings'"}},
      {{}, {"mysite.wsgi"}, "mysite.wsgi", {"'mysite.wsgi' covers the app's own module"}},
      {{"site"}, {"site.app"}, "site.app.wsgi", {"'site.app' covers the app's own module 'site.app.wsgi'"}},
      // Every package excluded (the app's module lies elsewhere).
      {{"blog", "shop"}, {"shop", "blog", "other"}, "mysite.wsgi",
       {"'blog', 'shop' cover every package of PyFreshPackages ('blog', 'shop')"}},
      {{"blog", "shop"}, {"shop"}, "mysite.wsgi", {}},
      {{"blog.sub"}, {"blog"}, "mysite.wsgi", {"covers every package"}},
      {{"blog"}, {"blog.sub"}, "mysite.wsgi", {}},
      {{"mysite"}, {"mysite2"}, "mysite.wsgi", {}},
  };
  for (const ScopeCase& c : cases) {
    Status status = CheckScope(c.packages, c.exclude, c.app_module, "PyFreshPackages", "PyFreshExclude");
    if (c.fragments.empty()) {
      EXPECT_TRUE(status.ok()) << status.message();
      continue;
    }
    ASSERT_FALSE(status.ok()) << c.app_module;
    for (const std::string& fragment : c.fragments) {
      EXPECT_NE(status.message().find(fragment), std::string::npos)
          << "message: " << status.message() << "\nmissing: " << fragment;
    }
  }
}

struct IsUnderPrefixCase {
  const char* name;
  const char* prefix;
  bool expected;
};

TEST(IsUnderPrefix, Table) {
  const IsUnderPrefixCase cases[] = {
      {"myapp", "myapp", true},       {"myapp.views", "myapp", true},
      {"myapp.a.b", "myapp.a", true}, {"myapp2", "myapp", false},
      {"myapp_x", "myapp", false},    {"my", "myapp", false},
      {"myapp", "myapp.views", false}, {"other.myapp", "myapp", false},
      {"myapp", "", false},           {"", "", false},
  };
  for (const IsUnderPrefixCase& c : cases) {
    EXPECT_EQ(IsUnderPrefix(c.name, c.prefix), c.expected) << c.name << " under " << c.prefix;
  }
}

struct CoversCase {
  std::vector<std::string> packages;
  std::vector<std::string> exclude;
  const char* module;
  bool covers;
  bool excluded;
};

TEST(PackagePolicy, CoversTable) {
  const std::vector<CoversCase> cases = {
      {{"myapp"}, {}, "myapp", true, false},
      {{"myapp"}, {}, "myapp.views", true, false},
      {{"myapp"}, {}, "myapp.views.detail", true, false},
      {{"myapp"}, {}, "myapp2", false, false},
      {{"myapp"}, {}, "myap", false, false},
      {{"myapp"}, {}, "flask", false, false},
      {{"myapp", "lib"}, {}, "lib.util", true, false},
      {{"myapp"}, {"myapp.settings"}, "myapp.settings", false, true},
      {{"myapp"}, {"myapp.settings"}, "myapp.settings.local", false, true},
      {{"myapp"}, {"myapp.settings"}, "myapp.settings_x", true, false},
      {{"myapp"}, {"myapp.settings"}, "myapp", true, false},
      // An exclusion always wins, even over the package itself...
      {{"myapp"}, {"myapp"}, "myapp.views", false, true},
      // ...and one outside every package has no effect.
      {{"myapp"}, {"other"}, "myapp.views", true, false},
      {{"myapp"}, {"other"}, "other", false, true},
      {{}, {}, "myapp", false, false},
      {{"myapp.sub"}, {}, "myapp", false, false},
      {{"myapp.sub"}, {}, "myapp.sub.x", true, false},
  };
  for (const CoversCase& c : cases) {
    PackagePolicy policy;
    ASSERT_TRUE(PackagePolicy::Create(c.packages, c.exclude, &policy).ok());
    EXPECT_EQ(policy.Covers(c.module), c.covers) << c.module;
    EXPECT_EQ(policy.IsExcluded(c.module), c.excluded) << c.module;
  }
}

TEST(PackagePolicy, DeduplicatesKeepingOrder) {
  PackagePolicy policy;
  ASSERT_TRUE(PackagePolicy::Create({"b", "a", "b", "a"}, {"a.x", "a.x"}, &policy).ok());
  EXPECT_EQ(policy.packages(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(policy.exclude(), (std::vector<std::string>{"a.x"}));
  EXPECT_TRUE(policy.Covers("a.y"));
  EXPECT_FALSE(policy.Covers("a.x.z"));
}

TEST(PackagePolicy, CreateNamesTheFirstBadNameAndLeavesOutputAlone) {
  PackagePolicy policy;
  ASSERT_TRUE(PackagePolicy::Create({"keep"}, {}, &policy).ok());
  Status status = PackagePolicy::Create({"good", "bad name", "worse-name"}, {}, &policy);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'bad name'"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find("worse-name"), std::string::npos) << status.message();
  EXPECT_EQ(policy.packages(), (std::vector<std::string>{"keep"}));

  status = PackagePolicy::Create({"good"}, {"also.good", "1bad"}, &policy);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'1bad'"), std::string::npos) << status.message();
}

TEST(PackagePolicy, ValueFormReturnsThePolicyOrTheError) {
  StatusOr<PackagePolicy> policy = PackagePolicy::Create({"a", "a"}, {"a.keep"});
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  EXPECT_EQ(policy->packages(), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(policy->Covers("a.keep.x"));

  StatusOr<PackagePolicy> failed = PackagePolicy::Create({"good"}, {"1bad"});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("'1bad'"), std::string::npos) << failed.status().message();
}

TEST(PackagePolicy, DefaultCoversNothingAndIsCopyable) {
  PackagePolicy empty;
  EXPECT_FALSE(empty.Covers("anything"));
  PackagePolicy policy;
  ASSERT_TRUE(PackagePolicy::Create({"a"}, {}, &policy).ok());
  PackagePolicy copy = policy;
  EXPECT_TRUE(copy.Covers("a.b"));
}

}  // namespace
}  // namespace pyfresh
