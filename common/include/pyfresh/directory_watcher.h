// Directory change notification (inotify on Linux) behind an interface, so
// the detector's fallback to polling can be tested without exhausting the
// kernel's watch limit.
#ifndef PYFRESH_DIRECTORY_WATCHER_H_
#define PYFRESH_DIRECTORY_WATCHER_H_

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

class DirectoryWatcher {
 public:
  virtual ~DirectoryWatcher() = default;

  // Starts watching `directory` for entries created, written, renamed,
  // deleted or changed in attributes. Fails when the kernel refuses (watch
  // limit) or the filesystem delivers no events (network/shared mounts).
  virtual Status Watch(const std::string& directory) = 0;

  // Non-blocking. Calls `on_entry(directory, name, event)` for each event
  // about an entry of a watched directory, and `on_overflow()` when events
  // were lost or a watched directory itself went away. Returns false when
  // nothing was pending (the cheap, common case).
  using EntryCallback =
      std::function<void(const std::string& directory, const std::string& name, EntryEvent event)>;
  using OverflowCallback = std::function<void()>;
  virtual bool Drain(const EntryCallback& on_entry, const OverflowCallback& on_overflow) = 0;

  // A descriptor that has unread data while events are pending, or -1.
  // With one, the detector asks the kernel (EventsPendingOn) without taking
  // its lock; without one, it drains under its lock on every check.
  virtual int ReadinessFd() const { return -1; }
};

// Whether `fd` (a ReadinessFd) has unread data: one ioctl(FIONREAD), safe
// from any thread. True when the kernel cannot tell (the caller then takes
// the slow, locked path). The kernel queues an inotify event before the
// writer's close()/rename() returns, so a call that starts after a save
// completed sees it.
bool EventsPendingOn(int fd);

// Creates an inotify watcher for this process (close-on-exec, non-blocking).
// Fails when inotify is unavailable.
Status CreateInotifyWatcher(std::unique_ptr<DirectoryWatcher>* out);

}  // namespace pyfresh

#endif  // PYFRESH_DIRECTORY_WATCHER_H_
