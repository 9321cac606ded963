#include "pyfresh/change_detector.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <system_error>
#include <utility>

#include "event_monitor.h"
#include "text.h"

namespace pyfresh {
namespace {

// Both trivially destructible: no static destructor in a host server.
std::atomic<uint64_t> g_fork_generation{0};
pthread_once_t g_fork_handler_once = PTHREAD_ONCE_INIT;

void OnForkInChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

// glibc unregisters the handler when a shared object holding it is
// unloaded, so this is safe inside a dlopen()ed module.
void RegisterForkHandler() { pthread_atfork(nullptr, nullptr, &OnForkInChild); }

// "/a/b/c.py" -> ("/a/b", "c.py"); "c.py" -> (".", "c.py"); "/c.py" -> ("/", "c.py").
// Trailing slashes are ignored; the directory keeps no trailing slash.
std::string_view StripTrailingSlashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

std::string Dirname(std::string_view path) {
  path = StripTrailingSlashes(path);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  std::string_view directory = path.substr(0, slash);
  while (!directory.empty() && directory.back() == '/') directory.remove_suffix(1);
  if (directory.empty()) return "/";
  return std::string(directory);
}

std::string Basename(std::string_view path) {
  path = StripTrailingSlashes(path);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return std::string(path);
  return std::string(path.substr(slash + 1));
}

// The anchor name under which a tracked directory hears about every entry.
// No inotify event has an empty name (events about the directory itself
// are dropped by the watcher), so it cannot clash with a real entry.
const char kAnyEntry[] = "";

constexpr uint64_t kFastInotify = 1;
constexpr uint64_t kFastPolling = 2;
constexpr int64_t kSyncIntervalNs = 2'000'000;

std::string FormatSeconds(int64_t ns) {
  std::array<char, 64> buffer;
  const double seconds = static_cast<double>(ns) / 1e9;
  std::to_chars_result result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), seconds,
                                              std::chars_format::fixed);
  if (result.ec != std::errc()) return std::to_string(ns) + " ns";
  return std::string(buffer.data(), result.ptr) + " s";
}

}  // namespace

uint64_t CurrentForkGeneration() {
  pthread_once(&g_fork_handler_once, &RegisterForkHandler);
  return g_fork_generation.load(std::memory_order_acquire);
}

const char* DetectionMethodName(DetectionMethod method) {
  switch (method) {
    case DetectionMethod::kNotStarted:
      return "not started";
    case DetectionMethod::kInotify:
      return "inotify";
    case DetectionMethod::kPolling:
      return "polling";
  }
  return "unknown";
}

ChangeDetector::ChangeDetector(DetectorOptions options, const Filesystem& filesystem, const Clock& clock,
                               WatcherFactory make_watcher, LogSink log)
    : options_(options),
      filesystem_(filesystem),
      clock_(clock),
      make_watcher_(std::move(make_watcher)),
      log_(std::move(log)) {
  on_entry_ = [this](const std::string& directory, const std::string& name) {
    OnEntryLocked(directory, name);
  };
  on_overflow_ = [this] { events_lost_ = true; };
  // Registers the fork handler before anything can be started.
  CurrentForkGeneration();
}

ChangeDetector::~ChangeDetector() {
  std::lock_guard<std::mutex> lock(mutex_);
  monitor_.reset();  // joins its thread before the watched fd is closed
}

void ChangeDetector::Track(const std::string& path) {
  std::vector<std::string> messages;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    TrackLocked(path);
    PublishLocked();
    messages.swap(pending_log_);
  }
  EmitLog(&messages);
}

void ChangeDetector::Track(const std::vector<std::string>& paths) {
  std::vector<std::string> messages;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& path : paths) TrackLocked(path);
    PublishLocked();
    messages.swap(pending_log_);
  }
  EmitLog(&messages);
}

void ChangeDetector::RetainOnly(const std::unordered_set<std::string>& keep) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (keep.count(it->first) != 0) {
      ++it;
      continue;
    }
    // The directory watch stays: events there now find no entry.
    UnanchorLocked(it->first, &it->second);
    stale_.erase(it->first);
    it = tracked_.erase(it);
  }
  PublishLocked();
}

bool ChangeDetector::Check() {
  // The common case: nothing happened since the last look. No lock, no
  // syscall (a syscall costs about 1 us on a VM).
  const uint64_t token = fast_token_.load(std::memory_order_acquire);
  if (token != 0 && (token >> 2) == CurrentForkGeneration() + 1) {
    const uint64_t mode = token & 3;
    // The monitor thread's flag is trusted only within kSyncIntervalNs of
    // the last synchronous read of the queue: a request that starts that
    // long after a save has completed sees it, even if the thread has not
    // been scheduled yet. Above ~500 requests/s a process pays one read per
    // interval; below, one read per request (~1 us) is nothing.
    if (mode == kFastInotify && !events_pending_.load(std::memory_order_acquire) &&
        clock_.NowNs() - last_sync_ns_.load(std::memory_order_acquire) < kSyncIntervalNs) {
      return has_stale_.load(std::memory_order_acquire);
    }
    if (mode == kFastPolling && clock_.NowNs() < next_poll_ns_.load(std::memory_order_acquire)) {
      return has_stale_.load(std::memory_order_acquire);
    }
  }
  return CheckLocked(/*synchronous=*/token != 0 && (token & 3) == kFastInotify);
}

bool ChangeDetector::CheckNow() { return CheckLocked(/*synchronous=*/true); }

bool ChangeDetector::CheckLocked(bool synchronous) {
  std::vector<std::string> messages;
  bool stale;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!RunningLocked()) {
      StartLocked(/*restart=*/false);
    } else if (method_ == DetectionMethod::kInotify) {
      CheckInotifyLocked(synchronous);
    } else {
      CheckPollingLocked();
    }
    stale = !stale_.empty();
    PublishLocked();
    if (!pending_log_.empty()) messages.swap(pending_log_);
  }
  if (!messages.empty()) EmitLog(&messages);
  return stale;
}

std::vector<std::string> ChangeDetector::StalePaths() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> paths(stale_.begin(), stale_.end());
  std::sort(paths.begin(), paths.end());
  return paths;
}

DetectionMethod ChangeDetector::method() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunningLocked() ? method_ : DetectionMethod::kNotStarted;
}

size_t ChangeDetector::tracked_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tracked_.size();
}

size_t ChangeDetector::watched_directory_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunningLocked() ? watched_directories_.size() : 0;
}

bool ChangeDetector::RunningLocked() const {
  return method_ != DetectionMethod::kNotStarted &&
         started_in_fork_generation_ == CurrentForkGeneration();
}

void ChangeDetector::ResetWatchingLocked() {
  fast_token_.store(0, std::memory_order_release);
  // The monitor first: it polls the watcher's descriptor. In a forked child
  // both only close inherited descriptors; the parent's are untouched.
  monitor_.reset();
  events_pending_.store(false, std::memory_order_release);
  watcher_.reset();
  watched_directories_.clear();
  anchors_.clear();
  for (auto& entry : tracked_) {
    entry.second.anchor_directory.clear();
    entry.second.anchor_name.clear();
    entry.second.anchored_at_ancestor = false;
    entry.second.watches_entries = false;
  }
  event_paths_.clear();
  events_lost_ = false;
}

void ChangeDetector::StartLocked(bool restart) {
  ResetWatchingLocked();
  started_in_fork_generation_ = CurrentForkGeneration();
  last_full_check_ns_ = clock_.NowNs();
  if (options_.force_polling) {
    method_ = DetectionMethod::kPolling;
    LogLocked("pyfresh: polling " + PollingSummaryLocked());
    CompareAllLocked();
    return;
  }
  std::unique_ptr<DirectoryWatcher> watcher;
  Status status = make_watcher_ ? make_watcher_(&watcher) : Status::Error("no watcher factory");
  if (status.ok() && watcher == nullptr) status = Status::Error("the watcher factory returned none");
  if (!status.ok()) {
    FallBackToPollingLocked(status.message());
    return;
  }
  watcher_ = std::move(watcher);
  method_ = DetectionMethod::kInotify;
  if (const int fd = watcher_->ReadinessFd(); fd >= 0) {
    Status monitor = internal::EventMonitor::Start(fd, &events_pending_, &monitor_);
    if (!monitor.ok()) {
      LogLocked("pyfresh: " + monitor.message() + "; reading inotify events on every request instead");
    }
  }
  // Watches first, then the comparison: a change in between is not lost.
  for (auto& entry : tracked_) {
    if (!AnchorLocked(entry.first, &entry.second)) return;  // fell back to polling
    if (entry.second.baseline.is_directory && !AnchorEntriesLocked(entry.first, &entry.second)) return;
  }
  std::string summary = internal::CountOf(tracked_.size(), "file", "files") + " in " +
                        internal::CountOf(watched_directories_.size(), "directory", "directories");
  if (restart) {
    LogLocked("pyfresh: inotify events were lost or a watched directory went away; watching " +
              summary + " again");
  } else {
    LogLocked("pyfresh: watching " + summary + " with inotify");
  }
  CompareAllLocked();
}

void ChangeDetector::FallBackToPollingLocked(const std::string& reason) {
  ResetWatchingLocked();
  method_ = DetectionMethod::kPolling;
  LogLocked("pyfresh: inotify unavailable (" + reason + "), polling " + PollingSummaryLocked());
  // Whatever happened while watching was not seen: compare everything.
  last_full_check_ns_ = clock_.NowNs();
  CompareAllLocked();
}

bool ChangeDetector::AnchorLocked(const std::string& path, Tracked* tracked) {
  std::string directory = Dirname(path);
  std::string name = Basename(path);
  bool at_ancestor = false;
  // A watched directory exists (its removal restarts the watching).
  while (watched_directories_.count(directory) == 0 && !filesystem_.Stat(directory).exists) {
    std::string parent = Dirname(directory);
    if (parent == directory) break;  // "/" or "."
    name = Basename(directory);
    directory = std::move(parent);
    at_ancestor = true;
  }
  if (watched_directories_.count(directory) == 0) {
    Status status = watcher_->Watch(directory);
    if (!status.ok()) {
      FallBackToPollingLocked(status.message());
      return false;
    }
    watched_directories_.insert(directory);
  }
  if (tracked->anchor_directory == directory && tracked->anchor_name == name) return true;
  if (!tracked->anchor_directory.empty()) {
    RemoveAnchorLocked(tracked->anchor_directory, tracked->anchor_name, path);
  }
  anchors_[directory][name].push_back(path);
  tracked->anchor_directory = std::move(directory);
  tracked->anchor_name = std::move(name);
  tracked->anchored_at_ancestor = at_ancestor;
  return true;
}

bool ChangeDetector::AnchorEntriesLocked(const std::string& path, Tracked* tracked) {
  if (tracked->watches_entries) return true;
  if (watched_directories_.count(path) == 0) {
    Status status = watcher_->Watch(path);
    if (!status.ok()) {
      // Gone or not a directory any more: the comparison will tell.
      if (!filesystem_.Stat(path).is_directory) return true;
      FallBackToPollingLocked(status.message());
      return false;
    }
    watched_directories_.insert(path);
  }
  anchors_[path][kAnyEntry].push_back(path);
  tracked->watches_entries = true;
  return true;
}

void ChangeDetector::RemoveAnchorLocked(const std::string& directory, const std::string& name,
                                        const std::string& path) {
  auto by_directory = anchors_.find(directory);
  if (by_directory == anchors_.end()) return;
  auto by_name = by_directory->second.find(name);
  if (by_name != by_directory->second.end()) {
    std::vector<std::string>& paths = by_name->second;
    paths.erase(std::remove(paths.begin(), paths.end(), path), paths.end());
    if (paths.empty()) by_directory->second.erase(by_name);
  }
  if (by_directory->second.empty()) anchors_.erase(by_directory);
}

void ChangeDetector::UnanchorLocked(const std::string& path, Tracked* tracked) {
  if (tracked->watches_entries) {
    RemoveAnchorLocked(path, kAnyEntry, path);
    tracked->watches_entries = false;
  }
  if (tracked->anchor_directory.empty()) return;
  RemoveAnchorLocked(tracked->anchor_directory, tracked->anchor_name, path);
  tracked->anchor_directory.clear();
  tracked->anchor_name.clear();
  tracked->anchored_at_ancestor = false;
}

void ChangeDetector::TrackLocked(const std::string& path) {
  if (path.empty()) return;
  Tracked& tracked = tracked_[path];
  if (RunningLocked() && method_ == DetectionMethod::kInotify) {
    // Watch before taking the baseline, so no change slips in between. A
    // failure falls back to polling (which compares everything once).
    AnchorLocked(path, &tracked);
  }
  tracked.baseline = filesystem_.Stat(path);
  if (tracked.baseline.is_directory && !tracked.watches_entries && RunningLocked() &&
      method_ == DetectionMethod::kInotify && AnchorEntriesLocked(path, &tracked) &&
      method_ == DetectionMethod::kInotify) {
    // Watched now: take the baseline again, so no entry change slips in between.
    tracked.baseline = filesystem_.Stat(path);
  }
  stale_.erase(path);
}

void ChangeDetector::CompareLocked(const std::string& path, const Tracked& tracked) {
  if (stale_.count(path) != 0) return;  // sticky: no need to look again
  if (filesystem_.Stat(path) != tracked.baseline) stale_.insert(path);
}

void ChangeDetector::CompareAllLocked() {
  for (const auto& entry : tracked_) CompareLocked(entry.first, entry.second);
}

void ChangeDetector::OnEntryLocked(const std::string& directory, const std::string& name) {
  // The common case (bytecode, swap files, untracked modules) ends here
  // without a stat.
  auto by_directory = anchors_.find(directory);
  if (by_directory == anchors_.end()) return;
  auto any = by_directory->second.find(kAnyEntry);
  if (any != by_directory->second.end()) {
    event_paths_.insert(event_paths_.end(), any->second.begin(), any->second.end());
  }
  auto by_name = by_directory->second.find(name);
  if (by_name == by_directory->second.end()) return;
  event_paths_.insert(event_paths_.end(), by_name->second.begin(), by_name->second.end());
}

void ChangeDetector::CheckInotifyLocked(bool synchronous) {
  if (monitor_ != nullptr) {
    const bool pending = events_pending_.load(std::memory_order_acquire);
    if (!synchronous && !pending) return;
    // A raised flag is cleared before reading the descriptor dry and the
    // thread re-armed after: an event arriving in between is either read
    // now or raises the flag again. Without the flag raised, the thread is
    // still armed and is left alone.
    if (pending) events_pending_.store(false, std::memory_order_release);
    last_sync_ns_.store(clock_.NowNs(), std::memory_order_release);
    const bool any = watcher_->Drain(on_entry_, on_overflow_);
    if (pending) monitor_->Rearm();
    if (!any) return;
  } else if (!watcher_->Drain(on_entry_, on_overflow_)) {
    return;  // the cheap, common case
  }
  if (events_lost_) {
    StartLocked(/*restart=*/true);
    return;
  }
  if (event_paths_.empty()) return;
  std::sort(event_paths_.begin(), event_paths_.end());
  event_paths_.erase(std::unique(event_paths_.begin(), event_paths_.end()), event_paths_.end());
  std::vector<std::string> paths;
  paths.swap(event_paths_);
  for (const std::string& path : paths) {
    auto it = tracked_.find(path);
    if (it == tracked_.end()) continue;
    if (it->second.anchored_at_ancestor) {
      // A missing directory on its way may exist now: move the anchor down.
      if (!AnchorLocked(path, &it->second)) return;  // fell back (and compared all)
    }
    CompareLocked(path, it->second);
  }
  paths.clear();
  if (event_paths_.empty()) event_paths_.swap(paths);  // keep the capacity
}

void ChangeDetector::CheckPollingLocked() {
  const int64_t now = clock_.NowNs();
  if (now - last_full_check_ns_ < options_.poll_interval_ns) return;
  last_full_check_ns_ = now;
  CompareAllLocked();
}

std::string ChangeDetector::PollingSummaryLocked() const {
  return internal::CountOf(tracked_.size(), "file", "files") + " every " +
         FormatSeconds(options_.poll_interval_ns);
}

void ChangeDetector::PublishLocked() {
  has_stale_.store(!stale_.empty(), std::memory_order_release);
  uint64_t mode = 0;
  if (RunningLocked()) {
    if (method_ == DetectionMethod::kInotify && monitor_ != nullptr) {
      mode = kFastInotify;
    } else if (method_ == DetectionMethod::kPolling) {
      mode = kFastPolling;
      next_poll_ns_.store(last_full_check_ns_ + options_.poll_interval_ns, std::memory_order_release);
    }
  }
  fast_token_.store(mode == 0 ? 0 : ((started_in_fork_generation_ + 1) << 2) | mode, std::memory_order_release);
}

void ChangeDetector::LogLocked(std::string message) { pending_log_.push_back(std::move(message)); }

void ChangeDetector::EmitLog(std::vector<std::string>* messages) const {
  if (!log_) return;
  for (const std::string& message : *messages) log_(message);
}

}  // namespace pyfresh
