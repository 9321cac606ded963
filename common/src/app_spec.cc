#include "pyfresh/app_spec.h"

#include <algorithm>
#include <vector>

#include "identifier.h"
#include "text.h"

namespace pyfresh {
namespace {

Status Invalid(std::string_view text, const std::string& detail) {
  std::string message = "invalid app spec " + QuoteForMessage(text) +
                        ": expected \"package.module:callable\" or a path to a .py/.wsgi file";
  if (!detail.empty()) message += " (" + detail + ")";
  return Status::Error(std::move(message));
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string CallableProblem(std::string_view callable) {
  if (callable.empty()) return "empty callable after ':'";
  std::string problem = internal::DottedIdentifierProblem(callable);
  if (problem.empty()) return {};
  return "callable " + QuoteForMessage(callable) + ": " + problem;
}

Status ParseFileSpec(std::string_view text, AppSpec* out) {
  std::string_view target = text;
  std::string_view callable = kDefaultCallable;
  const size_t colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view head = text.substr(0, colon);
    std::string_view tail = text.substr(colon + 1);
    if (!tail.empty() && internal::IsDottedIdentifier(tail)) {
      target = head;
      callable = tail;
    } else if (IsScriptFileName(head)) {
      // "/srv/app.wsgi:my-app": clearly meant as file + callable.
      return Invalid(text, CallableProblem(tail));
    } else if (tail.empty()) {
      return Invalid(text, "ends with ':'");
    }
    // Otherwise the ':' belongs to the path ("/srv/a:b/app.wsgi").
  }
  if (target.empty()) return Invalid(text, "empty file path");
  if (target.size() > internal::kMaxPathBytes) return Invalid(text, "file path longer than 4095 bytes (PATH_MAX)");
  if (target.back() == '/') return Invalid(text, "names a directory, not a file");
  out->kind = AppSpec::Kind::kFile;
  out->target = std::string(target);
  out->callable = std::string(callable);
  return Status::Ok();
}

Status ParseModuleSpec(std::string_view text, AppSpec* out) {
  if (std::count(text.begin(), text.end(), ':') > 1) return Invalid(text, "more than one ':'");
  std::string_view module = text;
  std::string_view callable = kDefaultCallable;
  const size_t colon = text.find(':');
  if (colon != std::string_view::npos) {
    module = text.substr(0, colon);
    std::string problem = CallableProblem(text.substr(colon + 1));
    if (!problem.empty()) return Invalid(text, problem);
    callable = text.substr(colon + 1);
  }
  if (module.empty()) return Invalid(text, "empty module name");
  std::string problem = internal::DottedIdentifierProblem(module);
  if (!problem.empty()) return Invalid(text, "module " + QuoteForMessage(module) + ": " + problem);
  out->kind = AppSpec::Kind::kModule;
  out->target = std::string(module);
  out->callable = std::string(callable);
  return Status::Ok();
}

}  // namespace

StatusOr<AppSpec> ParseAppSpec(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty");
  for (char c : text) {
    if (internal::IsControlByte(static_cast<unsigned char>(c))) {
      return Invalid(text, "contains a control character");
    }
  }
  if (internal::IsAsciiSpace(text.front()) || internal::IsAsciiSpace(text.back())) {
    return Invalid(text, "leading or trailing whitespace");
  }
  AppSpec parsed;
  // Only a '/' makes a file spec: "mysite.wsgi:application" (Django's
  // convention) and "app.py" are module names; "./app.wsgi" is a file.
  const bool is_file = text.find('/') != std::string_view::npos;
  Status status = is_file ? ParseFileSpec(text, &parsed) : ParseModuleSpec(text, &parsed);
  if (!status.ok()) return status;
  return parsed;
}

Status ParseAppSpec(std::string_view text, AppSpec* out) {
  StatusOr<AppSpec> parsed = ParseAppSpec(text);
  if (!parsed.ok()) return parsed.status();
  *out = std::move(parsed).value();
  return Status::Ok();
}

bool IsScriptFileName(std::string_view path) { return EndsWith(path, ".py") || EndsWith(path, ".wsgi"); }

std::string AbsolutePath(std::string_view path, std::string_view cwd) {
  std::string joined;
  if (path.empty() || path.front() != '/') {
    joined.assign(cwd);
    if (!joined.empty() && joined.back() != '/') joined.push_back('/');
  }
  joined.append(path);
  // posixpath.normpath: POSIX leaves the meaning of exactly two leading
  // slashes to the system, so they stay; any other number becomes one.
  size_t leading = 0;
  while (leading < joined.size() && joined[leading] == '/') ++leading;
  std::string out(leading == 2 ? 2 : std::min<size_t>(leading, 1), '/');
  const size_t root = out.size();
  std::vector<std::string_view> parts;
  std::string_view rest = std::string_view(joined).substr(leading);
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == ".." && (root == 0 ? !parts.empty() && parts.back() != ".." : true)) {
      if (!parts.empty()) parts.pop_back();  // ".." at the root stays at the root
      continue;
    }
    parts.push_back(part);
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out.push_back('/');
    out.append(parts[i]);
  }
  if (out.empty()) out = ".";
  return out;
}

std::string AbsoluteAppSpec(std::string_view spec, std::string_view cwd) {
  StatusOr<AppSpec> parsed = ParseAppSpec(spec);
  if (!parsed.ok() || parsed->kind != AppSpec::Kind::kFile || parsed->target[0] == '/' || cwd.empty()) {
    return std::string(spec);
  }
  return AbsolutePath(parsed->target, cwd) + ":" + parsed->callable;
}

}  // namespace pyfresh
