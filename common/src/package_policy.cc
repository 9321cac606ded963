#include "pyfresh/package_policy.h"

#include <algorithm>
#include <utility>

#include "identifier.h"
#include "text.h"

namespace pyfresh {
namespace internal {
namespace {

// keyword.kwlist of CPython 3.11 (soft keywords such as "match" are valid
// module names).
constexpr std::string_view kKeywords[] = {
    "False",  "None",     "True",    "and",    "as",       "assert", "async",  "await",  "break",
    "class",  "continue", "def",     "del",    "elif",     "else",   "except", "finally", "for",
    "from",   "global",   "if",      "import", "in",       "is",     "lambda", "nonlocal", "not",
    "or",     "pass",     "raise",   "return", "try",      "while",  "with",   "yield",
};

bool IsKeyword(std::string_view word) {
  return std::find(std::begin(kKeywords), std::end(kKeywords), word) != std::end(kKeywords);
}

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9'); }

// The longest name a module file or package directory can have (NAME_MAX).
constexpr size_t kMaxComponentBytes = 255;

std::string ComponentProblem(std::string_view component) {
  if (component.front() >= '0' && component.front() <= '9') {
    return QuoteForMessage(component) + " starts with a digit";
  }
  for (char c : component) {
    if (!IsIdentifierChar(c)) {
      return QuoteForMessage(std::string_view(&c, 1)) + " cannot appear in a Python identifier";
    }
  }
  if (IsKeyword(component)) return QuoteForMessage(component) + " is a Python keyword";
  if (component.size() > kMaxComponentBytes) {
    return "a component of " + std::to_string(component.size()) +
           " bytes is longer than 255 (no file or directory name can be)";
  }
  return {};
}

}  // namespace

std::string DottedIdentifierProblem(std::string_view name) {
  if (name.empty()) return "empty";
  for (char c : name) {
    if (IsAsciiSpace(c)) return "contains whitespace";
  }
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (IsControlByte(u)) return "contains a control character";
    if (u >= 0x80) return "contains non-ASCII bytes (only ASCII letters, digits, '_' and '.' are allowed)";
  }
  if (name.size() > kMaxPathBytes) {
    return "is " + std::to_string(name.size()) + " bytes long (a module's path cannot exceed 4095 bytes)";
  }
  if (name.front() == '.') return "starts with '.'";
  if (name.back() == '.') return "ends with '.'";
  if (name.find("..") != std::string_view::npos) return "contains an empty component ('..')";
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string problem = ComponentProblem(name.substr(start, dot - start));
    if (!problem.empty()) return problem;
    start = dot + 1;
  }
  return {};
}

}  // namespace internal

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

Status PackagePolicy::Create(std::vector<std::string> packages, std::vector<std::string> exclude,
                             PackagePolicy* out) {
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
  out->packages_ = std::move(packages);
  out->exclude_ = std::move(exclude);
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
