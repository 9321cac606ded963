// Private helpers for building user-facing messages. Not installed.
#ifndef PYFRESH_SRC_TEXT_H_
#define PYFRESH_SRC_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "pyfresh/quote.h"

namespace pyfresh {
namespace internal {

// The longest path the kernel accepts (PATH_MAX, 4096, counts the NUL).
constexpr size_t kMaxPathBytes = 4095;

bool IsControlByte(unsigned char c);

bool IsAsciiSpace(char c);

std::string_view TrimAsciiSpace(std::string_view s);

// "1 file", "2 files".
std::string CountOf(size_t n, std::string_view singular, std::string_view plural);

// The text of an errno value, thread-safely.
std::string ErrnoText(int error);

}  // namespace internal
}  // namespace pyfresh

#endif  // PYFRESH_SRC_TEXT_H_
