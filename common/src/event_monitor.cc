#include "event_monitor.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "pyfresh/change_detector.h"

namespace pyfresh {
namespace internal {
namespace {

constexpr size_t kStackBytes = 64 * 1024;

void Wake(int fd) {
  const uint64_t one = 1;
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void Consume(int fd) {
  uint64_t count;
  while (::read(fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

}  // namespace

Status EventMonitor::Start(int watched_fd, std::atomic<bool>* pending, std::unique_ptr<EventMonitor>* out) {
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) return Status::Error(std::string("eventfd: ") + std::strerror(errno));
  std::unique_ptr<EventMonitor> monitor;
  try {
    monitor.reset(new EventMonitor(watched_fd, wake_fd, pending));
  } catch (const std::bad_alloc&) {
    ::close(wake_fd);
    return Status::Error("out of memory");
  }
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, kStackBytes);
  // The thread inherits this mask: block everything so that the server's
  // signals (SIGTERM, SIGHUP, uWSGI's SIGUSR*) go to its own threads.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const int rc = pthread_create(&monitor->thread_, &attributes, &EventMonitor::Run, monitor.get());
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  pthread_attr_destroy(&attributes);
  if (rc != 0) return Status::Error(std::string("cannot start the watch thread: ") + std::strerror(rc));
  pthread_setname_np(monitor->thread_, "pyfresh-watch");
  *out = std::move(monitor);
  return Status::Ok();
}

EventMonitor::EventMonitor(int watched_fd, int wake_fd, std::atomic<bool>* pending)
    : watched_fd_(watched_fd), wake_fd_(wake_fd), pending_(pending), fork_generation_(CurrentForkGeneration()) {}

EventMonitor::~EventMonitor() {
  // After fork() the thread does not exist in this process: joining its
  // copied handle would wait for ever.
  if (fork_generation_ == CurrentForkGeneration()) {
    stopping_.store(true, std::memory_order_release);
    Wake(wake_fd_);
    pthread_join(thread_, nullptr);
  }
  ::close(wake_fd_);
}

void EventMonitor::Rearm() { Wake(wake_fd_); }

void* EventMonitor::Run(void* self) {
  static_cast<EventMonitor*>(self)->Loop();
  return nullptr;
}

void EventMonitor::Loop() {
  bool armed = true;
  while (!stopping_.load(std::memory_order_acquire)) {
    struct pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {watched_fd_, POLLIN, 0}};
    const int count = ::poll(fds, armed ? 2 : 1, -1);
    if (count < 0) {
      if (errno == EINTR) continue;
      // Cannot watch any more: say "pending" for ever, so every check
      // reads the descriptor itself (correct, only slower).
      pending_->store(true, std::memory_order_release);
      return;
    }
    if (fds[0].revents & POLLIN) {
      Consume(wake_fd_);
      armed = true;
      continue;
    }
    if (armed && (fds[1].revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL))) {
      pending_->store(true, std::memory_order_release);
      armed = false;
    }
  }
}

}  // namespace internal
}  // namespace pyfresh
