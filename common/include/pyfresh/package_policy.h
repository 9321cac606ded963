// Which modules a reload clears: every module under a package prefix,
// except the excluded ones (an exclusion covers its submodules and wins).
#ifndef PYFRESH_PACKAGE_POLICY_H_
#define PYFRESH_PACKAGE_POLICY_H_

#include <string>
#include <string_view>
#include <vector>

#include "pyfresh/status.h"
#include "pyfresh/status_or.h"

namespace pyfresh {

// Checks that `name` is a dotted Python identifier ("a.b_c.d", "données"):
// each part as str.isidentifier() decides (PEP 3131), no keyword.
// The error quotes the bad value.
Status ValidateModuleName(std::string_view name);

// ValidateModuleName, and not pyfresh itself (or one of its modules):
// clearing pyfresh on a reload would drop its reload hooks. The error
// quotes the value.
Status ValidatePackageName(std::string_view name);

// Refuses a package scope under which reloading would be silently wrong:
// an exclusion covering the app's own module `app_module` (the app would
// keep its old code for ever), or exclusions covering every listed package
// (nothing but the app's module would ever reload). `packages` may be empty
// (inferred later). Errors start with the option's name in the host's
// spelling (`packages_label`, `exclude_label`) and quote the values.
Status CheckScope(const std::vector<std::string>& packages, const std::vector<std::string>& exclude,
                  std::string_view app_module, std::string_view packages_label,
                  std::string_view exclude_label);

// Copyable, immutable after construction.
class PackagePolicy {
 public:
  PackagePolicy() = default;

  // Validates every name; the error names the first bad one.
  static StatusOr<PackagePolicy> Create(std::vector<std::string> packages, std::vector<std::string> exclude);
  // The same, filling `out` (left alone on error).
  static Status Create(std::vector<std::string> packages, std::vector<std::string> exclude,
                       PackagePolicy* out);

  // True when `module_name` is under a package prefix and not excluded.
  // `myapp` covers `myapp` and `myapp.x`, never `myapp2`.
  bool Covers(std::string_view module_name) const;

  // True when `module_name` is under an exclusion (kept across reloads).
  bool IsExcluded(std::string_view module_name) const;

  const std::vector<std::string>& packages() const { return packages_; }
  const std::vector<std::string>& exclude() const { return exclude_; }

 private:
  std::vector<std::string> packages_;
  std::vector<std::string> exclude_;
};

// True when `name` equals `prefix` or starts with `prefix` + '.'.
bool IsUnderPrefix(std::string_view name, std::string_view prefix);

}  // namespace pyfresh

#endif  // PYFRESH_PACKAGE_POLICY_H_
