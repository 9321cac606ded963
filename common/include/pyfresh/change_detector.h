// Decides, per request and at a cost independent of how many files are
// tracked, whether any tracked file is stale.
#ifndef PYFRESH_CHANGE_DETECTOR_H_
#define PYFRESH_CHANGE_DETECTOR_H_

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

  // The stale paths, sorted (valid after Check() returned true).
  std::vector<std::string> StalePaths() const;

  DetectionMethod method() const;
  size_t tracked_count() const;
  size_t watched_directory_count() const;

 private:
  struct Tracked {
    FileIdentity baseline;
  };

  void StartLocked();
  void FallBackToPollingLocked(const std::string& reason);
  void WatchDirectoryOfLocked(const std::string& path);
  void TrackLocked(const std::string& path);
  void CompareLocked(const std::string& path);
  void CompareAllLocked();
  bool CheckInotifyLocked();
  bool CheckPollingLocked();

  const DetectorOptions options_;
  const Filesystem& filesystem_;
  const Clock& clock_;
  const WatcherFactory make_watcher_;
  const LogSink log_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Tracked> tracked_;
  std::unordered_set<std::string> stale_;
  std::unordered_set<std::string> watched_directories_;
  std::unique_ptr<DirectoryWatcher> watcher_;
  DetectionMethod method_ = DetectionMethod::kNotStarted;
  uint64_t started_in_fork_generation_ = 0;
  int64_t last_full_check_ns_ = 0;
  bool has_checked_ = false;
};

// Bumped in the child after every fork() of this process.
uint64_t CurrentForkGeneration();

}  // namespace pyfresh

#endif  // PYFRESH_CHANGE_DETECTOR_H_
