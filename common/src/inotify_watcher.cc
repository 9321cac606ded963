// The Linux DirectoryWatcher: one inotify instance per process, one watch
// per directory.
#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "inotify_watcher_internal.h"
#include "pyfresh/directory_watcher.h"
#include "text.h"

namespace pyfresh {
namespace internal {

const char* RemoteFilesystemName(uint64_t f_type) {
  struct Entry {
    uint32_t magic;
    const char* name;
  };
  static constexpr Entry kRemote[] = {
      {0x6969, "NFS"},
      {0x517B, "SMB"},
      {0xFE534D42, "SMB2"},
      {0xFF534D42, "CIFS"},
      {0x01021997, "9p (v9fs)"},
      {0x65735546, "FUSE"},
      {0x786F4256, "VirtualBox shared folder (vboxsf)"},
      {0x7C7C6673, "Parallels shared folder (prl_fs)"},
      {0x00C36400, "CephFS"},
      {0x5346414F, "AFS"},
      {0x6B414653, "AFS (kafs)"},
      {0x73757245, "Coda"},
      {0x564C, "NCP"},
      {0x0BD00BD0, "Lustre"},
      {0x01161970, "GFS2"},
      {0x7461636F, "OCFS2"},
      {0x47504653, "GPFS"},
      {0x19830326, "BeeGFS"},
      {0x13661366, "OrangeFS"},
  };
  // f_type is a signed long; 32-bit magics may arrive sign-extended.
  const auto magic = static_cast<uint32_t>(f_type);
  for (const Entry& entry : kRemote) {
    if (entry.magic == magic) return entry.name;
  }
  return nullptr;
}

}  // namespace internal

namespace {

constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE |
                                IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
                                IN_ONLYDIR;

// strerror_r is the GNU variant under g++ (_GNU_SOURCE); accept either.
[[maybe_unused]] inline const char* StrerrorResult(const char* result, const char*) {
  return result;
}
[[maybe_unused]] inline const char* StrerrorResult(int result, const char* buffer) {
  return result == 0 ? buffer : "unknown error";
}

std::string ErrnoText(int error) {
  char buffer[256] = {};
  return StrerrorResult(strerror_r(error, buffer, sizeof buffer), buffer);
}

EntryEvent KindOf(uint32_t mask) {
  if (mask & IN_CLOSE_WRITE) return EntryEvent::kWriteClosed;
  // A new file is written next (open with O_CREAT); a new directory is not.
  if ((mask & IN_MODIFY) || ((mask & IN_CREATE) && !(mask & IN_ISDIR))) return EntryEvent::kWritten;
  if (mask & IN_ATTRIB) return EntryEvent::kAttributesChanged;
  return EntryEvent::kOther;
}

class InotifyWatcher final : public DirectoryWatcher {
 public:
  explicit InotifyWatcher(int fd) : fd_(fd) {}
  InotifyWatcher(const InotifyWatcher&) = delete;
  InotifyWatcher& operator=(const InotifyWatcher&) = delete;

  // Only closes the descriptor: after fork() the instance is shared with
  // the parent, so removing watches here would remove the parent's too.
  ~InotifyWatcher() override { ::close(fd_); }

  Status Watch(const std::string& directory) override {
    struct statfs info;
    if (::statfs(directory.c_str(), &info) != 0) {
      const int error = errno;
      return Status::Error("cannot watch directory " + QuoteForMessage(directory) + ": " +
                           ErrnoText(error));
    }
    if (const char* filesystem = internal::RemoteFilesystemName(static_cast<uint64_t>(info.f_type))) {
      return Status::Error("cannot watch directory " + QuoteForMessage(directory) +
                           " with inotify: its filesystem (" + filesystem +
                           ") does not report changes made from elsewhere");
    }
    const int wd = ::inotify_add_watch(fd_, directory.c_str(), kWatchMask);
    if (wd < 0) {
      const int error = errno;
      if (error == ENOSPC) {
        return Status::Error("cannot watch directory " + QuoteForMessage(directory) +
                             ": the inotify watch limit is reached (raise the sysctl "
                             "fs.inotify.max_user_watches)");
      }
      return Status::Error("cannot watch directory " + QuoteForMessage(directory) + ": " +
                           ErrnoText(error));
    }
    std::vector<std::string>& names = directories_[wd];
    for (const std::string& name : names) {
      if (name == directory) return Status::Ok();
    }
    // Several spellings of one directory (symlinks) share one watch.
    names.push_back(directory);
    return Status::Ok();
  }

  int ReadinessFd() const override { return fd_; }

  bool Drain(const EntryCallback& on_entry, const OverflowCallback& on_overflow) override {
    // Room for at least 15 events with the longest name (16 + NAME_MAX + 1).
    alignas(struct inotify_event) char buffer[4096];
    bool any = false;
    for (;;) {
      const ssize_t length = ::read(fd_, buffer, sizeof buffer);
      if (length < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        // Unexpected (EBADF, EIO...): events may be lost.
        on_overflow();
        return true;
      }
      if (length == 0) break;
      any = true;
      const char* p = buffer;
      const char* const end = buffer + length;
      while (p + sizeof(struct inotify_event) <= end) {
        const auto* event = reinterpret_cast<const struct inotify_event*>(p);
        p += sizeof(struct inotify_event) + event->len;
        Handle(*event, on_entry, on_overflow);
      }
    }
    return any;
  }

 private:
  void Handle(const struct inotify_event& event, const EntryCallback& on_entry,
              const OverflowCallback& on_overflow) {
    if (event.mask & IN_Q_OVERFLOW) {
      on_overflow();
      return;
    }
    auto it = directories_.find(event.wd);
    if (it == directories_.end()) return;  // a watch already forgotten
    if (event.mask & (IN_IGNORED | IN_UNMOUNT)) {
      directories_.erase(it);
      on_overflow();
      return;
    }
    if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
      // A moved directory keeps its watch under a path we no longer know.
      ::inotify_rm_watch(fd_, event.wd);
      directories_.erase(it);
      on_overflow();
      return;
    }
    if (event.len == 0) return;  // about the directory itself
    name_.assign(event.name, ::strnlen(event.name, event.len));
    const EntryEvent kind = KindOf(event.mask);
    for (const std::string& directory : it->second) on_entry(directory, name_, kind);
  }

  const int fd_;
  std::unordered_map<int, std::vector<std::string>> directories_;
  std::string name_;  // reused for every event
};

}  // namespace

bool EventsPendingOn(int fd) {
  int bytes = 0;
  if (fd < 0 || ::ioctl(fd, FIONREAD, &bytes) != 0) return true;
  return bytes > 0;
}

Status CreateInotifyWatcher(std::unique_ptr<DirectoryWatcher>* out) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == EMFILE) {
      return Status::Error("inotify_init1: " + ErrnoText(error) +
                           " (the limit is the sysctl fs.inotify.max_user_instances)");
    }
    return Status::Error("inotify_init1: " + ErrnoText(error));
  }
  out->reset(new InotifyWatcher(fd));
  return Status::Ok();
}

}  // namespace pyfresh
