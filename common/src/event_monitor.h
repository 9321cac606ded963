// Private: a thread that tells, through an atomic flag, when a descriptor
// has data, so the per-request check needs no syscall.
#ifndef PYFRESH_SRC_EVENT_MONITOR_H_
#define PYFRESH_SRC_EVENT_MONITOR_H_

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "pyfresh/status.h"

namespace pyfresh {
namespace internal {

// The thread sleeps in poll() until `watched_fd` is readable, sets *pending
// and sleeps until Rearm() (the owner read the descriptor dry in between).
// It never reads the descriptor, takes no lock of its owner and never runs
// Python. All signals are blocked in it, so the host server's signals still
// reach its own threads.
//
// Per process: a forked child has no copy of the thread; destroying an
// inherited monitor there only closes its descriptor. Not copyable.
class EventMonitor {
 public:
  // `pending` must outlive the monitor.
  static Status Start(int watched_fd, std::atomic<bool>* pending, std::unique_ptr<EventMonitor>* out);
  EventMonitor(const EventMonitor&) = delete;
  EventMonitor& operator=(const EventMonitor&) = delete;
  ~EventMonitor();

  // Call after reading `watched_fd` until EAGAIN, with *pending already
  // cleared: the thread watches again.
  void Rearm();

 private:
  EventMonitor(int watched_fd, int wake_fd, std::atomic<bool>* pending);
  static void* Run(void* self);
  void Loop();

  const int watched_fd_;
  const int wake_fd_;  // eventfd: Rearm() and the destructor wake the thread
  std::atomic<bool>* const pending_;
  std::atomic<bool> stopping_{false};
  pthread_t thread_{};
  uint64_t fork_generation_ = 0;
};

}  // namespace internal
}  // namespace pyfresh

#endif  // PYFRESH_SRC_EVENT_MONITOR_H_
