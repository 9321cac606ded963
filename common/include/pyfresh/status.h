// Errors as values: the core never throws across its public API.
#ifndef PYFRESH_STATUS_H_
#define PYFRESH_STATUS_H_

#include <string>
#include <utility>

namespace pyfresh {

// A recoverable error with a message meant for the user (it names the
// culprit: the option and the bad value). Copyable. A Status must be looked
// at: dropping one is a compile warning (-Werror in CI).
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message), true); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}
  std::string message_;
  bool failed_ = false;
};

}  // namespace pyfresh

#endif  // PYFRESH_STATUS_H_
