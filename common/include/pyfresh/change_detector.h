// Decides, per request and at a cost independent of how many files are
// tracked, whether any tracked file is stale.
#ifndef PYFRESH_CHANGE_DETECTOR_H_
#define PYFRESH_CHANGE_DETECTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pyfresh/directory_watcher.h"
#include "pyfresh/file_identity.h"
#include "pyfresh/filesystem.h"

namespace pyfresh {
namespace internal {
class EventMonitor;
}  // namespace internal

enum class DetectionMethod { kNotStarted, kInotify, kPolling };
const char* DetectionMethodName(DetectionMethod method);

struct DetectorOptions {
  // Skip inotify and compare every tracked file's identity, at most once per
  // poll_interval_ns. Also the interval used after an automatic fallback.
  bool force_polling = false;
  int64_t poll_interval_ns = 0;
};

// Thread-safe. Not copyable or movable.
//
// Watching starts lazily on the first Check() of each process: a watcher
// inherited across fork() is dropped and a new one created, and the
// baselines (recorded whenever, possibly in a parent) are then confirmed by
// one full comparison, so a respawned worker notices edits made since its
// parent imported the code.
//
// With inotify, the directory of every tracked path is watched; for an
// absent path whose directory does not exist either, its nearest existing
// ancestor is, so creating the directories and then the file is noticed.
// Events about untracked names cost no stat; an event about a tracked name
// is confirmed by one stat. A tracked path that is a directory is also
// watched itself: any event about one of its entries is confirmed by one
// stat of the directory, whose mtime changes when an entry is created,
// removed or renamed (as polling sees it too). Lost events (queue overflow) or a watched
// directory going away restart the watching, with one full comparison. When
// the watcher cannot be created or a directory cannot be watched (watch
// limit, network filesystem) the whole detector falls back to polling and
// logs why. Log lines are passed to the sink after the internal mutex is
// released, from the thread that called Check() or Track().
//
// When nothing happened, Check() takes no lock and makes no syscall: with
// inotify a per-process monitor thread (started with the watching, signals
// blocked, never running Python) raises an atomic flag when events arrive;
// with polling, one clock read says whether the interval has passed. The
// flag is trusted for 2 ms after a caller last read the queue itself, so a
// request that starts 2 ms or more after a save completed always sees it
// (sooner, once the thread has woken: microseconds).
class ChangeDetector {
 public:
  using WatcherFactory = std::function<Status(std::unique_ptr<DirectoryWatcher>*)>;
  using LogSink = std::function<void(std::string_view message)>;

  ChangeDetector(DetectorOptions options, const Filesystem& filesystem, const Clock& clock,
                 WatcherFactory make_watcher, LogSink log);
  ChangeDetector(const ChangeDetector&) = delete;
  ChangeDetector& operator=(const ChangeDetector&) = delete;
  ~ChangeDetector();

  // Records the current identity of `path` as its baseline: starts tracking
  // it, or accepts its present state (it is no longer stale). A path that
  // does not exist is tracked as absent: its creation is a change.
  void Track(const std::string& path);
  void Track(const std::vector<std::string>& paths);

  // Stops tracking every path not in `keep`.
  void RetainOnly(const std::unordered_set<std::string>& keep);

  // The per-request check: true when at least one tracked file is stale.
  // Staleness is sticky until the stale paths are Track()ed again.
  bool Check();

  // Check(), but reading pending events itself instead of trusting the
  // monitor thread's flag: sees every change completed before the call.
  bool CheckNow();

  // The stale paths, sorted (valid after Check() returned true).
  std::vector<std::string> StalePaths() const;

  // kNotStarted until the first Check() in this process (after fork too).
  DetectionMethod method() const;
  size_t tracked_count() const;
  size_t watched_directory_count() const;

 private:
  struct Tracked {
    FileIdentity baseline;
    // While watching, events about this path arrive as the entry
    // `anchor_name` of the watched directory `anchor_directory`: its own
    // directory and base name, or, when that directory does not exist yet,
    // the nearest existing ancestor and the first missing component (so
    // creating the missing directories is noticed). Empty when not watched.
    std::string anchor_directory;
    std::string anchor_name;
    bool anchored_at_ancestor = false;
    // A directory: also registered under its own path with kAnyEntry.
    bool watches_entries = false;
  };

  bool RunningLocked() const;
  void StartLocked(bool restart);
  void ResetWatchingLocked();
  void FallBackToPollingLocked(const std::string& reason);
  bool AnchorLocked(const std::string& path, Tracked* tracked);
  bool AnchorEntriesLocked(const std::string& path, Tracked* tracked);
  void UnanchorLocked(const std::string& path, Tracked* tracked);
  void RemoveAnchorLocked(const std::string& directory, const std::string& name, const std::string& path);
  void TrackLocked(const std::string& path);
  void CompareLocked(const std::string& path, const Tracked& tracked);
  void CompareAllLocked();
  bool CheckLocked(bool synchronous);
  void CheckInotifyLocked(bool synchronous);
  void CheckPollingLocked();
  void OnEntryLocked(const std::string& directory, const std::string& name);
  std::string PollingSummaryLocked() const;
  void PublishLocked();
  void LogLocked(std::string message);
  void EmitLog(std::vector<std::string>* messages) const;

  const DetectorOptions options_;
  const Filesystem& filesystem_;
  const Clock& clock_;
  const WatcherFactory make_watcher_;
  const LogSink log_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Tracked> tracked_;
  std::unordered_set<std::string> stale_;
  std::unordered_set<std::string> watched_directories_;
  // watched directory -> entry name -> tracked paths anchored there.
  std::unordered_map<std::string, std::unordered_map<std::string, std::vector<std::string>>>
      anchors_;
  std::unique_ptr<DirectoryWatcher> watcher_;
  DetectionMethod method_ = DetectionMethod::kNotStarted;
  uint64_t started_in_fork_generation_ = 0;
  int64_t last_full_check_ns_ = 0;
  // Filled while draining the watcher, handled after it returns.
  std::vector<std::string> event_paths_;
  bool events_lost_ = false;
  // Emitted after the mutex is released (the sink may take the GIL).
  std::vector<std::string> pending_log_;
  // Built once, so that draining allocates nothing.
  DirectoryWatcher::EntryCallback on_entry_;
  DirectoryWatcher::OverflowCallback on_overflow_;

  // The lock-free fast path, published by PublishLocked(). fast_token_ is
  // 0 (take the lock) or (fork generation + 1) << 2 | mode, so a token
  // published in a parent is never trusted in a forked child.
  std::atomic<uint64_t> fast_token_{0};
  std::atomic<bool> has_stale_{false};
  std::atomic<bool> events_pending_{false};  // set by monitor_'s thread
  std::atomic<int64_t> next_poll_ns_{0};
  std::atomic<int64_t> last_sync_ns_{0};  // last read of the queue by a caller
  // Declared after watcher_: destroyed first, before the fd it polls closes.
  std::unique_ptr<internal::EventMonitor> monitor_;
};

// Bumped in the child after every fork() of this process.
uint64_t CurrentForkGeneration();

}  // namespace pyfresh

#endif  // PYFRESH_CHANGE_DETECTOR_H_
