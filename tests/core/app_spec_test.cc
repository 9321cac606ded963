#include "pyfresh/app_spec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pyfresh {
namespace {

struct ValidSpec {
  std::string text;
  AppSpec::Kind kind;
  std::string target;
  std::string callable;
};

TEST(ParseAppSpec, Valid) {
  using K = AppSpec::Kind;
  const std::vector<ValidSpec> cases = {
      {"myapp", K::kModule, "myapp", "application"},
      {"myapp.wsgi_app", K::kModule, "myapp.wsgi_app", "application"},
      {"myapp.wsgi:app", K::kModule, "myapp.wsgi", "app"},
      {"pkg.mod:factory.app", K::kModule, "pkg.mod", "factory.app"},
      {"/srv/app/app.wsgi", K::kFile, "/srv/app/app.wsgi", "application"},
      {"/srv/app/app.wsgi:app", K::kFile, "/srv/app/app.wsgi", "app"},
      {"/srv/app/run.py:create.app", K::kFile, "/srv/app/run.py", "create.app"},
      // Without a '/', Django's "mysite.wsgi" convention wins: a module.
      {"app.wsgi", K::kModule, "app.wsgi", "application"},
      {"app.py", K::kModule, "app.py", "application"},
      {"app.wsgi:app", K::kModule, "app.wsgi", "app"},
      {"mysite.wsgi:application", K::kModule, "mysite.wsgi", "application"},
      {"donn\xc3\xa9" "es.wsgi:caf\xc3\xa9", K::kModule, "donn\xc3\xa9" "es.wsgi", "caf\xc3\xa9"},
      {"./app.wsgi:app", K::kFile, "./app.wsgi", "app"},
      {"./app", K::kFile, "./app", "application"},
      {"/srv/my app/app.wsgi", K::kFile, "/srv/my app/app.wsgi", "application"},
      // A ':' followed by something other than an identifier belongs to the path.
      {"/srv/a:b/app.wsgi", K::kFile, "/srv/a:b/app.wsgi", "application"},
      {"/srv/a:b/app.wsgi:main", K::kFile, "/srv/a:b/app.wsgi", "main"},
      {"/srv/app:main", K::kFile, "/srv/app", "main"},
      {"/srv/app:1x", K::kFile, "/srv/app:1x", "application"},
  };
  for (const ValidSpec& c : cases) {
    AppSpec spec;
    Status status = ParseAppSpec(c.text, &spec);
    ASSERT_TRUE(status.ok()) << c.text << ": " << status.message();
    EXPECT_EQ(spec.kind, c.kind) << c.text;
    EXPECT_EQ(spec.target, c.target) << c.text;
    EXPECT_EQ(spec.callable, c.callable) << c.text;
  }
}

struct InvalidSpec {
  std::string text;
  std::vector<std::string> fragments;
};

TEST(ParseAppSpec, Invalid) {
  const std::string expected =
      "expected \"package.module:callable\" or a path to a .py/.wsgi file";
  const std::vector<InvalidSpec> cases = {
      {"", {"invalid app spec ''", "empty"}},
      {"my app:application", {"invalid app spec 'my app:application': " + expected, "whitespace"}},
      {"my app", {"'my app'", "whitespace"}},
      {" myapp", {"' myapp'", "whitespace"}},
      {"myapp ", {"'myapp '", "whitespace"}},
      {"a:b:c", {"'a:b:c'", "more than one ':'"}},
      {"myapp:", {"'myapp:'", "empty callable"}},
      {":app", {"':app'", "empty module"}},
      {"1app:application", {"'1app' starts with a digit"}},
      {"myapp:app-x", {"callable 'app-x'"}},
      {"myapp:class", {"'class' is a Python keyword"}},
      {"my-app.wsgi_mod", {"'-' cannot appear"}},
      {"a..b", {"empty component"}},
      {std::string("myapp\0x", 7), {"'myapp\\x00x'", "control character"}},
      {"/srv/app.wsgi\n", {"'/srv/app.wsgi\\x0a'", "control character"}},
      {"/srv/app\t.wsgi", {"control character"}},
      {"/srv/app.wsgi:", {"empty callable"}},
      {"/srv/app.wsgi:my-app", {"callable 'my-app'"}},
      {"/srv/app:", {"ends with ':'"}},
      {"/srv/app/", {"directory"}},
      {"caf\xe9", {"'caf\\xe9'", "not valid UTF-8"}},
      {"app.wsgi:my-app", {"callable 'my-app'"}},
      {"my app.wsgi", {"whitespace"}},
  };
  for (const InvalidSpec& c : cases) {
    AppSpec spec;
    spec.target = "untouched";
    Status status = ParseAppSpec(c.text, &spec);
    ASSERT_FALSE(status.ok()) << c.text << " parsed as " << spec.target << " : " << spec.callable;
    EXPECT_EQ(spec.target, "untouched") << c.text;
    EXPECT_NE(status.message().find(expected), std::string::npos) << status.message();
    for (const std::string& fragment : c.fragments) {
      EXPECT_NE(status.message().find(fragment), std::string::npos)
          << "message: " << status.message() << "\nmissing: " << fragment;
    }
    EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
  }
}

TEST(ParseAppSpec, ValueFormReturnsTheSpecOrTheSameError) {
  StatusOr<AppSpec> parsed = ParseAppSpec("/srv/site.wsgi:app");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->kind, AppSpec::Kind::kFile);
  EXPECT_EQ(parsed->target, "/srv/site.wsgi");
  EXPECT_EQ(parsed->callable, "app");

  AppSpec untouched;
  Status status = ParseAppSpec("bad name:app", &untouched);
  StatusOr<AppSpec> failed = ParseAppSpec("bad name:app");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), status.message());
  EXPECT_TRUE(untouched.target.empty());
}

TEST(AbsoluteAppSpec, RelativeFilesResolveAgainstTheWorkingDirectory) {
  EXPECT_EQ(AbsoluteAppSpec("./site.wsgi:application", "/srv/app"), "/srv/app/site.wsgi:application");
  EXPECT_EQ(AbsoluteAppSpec("sub/site.wsgi:app", "/srv/app/"), "/srv/app/sub/site.wsgi:app");
  EXPECT_EQ(AbsoluteAppSpec("/abs/site.wsgi:app", "/srv"), "/abs/site.wsgi:app");
  EXPECT_EQ(AbsoluteAppSpec("mysite.wsgi:application", "/srv"), "mysite.wsgi:application");
}

TEST(AbsoluteAppSpec, NamesTheDefaultCallableAndLeavesOthersAlone) {
  EXPECT_EQ(AbsoluteAppSpec("./site.wsgi", "/srv"), "/srv/site.wsgi:application");
  EXPECT_EQ(AbsoluteAppSpec("./site.wsgi", ""), "./site.wsgi");
  EXPECT_EQ(AbsoluteAppSpec("not a spec", "/srv"), "not a spec");
}

// Expected values from Python's os.path.abspath with os.getcwd() == cwd.
TEST(AbsolutePath, NormalisesLikePythonsAbspath) {
  const struct {
    const char* path;
    const char* cwd;
    const char* absolute;
  } cases[] = {
      {"app.wsgi", "/srv", "/srv/app.wsgi"},
      {"./app.wsgi", "/srv/", "/srv/app.wsgi"},
      {"a/../b/./c.py", "/srv", "/srv/b/c.py"},
      {"../../../x.py", "/srv/site", "/x.py"},
      {"a//b///c.py", "/srv", "/srv/a/b/c.py"},
      {"/abs/./x/../y.wsgi", "/srv", "/abs/y.wsgi"},
      {"//net/share/app.py", "/srv", "//net/share/app.py"},
      {"///many/app.py", "/srv", "/many/app.py"},
      {"/", "/srv", "/"},
      {"/..", "/srv", "/"},
      {"x", "/", "/x"},
      {"a:b/app.wsgi", "/srv", "/srv/a:b/app.wsgi"},
  };
  for (const auto& c : cases) EXPECT_EQ(AbsolutePath(c.path, c.cwd), c.absolute) << c.path << " in " << c.cwd;
}

TEST(IsScriptFileName, PyAndWsgiFiles) {
  EXPECT_TRUE(IsScriptFileName("/srv/app.wsgi"));
  EXPECT_TRUE(IsScriptFileName("app.py"));
  EXPECT_FALSE(IsScriptFileName("app.pyc"));
  EXPECT_FALSE(IsScriptFileName("mysite.wsgi_app"));
  EXPECT_FALSE(IsScriptFileName("paste.ini"));
}

}  // namespace
}  // namespace pyfresh
