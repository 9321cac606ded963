// The Linux DirectoryWatcher: a watcher on the process's one inotify
// instance (inotify_multiplexer.h), one watch per directory.
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>

#include <atomic>
#include <memory>
#include <string>

#include "inotify_multiplexer.h"
#include "pyfresh/directory_watcher.h"
#include "remote_filesystem.h"
#include "text.h"

namespace pyfresh {
namespace {

// A watcher on the process's shared inotify instance: its own inbox there.
class InotifyWatcher final : public DirectoryWatcher {
 public:
  explicit InotifyWatcher(internal::InotifyMultiplexer::Inbox* inbox) : inbox_(inbox) {}
  InotifyWatcher(const InotifyWatcher&) = delete;
  InotifyWatcher& operator=(const InotifyWatcher&) = delete;

  // Removes only the watches no other watcher shares; after fork() (an
  // inbox inherited from the parent) removes none: they are the parent's.
  ~InotifyWatcher() override { internal::InotifyMultiplexer::Get().Close(inbox_); }

  Status Watch(const std::string& directory) override {
    struct statfs info;
    if (::statfs(directory.c_str(), &info) != 0) {
      const int error = errno;
      return Status::Error("cannot watch directory " + QuoteForMessage(directory) + ": " +
                           internal::ErrnoText(error));
    }
    if (const char* filesystem = internal::RemoteFilesystemName(static_cast<uint64_t>(info.f_type))) {
      return Status::Error("cannot watch directory " + QuoteForMessage(directory) +
                           " with inotify: its filesystem (" + filesystem +
                           ") does not report changes made from elsewhere");
    }
    return internal::InotifyMultiplexer::Get().Watch(inbox_, directory);
  }

  const EventReadiness* Readiness() const override {
    return internal::InotifyMultiplexer::Get().Readiness(inbox_);
  }

  bool Drain(const EntryCallback& on_entry, const OverflowCallback& on_overflow) override {
    return internal::InotifyMultiplexer::Get().Drain(inbox_, on_entry, on_overflow);
  }

 private:
  internal::InotifyMultiplexer::Inbox* const inbox_;
};

}  // namespace

bool EventsMayBePending(const EventReadiness& readiness) {
  const int fd = readiness.descriptor->load(std::memory_order_seq_cst);
  int bytes = 0;
  if (fd < 0 || ::ioctl(fd, FIONREAD, &bytes) != 0 || bytes > 0) return true;
  // Empty queue. Events read before we asked are being routed (routing),
  // or wait in this watcher's inbox (routed): the order of these loads
  // matches the order in which a drain lowers them.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (readiness.routing->load(std::memory_order_seq_cst) != 0) return true;
  return readiness.routed->load(std::memory_order_seq_cst) != 0;
}

Status CreateInotifyWatcher(std::unique_ptr<DirectoryWatcher>* out) {
  internal::InotifyMultiplexer::Inbox* inbox = nullptr;
  Status status = internal::InotifyMultiplexer::Get().Open(&inbox);
  if (!status.ok()) return status;
  out->reset(new InotifyWatcher(inbox));
  return Status::Ok();
}

}  // namespace pyfresh
