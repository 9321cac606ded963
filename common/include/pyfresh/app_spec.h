// The application to (re)load: "package.module:callable.attr" or a file
// "/path/to/app.wsgi[:callable]".
#ifndef PYFRESH_APP_SPEC_H_
#define PYFRESH_APP_SPEC_H_

#include <string>
#include <string_view>

#include "pyfresh/status.h"

namespace pyfresh {

struct AppSpec {
  enum class Kind { kModule, kFile };
  Kind kind = Kind::kModule;
  std::string target;    // dotted module name, or file path
  std::string callable;  // dotted attribute path; "application" when omitted
};

// A file spec contains '/' ("./app.wsgi", "/srv/app.py:app"); anything else,
// "mysite.wsgi:application" included, is a
// module spec. Errors quote the bad spec and say what was expected.
Status ParseAppSpec(std::string_view text, AppSpec* out);

}  // namespace pyfresh

#endif  // PYFRESH_APP_SPEC_H_
