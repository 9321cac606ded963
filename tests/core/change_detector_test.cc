#include "pyfresh/change_detector.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "alloc_counter.h"
#include "fakes.h"
#include "inotify_fds.h"
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

// Each log line carries its level: hosts map it, never the message's words.
TEST_F(ChangeDetectorTest, LogLinesCarryTheirLevel) {
  hub_.fail_watch.insert("/mnt/nfs");
  fs_.Create(kA, 5 * kSecond, 100);
  fs_.Create("/mnt/nfs/shared.py", 5 * kSecond, 10);
  auto watching = Make();
  watching->Track(std::vector<std::string>{kA, "/mnt/nfs/shared.py"});
  EXPECT_FALSE(watching->Check());
  // The unwatchable directory (a warning), then the method in use (info).
  EXPECT_EQ(log_.levels(), (std::vector<LogLevel>{LogLevel::kWarning, LogLevel::kInfo})) << log_.joined();

  LogCollector fallback_log;
  hub_.fail_create = true;
  ChangeDetector fallback(DetectorOptions{}, fs_, clock_, hub_.Factory(), fallback_log.Sink());
  fallback.Track(kA);
  EXPECT_FALSE(fallback.Check());
  EXPECT_EQ(fallback_log.levels(), std::vector<LogLevel>{LogLevel::kWarning}) << fallback_log.joined();
  EXPECT_STREQ(LogLevelName(LogLevel::kWarning), "warning");
}

TEST_F(ChangeDetectorTest, FallsBackToPollingWhenTheFactoryFails) {
  hub_.fail_create = true;
  fs_.Create(kA, kSecond, 1);
  std::unique_ptr<ChangeDetector> detector;
  // The sink may call back into the detector: no lock is held.
  std::vector<DetectionMethod> seen;
  detector = std::make_unique<ChangeDetector>(DetectorOptions{}, fs_, clock_, hub_.Factory(),
                                              [&](LogLevel level, std::string_view message) {
                                                log_.Sink()(level, message);
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

TEST_F(ChangeDetectorTest, AWatchFailingAtStartPollsOnlyTheFilesThere) {
  // One unwatchable directory (an NFS mount, the watch limit) costs a stat
  // per check of its own files only; the rest stays on inotify.
  hub_.fail_watch.insert("/mnt/nfs");
  fs_.Create(kA, 5 * kSecond, 100);
  const std::string remote = "/mnt/nfs/shared.py";
  fs_.Create(remote, 5 * kSecond, 10);
  auto detector = Make();
  detector->Track(std::vector<std::string>{kA, remote});
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(detector->method(), DetectionMethod::kInotify);
  EXPECT_EQ(detector->polled_count(), 1u);
  EXPECT_TRUE(Contains(log_.joined(), "cannot watch directory '/mnt/nfs'")) << log_.joined();
  EXPECT_TRUE(Contains(log_.joined(), "polling the files there on every check")) << log_.joined();
  EXPECT_TRUE(Contains(log_.joined(), "watching 2 files in 1 directory with inotify (1 of them polled)"))
      << log_.joined();
  // The polled file is compared on the next check, without any event.
  const int stats = fs_.stat_calls();
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(fs_.stat_calls(), stats + 1);  // that one file, not kA
  fs_.Modify(remote, 9 * kSecond, 10);
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{remote});
  // The watched file still needs its event.
  fs_.Modify(kA, 9 * kSecond, 100);
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), (std::vector<std::string>{kA, remote}));
}

TEST_F(ChangeDetectorTest, PolledFilesRespectThePollInterval) {
  hub_.fail_watch.insert("/mnt/nfs");
  const std::string remote = "/mnt/nfs/shared.py";
  fs_.Create(remote, 5 * kSecond, 10);
  DetectorOptions options;
  options.poll_interval_ns = kSecond;
  auto detector = Make(options);
  detector->Track(remote);
  EXPECT_FALSE(detector->Check());
  fs_.Modify(remote, 9 * kSecond, 10);
  EXPECT_FALSE(detector->Check());  // within the interval
  EXPECT_TRUE(detector->CheckNow());  // CheckNow compares whatever the interval
}

TEST_F(ChangeDetectorTest, WholeProcessPollingOnlyWhenNoWatcherCanBeMade) {
  hub_.fail_create = true;
  DetectorOptions options;
  options.poll_interval_ns = kSecond / 2;
  auto detector = Started(options);
  EXPECT_EQ(detector->method(), DetectionMethod::kPolling);
  EXPECT_EQ(detector->polled_count(), 2u);
  fs_.Modify(kB, 9 * kSecond, 200);
  EXPECT_FALSE(detector->Check());
  clock_.Advance(kSecond / 2);
  EXPECT_TRUE(detector->Check());
}

TEST_F(ChangeDetectorTest, CheckNowComparesWhateverThePollInterval) {
  // The engine's consistency re-check after a reload: a save that landed
  // while the app was imported must be seen, even mid-interval.
  DetectorOptions options;
  options.force_polling = true;
  options.poll_interval_ns = 3600 * kSecond;
  auto detector = Started(options);
  fs_.Modify(kA, 9 * kSecond, 100);
  EXPECT_FALSE(detector->Check());
  EXPECT_TRUE(detector->CheckNow());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kA});
}

TEST_F(ChangeDetectorTest, AcceptSeenTakesTheIdentityFoundStaleNotAFreshStat) {
  auto detector = Started();
  fs_.Modify(kA, 6 * kSecond, 101);  // the typo
  hub_.Emit(kDir, "a.py");
  ASSERT_TRUE(detector->Check());
  fs_.Modify(kA, 7 * kSecond, 100);  // the fix, saved while the reload failed
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());  // event read while stale: not compared
  detector->AcceptSeen({kA});
  EXPECT_TRUE(detector->Check()) << "the fix was accepted without being imported";
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{kA});
}

TEST_F(ChangeDetectorTest, AcceptSeenSettlesAFileThatDidNotChangeAgain) {
  auto detector = Started();
  fs_.Modify(kA, 6 * kSecond, 101);
  hub_.Emit(kDir, "a.py");
  ASSERT_TRUE(detector->Check());
  detector->AcceptSeen({kA, kB, "/not/tracked.py"});
  EXPECT_FALSE(detector->Check());
  fs_.Modify(kA, 7 * kSecond, 100);
  hub_.Emit(kDir, "a.py");
  EXPECT_TRUE(detector->Check());
}

TEST_F(ChangeDetectorTest, UnsettledWhileAWriterHasTheFileOpen) {
  auto detector = Started();
  fs_.Modify(kA, 6 * kSecond, 0);  // truncated
  hub_.Emit(kDir, "a.py", EntryEvent::kWritten);
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->Unsettled({kA, kB}), std::vector<std::string>{kA});
  hub_.Emit(kDir, "a.py", EntryEvent::kAttributesChanged);
  EXPECT_EQ(detector->Unsettled({kA}), std::vector<std::string>{kA});
  hub_.Emit(kDir, "a.py", EntryEvent::kWriteClosed);
  EXPECT_TRUE(detector->Unsettled({kA}).empty());
  // Created, then renamed over (an atomic save): nobody writes it any more.
  hub_.Emit(kDir, "a.py", EntryEvent::kWritten);
  hub_.Emit(kDir, "a.py", EntryEvent::kOther);
  EXPECT_TRUE(detector->Unsettled({kA}).empty());
  // Tracking again (the reload read it) forgets the writer.
  hub_.Emit(kDir, "a.py", EntryEvent::kWritten);
  EXPECT_EQ(detector->Unsettled({kA}), std::vector<std::string>{kA});
  detector->Track(kA);
  EXPECT_TRUE(detector->Unsettled({kA}).empty());
}

TEST_F(ChangeDetectorTest, UnsettledWhenPolledUntilTwoLooksAgree) {
  DetectorOptions options;
  options.force_polling = true;
  auto detector = Started(options);
  fs_.Modify(kA, 6 * kSecond, 0);
  ASSERT_TRUE(detector->Check());
  EXPECT_TRUE(detector->Unsettled({kA}).empty());  // as when found stale
  fs_.Modify(kA, 7 * kSecond, 50);  // still growing
  EXPECT_EQ(detector->Unsettled({kA}), std::vector<std::string>{kA});
  EXPECT_TRUE(detector->Unsettled({kA}).empty());
}

TEST_F(ChangeDetectorTest, SymlinkedFileHearsAboutItsTarget) {
  // app/utils.py -> ../libs/utils.py (a monorepo): editing the target is
  // an event in libs/, under the target's name.
  fs_.Create("/repo/libs/utils.py", kSecond, 10);
  fs_.Create("/repo/app/utils.py", kSecond, 10);  // what stat() follows to
  fs_.Link("/repo/app/utils.py", "../libs/utils.py");
  auto detector = Make();
  detector->Track(std::string("/repo/app/utils.py"));
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(hub_.Watched(), (std::vector<std::string>{"/repo/app", "/repo/libs"}));
  fs_.Modify("/repo/app/utils.py", 2 * kSecond, 11);
  hub_.Emit("/repo/libs", "utils.py");
  EXPECT_TRUE(detector->Check());
  EXPECT_EQ(detector->StalePaths(), std::vector<std::string>{"/repo/app/utils.py"});
}

TEST_F(ChangeDetectorTest, ReleaseSwitchAboveTheCodeIsHeardWhereTheLinkLives) {
  // /srv/current -> releases/v1; `ln -sfn releases/v2 current` renames a
  // new link over it: an event in /srv about "current".
  const std::string module = "/srv/current/app/views.py";
  fs_.Create(module, kSecond, 10);
  fs_.MakeDir("/srv/releases/v1/app");
  fs_.Link("/srv/current", "releases/v1");
  auto detector = Make();
  detector->Track(module);
  EXPECT_FALSE(detector->Check());
  const std::vector<std::string> watched = hub_.Watched();
  EXPECT_NE(std::find(watched.begin(), watched.end(), "/srv"), watched.end());
  EXPECT_NE(std::find(watched.begin(), watched.end(), "/srv/releases/v1/app"), watched.end());
  fs_.MakeDir("/srv/releases/v2/app");
  fs_.Link("/srv/current", "releases/v2");
  fs_.Replace(module);
  hub_.Emit("/srv", "current");
  EXPECT_TRUE(detector->Check());
  // Tracked again after the reload: now anchored in v2 as well.
  detector->Track(module);
  EXPECT_FALSE(detector->Check());
  const std::vector<std::string> now = hub_.Watched();
  EXPECT_NE(std::find(now.begin(), now.end(), "/srv/releases/v2/app"), now.end());
  fs_.Modify(module, 3 * kSecond, 12);
  hub_.Emit("/srv/releases/v2/app", "views.py");
  EXPECT_TRUE(detector->Check());
}

TEST_F(ChangeDetectorTest, PathInsideAnArchiveIsAnchoredAtTheArchive) {
  // zipimport origins (/srv/deps.zip/pkg/mod.py) are no directory path: no
  // fallback, no polling; the archive's own directory is watched.
  fs_.Create("/srv/deps.zip", kSecond, 1000);
  auto detector = Make();
  detector->Track(std::string("/srv/deps.zip/pkg/mod.py"));
  EXPECT_FALSE(detector->Check());
  EXPECT_EQ(detector->method(), DetectionMethod::kInotify);
  EXPECT_EQ(detector->polled_count(), 0u);
  EXPECT_EQ(hub_.Watched(), std::vector<std::string>{"/srv"});
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

TEST_F(ChangeDetectorTest, FailingToWatchANewDirectoryPollsOnlyItsFiles) {
  auto detector = Started();
  hub_.fail_watch.insert("/app/lib");
  const std::string other = "/app/lib/util.py";
  fs_.Create(other, kSecond, 10);
  fs_.Modify(kA, 9 * kSecond, 100);  // changed, event not yet drained
  hub_.Emit(kDir, "a.py");
  detector->Track(other);
  EXPECT_EQ(detector->method(), DetectionMethod::kInotify);
  EXPECT_EQ(detector->polled_count(), 1u);
  EXPECT_TRUE(Contains(log_.joined(), "cannot watch directory '/app/lib'")) << log_.joined();
  // Nothing was lost, and the new file is compared on every check.
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

TEST_F(ChangeDetectorTest, ForkWaitsForADrainInProgress) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer does not support fork after threads";
#endif
  // Another thread is half-way through a drain (lock held, draining_
  // raised) when this one forks: the fork waits for it, so the child can
  // use the detector and its checks are lock-free again.
  hub_.EnableLockFreeChecks();
  auto detector = Started();
  int drains = hub_.drains;
  EXPECT_FALSE(detector->Check());
  ASSERT_EQ(hub_.drains, drains) << "no lock-free check in the parent";
  fs_.Modify(kA, 6 * kSecond, 100);
  hub_.Emit(kDir, "a.py");
  hub_.hold_drains = true;
  std::thread drainer([&] { detector->Check(); });
  for (int waited = 0; !hub_.in_drain && waited < 10000; ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!hub_.in_drain) {
    hub_.hold_drains = false;
    drainer.join();
    FAIL() << "the check did not drain";
  }
  std::atomic<bool> child_ok{false};
  std::thread forker([&] {
    child_ok = InForkedChild([&] {
      ::alarm(30);  // a child that inherited the drain would hang here
      if (!detector->Check()) return false;
      detector->Track(kA);
      if (detector->Check()) return false;
      const int before = hub_.drains;
      for (int i = 0; i < 10; ++i) {
        if (detector->Check()) return false;
      }
      return hub_.drains == before;  // lock-free: draining_ is 0 here
    });
  });
  // Let the fork start while the drain is held (it must wait for it).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  hub_.hold_drains = false;
  drainer.join();
  forker.join();
  EXPECT_TRUE(child_ok);
  EXPECT_TRUE(detector->Check());
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

TEST_F(RealInotifyTest, WaitForChangeWakesOnASaveMadeWhileItSleeps) {
  // The test loop's wait: asleep in poll() on the inotify descriptor, woken
  // by the save (an hour's timeout: returning at all shows it woke).
  std::thread writer([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    testing::WriteFile(Module(), "x = 22\n");
  });
  bool stale = false;
  for (int i = 0; i < 5 && !stale; ++i) stale = detector_->WaitForChange(int64_t{3600} * kSecond);
  writer.join();
  EXPECT_TRUE(stale);
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{Module()});
}

TEST_F(RealInotifyTest, WaitForChangeReturnsFalseWhenNothingChangedInTime) {
  EXPECT_FALSE(detector_->WaitForChange(20 * 1000000));
  // An event about an untracked name wakes it without a change.
  std::thread writer([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    testing::WriteFile(dir_.Path("pkg/notes.txt"), "x");
  });
  EXPECT_FALSE(detector_->WaitForChange(int64_t{3600} * kSecond));
  writer.join();
  EXPECT_TRUE(detector_->StalePaths().empty());
}

TEST(PollingWait, WaitForChangeComparesFilesAfterThePollInterval) {
  TempDir dir;
  ASSERT_TRUE(testing::WriteFile(dir.Path("a.py"), "a = 1\n"));
  ASSERT_TRUE(testing::Backdate(dir.Path("a.py")));
  DetectorOptions options;
  options.force_polling = true;
  options.poll_interval_ns = 10 * 1000000;
  ChangeDetector detector(options, RealFilesystem(), RealClock(), &CreateInotifyWatcher, nullptr);
  detector.Track(dir.Path("a.py"));
  ASSERT_FALSE(detector.Check());
  EXPECT_FALSE(detector.WaitForChange(int64_t{3600} * kSecond));  // one interval, then a look
  ASSERT_TRUE(testing::WriteFile(dir.Path("a.py"), "a = 2\n"));
  EXPECT_TRUE(detector.WaitForChange(0));
}

TEST_F(RealInotifyTest, EverySaveIsSeenByTheVeryNextCheck) {
  // No waiting, no quiet period: the kernel has queued the event before
  // the writer's close()/rename() returns, and Check() asks it.
  for (int round = 0; round < 2000; ++round) {
    if (round % 2) {
      ASSERT_TRUE(testing::WriteFile(Module(), round % 4 == 1 ? "x = 1\n" : "x = 2\n"));
    } else {
      ASSERT_TRUE(testing::ReplaceFile(Module(), round % 4 == 0 ? "x = 3\n" : "x = 4\n"));
    }
    ASSERT_TRUE(detector_->Check()) << "round " << round;
    detector_->Track(Module());
    ASSERT_FALSE(detector_->Check()) << "round " << round;
  }
}

TEST_F(RealInotifyTest, ASaveIsSeenByAnotherThreadWhileOthersDrain) {
  // Other threads keep checking (and so keep reading the queue); a check
  // that starts after the save completed must still report it, even when
  // another thread has read the event and not yet published it.
  std::atomic<bool> stop{false};
  std::vector<std::thread> checkers;
  for (int i = 0; i < 2; ++i) {
    checkers.emplace_back([&] {
      while (!stop) detector_->Check();
    });
  }
  int missed = 0;
  for (int round = 0; round < 500; ++round) {
    ASSERT_TRUE(testing::WriteFile(Module(), round % 2 ? "x = 1\n" : "x = 2\n"));
    std::atomic<bool> seen{false};
    std::thread request([&] { seen = detector_->Check(); });
    request.join();
    if (!seen) ++missed;
    detector_->Track(Module());
  }
  stop = true;
  for (std::thread& thread : checkers) thread.join();
  EXPECT_EQ(missed, 0);
}

TEST_F(RealInotifyTest, WriterStillAtWorkIsUnsettled) {
  const int fd = ::open(Module().c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(detector_->Check());
  EXPECT_EQ(detector_->Unsettled({Module()}), std::vector<std::string>{Module()});
  ASSERT_EQ(::write(fd, "x = 5\n", 6), 6);
  EXPECT_EQ(detector_->Unsettled({Module()}), std::vector<std::string>{Module()});
  ::close(fd);
  EXPECT_TRUE(detector_->Unsettled({Module()}).empty());
}

TEST_F(RealInotifyTest, EditOfASymlinkedFilesTarget) {
  ASSERT_TRUE(testing::MakeDir(dir_.Path("libs")));
  ASSERT_TRUE(testing::WriteFile(dir_.Path("libs/utils.py"), "u = 1\n"));
  ASSERT_EQ(::symlink("../libs/utils.py", dir_.Path("pkg/utils.py").c_str()), 0);
  detector_->Track(dir_.Path("pkg/utils.py"));
  ASSERT_FALSE(detector_->CheckNow());
  ASSERT_TRUE(testing::WriteFile(dir_.Path("libs/utils.py"), "u = 2\n"));
  EXPECT_TRUE(detector_->Check());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{dir_.Path("pkg/utils.py")});
}

TEST_F(RealInotifyTest, ReleaseSwitchOfASymlinkAboveTheCode) {
  for (const char* release : {"releases/v1/app", "releases/v2/app"}) {
    ASSERT_EQ(std::system(("mkdir -p '" + dir_.Path(release) + "'").c_str()), 0);
  }
  ASSERT_TRUE(testing::WriteFile(dir_.Path("releases/v1/app/views.py"), "v = 1\n"));
  ASSERT_TRUE(testing::WriteFile(dir_.Path("releases/v2/app/views.py"), "v = 2\n"));
  ASSERT_EQ(::symlink("releases/v1", dir_.Path("current").c_str()), 0);
  const std::string views = dir_.Path("current/app/views.py");
  detector_->Track(views);
  ASSERT_FALSE(detector_->CheckNow());
  // ln -sfn releases/v2 current: a new link renamed over the old one.
  ASSERT_EQ(::symlink("releases/v2", dir_.Path("current.new").c_str()), 0);
  ASSERT_EQ(::rename(dir_.Path("current.new").c_str(), dir_.Path("current").c_str()), 0);
  EXPECT_TRUE(detector_->Check());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{views});
  // Tracked again (the reload read v2): an edit in v2 is heard.
  detector_->Track(views);
  ASSERT_FALSE(detector_->CheckNow());
  ASSERT_TRUE(testing::WriteFile(dir_.Path("releases/v2/app/views.py"), "v = 3\n"));
  EXPECT_TRUE(detector_->Check());
}

TEST_F(RealInotifyTest, SymlinkedPackageDirectoryRepointed) {
  ASSERT_TRUE(testing::MakeDir(dir_.Path("a")));
  ASSERT_TRUE(testing::MakeDir(dir_.Path("b")));
  ASSERT_TRUE(testing::WriteFile(dir_.Path("a/m.py"), "m = 1\n"));
  ASSERT_TRUE(testing::WriteFile(dir_.Path("b/m.py"), "m = 2\n"));
  ASSERT_EQ(::symlink("../a", dir_.Path("pkg/sub").c_str()), 0);
  detector_->Track(dir_.Path("pkg/sub/m.py"));
  ASSERT_FALSE(detector_->CheckNow());
  ASSERT_EQ(::unlink(dir_.Path("pkg/sub").c_str()), 0);
  ASSERT_EQ(::symlink("../b", dir_.Path("pkg/sub").c_str()), 0);
  EXPECT_TRUE(detector_->Check());
}

TEST_F(RealInotifyTest, AnArchiveOnThePathNeedsNoPolling) {
  ASSERT_TRUE(testing::WriteFile(dir_.Path("deps.zip"), "PK"));
  detector_->Track(dir_.Path("deps.zip/pkg/mod.py"));
  detector_->Track(dir_.Path("deps.zip"));
  EXPECT_FALSE(detector_->CheckNow());
  EXPECT_EQ(detector_->method(), DetectionMethod::kInotify);
  EXPECT_EQ(detector_->polled_count(), 0u);
  ASSERT_TRUE(testing::ReplaceFile(dir_.Path("deps.zip"), "PK2"));
  EXPECT_TRUE(detector_->Check());
  EXPECT_EQ(detector_->StalePaths(), std::vector<std::string>{dir_.Path("deps.zip")});
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
  // TSan does not support fork() in a process that has run threads (the
  // other tests of this binary); the normal and ASan builds run this test.
  GTEST_SKIP() << "ThreadSanitizer does not support fork after threads";
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

// ---------------------------------------------------------------------------
// Every detector of a process on one inotify instance.

class SharedInotifyTest : public ::testing::Test {
 protected:
  // A detector tracking `count` modules in directory `name`, started.
  std::unique_ptr<ChangeDetector> Detector(const std::string& name, int count = 1) {
    EXPECT_TRUE(testing::MakeDir(dir_.Path(name)) || ::access(dir_.Path(name).c_str(), F_OK) == 0);
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      paths.push_back(dir_.Path(name + "/m" + std::to_string(i) + ".py"));
      EXPECT_TRUE(testing::WriteFile(paths.back(), "x = 1\n"));
      EXPECT_TRUE(testing::Backdate(paths.back()));
    }
    auto detector = std::make_unique<ChangeDetector>(DetectorOptions{}, RealFilesystem(), RealClock(),
                                                     &CreateInotifyWatcher, log_.Sink());
    detector->Track(paths);
    EXPECT_FALSE(detector->Check());
    EXPECT_EQ(detector->method(), DetectionMethod::kInotify) << log_.joined();
    return detector;
  }

  TempDir dir_;
  LogCollector log_;
};

TEST_F(SharedInotifyTest, TwoHundredDetectorsUseOneDescriptorAndHearOnlyTheirOwnFiles) {
  std::vector<std::unique_ptr<ChangeDetector>> detectors;
  for (int i = 0; i < 200; ++i) detectors.push_back(Detector("app" + std::to_string(i)));
  EXPECT_EQ(testing::CountInotifyFds(), 1);
  for (int edited : {0, 77, 199}) {
    ASSERT_TRUE(testing::WriteFile(dir_.Path("app" + std::to_string(edited) + "/m0.py"), "x = 2\n"));
    for (int i = 0; i < 200; ++i) {
      // The first detectors asked drain the queue for everyone.
      EXPECT_EQ(detectors[i]->Check(), i == edited) << "detector " << i << " after editing " << edited;
    }
    detectors[edited]->Track(dir_.Path("app" + std::to_string(edited) + "/m0.py"));
  }
  detectors.clear();
  EXPECT_EQ(testing::CountInotifyFds(), 0);
}

TEST_F(SharedInotifyTest, TwoDetectorsOfOneDirectoryAndOneIsDestroyed) {
  auto first = Detector("app", 2);
  auto second = Detector("app", 2);
  ASSERT_TRUE(testing::WriteFile(dir_.Path("app/m0.py"), "x = 2\n"));
  EXPECT_TRUE(first->Check());
  EXPECT_TRUE(second->Check());
  first.reset();  // the watch it shared with the second stays
  second->Track(dir_.Path("app/m0.py"));
  ASSERT_FALSE(second->Check());
  ASSERT_TRUE(testing::WriteFile(dir_.Path("app/m1.py"), "x = 3\n"));
  EXPECT_TRUE(second->Check());
  EXPECT_EQ(second->StalePaths(), std::vector<std::string>{dir_.Path("app/m1.py")});
}

TEST_F(SharedInotifyTest, ASaveIsSeenWhileOtherDetectorsDrainTheSharedQueue) {
  // Other detectors' requests keep reading the shared queue (and routing
  // this detector's events to it); a check that starts after the save
  // completed must still report it.
  auto mine = Detector("mine");
  std::vector<std::unique_ptr<ChangeDetector>> others;
  for (int i = 0; i < 3; ++i) others.push_back(Detector("other" + std::to_string(i)));
  std::atomic<bool> stop{false};
  std::vector<std::thread> checkers;
  for (auto& other : others) {
    checkers.emplace_back([&stop, detector = other.get()] {
      while (!stop) detector->Check();
    });
  }
  const std::string module = dir_.Path("mine/m0.py");
  int missed = 0;
  int heard_by_others = 0;
  for (int round = 0; round < 500; ++round) {
    ASSERT_TRUE(testing::WriteFile(module, round % 2 ? "x = 1\n" : "x = 2\n"));
    if (!mine->Check()) ++missed;
    mine->Track(module);
  }
  stop = true;
  for (std::thread& thread : checkers) thread.join();
  for (auto& other : others) heard_by_others += other->Check() ? 1 : 0;
  EXPECT_EQ(missed, 0);
  EXPECT_EQ(heard_by_others, 0);
}

TEST_F(SharedInotifyTest, ForkedChildHasItsOwnInstance) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer does not support fork after threads";
#endif
  auto first = Detector("first");
  auto second = Detector("second");
  ASSERT_EQ(testing::CountInotifyFds(), 1);
  ASSERT_TRUE(testing::MakeDir(dir_.Path("childonly")));
  struct stat childonly;
  ASSERT_EQ(::stat(dir_.Path("childonly").c_str(), &childonly), 0);
  char inode[32];
  std::snprintf(inode, sizeof inode, " ino:%lx ", static_cast<unsigned long>(childonly.st_ino));
  const bool child_ok = InForkedChild([&] {
    if (first->Check() || second->Check()) return false;  // each starts again in the child
    if (testing::CountInotifyFds() != 1) return false;    // the inherited one was closed
    first->Track(dir_.Path("childonly/new.py"));          // a watch only the child makes
    if (testing::InotifyWatchList().find(inode) == std::string::npos) return false;
    if (!testing::WriteFile(dir_.Path("second/m0.py"), "x = 5\n")) return false;
    return !first->Check() && second->Check();
  });
  EXPECT_TRUE(child_ok);
  // The parent's instance has none of the child's watches, and kept its own.
  EXPECT_EQ(testing::CountInotifyFds(), 1);
  EXPECT_EQ(testing::InotifyWatchList().find(inode), std::string::npos);
  EXPECT_FALSE(first->Check());
  EXPECT_TRUE(second->Check());  // the child's save, heard here too
  ASSERT_TRUE(testing::WriteFile(dir_.Path("first/m0.py"), "x = 6\n"));
  EXPECT_TRUE(first->Check());
}

}  // namespace
}  // namespace pyfresh
