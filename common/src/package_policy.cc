#include "pyfresh/package_policy.h"

#include <algorithm>
#include <utility>

#include "identifier.h"
#include "pyfresh/quote.h"

namespace pyfresh {
namespace {

void Dedupe(std::vector<std::string>* names) {
  std::vector<std::string> unique;
  unique.reserve(names->size());
  for (std::string& name : *names) {
    if (std::find(unique.begin(), unique.end(), name) == unique.end()) {
      unique.push_back(std::move(name));
    }
  }
  names->swap(unique);
}

}  // namespace

Status ValidateModuleName(std::string_view name) {
  std::string problem = internal::DottedIdentifierProblem(name);
  if (problem.empty()) return Status::Ok();
  return Status::Error("invalid package name " + QuoteForMessage(name) + ": " + problem);
}

Status ValidatePackageName(std::string_view name) {
  Status status = ValidateModuleName(name);
  if (!status.ok()) return status;
  if (IsUnderPrefix(name, "pyfresh")) {
    return Status::Error("package " + QuoteForMessage(name) +
                         " is pyfresh itself, which cannot reload itself (its reload hooks would stop "
                         "running); list your own packages");
  }
  return Status::Ok();
}

Status CheckScope(const std::vector<std::string>& packages, const std::vector<std::string>& exclude,
                  std::string_view app_module, std::string_view packages_label,
                  std::string_view exclude_label) {
  const auto excluding = [&exclude](std::string_view name) -> const std::string* {
    for (const std::string& prefix : exclude) {
      if (IsUnderPrefix(name, prefix)) return &prefix;
    }
    return nullptr;
  };
  if (const std::string* prefix = excluding(app_module)) {
    return Status::Error(std::string(exclude_label) + ": " + QuoteForMessage(*prefix) +
                         " covers the app's own module " + QuoteForMessage(app_module) +
                         ", which would then never reload (its old code served for ever); exclude only "
                         "the modules whose state must survive a reload, e.g. " +
                         QuoteForMessage(*prefix + ".settings"));
  }
  if (packages.empty()) return Status::Ok();
  std::string covering;
  size_t prefixes = 0;
  for (const std::string& package : packages) {
    const std::string* prefix = excluding(package);
    if (prefix == nullptr) return Status::Ok();
    if (covering.find(QuoteForMessage(*prefix)) == std::string::npos) {
      if (!covering.empty()) covering += ", ";
      covering += QuoteForMessage(*prefix);
      ++prefixes;
    }
  }
  std::string listed;
  for (const std::string& package : packages) {
    if (!listed.empty()) listed += ", ";
    listed += QuoteForMessage(package);
  }
  return Status::Error(std::string(exclude_label) + ": " + covering + (prefixes == 1 ? " covers" : " cover") + " every package of " +
                       std::string(packages_label) + " (" + listed +
                       "), so a change there would reload nothing; exclude only the modules whose state "
                       "must survive a reload");
}

StatusOr<PackagePolicy> PackagePolicy::Create(std::vector<std::string> packages, std::vector<std::string> exclude) {
  for (const std::string& name : packages) {
    Status status = ValidateModuleName(name);
    if (!status.ok()) return status;
  }
  for (const std::string& name : exclude) {
    Status status = ValidateModuleName(name);
    if (!status.ok()) return status;
  }
  Dedupe(&packages);
  Dedupe(&exclude);
  PackagePolicy policy;
  policy.packages_ = std::move(packages);
  policy.exclude_ = std::move(exclude);
  return policy;
}

Status PackagePolicy::Create(std::vector<std::string> packages, std::vector<std::string> exclude,
                             PackagePolicy* out) {
  StatusOr<PackagePolicy> policy = Create(std::move(packages), std::move(exclude));
  if (!policy.ok()) return policy.status();
  *out = std::move(policy).value();
  return Status::Ok();
}

bool PackagePolicy::Covers(std::string_view module_name) const {
  for (const std::string& prefix : packages_) {
    if (IsUnderPrefix(module_name, prefix)) return !IsExcluded(module_name);
  }
  return false;
}

bool PackagePolicy::IsExcluded(std::string_view module_name) const {
  for (const std::string& prefix : exclude_) {
    if (IsUnderPrefix(module_name, prefix)) return true;
  }
  return false;
}

bool IsUnderPrefix(std::string_view name, std::string_view prefix) {
  if (prefix.empty() || name.size() < prefix.size()) return false;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  return name.size() == prefix.size() || name[prefix.size()] == '.';
}

}  // namespace pyfresh
