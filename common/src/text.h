// Private helpers for building user-facing messages. Not installed.
#ifndef PYFRESH_SRC_TEXT_H_
#define PYFRESH_SRC_TEXT_H_

#include <string.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "pyfresh/quote.h"

namespace pyfresh {
namespace internal {

// The longest path the kernel accepts (PATH_MAX, 4096, counts the NUL).
constexpr size_t kMaxPathBytes = 4095;

inline bool IsControlByte(unsigned char c) { return c < 0x20 || c == 0x7f; }

inline bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

inline std::string_view TrimAsciiSpace(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

// "1 file", "2 files".
inline std::string CountOf(size_t n, std::string_view singular, std::string_view plural) {
  std::string out = std::to_string(n);
  out.push_back(' ');
  out.append(n == 1 ? singular : plural);
  return out;
}

// strerror_r is the GNU variant under g++ (_GNU_SOURCE); accept either.
[[maybe_unused]] inline const char* StrerrorResult(const char* result, const char*) { return result; }
[[maybe_unused]] inline const char* StrerrorResult(int result, const char* buffer) {
  return result == 0 ? buffer : "unknown error";
}

// The text of an errno value, thread-safely.
inline std::string ErrnoText(int error) {
  char buffer[256] = {};
  return StrerrorResult(strerror_r(error, buffer, sizeof buffer), buffer);
}

}  // namespace internal
}  // namespace pyfresh

#endif  // PYFRESH_SRC_TEXT_H_
