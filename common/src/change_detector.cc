#include "pyfresh/change_detector.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <system_error>
#include <utility>

#include "pyfresh/fork_generation.h"
#include "text.h"

namespace pyfresh {
namespace {

// The detector's lock, taken with the fork guard first: a fork() waits
// until no thread holds it, so a child never inherits it held, nor
// draining_ raised by a thread that does not exist there.
class DetectorLock {
 public:
  explicit DetectorLock(std::mutex& mutex) : lock_(mutex) {}

 private:
  ForkGuard guard_;
  std::lock_guard<std::mutex> lock_;
};

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

// Holds draining_ raised while events read from the queue are handled and
// published (see Check()).
class DrainWindow {
 public:
  explicit DrainWindow(std::atomic<int>* draining) : draining_(draining) {
    draining_->fetch_add(1, std::memory_order_seq_cst);
  }
  ~DrainWindow() { draining_->fetch_sub(1, std::memory_order_seq_cst); }
  DrainWindow(const DrainWindow&) = delete;
  DrainWindow& operator=(const DrainWindow&) = delete;

 private:
  std::atomic<int>* const draining_;
};

std::string FormatSeconds(int64_t ns) {
  std::array<char, 64> buffer;
  const double seconds = static_cast<double>(ns) / 1e9;
  std::to_chars_result result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), seconds,
                                              std::chars_format::fixed);
  if (result.ec != std::errc()) return std::to_string(ns) + " ns";
  return std::string(buffer.data(), result.ptr) + " s";
}

}  // namespace

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
  on_entry_ = [this](const std::string& directory, const std::string& name, EntryEvent event) {
    OnEntryLocked(directory, name, event);
  };
  on_overflow_ = [this] { events_lost_ = true; };
  // Registers the fork handler before anything can be started.
  CurrentForkGeneration();
}

ChangeDetector::~ChangeDetector() = default;

void ChangeDetector::Track(const std::string& path) {
  std::vector<LogLine> messages;
  {
    DetectorLock lock(mutex_);
    TrackLocked(path);
    PublishLocked();
    messages.swap(pending_log_);
  }
  EmitLog(&messages);
}

void ChangeDetector::Track(const std::vector<std::string>& paths) {
  std::vector<LogLine> messages;
  {
    DetectorLock lock(mutex_);
    for (const std::string& path : paths) TrackLocked(path);
    PublishLocked();
    messages.swap(pending_log_);
  }
  EmitLog(&messages);
}

void ChangeDetector::RetainOnly(const std::unordered_set<std::string>& keep) {
  DetectorLock lock(mutex_);
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (keep.count(it->first) != 0) {
      ++it;
      continue;
    }
    // The directory watch stays: events there now find no entry.
    UnanchorLocked(it->first, &it->second);
    stale_.erase(it->first);
    polled_.erase(it->first);
    it = tracked_.erase(it);
  }
  PublishLocked();
}

void ChangeDetector::AcceptSeen(const std::vector<std::string>& paths) {
  DetectorLock lock(mutex_);
  for (const std::string& path : paths) {
    auto it = tracked_.find(path);
    if (it == tracked_.end() || stale_.count(path) == 0) continue;
    it->second.baseline = it->second.seen;
    stale_.erase(path);
    // An event about a later save may already have been read while the
    // path was stale (and not compared then): compare now.
    CompareLocked(path, it->second);
  }
  PublishLocked();
}

std::vector<std::string> ChangeDetector::Unsettled(const std::vector<std::string>& paths) {
  std::vector<std::string> unsettled;
  std::vector<LogLine> messages;
  {
    DetectorLock lock(mutex_);
    DrainWindow window(&draining_);
    if (RunningLocked() && method_ == DetectionMethod::kInotify) DrainLocked();
    const bool all_polled = !RunningLocked() || method_ == DetectionMethod::kPolling;
    for (const std::string& path : paths) {
      auto it = tracked_.find(path);
      if (it == tracked_.end()) continue;
      Tracked& tracked = it->second;
      if (all_polled || tracked.polled) {
        const FileIdentity now = filesystem_.Stat(path);
        if (now != tracked.seen) unsettled.push_back(path);
        tracked.seen = now;
      } else if (tracked.being_written) {
        unsettled.push_back(path);
      }
    }
    PublishLocked();
    messages.swap(pending_log_);
  }
  EmitLog(&messages);
  return unsettled;
}

bool ChangeDetector::Check() {
  const uint64_t token = fast_token_.load(std::memory_order_acquire);
  if (token != 0 && (token >> 32) == ((CurrentForkGeneration() + 1) & 0xffffffffu)) {
    const uint64_t mode = token & 3;
    if (mode == kFastInotify) {
      // The kernel queued the event of any save completed before this call.
      // Nothing queued on the process's inotify descriptor, nothing being
      // routed from it and nothing waiting for this detector means no news,
      // unless another caller of this detector has just taken events it
      // has not published yet (draining_), or the watcher was replaced
      // (the token changed) while we asked.
      const EventReadiness* readiness = fast_readiness_.load(std::memory_order_acquire);
      if (readiness != nullptr && !EventsMayBePending(*readiness)) {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (draining_.load(std::memory_order_seq_cst) == 0 &&
            fast_token_.load(std::memory_order_acquire) == token) {
          return has_stale_.load(std::memory_order_acquire);
        }
      }
    } else if (mode == kFastPolling && clock_.NowNs() < next_poll_ns_.load(std::memory_order_acquire)) {
      return has_stale_.load(std::memory_order_acquire);
    }
  }
  return CheckLocked(/*compare_polled_now=*/false);
}

bool ChangeDetector::CheckNow() { return CheckLocked(/*compare_polled_now=*/true); }

bool ChangeDetector::CheckLocked(bool compare_polled_now) {
  std::vector<LogLine> messages;
  bool stale;
  {
    DetectorLock lock(mutex_);
    DrainWindow window(&draining_);
    if (!RunningLocked()) {
      StartLocked(/*restart=*/false);
    } else {
      if (method_ == DetectionMethod::kInotify) DrainLocked();
      ComparePolledLocked(compare_polled_now);
    }
    stale = !stale_.empty();
    PublishLocked();
    if (!pending_log_.empty()) messages.swap(pending_log_);
  }
  if (!messages.empty()) EmitLog(&messages);
  return stale;
}

bool ChangeDetector::WaitForChange(int64_t timeout_ns) {
  if (CheckNow()) return true;
  const EventReadiness* readiness = nullptr;
  bool compare_periodically = true;
  {
    DetectorLock lock(mutex_);
    if (RunningLocked() && method_ == DetectionMethod::kInotify && watcher_ != nullptr) {
      readiness = watcher_->Readiness();
      compare_periodically = readiness == nullptr || !polled_.empty();
    }
  }
  int64_t sleep_ns = std::max<int64_t>(timeout_ns, 0);
  if (compare_periodically) {
    sleep_ns = std::min(sleep_ns, options_.poll_interval_ns > 0 ? options_.poll_interval_ns : kWaitCompareStepNs);
  }
  // The inotify descriptor is shared by every detector of the process: events
  // another detector's drain already read and routed here leave it empty, so
  // look at this watcher's readiness before sleeping on the descriptor.
  if (readiness != nullptr && EventsMayBePending(*readiness)) return CheckNow();
  const int fd = readiness != nullptr ? readiness->descriptor->load(std::memory_order_acquire) : -1;
  if (fd >= 0) {
    // Rounded up: a 0 ms poll() for a sub-millisecond rest would spin.
    const int64_t ms = std::min<int64_t>((sleep_ns + 999999) / 1000000, 1 << 30);
    struct pollfd ready = {fd, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(ms)) < 0 && errno == EINTR) return false;
  } else {
    struct timespec rest = {static_cast<time_t>(sleep_ns / 1000000000), static_cast<long>(sleep_ns % 1000000000)};
    if (::nanosleep(&rest, nullptr) != 0 && errno == EINTR) return false;
  }
  return CheckNow();
}

std::vector<std::string> ChangeDetector::StalePaths() const {
  DetectorLock lock(mutex_);
  std::vector<std::string> paths(stale_.begin(), stale_.end());
  std::sort(paths.begin(), paths.end());
  return paths;
}

DetectionMethod ChangeDetector::method() const {
  DetectorLock lock(mutex_);
  return RunningLocked() ? method_ : DetectionMethod::kNotStarted;
}

size_t ChangeDetector::tracked_count() const {
  DetectorLock lock(mutex_);
  return tracked_.size();
}

size_t ChangeDetector::watched_directory_count() const {
  DetectorLock lock(mutex_);
  return RunningLocked() ? watched_directories_.size() : 0;
}

size_t ChangeDetector::polled_count() const {
  DetectorLock lock(mutex_);
  if (!RunningLocked()) return 0;
  return method_ == DetectionMethod::kPolling ? tracked_.size() : polled_.size();
}

bool ChangeDetector::RunningLocked() const {
  return method_ != DetectionMethod::kNotStarted &&
         started_in_fork_generation_ == CurrentForkGeneration();
}

void ChangeDetector::ResetWatchingLocked() {
  // The token first: a fast path that asked the old descriptor sees the
  // token change and takes the lock. In a forked child this only closes
  // the inherited descriptor; the parent's watches are untouched.
  fast_token_.store(0, std::memory_order_release);
  fast_readiness_.store(nullptr, std::memory_order_release);
  watcher_.reset();
  watched_directories_.clear();
  unwatchable_directories_.clear();
  anchors_.clear();
  polled_.clear();
  for (auto& entry : tracked_) {
    entry.second.anchors.clear();
    entry.second.watches_entries = false;
    entry.second.polled = false;
    entry.second.being_written = false;
  }
  event_paths_.clear();
  events_lost_ = false;
}

void ChangeDetector::StartLocked(bool restart) {
  ResetWatchingLocked();
  ++start_count_;
  started_in_fork_generation_ = CurrentForkGeneration();
  last_full_check_ns_ = clock_.NowNs();
  if (options_.force_polling) {
    method_ = DetectionMethod::kPolling;
    LogLocked(LogLevel::kInfo, "pyfresh: polling " + PollingSummaryLocked());
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
  fast_readiness_.store(watcher_->Readiness(), std::memory_order_release);
  // Watches first, then the comparison: a change in between is not lost.
  for (auto& entry : tracked_) {
    AnchorLocked(entry.first, &entry.second);
    if (entry.second.baseline.is_directory) AnchorEntriesLocked(entry.first, &entry.second);
  }
  std::string summary = internal::CountOf(tracked_.size(), "file", "files") + " in " +
                        internal::CountOf(watched_directories_.size(), "directory", "directories");
  const std::string polled =
      polled_.empty() ? "" : " (" + std::to_string(polled_.size()) + " of them polled)";
  if (restart) {
    LogLocked(LogLevel::kInfo,
              "pyfresh: inotify events were lost or a watched directory went away; watching " +
              summary + " again" + polled);
  } else {
    LogLocked(LogLevel::kInfo, "pyfresh: watching " + summary + " with inotify" + polled);
  }
  CompareAllLocked();
}

void ChangeDetector::FallBackToPollingLocked(const std::string& reason) {
  ResetWatchingLocked();
  method_ = DetectionMethod::kPolling;
  LogLocked(LogLevel::kWarning,
            "pyfresh: inotify unavailable (" + reason + "), polling " + PollingSummaryLocked());
  // Whatever happened while watching was not seen: compare everything.
  last_full_check_ns_ = clock_.NowNs();
  CompareAllLocked();
}

bool ChangeDetector::WatchLocked(const std::string& directory, std::string* error) {
  if (watched_directories_.count(directory) != 0) return true;
  auto known = unwatchable_directories_.find(directory);
  if (known != unwatchable_directories_.end()) {
    *error = known->second;
    return false;
  }
  Status status = watcher_->Watch(directory);
  if (!status.ok()) {
    *error = status.message();
    unwatchable_directories_.emplace(directory, status.message());
    LogLocked(LogLevel::kWarning,
              "pyfresh: " + status.message() + "; polling the files there on every check instead");
    return false;
  }
  watched_directories_.insert(directory);
  return true;
}

void ChangeDetector::PollLocked(const std::string& path, Tracked* tracked) {
  if (tracked->polled) return;
  tracked->polled = true;
  tracked->seen = tracked->baseline;
  polled_.insert(path);
}

bool ChangeDetector::AddAnchorLocked(const std::string& target, const std::string& path, Tracked* tracked) {
  std::string directory = Dirname(target);
  std::string name = Basename(target);
  bool at_ancestor = false;
  // A watched directory exists (its removal restarts the watching). A
  // component that exists but is not a directory (a zip archive on
  // sys.path: /srv/deps.zip/pkg/mod.py) is anchored where it lives.
  while (watched_directories_.count(directory) == 0 && !filesystem_.Stat(directory).is_directory) {
    std::string parent = Dirname(directory);
    if (parent == directory) break;  // "/" or "."
    name = Basename(directory);
    directory = std::move(parent);
    at_ancestor = true;
  }
  for (const Anchor& anchor : tracked->anchors) {
    if (anchor.directory == directory && anchor.name == name) return true;
  }
  std::string error;
  if (!WatchLocked(directory, &error)) {
    PollLocked(path, tracked);
    return false;
  }
  anchors_[directory][name].push_back(path);
  tracked->anchors.push_back(Anchor{std::move(directory), std::move(name), at_ancestor});
  return true;
}

void ChangeDetector::AnchorLocked(const std::string& path, Tracked* tracked) {
  UnanchorLocked(path, tracked);
  // Polled again (PollLocked) if an anchor still cannot be watched.
  tracked->polled = false;
  AddAnchorLocked(path, path, tracked);
  tracked->follows_links = false;
  if (!path.empty() && path[0] == '/') {
    Filesystem::Resolved resolved = filesystem_.ResolveLinks(path);
    for (const std::string& link : resolved.links) AddAnchorLocked(link, path, tracked);
    if (resolved.real_path != path) AddAnchorLocked(resolved.real_path, path, tracked);
    tracked->follows_links = !resolved.links.empty();
  }
  if (!tracked->polled) polled_.erase(path);
  if (tracked->watches_entries) {
    tracked->watches_entries = false;
    AnchorEntriesLocked(path, tracked);
  }
}

void ChangeDetector::AnchorEntriesLocked(const std::string& path, Tracked* tracked) {
  if (tracked->watches_entries) return;
  std::string error;
  if (!WatchLocked(path, &error)) {
    // Gone or not a directory any more: the comparison will tell.
    if (filesystem_.Stat(path).is_directory) PollLocked(path, tracked);
    return;
  }
  anchors_[path][kAnyEntry].push_back(path);
  tracked->watches_entries = true;
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
  if (tracked->watches_entries) RemoveAnchorLocked(path, kAnyEntry, path);
  for (const Anchor& anchor : tracked->anchors) RemoveAnchorLocked(anchor.directory, anchor.name, path);
  tracked->anchors.clear();
  tracked->follows_links = false;
}

void ChangeDetector::TrackLocked(const std::string& path) {
  if (path.empty()) return;
  Tracked& tracked = tracked_[path];
  const bool watching = RunningLocked() && method_ == DetectionMethod::kInotify;
  // Watch before taking the baseline, so no change slips in between.
  if (watching) AnchorLocked(path, &tracked);
  tracked.baseline = filesystem_.Stat(path);
  tracked.seen = tracked.baseline;
  tracked.being_written = false;
  if (watching && tracked.baseline.is_directory && !tracked.watches_entries) {
    AnchorEntriesLocked(path, &tracked);
    // Watched now: take the baseline again, so no entry change slips in between.
    if (tracked.watches_entries) tracked.baseline = tracked.seen = filesystem_.Stat(path);
  }
  if (tracked.polled) polled_.insert(path);
  stale_.erase(path);
}

void ChangeDetector::CompareLocked(const std::string& path, Tracked& tracked) {
  if (stale_.count(path) != 0) return;  // sticky: no need to look again
  FileIdentity now = filesystem_.Stat(path);
  if (now != tracked.baseline) {
    stale_.insert(path);
    tracked.seen = now;
  }
}

void ChangeDetector::CompareAllLocked() {
  for (auto& entry : tracked_) CompareLocked(entry.first, entry.second);
}

void ChangeDetector::ComparePolledLocked(bool now) {
  const bool all = method_ == DetectionMethod::kPolling;
  if (!all && polled_.empty()) return;
  const int64_t time = clock_.NowNs();
  if (!now && time - last_full_check_ns_ < options_.poll_interval_ns) return;
  last_full_check_ns_ = time;
  if (all) {
    CompareAllLocked();
    return;
  }
  for (const std::string& path : polled_) {
    auto it = tracked_.find(path);
    if (it != tracked_.end()) CompareLocked(path, it->second);
  }
}

void ChangeDetector::OnEntryLocked(const std::string& directory, const std::string& name, EntryEvent event) {
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
  for (const std::string& path : by_name->second) {
    auto it = tracked_.find(path);
    if (it == tracked_.end()) continue;
    // A writer at work on this very name (not a directory's entry).
    if (event == EntryEvent::kWritten) {
      it->second.being_written = true;
    } else if (event != EntryEvent::kAttributesChanged) {
      it->second.being_written = false;  // closed, or replaced, or gone
    }
    event_paths_.push_back(path);
  }
}

void ChangeDetector::DrainLocked() {
  if (!watcher_->Drain(on_entry_, on_overflow_)) return;  // the cheap, common case
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
    Tracked& tracked = it->second;
    bool reanchor = tracked.follows_links;
    for (const Anchor& anchor : tracked.anchors) reanchor = reanchor || anchor.at_ancestor;
    // A missing directory on its way may exist now, or a link on the way
    // may point elsewhere: anchor again.
    if (reanchor) AnchorLocked(path, &tracked);
    CompareLocked(path, tracked);
  }
  paths.clear();
  if (event_paths_.empty()) event_paths_.swap(paths);  // keep the capacity
}

std::string ChangeDetector::PollingSummaryLocked() const {
  return internal::CountOf(tracked_.size(), "file", "files") + " every " +
         FormatSeconds(options_.poll_interval_ns);
}

void ChangeDetector::PublishLocked() {
  has_stale_.store(!stale_.empty(), std::memory_order_release);
  uint64_t mode = 0;
  if (RunningLocked()) {
    if (method_ == DetectionMethod::kInotify && polled_.empty() && watcher_->Readiness() != nullptr) {
      mode = kFastInotify;
    } else if (method_ == DetectionMethod::kPolling) {
      mode = kFastPolling;
      next_poll_ns_.store(last_full_check_ns_ + options_.poll_interval_ns, std::memory_order_release);
    }
  }
  const uint64_t generation = (started_in_fork_generation_ + 1) & 0xffffffffu;
  fast_token_.store(mode == 0 ? 0 : (generation << 32) | ((start_count_ & 0x3fffffffu) << 2) | mode,
                    std::memory_order_release);
}

void ChangeDetector::LogLocked(LogLevel level, std::string message) {
  pending_log_.push_back(LogLine{level, std::move(message)});
}

void ChangeDetector::EmitLog(std::vector<LogLine>* lines) const {
  if (!log_) return;
  for (const LogLine& line : *lines) log_(line.level, line.message);
}

}  // namespace pyfresh
