// Private helpers for building user-facing messages. Not installed.
#ifndef PYFRESH_SRC_TEXT_H_
#define PYFRESH_SRC_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace pyfresh {
namespace internal {

// Longest part of a value quoted in a message; the rest becomes "...".
constexpr size_t kMaxQuotedBytes = 200;

// The longest path the kernel accepts (PATH_MAX, 4096, counts the NUL).
constexpr size_t kMaxPathBytes = 4095;

inline bool IsControlByte(unsigned char c) { return c < 0x20 || c == 0x7f; }

// `value` in single quotes, safe for a one-line log message: control bytes
// and non-ASCII bytes become \xNN (messages stay ASCII, so every host can
// decode them), and values longer than kMaxQuotedBytes are cut with "...".
inline std::string Quote(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool truncated = value.size() > kMaxQuotedBytes;
  if (truncated) value = value.substr(0, kMaxQuotedBytes);
  std::string out;
  out.reserve(value.size() + 5);
  out.push_back('\'');
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsControlByte(c) || c >= 0x80) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(ch);
    }
  }
  if (truncated) out += "...";
  out.push_back('\'');
  return out;
}

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

}  // namespace internal
}  // namespace pyfresh

#endif  // PYFRESH_SRC_TEXT_H_
