#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "inotify_watcher_internal.h"
#include "pyfresh/directory_watcher.h"
#include "temp_dir.h"

namespace pyfresh {
namespace {

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

TEST(InotifyWatcher, EventsPendingOnTellsAQueuedEventWithoutReadingIt) {
  TempDir dir;
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->Watch(dir.path()).ok());
  EXPECT_FALSE(EventsPendingOn(watcher->ReadinessFd()));
  // Queued before write()'s close returns: seen at once, every time.
  ASSERT_TRUE(WriteFile(dir.Path("a.py"), "x"));
  EXPECT_TRUE(EventsPendingOn(watcher->ReadinessFd()));
  EXPECT_TRUE(EventsPendingOn(watcher->ReadinessFd()));  // not consumed
  EXPECT_TRUE(DrainAll(*watcher).any);
  EXPECT_FALSE(EventsPendingOn(watcher->ReadinessFd()));
  EXPECT_TRUE(EventsPendingOn(-1));  // cannot tell: take the slow path
}

TEST(RemoteFilesystemName, RefusesNetworkAndSharedFilesystems) {
  EXPECT_STREQ(internal::RemoteFilesystemName(0x6969), "NFS");
  EXPECT_STREQ(internal::RemoteFilesystemName(0x517B), "SMB");
  EXPECT_STREQ(internal::RemoteFilesystemName(0xFE534D42), "SMB2");
  EXPECT_STREQ(internal::RemoteFilesystemName(0xFF534D42), "CIFS");
  // Sign-extended from a 32-bit f_type.
  EXPECT_STREQ(internal::RemoteFilesystemName(0xFFFFFFFFFF534D42ULL), "CIFS");
  for (uint64_t magic : {0x01021997ULL, 0x65735546ULL, 0x786f4256ULL, 0x00c36400ULL, 0x5346414FULL}) {
    EXPECT_NE(internal::RemoteFilesystemName(magic), nullptr) << std::hex << magic;
  }
}

TEST(RemoteFilesystemName, AcceptsLocalFilesystems) {
  for (uint64_t magic : {0xEF53ULL /* ext4 */, 0x01021994ULL /* tmpfs */, 0x58465342ULL /* xfs */,
                         0x9123683EULL /* btrfs */, 0x794C7630ULL /* overlayfs */}) {
    EXPECT_EQ(internal::RemoteFilesystemName(magic), nullptr) << std::hex << magic;
  }
}

}  // namespace
}  // namespace pyfresh
