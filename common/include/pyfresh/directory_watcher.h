// Directory change notification (inotify on Linux) behind an interface, so
// the detector's fallback to polling can be tested without exhausting the
// kernel's watch limit.
#ifndef PYFRESH_DIRECTORY_WATCHER_H_
#define PYFRESH_DIRECTORY_WATCHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "pyfresh/status.h"

namespace pyfresh {

// What happened to an entry, as far as the detector cares: a writer is
// still at work (kWritten: modified, or created, and not yet closed), has
// closed it (kWriteClosed), changed only its attributes, or anything else
// (renamed, deleted: kOther; an atomic-rename save arrives so).
enum class EntryEvent { kWritten, kWriteClosed, kAttributesChanged, kOther };

// Where a lock-free check looks (see EventsMayBePending). Every pointer
// stays valid for the life of the process.
struct EventReadiness {
  // The inotify descriptor (-1 while there is none).
  const std::atomic<int>* descriptor = nullptr;
  // Non-zero while a drain holds events read from the descriptor that it
  // has not yet handed to the watchers they are about.
  const std::atomic<uint32_t>* routing = nullptr;
  // Non-zero while events (or a loss) handed to this watcher wait in it.
  const std::atomic<uint32_t>* routed = nullptr;
};

class DirectoryWatcher {
 public:
  virtual ~DirectoryWatcher() = default;

  // Starts watching `directory` for entries created, written, renamed,
  // deleted or changed in attributes. Fails when the kernel refuses (watch
  // limit) or the filesystem delivers no events (network/shared mounts).
  virtual Status Watch(const std::string& directory) = 0;

  // Non-blocking. Calls `on_entry(directory, name, event)` for each event
  // about an entry of a directory this watcher watches, and `on_overflow()`
  // when events were lost or a watched directory itself went away. Returns
  // false when nothing was pending for it (the cheap, common case).
  using EntryCallback =
      std::function<void(const std::string& directory, const std::string& name, EntryEvent event)>;
  using OverflowCallback = std::function<void()>;
  virtual bool Drain(const EntryCallback& on_entry, const OverflowCallback& on_overflow) = 0;

  // What a lock-free check asks to learn whether events may be waiting
  // for this watcher, or nullptr (the detector then drains under its lock
  // on every check). The object outlives the watcher: a request may still
  // be asking while another thread replaces the watcher.
  virtual const EventReadiness* Readiness() const { return nullptr; }
};

// Whether events may be waiting for a watcher: one ioctl(FIONREAD) on the
// inotify descriptor (the kernel queues an event before the writer's
// close()/rename() returns, so a call that starts after a save completed
// sees it), then whether another watcher's drain holds events it read from
// that shared descriptor and has not routed yet, then whether events were
// routed to this watcher and not drained. Safe from any thread, takes no
// lock, allocates nothing. True when the kernel cannot tell (the caller
// then takes its slow, locked path).
bool EventsMayBePending(const EventReadiness& readiness);

// Creates a watcher on this process's inotify instance: one instance
// (close-on-exec, non-blocking) is shared by every watcher of the process
// (the kernel allows 128 per user by default), created when the first
// watcher is and closed with the last; a child of fork() gets its own.
// Fails when inotify is unavailable.
Status CreateInotifyWatcher(std::unique_ptr<DirectoryWatcher>* out);

}  // namespace pyfresh

#endif  // PYFRESH_DIRECTORY_WATCHER_H_
