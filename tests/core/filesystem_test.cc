#include "pyfresh/filesystem.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace pyfresh {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(RealFilesystem, MissingFileHasNoIdentity) {
  TempDir dir;
  const FileIdentity identity = RealFilesystem().Stat(dir.Path("missing.py"));
  EXPECT_FALSE(identity.exists);
  EXPECT_EQ(identity, FileIdentity());
}

TEST(RealFilesystem, ExistingFileMatchesStat) {
  TempDir dir;
  const std::string path = dir.Path("a.py");
  ASSERT_TRUE(WriteFile(path, "x = 1\n"));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const FileIdentity identity = RealFilesystem().Stat(path);
  EXPECT_TRUE(identity.exists);
  EXPECT_EQ(identity.size, 6);
  EXPECT_EQ(identity.inode, st.st_ino);
  EXPECT_EQ(identity.device, st.st_dev);
  EXPECT_EQ(identity.mtime_ns, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
  EXPECT_EQ(identity.ctime_ns, st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec);
}

TEST(RealFilesystem, NanosecondMtimeAndOlderMtimesAreSeen) {
  TempDir dir;
  const std::string path = dir.Path("a.py");
  ASSERT_TRUE(WriteFile(path, "x = 1\n"));
  struct timespec times[2] = {{1700000000, 123456789}, {1700000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  const FileIdentity first = RealFilesystem().Stat(path);
  EXPECT_EQ(first.mtime_ns, 1700000000LL * 1000000000 + 123456789);
  // Same second, same size, 1 ns apart: a different identity.
  times[1].tv_nsec = 123456790;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  const FileIdentity second = RealFilesystem().Stat(path);
  EXPECT_NE(first, second);
  EXPECT_EQ(second.mtime_ns - first.mtime_ns, 1);
  // Restored to an older mtime: different again.
  times[1].tv_sec = 1600000000;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  EXPECT_NE(RealFilesystem().Stat(path), second);
}

TEST(RealFilesystem, FollowsSymlinks) {
  TempDir dir;
  const std::string target = dir.Path("target.py");
  const std::string link = dir.Path("link.py");
  ASSERT_TRUE(WriteFile(target, "pass\n"));
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_EQ(RealFilesystem().Stat(link), RealFilesystem().Stat(target));
  ASSERT_EQ(::unlink(target.c_str()), 0);
  EXPECT_FALSE(RealFilesystem().Stat(link).exists);  // dangling
}

TEST(RealFilesystem, DirectoriesExist) {
  TempDir dir;
  EXPECT_TRUE(RealFilesystem().Stat(dir.path()).exists);
}

TEST(RealFilesystem, IsASingleton) {
  EXPECT_EQ(&RealFilesystem(), &RealFilesystem());
  EXPECT_EQ(&RealClock(), &RealClock());
}

TEST(RealClock, IsMonotonicNanoseconds) {
  const int64_t a = RealClock().NowNs();
  struct timespec ten_ms = {0, 10000000};
  ::nanosleep(&ten_ms, nullptr);
  const int64_t b = RealClock().NowNs();
  EXPECT_GE(b - a, 10000000);
  EXPECT_LT(b - a, 10000000000LL);
  struct timespec now;
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  EXPECT_LE(b, now.tv_sec * 1000000000LL + now.tv_nsec);
}

}  // namespace
}  // namespace pyfresh
