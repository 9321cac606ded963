// A value or the error that kept it from being made: what a function
// returns instead of a Status plus an out-parameter.
#ifndef PYFRESH_STATUS_OR_H_
#define PYFRESH_STATUS_OR_H_

#include <optional>
#include <utility>

#include "pyfresh/status.h"

namespace pyfresh {

// Holds a T when ok(), otherwise the error. Copyable when T is. Reading
// value() of an error is a bug (it is empty); check ok() first.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // So that a function can `return value;` and `return Status::Error(...);`.
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  StatusOr(Status error)                           // NOLINT(google-explicit-constructor)
      : status_(error.ok() ? Status::Error("internal error: StatusOr made from an OK status") : std::move(error)) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return *std::move(value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace pyfresh

#endif  // PYFRESH_STATUS_OR_H_
