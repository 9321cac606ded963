// Keeps reloads and requests apart within one process: a reload runs only
// when no request is inside the app, and requests that arrive meanwhile
// wait for it to finish.
#ifndef PYFRESH_REQUEST_GATE_H_
#define PYFRESH_REQUEST_GATE_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace pyfresh {

// Thread-safe. Not copyable or movable. Blocking calls must be made with
// the GIL released (the binding does this).
class RequestGate {
 public:
  RequestGate() = default;
  RequestGate(const RequestGate&) = delete;
  RequestGate& operator=(const RequestGate&) = delete;

  // Counts a request in flight unless a reload is in progress (then false).
  bool TryEnter();
  // Waits until no reload is in progress, then counts the request.
  void Enter();
  void Leave();

  enum class ReloadRole { kOwner, kDoneByOther };
  // kOwner: the caller runs the reload and must call EndReload(); the call
  // returns once no request is in flight or drain_timeout_ns has passed
  // (*drained says which). kDoneByOther: another thread's reload was in
  // progress; the call returned after it ended.
  ReloadRole BeginReload(int64_t drain_timeout_ns, bool* drained);
  void EndReload();

  int in_flight() const;
  bool reloading() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int in_flight_ = 0;
  bool reloading_ = false;
};

}  // namespace pyfresh

#endif  // PYFRESH_REQUEST_GATE_H_
