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

class DirectoryWatcher {
 public:
  virtual ~DirectoryWatcher() = default;

  // Starts watching `directory` for entries created, written, renamed,
  // deleted or changed in attributes. Fails when the kernel refuses (watch
  // limit) or the filesystem delivers no events (network/shared mounts).
  virtual Status Watch(const std::string& directory) = 0;

  // Non-blocking. Calls `on_entry(directory, name)` for each event about an
  // entry of a watched directory, and `on_overflow()` when events were lost
  // or a watched directory itself went away. Returns false when nothing was
  // pending (the cheap, common case).
  using EntryCallback = std::function<void(const std::string& directory, const std::string& name)>;
  using OverflowCallback = std::function<void()>;
  virtual bool Drain(const EntryCallback& on_entry, const OverflowCallback& on_overflow) = 0;

  // A descriptor that polls readable while events are pending, or -1. With
  // one, the detector learns of events from a monitor thread instead of a
  // read() per Check() (a syscall costs ~1 us on a VM, an atomic load ~1 ns).
  virtual int ReadinessFd() const { return -1; }
};

// Creates an inotify watcher for this process (close-on-exec, non-blocking).
// Fails when inotify is unavailable.
Status CreateInotifyWatcher(std::unique_ptr<DirectoryWatcher>* out);

}  // namespace pyfresh

#endif  // PYFRESH_DIRECTORY_WATCHER_H_
