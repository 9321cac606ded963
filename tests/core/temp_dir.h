// A temporary directory under /tmp, removed with its contents afterwards.
#ifndef PYFRESH_TESTS_CORE_TEMP_DIR_H_
#define PYFRESH_TESTS_CORE_TEMP_DIR_H_

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace pyfresh {
namespace testing {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/pyfresh_core_test.XXXXXX";
    const char* made = ::mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    if (!path_.empty()) {
      const std::string command = "rm -rf '" + path_ + "'";
      if (std::system(command.c_str()) != 0) std::fprintf(stderr, "cannot remove %s\n", path_.c_str());
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Path(const std::string& relative) const { return path_ + "/" + relative; }

 private:
  std::string path_;
};

// Writes `content` to `path` in place (truncating), like an editor that
// saves into the same inode.
inline bool WriteFile(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  return ::close(fd) == 0 && ok;
}

// Saves like vim or JetBrains: a temp file renamed over the original.
inline bool ReplaceFile(const std::string& path, const std::string& content) {
  const std::string temp = path + ".tmp~";
  return WriteFile(temp, content) && ::rename(temp.c_str(), path.c_str()) == 0;
}

// Backdates a file's times, so that a later write in the same clock tick
// (the kernel stamps files with a coarse clock) still changes its mtime.
inline bool Backdate(const std::string& path) {
  struct timespec times[2] = {{1600000000, 0}, {1600000000, 0}};
  return ::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0;
}

inline bool MakeDir(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0; }

}  // namespace testing
}  // namespace pyfresh

#endif  // PYFRESH_TESTS_CORE_TEMP_DIR_H_
