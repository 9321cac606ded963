// Private: the dotted-identifier rule shared by package names, app specs and
// callables. Not installed.
#ifndef PYFRESH_SRC_IDENTIFIER_H_
#define PYFRESH_SRC_IDENTIFIER_H_

#include <string>
#include <string_view>

namespace pyfresh {
namespace internal {

// Empty when `name` is a dotted Python identifier: UTF-8 text whose every
// dot-separated part str.isidentifier() accepts (PEP 3131: "données" is
// one) and is no keyword; otherwise why not, e.g. "contains whitespace".
std::string DottedIdentifierProblem(std::string_view name);

bool IsDottedIdentifier(std::string_view name);

}  // namespace internal
}  // namespace pyfresh

#endif  // PYFRESH_SRC_IDENTIFIER_H_
