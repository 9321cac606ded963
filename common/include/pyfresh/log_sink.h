// How the core hands its log lines to the host: each line with its level,
// so that no host guesses severity from the words of a message.
#ifndef PYFRESH_LOG_SINK_H_
#define PYFRESH_LOG_SINK_H_

#include <functional>
#include <string_view>

namespace pyfresh {

enum class LogLevel {
  kInfo,     // what the core does (the detection method in use)
  kWarning,  // the core works, with less than asked (a fallback to polling)
  kError,    // the core cannot do what it should
};

// "info", "warning", "error".
const char* LogLevelName(LogLevel level);

using LogSink = std::function<void(LogLevel level, std::string_view message)>;

}  // namespace pyfresh

#endif  // PYFRESH_LOG_SINK_H_
