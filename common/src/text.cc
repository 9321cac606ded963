#include "text.h"

#include <string.h>

namespace pyfresh {
namespace internal {
namespace {

// strerror_r is the GNU variant under g++ (_GNU_SOURCE); accept either.
[[maybe_unused]] const char* StrerrorResult(const char* result, const char*) { return result; }
[[maybe_unused]] const char* StrerrorResult(int result, const char* buffer) {
  return result == 0 ? buffer : "unknown error";
}

}  // namespace

bool IsControlByte(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view TrimAsciiSpace(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string CountOf(size_t n, std::string_view singular, std::string_view plural) {
  std::string out = std::to_string(n);
  out.push_back(' ');
  out.append(n == 1 ? singular : plural);
  return out;
}

std::string ErrnoText(int error) {
  char buffer[256] = {};
  return StrerrorResult(strerror_r(error, buffer, sizeof buffer), buffer);
}

}  // namespace internal
}  // namespace pyfresh
