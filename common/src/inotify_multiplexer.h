// Private: the process's one inotify instance, shared by every watcher.
// The kernel allows 128 instances per user by default (the sysctl
// fs.inotify.max_user_instances); an instance per reloader ran out in a
// process with many of them (uWSGI mounts, mod_wsgi application groups,
// several middleware instances).
#ifndef PYFRESH_SRC_INOTIFY_MULTIPLEXER_H_
#define PYFRESH_SRC_INOTIFY_MULTIPLEXER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pyfresh/directory_watcher.h"
#include "pyfresh/status.h"
#include "pyfresh/status_or.h"

namespace pyfresh {
namespace internal {

// Thread-safe. One per process (Get()), never destroyed.
//
// Each watcher has an inbox. Watching a directory subscribes the inbox to
// the kernel's watch descriptor for it; the kernel returns the same
// descriptor to every inbox watching that directory, so a descriptor is
// removed from the kernel only when its last subscriber goes. A drain by
// any watcher reads everything queued on the descriptor and routes each
// event to the inboxes subscribed to its watch (under each one's spelling
// of the directory), then hands the draining watcher what its own inbox
// holds; events for others wait in theirs. While events read from the
// descriptor are not yet routed, `routing` is raised; while an inbox holds
// events, its `routed` is: together with the descriptor's queue they tell
// a lock-free check whether anything may be waiting for one watcher (see
// EventsMayBePending).
//
// The instance is created in the process that uses it: after fork() the
// child closes the descriptor it inherited (leaving the parent's watches
// alone) and creates its own on first use; inboxes opened before the fork
// receive nothing more (their owners start again in the child).
class InotifyMultiplexer {
 public:
  // Where a watcher's events wait. Lives as long as the process (closed
  // inboxes are reused), so a lock-free reader may keep pointing at it.
  struct Inbox;

  static InotifyMultiplexer& Get();

  // Opens an inbox, creating the inotify instance when the process has
  // none. Fails when inotify is unavailable (the instance limit, ENOSYS).
  StatusOr<Inbox*> Open();
  // Unsubscribes the inbox from every watch (removing the watches no other
  // inbox needs) and recycles it; closes the instance with the last inbox.
  void Close(Inbox* inbox);
  Status Watch(Inbox* inbox, const std::string& directory);
  bool Drain(Inbox* inbox, const DirectoryWatcher::EntryCallback& on_entry,
             const DirectoryWatcher::OverflowCallback& on_overflow);
  const EventReadiness* Readiness(const Inbox* inbox) const;

  // Events an inbox keeps for a watcher that does not drain before it
  // counts as lost (like the kernel's own queue limit, 16384 by default):
  // that watcher then starts again with a full comparison.
  static constexpr size_t kMaxEventsPerInbox = 16384;

  InotifyMultiplexer(const InotifyMultiplexer&) = delete;
  InotifyMultiplexer& operator=(const InotifyMultiplexer&) = delete;

 private:
  struct Subscription {
    Inbox* inbox;
    std::string directory;  // the inbox's spelling of it
  };

  InotifyMultiplexer();
  ~InotifyMultiplexer() = delete;  // never destroyed

  void StartOverIfForkedLocked();
  void ReadLocked();
  void RouteLocked(uint32_t mask, int wd, const char* name, uint32_t name_length);
  void LoseLocked(Inbox* inbox);
  void ForgetWatchLocked(int wd);
  bool Current(const Inbox* inbox) const;

  mutable std::mutex mutex_;
  std::atomic<int> descriptor_{-1};
  std::atomic<uint32_t> routing_{0};
  uint64_t generation_;
  // Open inboxes of this process (not counting those inherited across fork).
  size_t open_inboxes_ = 0;
  std::deque<Inbox> inboxes_;  // stable addresses
  std::vector<Inbox*> free_inboxes_;
  std::unordered_map<int, std::vector<Subscription>> watches_;
  std::string name_;  // reused for every event
};

}  // namespace internal
}  // namespace pyfresh

#endif  // PYFRESH_SRC_INOTIFY_MULTIPLEXER_H_
