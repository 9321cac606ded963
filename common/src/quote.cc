#include "pyfresh/quote.h"

namespace pyfresh {

std::string QuoteForMessage(std::string_view value) {
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
