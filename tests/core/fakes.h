// Test doubles for the change detector: a filesystem whose identities the
// test sets, a clock the test advances, and a directory watcher whose
// events the test emits.
#ifndef PYFRESH_TESTS_CORE_FAKES_H_
#define PYFRESH_TESTS_CORE_FAKES_H_

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pyfresh/change_detector.h"
#include "pyfresh/directory_watcher.h"
#include "pyfresh/file_identity.h"
#include "pyfresh/filesystem.h"
#include "pyfresh/status.h"

namespace pyfresh {
namespace testing {

// Thread-safe. Directories exist implicitly above every file ever put, or
// explicitly through MakeDir.
class FakeFilesystem : public Filesystem {
 public:
  FileIdentity Stat(const std::string& path) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stat_calls_;
    auto file = files_.find(path);
    if (file != files_.end()) return file->second;
    if (directories_.count(path) != 0) {
      FileIdentity identity;
      identity.exists = true;
      identity.inode = 1;
      identity.device = kDevice;
      identity.is_directory = true;
      identity.mtime_ns = directory_mtimes_.count(path) ? directory_mtimes_.at(path) : 0;
      return identity;
    }
    return FileIdentity();
  }

  // Puts `identity` at `path` as is (and creates the directories above).
  void Put(const std::string& path, FileIdentity identity) {
    std::lock_guard<std::mutex> lock(mutex_);
    identity.exists = true;
    files_[path] = identity;
    for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0;
         slash = path.rfind('/', slash - 1)) {
      directories_.insert(path.substr(0, slash));
    }
    directories_.insert("/");
  }

  // A new file (new inode).
  FileIdentity Create(const std::string& path, int64_t mtime_ns, int64_t size) {
    FileIdentity identity;
    identity.exists = true;
    identity.mtime_ns = mtime_ns;
    identity.ctime_ns = mtime_ns;
    identity.size = size;
    identity.inode = next_inode_++;
    identity.device = kDevice;
    Put(path, identity);
    return identity;
  }

  // An in-place write: same inode, new mtime and size, ctime unchanged (so
  // that only the field under test differs).
  FileIdentity Modify(const std::string& path, int64_t mtime_ns, int64_t size) {
    FileIdentity identity = Get(path);
    identity.mtime_ns = mtime_ns;
    identity.size = size;
    Put(path, identity);
    return identity;
  }

  // A rename over the file: everything equal but the inode.
  FileIdentity Replace(const std::string& path) {
    FileIdentity identity = Get(path);
    identity.inode = next_inode_++;
    Put(path, identity);
    return identity;
  }

  void Remove(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    files_.erase(path);
    directories_.erase(path);
  }

  void MakeDir(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    directories_.insert(path);
  }

  // What creating or removing an entry does to a directory's identity.
  void TouchDir(const std::string& path, int64_t mtime_ns) {
    std::lock_guard<std::mutex> lock(mutex_);
    directories_.insert(path);
    directory_mtimes_[path] = mtime_ns;
  }

  FileIdentity Get(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto file = files_.find(path);
    return file == files_.end() ? FileIdentity() : file->second;
  }

  int stat_calls() const { return stat_calls_.load(); }

  // A symbolic link at `path` to `target` (as readlink returns it); Stat()
  // of the test's paths is set by the test, links only steer ResolveLinks.
  void Link(const std::string& path, const std::string& target) {
    std::lock_guard<std::mutex> lock(mutex_);
    links_[path] = target;
  }

  Resolved ResolveLinks(const std::string& path) const override {
    std::map<std::string, std::string> links;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      links = links_;
    }
    return ResolveSymlinks(path, [&links](const std::string& candidate) -> std::optional<std::string> {
      auto it = links.find(candidate);
      if (it == links.end()) return std::nullopt;
      return it->second;
    });
  }

 private:
  static constexpr uint64_t kDevice = 2049;
  mutable std::mutex mutex_;
  std::map<std::string, FileIdentity> files_;
  std::set<std::string> directories_;
  std::map<std::string, int64_t> directory_mtimes_;
  std::map<std::string, std::string> links_;
  std::atomic<uint64_t> next_inode_{1000};
  mutable std::atomic<int> stat_calls_{0};
};

class FakeClock : public Clock {
 public:
  int64_t NowNs() const override { return now_ns_.load(); }
  void Advance(int64_t ns) { now_ns_ += ns; }

 private:
  std::atomic<int64_t> now_ns_{1000000000};
};

class FakeWatcher;

// What the detector's watcher factory sees, and how tests reach the watcher
// the detector currently owns. Used from the detector's thread only, but
// for the drain latch.
struct FakeWatcherHub {
  FakeWatcherHub() = default;
  FakeWatcherHub(const FakeWatcherHub&) = delete;
  FakeWatcherHub& operator=(const FakeWatcherHub&) = delete;
  ~FakeWatcherHub() {
    if (empty_pipe[0] >= 0) ::close(empty_pipe[0]);
    if (empty_pipe[1] >= 0) ::close(empty_pipe[1]);
  }

  // Gives the watchers a readiness (an always-empty pipe as the kernel
  // queue, `routed` raised while events wait), so that the detector's
  // lock-free path runs: a Check() that does not drain took it.
  void EnableLockFreeChecks() {
    if (::pipe(empty_pipe) != 0) return;
    descriptor = empty_pipe[0];
    readiness = EventReadiness{&descriptor, &routing, &routed};
  }

  int created = 0;
  int destroyed = 0;
  int drains = 0;
  // While set, Drain() raises in_drain and waits (another thread lowers it).
  std::atomic<bool> hold_drains{false};
  std::atomic<bool> in_drain{false};
  int empty_pipe[2] = {-1, -1};
  std::atomic<int> descriptor{-1};
  std::atomic<uint32_t> routing{0};
  std::atomic<uint32_t> routed{0};
  std::optional<EventReadiness> readiness;
  bool fail_create = false;
  bool fail_all_watches = false;
  std::set<std::string> fail_watch;  // directories whose Watch fails
  FakeWatcher* current = nullptr;

  ChangeDetector::WatcherFactory Factory();
  // Queue an event on the current watcher (no-op without one).
  void Emit(const std::string& directory, const std::string& name, EntryEvent event = EntryEvent::kOther);
  void Overflow();
  std::vector<std::string> Watched() const;
};

class FakeWatcher : public DirectoryWatcher {
 public:
  explicit FakeWatcher(FakeWatcherHub* hub) : hub_(hub) {}
  ~FakeWatcher() override {
    ++hub_->destroyed;
    if (hub_->current == this) hub_->current = nullptr;
  }

  Status Watch(const std::string& directory) override {
    if (hub_->fail_all_watches || hub_->fail_watch.count(directory) != 0) {
      return Status::Error("cannot watch directory '" + directory +
                           "': the inotify watch limit is reached (raise the sysctl "
                           "fs.inotify.max_user_watches)");
    }
    watched_.insert(directory);
    return Status::Ok();
  }

  const EventReadiness* Readiness() const override {
    return hub_->readiness ? &*hub_->readiness : nullptr;
  }

  bool Drain(const EntryCallback& on_entry, const OverflowCallback& on_overflow) override {
    ++hub_->drains;
    hub_->in_drain = true;
    while (hub_->hold_drains) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    hub_->in_drain = false;
    hub_->routed = 0;
    if (events_.empty()) return false;
    std::deque<Event> events;
    events.swap(events_);
    for (const Event& event : events) {
      if (event.overflow) {
        on_overflow();
      } else if (watched_.count(event.directory) != 0) {  // like the kernel
        on_entry(event.directory, event.name, event.kind);
      }
    }
    return true;
  }

  void Emit(const std::string& directory, const std::string& name, EntryEvent kind) {
    events_.push_back(Event{directory, name, kind, false});
    hub_->routed = 1;
  }
  void Overflow() {
    events_.push_back(Event{"", "", EntryEvent::kOther, true});
    hub_->routed = 1;
  }
  const std::set<std::string>& watched() const { return watched_; }

 private:
  struct Event {
    std::string directory;
    std::string name;
    EntryEvent kind;
    bool overflow;
  };
  FakeWatcherHub* const hub_;
  std::set<std::string> watched_;
  std::deque<Event> events_;
};

inline ChangeDetector::WatcherFactory FakeWatcherHub::Factory() {
  return [this](std::unique_ptr<DirectoryWatcher>* out) {
    if (fail_create) return Status::Error("inotify_init1: Too many open files");
    ++created;
    auto watcher = std::make_unique<FakeWatcher>(this);
    current = watcher.get();
    *out = std::move(watcher);
    return Status::Ok();
  };
}

inline void FakeWatcherHub::Emit(const std::string& directory, const std::string& name, EntryEvent event) {
  if (current != nullptr) current->Emit(directory, name, event);
}

inline void FakeWatcherHub::Overflow() {
  if (current != nullptr) current->Overflow();
}

inline std::vector<std::string> FakeWatcherHub::Watched() const {
  if (current == nullptr) return {};
  return std::vector<std::string>(current->watched().begin(), current->watched().end());
}

// Collects log lines; thread-safe.
class LogCollector {
 public:
  ChangeDetector::LogSink Sink() {
    return [this](LogLevel level, std::string_view message) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.emplace_back(message);
      levels_.push_back(level);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }
  std::vector<LogLevel> levels() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return levels_;
  }
  std::string joined() const {
    std::string all;
    for (const std::string& line : lines()) all += line + "\n";
    return all;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<LogLevel> levels_;
};

}  // namespace testing
}  // namespace pyfresh

#endif  // PYFRESH_TESTS_CORE_FAKES_H_
