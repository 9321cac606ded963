#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "inotify_fds.h"
#include "inotify_multiplexer.h"
#include "pyfresh/directory_watcher.h"
#include "temp_dir.h"

namespace pyfresh {
namespace {

using testing::CountInotifyFds;
using testing::MakeDir;
using testing::ReplaceFile;
using testing::TempDir;
using testing::WriteFile;

struct Drained {
  bool any = false;
  std::vector<std::pair<std::string, std::string>> entries;
  std::vector<EntryEvent> kinds;  // one per entry
  int overflows = 0;

  std::vector<EntryEvent> KindsOf(const std::string& name) const {
    std::vector<EntryEvent> out;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].second == name) out.push_back(kinds[i]);
    }
    return out;
  }

  bool Has(const std::string& directory, const std::string& name) const {
    for (const auto& entry : entries) {
      if (entry.first == directory && entry.second == name) return true;
    }
    return false;
  }
};

Drained DrainAll(DirectoryWatcher& watcher) {
  Drained drained;
  drained.any = watcher.Drain(
      [&](const std::string& directory, const std::string& name, EntryEvent kind) {
        drained.entries.emplace_back(directory, name);
        drained.kinds.push_back(kind);
      },
      [&] { ++drained.overflows; });
  return drained;
}

std::unique_ptr<DirectoryWatcher> MakeWatcher() {
  std::unique_ptr<DirectoryWatcher> watcher;
  Status status = CreateInotifyWatcher(&watcher);
  EXPECT_TRUE(status.ok()) << status.message();
  return watcher;
}

int CountOpenFds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count;
}

TEST(InotifyWatcher, NothingPendingReturnsFalse) {
  TempDir dir;
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.path()).ok());
  Drained drained = DrainAll(*watcher);
  EXPECT_FALSE(drained.any);
  EXPECT_TRUE(drained.entries.empty());
  EXPECT_EQ(drained.overflows, 0);
}

TEST(InotifyWatcher, ReportsCreateWriteRenameDelete) {
  TempDir dir;
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.path()).ok());

  ASSERT_TRUE(WriteFile(dir.Path("a.py"), "x = 1\n"));
  Drained drained = DrainAll(*watcher);
  EXPECT_TRUE(drained.any);
  EXPECT_TRUE(drained.Has(dir.path(), "a.py"));
  EXPECT_FALSE(DrainAll(*watcher).any);  // everything was consumed

  ASSERT_TRUE(ReplaceFile(dir.Path("a.py"), "x = 2\n"));
  drained = DrainAll(*watcher);
  EXPECT_TRUE(drained.Has(dir.path(), "a.py"));        // moved to
  EXPECT_TRUE(drained.Has(dir.path(), "a.py.tmp~"));   // written, moved from

  ASSERT_EQ(::unlink(dir.Path("a.py").c_str()), 0);
  drained = DrainAll(*watcher);
  EXPECT_TRUE(drained.Has(dir.path(), "a.py"));
  EXPECT_EQ(drained.overflows, 0);
}

TEST(InotifyWatcher, SubdirectoryContentsAreNotReported) {
  TempDir dir;
  ASSERT_TRUE(MakeDir(dir.Path("__pycache__")));
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.path()).ok());
  ASSERT_TRUE(WriteFile(dir.Path("__pycache__/a.cpython-311.pyc"), "bytecode"));
  Drained drained = DrainAll(*watcher);
  for (const auto& entry : drained.entries) EXPECT_NE(entry.second, "a.cpython-311.pyc");
}

TEST(InotifyWatcher, WatchingTwiceIsHarmless) {
  TempDir dir;
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.path()).ok());
  ASSERT_TRUE(watcher->Watch(dir.path()).ok());
  ASSERT_TRUE(WriteFile(dir.Path("a.py"), "x"));
  Drained drained = DrainAll(*watcher);
  int reports = 0;
  for (const auto& entry : drained.entries) {
    if (entry.second == "a.py") ++reports;
  }
  EXPECT_GT(reports, 0);
  // Not doubled: each kernel event is reported once per spelling.
  EXPECT_LE(reports, 3);  // IN_CREATE, IN_MODIFY, IN_CLOSE_WRITE
}

TEST(InotifyWatcher, TwoSpellingsOfOneDirectoryAreBothReported) {
  TempDir dir;
  ASSERT_TRUE(MakeDir(dir.Path("real")));
  ASSERT_EQ(::symlink(dir.Path("real").c_str(), dir.Path("alias").c_str()), 0);
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.Path("real")).ok());
  ASSERT_TRUE(watcher->Watch(dir.Path("alias")).ok());
  ASSERT_TRUE(WriteFile(dir.Path("real/a.py"), "x"));
  Drained drained = DrainAll(*watcher);
  EXPECT_TRUE(drained.Has(dir.Path("real"), "a.py"));
  EXPECT_TRUE(drained.Has(dir.Path("alias"), "a.py"));
}

TEST(InotifyWatcher, WatchedDirectoryRemovedIsAnOverflow) {
  TempDir dir;
  ASSERT_TRUE(MakeDir(dir.Path("pkg")));
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.Path("pkg")).ok());
  ASSERT_EQ(::rmdir(dir.Path("pkg").c_str()), 0);
  Drained drained = DrainAll(*watcher);
  EXPECT_TRUE(drained.any);
  EXPECT_GE(drained.overflows, 1);
  // The watch is forgotten: a new directory of that name reports nothing.
  ASSERT_TRUE(MakeDir(dir.Path("pkg")));
  ASSERT_TRUE(WriteFile(dir.Path("pkg/a.py"), "x"));
  drained = DrainAll(*watcher);
  EXPECT_TRUE(drained.entries.empty());
}

TEST(InotifyWatcher, WatchedDirectoryMovedIsAnOverflow) {
  TempDir dir;
  ASSERT_TRUE(MakeDir(dir.Path("pkg")));
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.Path("pkg")).ok());
  ASSERT_EQ(::rename(dir.Path("pkg").c_str(), dir.Path("pkg2").c_str()), 0);
  Drained drained = DrainAll(*watcher);
  EXPECT_GE(drained.overflows, 1);
  ASSERT_TRUE(WriteFile(dir.Path("pkg2/a.py"), "x"));
  drained = DrainAll(*watcher);
  EXPECT_TRUE(drained.entries.empty());  // no longer reported under the old name
}

TEST(InotifyWatcher, MissingDirectoryFails) {
  TempDir dir;
  auto watcher = MakeWatcher();
  Status status = watcher->Watch(dir.Path("nope"));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'" + dir.Path("nope") + "'"), std::string::npos)
      << status.message();
}

TEST(InotifyWatcher, FileIsNotADirectory) {
  TempDir dir;
  ASSERT_TRUE(WriteFile(dir.Path("a.py"), "x"));
  auto watcher = MakeWatcher();
  Status status = watcher->Watch(dir.Path("a.py"));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("a.py"), std::string::npos) << status.message();
}

TEST(InotifyWatcher, DestructorClosesTheDescriptor) {
  const int before = CountOpenFds();
  {
    auto watcher = MakeWatcher();
    EXPECT_EQ(CountOpenFds(), before + 1);
  }
  EXPECT_EQ(CountOpenFds(), before);
}

TEST(InotifyWatcher, DescriptorIsCloseOnExecAndNonBlocking) {
  const int before_max = ::dup(0);
  ASSERT_GE(before_max, 0);
  ::close(before_max);
  auto watcher = MakeWatcher();
  // The lowest free descriptor is the one dup() returned before.
  const int flags = ::fcntl(before_max, F_GETFD);
  const int status_flags = ::fcntl(before_max, F_GETFL);
  ASSERT_GE(flags, 0);
  EXPECT_TRUE(flags & FD_CLOEXEC);
  EXPECT_TRUE(status_flags & O_NONBLOCK);
}

TEST(InotifyWatcher, InPlaceWriteIsWrittenUntilClosed) {
  // truncate + write + close (VS Code, vim backupcopy=yes): the writer is
  // at work from the truncation to the close.
  TempDir dir;
  ASSERT_TRUE(WriteFile(dir.Path("a.py"), "x = 1\n"));
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.path()).ok());
  const int fd = ::open(dir.Path("a.py").c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "x =", 3), 3);
  Drained drained = DrainAll(*watcher);
  ASSERT_FALSE(drained.KindsOf("a.py").empty());
  EXPECT_EQ(drained.KindsOf("a.py").back(), EntryEvent::kWritten);
  ::close(fd);
  drained = DrainAll(*watcher);
  ASSERT_FALSE(drained.KindsOf("a.py").empty());
  EXPECT_EQ(drained.KindsOf("a.py").back(), EntryEvent::kWriteClosed);
}

TEST(InotifyWatcher, RenameOverAndAttributesAreNotWrites) {
  TempDir dir;
  ASSERT_TRUE(WriteFile(dir.Path("a.py"), "x = 1\n"));
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.path()).ok());
  ASSERT_TRUE(ReplaceFile(dir.Path("a.py"), "x = 2\n"));
  Drained drained = DrainAll(*watcher);
  EXPECT_EQ(drained.KindsOf("a.py"), std::vector<EntryEvent>{EntryEvent::kOther});
  ASSERT_EQ(::chmod(dir.Path("a.py").c_str(), 0600), 0);
  drained = DrainAll(*watcher);
  EXPECT_EQ(drained.KindsOf("a.py"), std::vector<EntryEvent>{EntryEvent::kAttributesChanged});
}

TEST(InotifyWatcher, EventsMayBePendingTellsAQueuedEventWithoutReadingIt) {
  TempDir dir;
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.path()).ok());
  ASSERT_NE(watcher->Readiness(), nullptr);
  const EventReadiness& readiness = *watcher->Readiness();
  EXPECT_FALSE(EventsMayBePending(readiness));
  // Queued before write()'s close returns: seen at once, every time.
  ASSERT_TRUE(WriteFile(dir.Path("a.py"), "x"));
  EXPECT_TRUE(EventsMayBePending(readiness));
  EXPECT_TRUE(EventsMayBePending(readiness));  // not consumed
  EXPECT_TRUE(DrainAll(*watcher).any);
  EXPECT_FALSE(EventsMayBePending(readiness));
}

TEST(InotifyWatcher, EventsMayBePendingWhenTheDescriptorCannotTell) {
  std::atomic<int> no_descriptor{-1};
  std::atomic<uint32_t> zero{0};
  EXPECT_TRUE(EventsMayBePending(EventReadiness{&no_descriptor, &zero, &zero}));
}

// --- One inotify instance per process, shared by every watcher ------------

TEST(SharedInotify, ManyWatchersUseOneDescriptor) {
  ASSERT_EQ(CountInotifyFds(), 0);
  TempDir dir;
  std::vector<std::unique_ptr<DirectoryWatcher>> watchers;
  for (int i = 0; i < 200; ++i) {  // more than the default 128 instances per user
    ASSERT_TRUE(MakeDir(dir.Path("d" + std::to_string(i))));
    watchers.push_back(MakeWatcher());
    ASSERT_NE(watchers.back(), nullptr);
    ASSERT_TRUE(watchers.back()->Watch(dir.Path("d" + std::to_string(i))).ok());
  }
  EXPECT_EQ(CountInotifyFds(), 1);
  // Each hears about its own directory only, whoever drains first.
  ASSERT_TRUE(WriteFile(dir.Path("d7/a.py"), "x"));
  ASSERT_TRUE(WriteFile(dir.Path("d150/b.py"), "x"));
  EXPECT_FALSE(DrainAll(*watchers[0]).any);
  for (int i = 0; i < 200; ++i) {
    Drained drained = DrainAll(*watchers[i]);
    if (i == 7) {
      EXPECT_TRUE(drained.Has(dir.Path("d7"), "a.py"));
      EXPECT_FALSE(drained.Has(dir.Path("d150"), "b.py"));
    } else if (i == 150) {
      EXPECT_TRUE(drained.Has(dir.Path("d150"), "b.py"));
      EXPECT_FALSE(drained.Has(dir.Path("d7"), "a.py"));
    } else {
      EXPECT_FALSE(drained.any) << i;
    }
  }
  watchers.clear();
  EXPECT_EQ(CountInotifyFds(), 0);  // closed with the last watcher
}

TEST(SharedInotify, EventsAnotherWatcherReadStayPendingForTheirOwner) {
  TempDir dir;
  ASSERT_TRUE(MakeDir(dir.Path("mine")));
  ASSERT_TRUE(MakeDir(dir.Path("theirs")));
  auto mine = MakeWatcher();
  auto theirs = MakeWatcher();
  ASSERT_TRUE(mine->Watch(dir.Path("mine")).ok());
  ASSERT_TRUE(theirs->Watch(dir.Path("theirs")).ok());
  ASSERT_TRUE(WriteFile(dir.Path("mine/a.py"), "x"));
  // Both see the kernel's queue; the other drains it and gets nothing...
  EXPECT_TRUE(EventsMayBePending(*theirs->Readiness()));
  EXPECT_FALSE(DrainAll(*theirs).any);
  // ...after which it is quiet, while the event waits for its owner.
  EXPECT_FALSE(EventsMayBePending(*theirs->Readiness()));
  EXPECT_TRUE(EventsMayBePending(*mine->Readiness()));
  Drained drained = DrainAll(*mine);
  EXPECT_TRUE(drained.Has(dir.Path("mine"), "a.py"));
  EXPECT_FALSE(EventsMayBePending(*mine->Readiness()));
}

TEST(SharedInotify, TwoWatchersOfOneDirectoryAndOneGoes) {
  TempDir dir;
  auto first = MakeWatcher();
  auto second = MakeWatcher();
  ASSERT_TRUE(first->Watch(dir.path()).ok());
  ASSERT_TRUE(second->Watch(dir.path()).ok());  // the kernel returns the same watch
  ASSERT_TRUE(WriteFile(dir.Path("a.py"), "x"));
  EXPECT_TRUE(DrainAll(*first).Has(dir.path(), "a.py"));
  EXPECT_TRUE(DrainAll(*second).Has(dir.path(), "a.py"));
  first.reset();  // must not remove the watch the second one shares
  ASSERT_TRUE(WriteFile(dir.Path("b.py"), "x"));
  Drained drained = DrainAll(*second);
  EXPECT_TRUE(drained.Has(dir.path(), "b.py"));
  EXPECT_EQ(drained.overflows, 0);
  EXPECT_EQ(CountInotifyFds(), 1);
}

TEST(SharedInotify, RemovedDirectoryIsALossForEveryWatcherOfIt) {
  TempDir dir;
  ASSERT_TRUE(MakeDir(dir.Path("pkg")));
  ASSERT_TRUE(MakeDir(dir.Path("other")));
  auto first = MakeWatcher();
  auto second = MakeWatcher();
  auto bystander = MakeWatcher();
  ASSERT_TRUE(first->Watch(dir.Path("pkg")).ok());
  ASSERT_TRUE(second->Watch(dir.Path("pkg")).ok());
  ASSERT_TRUE(bystander->Watch(dir.Path("other")).ok());
  ASSERT_EQ(::rmdir(dir.Path("pkg").c_str()), 0);
  EXPECT_EQ(DrainAll(*bystander).overflows, 0);
  EXPECT_GE(DrainAll(*first).overflows, 1);
  EXPECT_GE(DrainAll(*second).overflows, 1);
}

TEST(SharedInotify, AWatcherThatNeverDrainsLosesEventsNotMemory) {
  // A mount that gets no requests while files in its directory keep
  // changing: its inbox is bounded like the kernel's queue, then counts as
  // lost (its owner starts again with a full comparison).
  TempDir dir;
  ASSERT_TRUE(MakeDir(dir.Path("busy")));
  auto idle = MakeWatcher();
  auto busy = MakeWatcher();
  ASSERT_TRUE(idle->Watch(dir.Path("busy")).ok());
  ASSERT_TRUE(busy->Watch(dir.Path("busy")).ok());
  const std::string files[] = {dir.Path("busy/f"), dir.Path("busy/g")};
  for (const std::string& file : files) ASSERT_TRUE(WriteFile(file, "x"));
  size_t events = 0;
  while (events <= internal::InotifyMultiplexer::kMaxEventsPerInbox) {
    // One IN_ATTRIB each (alternating names: the kernel coalesces an event
    // identical to the one before); the busy watcher keeps the kernel's
    // queue short.
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(::chmod(files[i % 2].c_str(), i % 4 < 2 ? 0600 : 0644), 0);
    events += DrainAll(*busy).entries.size();
  }
  Drained drained = DrainAll(*idle);
  EXPECT_GE(drained.overflows, 1);
  EXPECT_TRUE(drained.entries.empty());
  EXPECT_FALSE(DrainAll(*idle).any);  // starts afresh
}

}  // namespace
}  // namespace pyfresh
