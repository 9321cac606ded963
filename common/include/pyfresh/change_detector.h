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
#include "pyfresh/log_sink.h"

namespace pyfresh {

enum class DetectionMethod { kNotStarted, kInotify, kPolling };
const char* DetectionMethodName(DetectionMethod method);

struct DetectorOptions {
  // Skip inotify and compare every tracked file's identity, at most once per
  // poll_interval_ns. Also the interval used for files polled after a
  // fallback (0: on every check).
  bool force_polling = false;
  int64_t poll_interval_ns = 0;
};

// Thread-safe. Not copyable or movable.
//
// The guarantee: a Check() that starts after a save has completed (the
// writer's close() or rename() returned) reports it. With inotify the
// kernel has queued the event by then, and Check() asks the kernel whether
// anything is queued (one ioctl, no lock) before it trusts its published
// state; with polling, a Check() compares every tracked file unless the
// poll interval asked for fewer comparisons. CheckNow() always compares.
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
// Every symbolic link on the way to a tracked path is watched where it
// lives, and the file it resolves to where that lives, so editing a link's
// target, re-pointing a link, or switching a release directory above the
// code (`ln -sfn releases/v2 current`) is seen as polling would see it.
// Events about untracked names cost no stat; an event about a tracked name
// is confirmed by one stat. A tracked path that is a directory is also
// watched itself: any event about one of its entries is confirmed by one
// stat of the directory, whose mtime changes when an entry is created,
// removed or renamed (as polling sees it too). Lost events (queue overflow)
// or a watched directory going away restart the watching, with one full
// comparison. When the watcher cannot be created at all, the detector polls
// every file; when one directory cannot be watched (watch limit, network
// filesystem), only the files anchored there are polled, and the reason is
// logged once per directory. Log lines are passed to the sink after the
// internal mutex is released, from the thread that called the method.
//
// With inotify, every detector of a process shares one inotify instance
// (the kernel's default limit is 128 per user): a drain by any detector
// reads everything queued and routes each event to the detectors watching
// its directory, so one detector's events never make another report a
// change, and events another detector read for this one wait for it.
//
// When nothing happened, Check() takes no lock and allocates nothing: with
// inotify one ioctl(FIONREAD) on the shared descriptor (~0.2 us) says the
// kernel's queue is empty, and three atomic loads that no other drain holds
// events read from it and that none wait for this detector; with polling,
// one clock read says whether the interval has passed.
//
// fork() waits until no thread is inside a detector's locked work
// (ForkGuard), so a child never inherits a held lock or a half-done drain.
class ChangeDetector {
 public:
  using WatcherFactory = std::function<Status(std::unique_ptr<DirectoryWatcher>*)>;
  using LogSink = pyfresh::LogSink;

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

  // For each of `paths` that is stale: accepts the identity it had when it
  // was found stale (not a fresh stat), then compares it once with the file
  // as it is now. A reload that failed accepts what it tried, and a fix
  // saved meanwhile stays stale.
  void AcceptSeen(const std::vector<std::string>& paths);

  // Those of `paths` still being written: with inotify, modified (or
  // created) and not yet closed by the writer; when polled, whose identity
  // differs from the previous look (so call it again a few ms later: two
  // looks that agree mean settled). Reads pending events first.
  std::vector<std::string> Unsettled(const std::vector<std::string>& paths);

  // The per-request check: true when at least one tracked file is stale.
  // Staleness is sticky until the stale paths are Track()ed again.
  bool Check();

  // Check(), but comparing polled files whatever the poll interval: sees
  // every change completed before the call, polled or watched.
  bool CheckNow();

  // For a caller with nothing else to do until something changes (the test
  // loop; a request never waits): CheckNow(), and when nothing is stale,
  // sleeps at most `timeout_ns` for a change and returns CheckNow() again.
  // With inotify it sleeps in poll() on the watcher's descriptor and wakes
  // on any event in a watched directory (one about an untracked name, such
  // as a __pycache__ entry, just returns false early); files that no event
  // announces (all of them when polling, the polled ones under inotify) are
  // compared after at most the poll interval (kWaitCompareStepNs when it
  // is 0). A signal delivered to the thread ends the sleep early, so the
  // caller can act on it (Python raises KeyboardInterrupt). Returns false
  // when nothing is stale yet: call it again.
  bool WaitForChange(int64_t timeout_ns);
  static constexpr int64_t kWaitCompareStepNs = 250000000;

  // The stale paths, sorted (valid after Check() returned true).
  std::vector<std::string> StalePaths() const;

  // kNotStarted until the first Check() in this process (after fork too).
  DetectionMethod method() const;
  size_t tracked_count() const;
  size_t watched_directory_count() const;
  // Tracked paths compared by stat because their directory cannot be
  // watched (all of them when the method is polling).
  size_t polled_count() const;

 private:
  // Where events about a tracked path arrive: the entry `name` of the
  // watched `directory`. For a missing directory, its nearest existing
  // ancestor and the first missing component (at_ancestor), so creating the
  // missing directories is noticed.
  struct Anchor {
    std::string directory;
    std::string name;
    bool at_ancestor = false;
  };

  struct Tracked {
    FileIdentity baseline;
    // What the comparison that found it stale saw (for AcceptSeen), and,
    // when polled, the previous look (for Unsettled).
    FileIdentity seen;
    // The path's own anchor first, then one per symbolic link on the way
    // and one where it resolves to. Empty when not watched.
    std::vector<Anchor> anchors;
    bool follows_links = false;
    // A directory: also registered under its own path with kAnyEntry.
    bool watches_entries = false;
    // Compared by stat on every check: an anchor could not be watched.
    bool polled = false;
    // A writer modified or created it and has not closed it yet.
    bool being_written = false;
  };

  bool RunningLocked() const;
  void StartLocked(bool restart);
  void ResetWatchingLocked();
  void FallBackToPollingLocked(const std::string& reason);
  bool WatchLocked(const std::string& directory, std::string* error);
  void AnchorLocked(const std::string& path, Tracked* tracked);
  bool AddAnchorLocked(const std::string& target, const std::string& path, Tracked* tracked);
  void AnchorEntriesLocked(const std::string& path, Tracked* tracked);
  void UnanchorLocked(const std::string& path, Tracked* tracked);
  void PollLocked(const std::string& path, Tracked* tracked);
  void RemoveAnchorLocked(const std::string& directory, const std::string& name, const std::string& path);
  void TrackLocked(const std::string& path);
  void CompareLocked(const std::string& path, Tracked& tracked);
  void CompareAllLocked();
  bool CheckLocked(bool compare_polled_now);
  void DrainLocked();
  void ComparePolledLocked(bool now);
  void OnEntryLocked(const std::string& directory, const std::string& name, EntryEvent event);
  std::string PollingSummaryLocked() const;
  void PublishLocked();
  struct LogLine {
    LogLevel level;
    std::string message;
  };
  void LogLocked(LogLevel level, std::string message);
  void EmitLog(std::vector<LogLine>* lines) const;

  const DetectorOptions options_;
  const Filesystem& filesystem_;
  const Clock& clock_;
  const WatcherFactory make_watcher_;
  const LogSink log_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Tracked> tracked_;
  std::unordered_set<std::string> stale_;
  std::unordered_set<std::string> polled_;
  std::unordered_set<std::string> watched_directories_;
  // Directories whose watch failed, with why: their files are polled.
  std::unordered_map<std::string, std::string> unwatchable_directories_;
  // watched directory -> entry name -> tracked paths anchored there.
  std::unordered_map<std::string, std::unordered_map<std::string, std::vector<std::string>>>
      anchors_;
  std::unique_ptr<DirectoryWatcher> watcher_;
  DetectionMethod method_ = DetectionMethod::kNotStarted;
  uint64_t started_in_fork_generation_ = 0;
  uint64_t start_count_ = 0;
  int64_t last_full_check_ns_ = 0;
  // Filled while draining the watcher, handled after it returns.
  std::vector<std::string> event_paths_;
  bool events_lost_ = false;
  // Emitted after the mutex is released (the sink may take the GIL): the
  // only queue of log lines between the core and a host.
  std::vector<LogLine> pending_log_;
  // Built once, so that draining allocates nothing.
  DirectoryWatcher::EntryCallback on_entry_;
  DirectoryWatcher::OverflowCallback on_overflow_;

  // The lock-free fast path, published by PublishLocked(). fast_token_ is
  // 0 (take the lock) or the fork generation + 1 in the high 32 bits, the
  // start count and the mode below: a token published in a parent, or
  // before the watcher was replaced, is never trusted.
  std::atomic<uint64_t> fast_token_{0};
  std::atomic<const EventReadiness*> fast_readiness_{nullptr};
  std::atomic<bool> has_stale_{false};
  std::atomic<int64_t> next_poll_ns_{0};
  // Non-zero while a caller holds events taken from the watcher that are
  // not yet published: the fast path must not take "nothing waiting" for
  // "no news".
  std::atomic<int> draining_{0};
};

}  // namespace pyfresh

#endif  // PYFRESH_CHANGE_DETECTOR_H_
