// Private: the dotted-identifier rule shared by package names, app specs and
// callables. Not installed.
#ifndef PYFRESH_SRC_IDENTIFIER_H_
#define PYFRESH_SRC_IDENTIFIER_H_

#include <string>
#include <string_view>

namespace pyfresh {
namespace internal {

// Empty when `name` is a dotted ASCII Python identifier ("a.b_c.d", no
// keyword components); otherwise why not, e.g. "contains whitespace".
std::string DottedIdentifierProblem(std::string_view name);

inline bool IsDottedIdentifier(std::string_view name) {
  return DottedIdentifierProblem(name).empty();
}

}  // namespace internal
}  // namespace pyfresh

#endif  // PYFRESH_SRC_IDENTIFIER_H_
