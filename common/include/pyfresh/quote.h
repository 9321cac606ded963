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
std::string QuoteForMessage(std::string_view value);

}  // namespace pyfresh

#endif  // PYFRESH_QUOTE_H_
