#include "pyfresh/change_detector.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "alloc_counter.h"
#include "fakes.h"
#include "temp_dir.h"

namespace pyfresh {
namespace {

using testing::FakeClock;
using testing::FakeFilesystem;
using testing::FakeWatcherHub;
using testing::LogCollector;
using testing::TempDir;

constexpr int64_t kSecond = 1000000000;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Runs `child` in a forked child process; true when it returned true.
// The child leaves with _exit, so nothing of the test framework runs twice.
template <typename F>
bool InForkedChild(F child) {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    bool ok = false;
    ok = child();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

class ChangeDetectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChangeDetector> Make(DetectorOptions options = {}) {
    return std::make_unique<ChangeDetector>(options, fs_, clock_, hub_.Factory(), log_.Sink());
  }

  // /app/pkg/a.py and /app/pkg/b.py, tracked, detector started.
  std::unique_ptr<ChangeDetector> Started(DetectorOptions options = {}) {
    fs_.Create(kA, 5 * kSecond, 100);
    fs_.Create(kB, 5 * kSecond, 200);
    auto detector = Make(options);
    detector->Track(std::vector<std::string>{kA, kB});
    EXPECT_FALSE(detector->Check());
    return detector;
  }

  const std::string kDir = "/app/pkg";
  const std::string kA = "/app/pkg/a.py";
  const std::string kB = "/app/pkg/b.py";
  FakeFilesystem fs_;
  FakeClock clock_;
  FakeWatcherHub hub_;
  LogCollector log_;
};

TEST_F(ChangeDetectorTest, StartsLazilyOnFirstCheck) {
  fs_.Create(kA, kSecond, 1);
  auto detector = Make();
  detector->Track(kA);
  EXPECT_EQ(detector->method(), DetectionMethod::kNotStarted);
  EXPECT_EQ(hub_.created, 0);
  EXPECT_EQ(detector->tracked_count(), 1u);
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(detector->method(), DetectionMethod::kInotify);
  EXPECT_EQ(hub_.created, 1);
  EXPECT_EQ(detector->watched_directory_count(), 1u);
  EXPECT_EQ(hub_.Watched(), std::vector<std::string>{kDir});
  EXPECT_EQ(log_.lines(),
            std::vector<std::string>{"pyfresh: watching 1 file in 1 directory with inotify"});
  EXPECT_STREQ(DetectionMethodName(detector->method()), "inotify");
}

TEST_F(ChangeDetectorTest, FastPathDoesNoFileWork) {
  auto detector = Started();
  const int stats = fs_.stat_calls();
  const int drains = hub_.drains;
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats);
  EXPECT_EQ(hub_.drains, drains + 100);
  EXPECT_TRUE(detector->StalePaths().empty());
}

TEST_F(ChangeDetectorTest, SameSecondEditWithSameSizeIsStale) {
  auto detector = Started();
  fs_.Modify(kA, 5 * kSecond + 1, 100);  // 1 ns later, same size, same ctime
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kA});
}

TEST_F(ChangeDetectorTest, RestoredOlderMtimeIsStale) {
  auto detector = Started();
  fs_.Modify(kA, 1 * kSecond, 100);
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kA});
}

TEST_F(ChangeDetectorTest, AtomicRenameWithNewInodeIsStale) {
  auto detector = Started();
  fs_.Replace(kB);  // same times and size, new inode
  hub_.Emit(kDir, "b.py.tmp~");
  hub_.Emit(kDir, "b.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kB});
}

TEST_F(ChangeDetectorTest, DeletionIsStale) {
  auto detector = Started();
  fs_.Remove(kA);
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kA});
}

TEST_F(ChangeDetectorTest, AbsentThenCreatedIsStale) {
  auto detector = Started();
  const std::string candidate = "/app/pkg/c.py";
  detector->Track(candidate);  // absent candidate
  EXPECT_FALSE(detector->Check());
  fs_.Create(candidate, 9 * kSecond, 1);
  hub_.Emit(kDir, "c.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{candidate});
}

TEST_F(ChangeDetectorTest, UnrelatedNamesCauseNoStat) {
  auto detector = Started();
  const int stats = fs_.stat_calls();
  for (const char* name : {"__pycache__", ".a.py.swp", ".a.py.swx", "a.py~", "4913", "c.py",
                           "a.cpython-311.pyc", "A.py", "a.pyc"}) {
    hub_.Emit(kDir, name);
  }
  hub_.Emit("/elsewhere", "a.py");  // not watched: the kernel would not report it
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats);
}

TEST_F(ChangeDetectorTest, EventForUnchangedTrackedFileCostsOneStat) {
  auto detector = Started();
  const int stats = fs_.stat_calls();
  hub_.Emit(kDir, "a.py");
  hub_.Emit(kDir, "a.py");  // coalesced
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats + 1);
}

TEST_F(ChangeDetectorTest, StalenessIsStickyAndStaleFilesAreNotStatAgain) {
  auto detector = Started();
  fs_.Modify(kA, 6 * kSecond, 100);
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());
  const int stats = fs_.stat_calls();
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats);
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kA});
}

TEST_F(ChangeDetectorTest, TrackClearsStaleness) {
  auto detector = Started();
  fs_.Modify(kA, 6 * kSecond, 100);
  fs_.Modify(kB, 6 * kSecond, 200);
  hub_.Emit(kDir, "a.py");
  hub_.Emit(kDir, "b.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), (std::vector<std::string>{kA, kB}));  // sorted
  detector->Track(kA);
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kB});
  detector->Track(std::vector<std::string>{kB});
  EXPECT_FALSE(detector->Check());
  EXPECT_TRUE(detector->StalePaths().empty());
  // The accepted state is the new baseline.
  hub_.Emit(kDir, "a.py");
  EXPECT_FALSE(detector->Check());
}

TEST_F(ChangeDetectorTest, ChangesBeforeTheFirstCheckAreNoticed) {
  fs_.Create(kA, 5 * kSecond, 100);
  auto detector = Make();
  detector->Track(kA);
  fs_.Modify(kA, 7 * kSecond, 100);  // no watcher yet, so no event
  EXPECT_TRUE(detector->Check());     // the full comparison at start sees it
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kA});
}

TEST_F(ChangeDetectorTest, OverflowRestartsWatchingWithAFullComparison) {
  auto detector = Started();
  fs_.Modify(kB, 8 * kSecond, 200);  // its event was lost
  hub_.Overflow();
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kB});
  EXPECT_EQ(hub_.created, 2);
  EXPECT_EQ(hub_.destroyed, 1);
  EXPECT_EQ(detector->method(), DetectionMethod::kInotify);
  EXPECT_EQ(hub_.Watched(), std::vector<std::string>{kDir});
  EXPECT_TRUE(Contains(log_.joined(), "again")) << log_.joined();
  // Still watching afterwards.
  fs_.Modify(kA, 9 * kSecond, 100);
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), (std::vector<std::string>{kA, kB}));
}

TEST_F(ChangeDetectorTest, PollingRespectsTheInterval) {
  DetectorOptions options;
  options.force_polling = true;
  options.poll_interval_ns = 2 * kSecond;
  auto detector = Started(options);
  EXPECT_EQ(detector->method(), DetectionMethod::kPolling);
  EXPECT_EQ(hub_.created, 0);
  EXPECT_EQ(log_.lines(), std::vector<std::string>{"pyfresh: polling 2 files every 2 s"});
  fs_.Modify(kA, 6 * kSecond, 100);
  const int stats = fs_.stat_calls();
  clock_.Advance(kSecond);
  EXPECT_FALSE(detector->Check());  // interval not elapsed: one clock read only
  EXPECT_EQ(fs_.stat_calls(), stats);
  clock_.Advance(kSecond - 1);
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats);
  clock_.Advance(1);
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats + 2);
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kA});
  // Next full check: stale files are not stat'ed again.
  clock_.Advance(2 * kSecond);
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats + 3);
}

TEST_F(ChangeDetectorTest, PollingWithZeroIntervalComparesEveryCheck) {
  DetectorOptions options;
  options.force_polling = true;
  auto detector = Started(options);
  const int stats = fs_.stat_calls();
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats + 2);
  fs_.Replace(kB);
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kB});
}

TEST_F(ChangeDetectorTest, FallsBackToPollingWhenTheFactoryFails) {
  hub_.fail_create = true;
  fs_.Create(kA, kSecond, 1);
  std::unique_ptr<ChangeDetector> detector;
  // The sink may call back into the detector: no lock is held.
  std::vector<DetectionMethod> seen;
  detector = std::make_unique<ChangeDetector>(DetectorOptions{}, fs_, clock_, hub_.Factory(),
                                              [&](std::string_view message) {
                                                log_.Sink()(message);
                                                seen.push_back(detector->method());
                                              });
  detector->Track(kA);
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(detector->method(), DetectionMethod::kPolling);
  EXPECT_EQ(seen, std::vector<DetectionMethod>{DetectionMethod::kPolling});
  EXPECT_EQ(log_.lines(),
            std::vector<std::string>{"pyfresh: inotify unavailable (inotify_init1: Too many open "
                                     "files), polling 1 file every 0 s"});
  fs_.Modify(kA, 2 * kSecond, 1);
  EXPECT_TRUE(detector->Check());
}

TEST_F(ChangeDetectorTest, FallsBackToPollingWhenAWatchFailsAtStart) {
  hub_.fail_all_watches = true;
  DetectorOptions options;
  options.poll_interval_ns = kSecond / 2;
  auto detector = Started(options);
  EXPECT_EQ(detector->method(), DetectionMethod::kPolling);
  EXPECT_EQ(detector->watched_directory_count(), 0u);
  EXPECT_EQ(hub_.current, nullptr);  // the failed watcher was dropped
  ASSERT_EQ(log_.lines().size(), 1u);
  const std::string line = log_.lines()[0];
  EXPECT_TRUE(Contains(line, "pyfresh: inotify unavailable (")) << line;
  EXPECT_TRUE(Contains(line, "fs.inotify.max_user_watches")) << line;
  EXPECT_TRUE(Contains(line, "polling 2 files every 0.5 s")) << line;
  fs_.Modify(kB, 9 * kSecond, 200);
  EXPECT_FALSE(detector->Check());
  clock_.Advance(kSecond / 2);
  EXPECT_TRUE(detector->Check());
}

TEST_F(ChangeDetectorTest, TrackingANewDirectoryWhileRunningWatchesIt) {
  auto detector = Started();
  const std::string other = "/app/lib/util.py";
  fs_.Create(other, kSecond, 10);
  detector->Track(other);
  EXPECT_EQ(detector->watched_directory_count(), 2u);
  EXPECT_EQ(hub_.Watched(), (std::vector<std::string>{"/app/lib", kDir}));
  fs_.Modify(other, 2 * kSecond, 10);
  hub_.Emit("/app/lib", "util.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{other});
}

TEST_F(ChangeDetectorTest, TrackedDirectoryHearsAboutEveryEntry) {
  auto detector = Started();
  const std::string templates = "/app/templates";
  fs_.TouchDir(templates, kSecond);
  detector->Track(templates);
  EXPECT_EQ(hub_.Watched(), (std::vector<std::string>{"/app", kDir, templates}));
  // An entry event is confirmed by one stat of the directory: unchanged, nothing.
  hub_.Emit(templates, "page.html");
  EXPECT_FALSE(detector->Check());
  // A new entry changes the directory's mtime.
  fs_.TouchDir(templates, 2 * kSecond);
  hub_.Emit(templates, "new.html");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{templates});
  detector->Track(templates);
  EXPECT_FALSE(detector->Check());
  // Untracked: its entries are no longer heard.
  detector->RetainOnly({kA, kB});
  fs_.TouchDir(templates, 3 * kSecond);
  hub_.Emit(templates, "other.html");
  EXPECT_FALSE(detector->Check());
}

TEST_F(ChangeDetectorTest, DirectoryTrackedBeforeStartWatchesEntriesOnStart) {
  const std::string templates = "/app/templates";
  fs_.TouchDir(templates, kSecond);
  auto detector = Make();
  detector->Track(templates);
  EXPECT_FALSE(detector->Check());
  fs_.TouchDir(templates, 2 * kSecond);
  hub_.Emit(templates, "new.html");
  EXPECT_TRUE(detector->Check());
}

TEST_F(ChangeDetectorTest, FailingToWatchANewDirectoryFallsBackToPolling) {
  auto detector = Started();
  hub_.fail_watch.insert("/app/lib");
  const std::string other = "/app/lib/util.py";
  fs_.Create(other, kSecond, 10);
  fs_.Modify(kA, 9 * kSecond, 100);  // changed, event not yet drained
  detector->Track(other);
  EXPECT_EQ(detector->method(), DetectionMethod::kPolling);
  EXPECT_TRUE(Contains(log_.joined(), "inotify unavailable (cannot watch directory '/app/lib'"))
      << log_.joined();
  EXPECT_TRUE(Contains(log_.joined(), "polling 3 files every 0 s")) << log_.joined();
  // Nothing was lost in the switch, and the new file is tracked.
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kA});
  fs_.Modify(other, 2 * kSecond, 10);
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), (std::vector<std::string>{other, kA}));
}

TEST_F(ChangeDetectorTest, RetainOnlyDropsPaths) {
  auto detector = Started();
  fs_.Modify(kB, 9 * kSecond, 200);
  hub_.Emit(kDir, "b.py");
  EXPECT_TRUE(detector->Check());
  detector->RetainOnly(std::unordered_set<std::string>{kA, "/not/tracked.py"});
  EXPECT_EQ(detector->tracked_count(), 1u);
  EXPECT_FALSE(detector->Check());  // the stale dropped path is gone too
  EXPECT_TRUE(detector->StalePaths().empty());
  const int stats = fs_.stat_calls();
  fs_.Modify(kB, 10 * kSecond, 200);
  hub_.Emit(kDir, "b.py");
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats);
  // Watches may stay; the kept path is still watched.
  fs_.Modify(kA, 10 * kSecond, 100);
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());
}

TEST_F(ChangeDetectorTest, RetainOnlyBeforeStart) {
  fs_.Create(kA, kSecond, 1);
  fs_.Create(kB, kSecond, 1);
  auto detector = Make();
  detector->Track(std::vector<std::string>{kA, kB});
  detector->RetainOnly({kB});
  fs_.Modify(kA, 2 * kSecond, 1);
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(detector->tracked_count(), 1u);
}

TEST_F(ChangeDetectorTest, AbsentPathInAMissingDirectoryIsNoticedWhenCreated) {
  auto detector = Started();
  const std::string init = "/app/pkg/sub/deeper/__init__.py";
  detector->Track(init);
  EXPECT_FALSE(detector->Check());
  // Anchored at the nearest existing ancestor: no new watch yet.
  EXPECT_EQ(hub_.Watched(), std::vector<std::string>{kDir});
  fs_.MakeDir("/app/pkg/sub");
  hub_.Emit(kDir, "sub");
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(hub_.Watched(), (std::vector<std::string>{kDir, "/app/pkg/sub"}));
  fs_.MakeDir("/app/pkg/sub/deeper");
  hub_.Emit("/app/pkg/sub", "deeper");
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(detector->watched_directory_count(), 3u);
  fs_.Create(init, kSecond, 0);
  hub_.Emit("/app/pkg/sub/deeper", "__init__.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{init});
}

TEST_F(ChangeDetectorTest, MissingDirectoryCreatedWithTheFileBeforeTheWatch) {
  auto detector = Started();
  const std::string init = "/app/pkg/sub/__init__.py";
  detector->Track(init);
  EXPECT_FALSE(detector->Check());
  // mkdir and the file land before the detector reacts to the mkdir event.
  fs_.Create(init, kSecond, 0);
  hub_.Emit(kDir, "sub");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{init});
}

TEST_F(ChangeDetectorTest, RelativeAndOddPaths) {
  fs_.Create("a.py", kSecond, 1);
  fs_.MakeDir(".");
  fs_.Create("/top.py", kSecond, 1);
  auto detector = Make();
  detector->Track(std::vector<std::string>{"a.py", "/top.py", ""});
  EXPECT_EQ(detector->tracked_count(), 2u);  // "" is ignored
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(hub_.Watched(), (std::vector<std::string>{".", "/"}));
  fs_.Modify("a.py", 2 * kSecond, 1);
  hub_.Emit(".", "a.py");
  EXPECT_TRUE(detector->Check());
  fs_.Modify("/top.py", 2 * kSecond, 1);
  hub_.Emit("/", "top.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), (std::vector<std::string>{"/top.py", "a.py"}));
}

TEST_F(ChangeDetectorTest, WorksWithoutALogSink) {
  hub_.fail_create = true;
  fs_.Create(kA, kSecond, 1);
  ChangeDetector detector(DetectorOptions{}, fs_, clock_, hub_.Factory(), nullptr);
  detector.Track(kA);
  EXPECT_FALSE(detector.Check());
  EXPECT_EQ(detector.method(), DetectionMethod::kPolling);
}

TEST_F(ChangeDetectorTest, ForkedChildCreatesItsOwnWatcher) {
  auto detector = Started();
  ASSERT_EQ(hub_.created, 1);
  const bool child_ok = InForkedChild([&] {
    // Inherited state reports "not started" until the child's first Check.
    if (detector->method() != DetectionMethod::kNotStarted) return false;
    if (detector->watched_directory_count() != 0) return false;
    // An edit made in the child before its first Check (e.g. since the
    // parent imported the code) is found by the full comparison at start.
    fs_.Modify(kB, 7 * kSecond, 200);
    if (!detector->Check()) return false;
    if (hub_.created != 2 || hub_.destroyed != 1) return false;  // old one dropped
    if (detector->method() != DetectionMethod::kInotify) return false;
    detector->Track(kB);
    if (detector->Check()) return false;
    fs_.Modify(kA, 8 * kSecond, 100);
    hub_.Emit(kDir, "a.py");
    if (!detector->Check()) return false;
    return detector->StalePaths() == std::vector<std::string>{kA};
  });
  EXPECT_TRUE(child_ok);
  // The parent's own watcher is untouched.
  EXPECT_EQ(hub_.created, 1);
  EXPECT_EQ(detector->method(), DetectionMethod::kInotify);
  EXPECT_FALSE(detector->Check());
  hub_.Emit(kDir, "a.py");
  EXPECT_FALSE(detector->Check());
}

TEST_F(ChangeDetectorTest, ForkBeforeAnyCheck) {
  fs_.Create(kA, kSecond, 1);
  auto detector = Make();
  detector->Track(kA);
  const bool child_ok = InForkedChild([&] {
    if (detector->Check()) return false;
    if (hub_.created != 1 || detector->method() != DetectionMethod::kInotify) return false;
    fs_.Modify(kA, 2 * kSecond, 1);
    hub_.Emit(kDir, "a.py");
    return detector->Check();
  });
  EXPECT_TRUE(child_ok);
  EXPECT_EQ(hub_.created, 0);
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(hub_.created, 1);
}

TEST_F(ChangeDetectorTest, CurrentForkGenerationIsBumpedInChildrenOnly) {
  const uint64_t before = CurrentForkGeneration();
  const bool child_ok = InForkedChild([&] {
    const bool bumped = CurrentForkGeneration() == before + 1;
    const bool grandchild_ok = InForkedChild([&] { return CurrentForkGeneration() == before + 2; });
    return bumped && grandchild_ok;
  });
  EXPECT_TRUE(child_ok);
  EXPECT_EQ(CurrentForkGeneration(), before);
}

TEST_F(ChangeDetectorTest, DetectionMethodNames) {
  EXPECT_STREQ(DetectionMethodName(DetectionMethod::kNotStarted), "not started");
  EXPECT_STREQ(DetectionMethodName(DetectionMethod::kInotify), "inotify");
  EXPECT_STREQ(DetectionMethodName(DetectionMethod::kPolling), "polling");
}

// ---------------------------------------------------------------------------
// The real thing: inotify on files in a temporary directory.

class RealInotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::MakeDir(dir_.Path("pkg")));
    ASSERT_TRUE(testing::WriteFile(Module(), "x = 1\n"));
    ASSERT_TRUE(testing::WriteFile(dir_.Path("pkg/__init__.py"), ""));
    ASSERT_TRUE(testing::Backdate(Module()));
    ASSERT_TRUE(testing::Backdate(dir_.Path("pkg/__init__.py")));
    detector_ = std::make_unique<ChangeDetector>(DetectorOptions{}, RealFilesystem(), RealClock(),
                                                 &CreateInotifyWatcher, log_.Sink());
    detector_->Track(std::vector<std::string>{Module(), dir_.Path("pkg/__init__.py")});
    ASSERT_FALSE(detector_->Check());
    ASSERT_EQ(detector_->method(), DetectionMethod::kInotify) << log_.joined();
  }

  std::string Module() const { return dir_.Path("pkg/mod.py"); }

  TempDir dir_;
  LogCollector log_;
  std::unique_ptr<ChangeDetector> detector_;
};

TEST_F(RealInotifyTest, FastPathAllocatesNothing) {
  ASSERT_FALSE(detector_->Check());
  testing::AllocationCounter counter;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i) detector_->Check();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(counter.count(), 0);
  std::printf("inotify fast path: %.0f ns per Check()\n",
              std::chrono::duration<double, std::nano>(elapsed).count() / 10000);
}

TEST(PollingFastPath, AllocatesNothingAndStatsNothingWithinTheInterval) {
  TempDir dir;
  ASSERT_TRUE(testing::WriteFile(dir.Path("a.py"), ""));
  DetectorOptions options;
  options.force_polling = true;
  options.poll_interval_ns = int64_t{3600} * kSecond;
  ChangeDetector detector(options, RealFilesystem(), RealClock(), &CreateInotifyWatcher, nullptr);
  detector.Track(dir.Path("a.py"));
  ASSERT_FALSE(detector.Check());
  ASSERT_EQ(detector.method(), DetectionMethod::kPolling);
  testing::AllocationCounter counter;
  for (int i = 0; i < 10000; ++i) detector.Check();
  EXPECT_EQ(counter.count(), 0);
}

TEST_F(RealInotifyTest, MonitorThreadRaisesTheFastPathFlag) {
  // Check() learns of the save from the monitor thread, microseconds after
  // the write: wait for it, bounded.
  ASSERT_TRUE(testing::WriteFile(Module(), "x = 7\n"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool stale = false;
  while (!(stale = detector_->Check()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  EXPECT_TRUE(stale);
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{Module()});
  // Accepted: the flag was re-armed, and the next save is seen again.
  detector_->Track(Module());
  EXPECT_FALSE(detector_->CheckNow());
  ASSERT_TRUE(testing::ReplaceFile(Module(), "x = 8\n"));
  while (!(stale = detector_->Check()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  EXPECT_TRUE(stale);
}

TEST_F(RealInotifyTest, SaveIsSeenByTheNextCheckAfterAQuietPeriod) {
  // 2 ms after the last read of the queue, Check() reads it itself: the
  // save is seen at once, whether or not the monitor thread has woken.
  for (int round = 0; round < 20; ++round) {
    ASSERT_FALSE(detector_->Check());
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    ASSERT_TRUE(testing::WriteFile(Module(), round % 2 ? "x = 1\n" : "x = 2\n"));
    ASSERT_TRUE(detector_->Check()) << "round " << round;
    detector_->Track(Module());
  }
}

TEST_F(RealInotifyTest, InPlaceWrite) {
  ASSERT_TRUE(testing::WriteFile(Module(), "x = 2\n"));  // same size
  EXPECT_TRUE(detector_->CheckNow());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{Module()});
}

TEST_F(RealInotifyTest, AtomicRenameOverTheFile) {
  ASSERT_TRUE(testing::ReplaceFile(Module(), "x = 3\n"));
  EXPECT_TRUE(detector_->CheckNow());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{Module()});
  // The watch is on the directory, so it survives the inode change.
  detector_->Track(Module());
  EXPECT_FALSE(detector_->CheckNow());
  ASSERT_TRUE(testing::ReplaceFile(Module(), "x = 4\n"));
  EXPECT_TRUE(detector_->CheckNow());
}

TEST_F(RealInotifyTest, Delete) {
  ASSERT_EQ(::unlink(Module().c_str()), 0);
  EXPECT_TRUE(detector_->CheckNow());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{Module()});
}

TEST_F(RealInotifyTest, BytecodeInPycacheChangesNothing) {
  ASSERT_TRUE(testing::MakeDir(dir_.Path("pkg/__pycache__")));
  ASSERT_TRUE(testing::WriteFile(dir_.Path("pkg/__pycache__/mod.cpython-311.pyc"), "bytecode"));
  ASSERT_TRUE(testing::ReplaceFile(dir_.Path("pkg/__pycache__/mod.cpython-311.pyc"), "bytecode2"));
  EXPECT_FALSE(detector_->CheckNow());
  EXPECT_TRUE(detector_->StalePaths().empty());
}

TEST_F(RealInotifyTest, EditorSwapFileChangesNothing) {
  ASSERT_TRUE(testing::WriteFile(dir_.Path("pkg/.mod.py.swp"), "swap"));
  ASSERT_TRUE(testing::WriteFile(dir_.Path("pkg/.mod.py.swp"), "swap2"));
  ASSERT_EQ(::unlink(dir_.Path("pkg/.mod.py.swp").c_str()), 0);
  EXPECT_FALSE(detector_->CheckNow());
}

TEST_F(RealInotifyTest, CreatedCandidate) {
  const std::string candidate = dir_.Path("pkg/new.py");
  detector_->Track(candidate);
  EXPECT_FALSE(detector_->CheckNow());
  ASSERT_TRUE(testing::WriteFile(candidate, ""));
  EXPECT_TRUE(detector_->CheckNow());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{candidate});
}

TEST_F(RealInotifyTest, TrackedDirectorySeesNewRemovedAndRenamedEntries) {
  const std::string templates = dir_.Path("templates");
  ASSERT_TRUE(testing::MakeDir(templates));
  detector_->Track(templates);
  EXPECT_FALSE(detector_->CheckNow());
  ASSERT_TRUE(testing::WriteFile(templates + "/new.html", "<p>"));
  EXPECT_TRUE(detector_->CheckNow());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{templates});
  detector_->Track(templates);
  EXPECT_FALSE(detector_->CheckNow());
  ASSERT_EQ(::rename((templates + "/new.html").c_str(), (templates + "/renamed.html").c_str()), 0);
  EXPECT_TRUE(detector_->CheckNow());
  detector_->Track(templates);
  ASSERT_EQ(::unlink((templates + "/renamed.html").c_str()), 0);
  EXPECT_TRUE(detector_->CheckNow());
}

TEST_F(RealInotifyTest, CandidateInANewSubpackage) {
  const std::string candidate = dir_.Path("pkg/sub/__init__.py");
  detector_->Track(candidate);
  EXPECT_FALSE(detector_->CheckNow());
  ASSERT_TRUE(testing::MakeDir(dir_.Path("pkg/sub")));
  EXPECT_FALSE(detector_->CheckNow());
  ASSERT_TRUE(testing::WriteFile(candidate, ""));
  EXPECT_TRUE(detector_->CheckNow());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{candidate});
}

TEST_F(RealInotifyTest, WatchedDirectoryReplaced) {
  // git checkout of another branch: the package directory goes away and comes back.
  ASSERT_EQ(std::system(("rm -rf '" + dir_.Path("pkg") + "'").c_str()), 0);
  EXPECT_TRUE(detector_->CheckNow());
  ASSERT_TRUE(testing::MakeDir(dir_.Path("pkg")));
  ASSERT_TRUE(testing::WriteFile(Module(), "x = 9\n"));
  ASSERT_TRUE(testing::WriteFile(dir_.Path("pkg/__init__.py"), ""));
  ASSERT_TRUE(testing::Backdate(Module()));
  detector_->Track(std::vector<std::string>{Module(), dir_.Path("pkg/__init__.py")});
  EXPECT_FALSE(detector_->CheckNow()) << ::testing::PrintToString(detector_->StalePaths());
  ASSERT_TRUE(testing::WriteFile(Module(), "x = 10\n"));
  EXPECT_TRUE(detector_->CheckNow());
}

TEST_F(RealInotifyTest, ForkedChildWatchesOnItsOwn) {
#if defined(__SANITIZE_THREAD__)
  // TSan cannot start threads in a child of a multi-threaded fork (the
  // monitor thread); the normal and ASan builds run this test.
  GTEST_SKIP() << "ThreadSanitizer does not support threads after a multi-threaded fork";
#endif
  const bool child_ok = InForkedChild([&] {
    if (detector_->method() != DetectionMethod::kNotStarted) return false;
    if (detector_->CheckNow()) return false;
    if (detector_->method() != DetectionMethod::kInotify) return false;
    if (!testing::WriteFile(Module(), "x = 5\n")) return false;
    return detector_->CheckNow();
  });
  EXPECT_TRUE(child_ok);
  // The parent's inotify instance still works after the child closed its copy.
  EXPECT_TRUE(detector_->CheckNow());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{Module()});
}

TEST_F(RealInotifyTest, ConcurrentChecksAndTracks) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      while (!stop) {
        detector_->Check();
        detector_->StalePaths();
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 200; ++i) {
      const std::string path = dir_.Path("pkg/m" + std::to_string(i % 20) + ".py");
      testing::WriteFile(path, std::to_string(i));
      detector_->Track(path);
      if (i % 50 == 0) detector_->RetainOnly({Module()});
    }
  });
  threads.back().join();
  threads.pop_back();
  stop = true;
  for (std::thread& thread : threads) thread.join();
  detector_->Track(Module());
  detector_->RetainOnly({Module()});
  EXPECT_FALSE(detector_->CheckNow()) << ::testing::PrintToString(detector_->StalePaths());
  ASSERT_TRUE(testing::WriteFile(Module(), "x = 6\n"));
  EXPECT_TRUE(detector_->CheckNow());
}

}  // namespace
}  // namespace pyfresh
