// The application to (re)load: "package.module:callable.attr" or a file
// "/path/to/app.wsgi[:callable]".
#ifndef PYFRESH_APP_SPEC_H_
#define PYFRESH_APP_SPEC_H_

#include <string>
#include <string_view>

#include "pyfresh/status.h"
#include "pyfresh/status_or.h"

namespace pyfresh {

// The callable a spec means when it names none ("app.wsgi", "mysite.wsgi"),
// as in mod_wsgi and uWSGI.
inline constexpr char kDefaultCallable[] = "application";

struct AppSpec {
  enum class Kind { kModule, kFile };
  Kind kind = Kind::kModule;
  std::string target;    // dotted module name, or file path
  std::string callable;  // dotted attribute path; "application" when omitted
};

// A file spec contains '/' ("./app.wsgi", "/srv/app.py:app"); anything else,
// "mysite.wsgi:application" included, is a
// module spec. Errors quote the bad spec and say what was expected.
StatusOr<AppSpec> ParseAppSpec(std::string_view text);

// The same, filling `out` (left alone on error): the form config.cc uses.
Status ParseAppSpec(std::string_view text, AppSpec* out);

// Whether `path` ends in ".py" or ".wsgi": a script file, as uWSGI's loaders
// and mod_wsgi take it.
bool IsScriptFileName(std::string_view path);

// `path` made absolute against the directory `cwd` and normalised the way
// Python's os.path.abspath does it, without looking at the filesystem:
// "sub/../app.wsgi" in /srv is "/srv/app.wsgi" (symlinks are not resolved).
std::string AbsolutePath(std::string_view path, std::string_view cwd);

// `spec` with a relative file target made absolute against `cwd` (where the
// host loads apps from): "./site.wsgi:application" in /srv/app is
// "/srv/app/site.wsgi:application". Module specs, absolute file specs and
// invalid specs come back unchanged, as does everything when `cwd` is empty.
std::string AbsoluteAppSpec(std::string_view spec, std::string_view cwd);

}  // namespace pyfresh

#endif  // PYFRESH_APP_SPEC_H_
