#include "inotify_multiplexer.h"

#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <new>

#include "pyfresh/fork_generation.h"
#include "text.h"

namespace pyfresh {
namespace internal {
namespace {

constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE |
                                IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
                                IN_ONLYDIR;

EntryEvent KindOf(uint32_t mask) {
  if (mask & IN_CLOSE_WRITE) return EntryEvent::kWriteClosed;
  // A new file is written next (open with O_CREAT); a new directory is not.
  if ((mask & IN_MODIFY) || ((mask & IN_CREATE) && !(mask & IN_ISDIR))) return EntryEvent::kWritten;
  if (mask & IN_ATTRIB) return EntryEvent::kAttributesChanged;
  return EntryEvent::kOther;
}

// The multiplexer's lock, taken with the fork guard first (a fork never
// copies it held).
class Locked {
 public:
  explicit Locked(std::mutex& mutex) : lock_(mutex) {}

 private:
  ForkGuard guard_;
  std::lock_guard<std::mutex> lock_;
};

}  // namespace

struct InotifyMultiplexer::Inbox {
  struct Event {
    std::string directory;
    std::string name;
    EntryEvent kind;
  };

  explicit Inbox(const InotifyMultiplexer& multiplexer) {
    readiness.descriptor = &multiplexer.descriptor_;
    readiness.routing = &multiplexer.routing_;
    readiness.routed = &routed;
  }

  EventReadiness readiness;
  std::atomic<uint32_t> routed{0};

  // Guarded by the multiplexer's mutex.
  bool open = false;
  uint64_t generation = 0;
  std::vector<int> watches;  // each watch descriptor once
  // events[0, event_count): the elements past it keep their strings'
  // capacity, so that routing to a drained inbox allocates nothing.
  std::vector<Event> events;
  size_t event_count = 0;
  bool lost = false;

  // Handed to the owner's callbacks outside the lock; the owner never
  // drains one inbox from two threads at once.
  std::vector<Event> delivering;
};

InotifyMultiplexer& InotifyMultiplexer::Get() {
  // Leaked on purpose: no static destructor in a host server, and a
  // lock-free check may point into it until the process ends.
  static InotifyMultiplexer* const multiplexer = new InotifyMultiplexer();
  return *multiplexer;
}

InotifyMultiplexer::InotifyMultiplexer() : generation_(CurrentForkGeneration()) {}

bool InotifyMultiplexer::Current(const Inbox* inbox) const {
  return inbox->open && inbox->generation == generation_;
}

void InotifyMultiplexer::StartOverIfForkedLocked() {
  const uint64_t generation = CurrentForkGeneration();
  if (generation == generation_) return;
  generation_ = generation;
  const int inherited = descriptor_.exchange(-1, std::memory_order_seq_cst);
  // Closes this process's reference only: the parent's instance and its
  // watches are untouched (inotify_rm_watch here would remove them).
  if (inherited >= 0) ::close(inherited);
  watches_.clear();
  open_inboxes_ = 0;
  routing_.store(0, std::memory_order_seq_cst);
}

StatusOr<InotifyMultiplexer::Inbox*> InotifyMultiplexer::Open() {
  Locked lock(mutex_);
  StartOverIfForkedLocked();
  if (descriptor_.load(std::memory_order_relaxed) < 0) {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      if (error == EMFILE) {
        return Status::Error("inotify_init1: " + ErrnoText(error) +
                             " (the limit is the sysctl fs.inotify.max_user_instances)");
      }
      return Status::Error("inotify_init1: " + ErrnoText(error));
    }
    descriptor_.store(fd, std::memory_order_seq_cst);
  }
  Inbox* inbox;
  if (!free_inboxes_.empty()) {
    inbox = free_inboxes_.back();
    free_inboxes_.pop_back();
  } else {
    inbox = &inboxes_.emplace_back(*this);
  }
  inbox->open = true;
  inbox->generation = generation_;
  ++open_inboxes_;
  return inbox;
}

void InotifyMultiplexer::Close(Inbox* inbox) {
  Locked lock(mutex_);
  StartOverIfForkedLocked();
  if (Current(inbox)) {
    const int fd = descriptor_.load(std::memory_order_relaxed);
    for (int wd : inbox->watches) {
      auto it = watches_.find(wd);
      if (it == watches_.end()) continue;
      std::vector<Subscription>& subscriptions = it->second;
      subscriptions.erase(std::remove_if(subscriptions.begin(), subscriptions.end(),
                                         [inbox](const Subscription& s) { return s.inbox == inbox; }),
                          subscriptions.end());
      if (!subscriptions.empty()) continue;  // another watcher still needs it
      watches_.erase(it);
      ::inotify_rm_watch(fd, wd);  // its IN_IGNORED finds no subscriber
    }
    --open_inboxes_;
    if (open_inboxes_ == 0) {
      // Nobody watches: give the instance back (one of 128 per user).
      descriptor_.store(-1, std::memory_order_seq_cst);
      ::close(fd);
      watches_.clear();
    }
  }
  // Inherited across fork, or closed above: recycled either way.
  inbox->open = false;
  inbox->watches.clear();
  inbox->event_count = 0;
  inbox->lost = false;
  inbox->routed.store(0, std::memory_order_seq_cst);
  free_inboxes_.push_back(inbox);
}

Status InotifyMultiplexer::Watch(Inbox* inbox, const std::string& directory) {
  Locked lock(mutex_);
  StartOverIfForkedLocked();
  if (!Current(inbox)) {
    return Status::Error("cannot watch directory " + QuoteForMessage(directory) +
                         ": the watcher was created before fork()");
  }
  const int wd = ::inotify_add_watch(descriptor_.load(std::memory_order_relaxed), directory.c_str(), kWatchMask);
  if (wd < 0) {
    const int error = errno;
    if (error == ENOSPC) {
      return Status::Error("cannot watch directory " + QuoteForMessage(directory) +
                           ": the inotify watch limit is reached (raise the sysctl "
                           "fs.inotify.max_user_watches)");
    }
    return Status::Error("cannot watch directory " + QuoteForMessage(directory) + ": " + ErrnoText(error));
  }
  // The kernel hands every inbox (and every spelling through symbolic
  // links) of one directory the same descriptor: subscribe, do not own.
  std::vector<Subscription>& subscriptions = watches_[wd];
  bool subscribed = false;
  for (const Subscription& subscription : subscriptions) {
    if (subscription.inbox != inbox) continue;
    if (subscription.directory == directory) return Status::Ok();
    subscribed = true;
  }
  subscriptions.push_back(Subscription{inbox, directory});
  if (!subscribed) inbox->watches.push_back(wd);
  return Status::Ok();
}

bool InotifyMultiplexer::Drain(Inbox* inbox, const DirectoryWatcher::EntryCallback& on_entry,
                               const DirectoryWatcher::OverflowCallback& on_overflow) {
  size_t count = 0;
  bool lost = false;
  {
    Locked lock(mutex_);
    StartOverIfForkedLocked();
    if (!Current(inbox)) {
      lost = true;  // opened before fork(): its owner must start again
    } else {
      ReadLocked();
      lost = inbox->lost;
      inbox->lost = false;
      count = inbox->event_count;
      inbox->event_count = 0;
      inbox->events.swap(inbox->delivering);
      inbox->routed.store(0, std::memory_order_seq_cst);
    }
  }
  // Outside the lock: other watchers drain meanwhile. A loss makes the
  // owner start again, so the events before it do not matter.
  if (lost) {
    on_overflow();
    return true;
  }
  for (size_t i = 0; i < count; ++i) {
    const Inbox::Event& event = inbox->delivering[i];
    on_entry(event.directory, event.name, event.kind);
  }
  return count > 0;
}

const EventReadiness* InotifyMultiplexer::Readiness(const Inbox* inbox) const { return &inbox->readiness; }

void InotifyMultiplexer::ReadLocked() {
  const int fd = descriptor_.load(std::memory_order_relaxed);
  if (fd < 0) return;
  // Raised before the read: a check that finds the queue empty because of
  // this read sees it raised until every event read has reached its inbox.
  routing_.store(1, std::memory_order_seq_cst);
  // Room for at least 15 events with the longest name (16 + NAME_MAX + 1).
  alignas(struct inotify_event) char buffer[4096];
  for (;;) {
    const ssize_t length = ::read(fd, buffer, sizeof buffer);
    if (length < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // Unexpected (EIO...): events may be lost, for anyone.
      for (Inbox& inbox : inboxes_) {
        if (Current(&inbox)) LoseLocked(&inbox);
      }
      break;
    }
    if (length == 0) break;
    const char* p = buffer;
    const char* const end = buffer + length;
    while (p + sizeof(struct inotify_event) <= end) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + event->len;
      RouteLocked(event->mask, event->wd, event->name, event->len);
    }
  }
  routing_.store(0, std::memory_order_seq_cst);
}

void InotifyMultiplexer::RouteLocked(uint32_t mask, int wd, const char* name, uint32_t name_length) {
  if (mask & IN_Q_OVERFLOW) {
    for (Inbox& inbox : inboxes_) {
      if (Current(&inbox)) LoseLocked(&inbox);
    }
    return;
  }
  auto it = watches_.find(wd);
  if (it == watches_.end()) return;  // a watch already given up
  if (mask & (IN_IGNORED | IN_UNMOUNT | IN_DELETE_SELF | IN_MOVE_SELF)) {
    // A moved directory keeps its watch under a path nobody knows any more;
    // a removed or unmounted one has none: every subscriber starts again.
    if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) ::inotify_rm_watch(descriptor_.load(std::memory_order_relaxed), wd);
    for (const Subscription& subscription : it->second) LoseLocked(subscription.inbox);
    ForgetWatchLocked(wd);
    return;
  }
  if (name_length == 0) return;  // about the directory itself
  name_.assign(name, ::strnlen(name, name_length));
  const EntryEvent kind = KindOf(mask);
  for (const Subscription& subscription : it->second) {
    Inbox* inbox = subscription.inbox;
    if (inbox->lost) continue;  // it starts again anyway
    if (inbox->event_count == kMaxEventsPerInbox) {
      LoseLocked(inbox);
      continue;
    }
    if (inbox->event_count == inbox->events.size()) inbox->events.emplace_back();
    Inbox::Event& event = inbox->events[inbox->event_count++];
    event.directory.assign(subscription.directory);
    event.name.assign(name_);
    event.kind = kind;
    inbox->routed.store(1, std::memory_order_seq_cst);
  }
}

void InotifyMultiplexer::LoseLocked(Inbox* inbox) {
  inbox->lost = true;
  inbox->event_count = 0;
  inbox->routed.store(1, std::memory_order_seq_cst);
}

void InotifyMultiplexer::ForgetWatchLocked(int wd) {
  auto it = watches_.find(wd);
  if (it == watches_.end()) return;
  for (const Subscription& subscription : it->second) {
    std::vector<int>& watches = subscription.inbox->watches;
    watches.erase(std::remove(watches.begin(), watches.end(), wd), watches.end());
  }
  watches_.erase(it);
}

}  // namespace internal
}  // namespace pyfresh
