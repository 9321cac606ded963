#include "pyfresh/request_gate.h"

#include <algorithm>
#include <chrono>

namespace pyfresh {
namespace {

// Longer timeouts wait "forever" without overflowing the clock arithmetic.
constexpr int64_t kMaxDrainTimeoutNs = int64_t{1000000000} * 86400 * 365 * 10;

}  // namespace

bool RequestGate::TryEnter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (reloading_) return false;
  ++in_flight_;
  return true;
}

void RequestGate::Enter() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !reloading_; });
  ++in_flight_;
}

void RequestGate::Leave() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (in_flight_ > 0) --in_flight_;
  if (in_flight_ == 0) changed_.notify_all();
}

RequestGate::ReloadRole RequestGate::BeginReload(int64_t drain_timeout_ns, bool* drained) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (reloading_) {
    changed_.wait(lock, [this] { return !reloading_; });
    if (drained != nullptr) *drained = in_flight_ == 0;
    return ReloadRole::kDoneByOther;
  }
  reloading_ = true;
  const int64_t timeout_ns = std::clamp<int64_t>(drain_timeout_ns, 0, kMaxDrainTimeoutNs);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
  const bool all_left = changed_.wait_until(lock, deadline, [this] { return in_flight_ == 0; });
  if (drained != nullptr) *drained = all_left;
  return ReloadRole::kOwner;
}

void RequestGate::EndReload() {
  std::lock_guard<std::mutex> lock(mutex_);
  reloading_ = false;
  changed_.notify_all();
}

int RequestGate::in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_flight_;
}

bool RequestGate::reloading() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reloading_;
}

}  // namespace pyfresh
