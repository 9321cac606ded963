// Values quoted for one-line, user-facing messages, the same way in the core
// and in every host (uWSGI's log, Apache's error log, Python exceptions).
#ifndef PYFRESH_QUOTE_H_
#define PYFRESH_QUOTE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace pyfresh {

// Longest part of a value quoted in a message; the rest becomes "...". A
// message quoting a 200 KB value would otherwise be a 200 KB log line.
constexpr size_t kMaxQuotedBytes = 200;

// `value` in single quotes, safe for a one-line log message: control bytes
// and non-ASCII bytes become \xNN (messages stay ASCII, so every host can
// decode them), and values longer than kMaxQuotedBytes are cut with "...".
inline std::string QuoteForMessage(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool truncated = value.size() > kMaxQuotedBytes;
  if (truncated) value = value.substr(0, kMaxQuotedBytes);
  std::string out;
  out.reserve(value.size() + 5);
  out.push_back('\'');
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f) {
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

}  // namespace pyfresh

#endif  // PYFRESH_QUOTE_H_
