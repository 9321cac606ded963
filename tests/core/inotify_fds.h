// What /proc says about this process's inotify instances.
#ifndef PYFRESH_TESTS_CORE_INOTIFY_FDS_H_
#define PYFRESH_TESTS_CORE_INOTIFY_FDS_H_

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pyfresh {
namespace testing {

// The descriptors of this process that are inotify instances.
inline std::vector<int> InotifyFds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  while (const struct dirent* entry = ::readdir(dir)) {
    char target[64] = {};
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    const ssize_t length = ::readlink(link.c_str(), target, sizeof target - 1);
    if (length > 0 && std::string(target, static_cast<size_t>(length)) == "anon_inode:inotify") {
      fds.push_back(std::stoi(entry->d_name));
    }
  }
  ::closedir(dir);
  return fds;
}

inline int CountInotifyFds() { return static_cast<int>(InotifyFds().size()); }

// The watches of every inotify instance of this process, as fdinfo lists
// them ("inotify wd:1 ino:2a sdev:... mask:..." lines).
inline std::string InotifyWatchList() {
  std::string all;
  for (int fd : InotifyFds()) {
    std::ifstream info("/proc/self/fdinfo/" + std::to_string(fd));
    std::stringstream text;
    text << info.rdbuf();
    all += text.str();
  }
  return all;
}

}  // namespace testing
}  // namespace pyfresh

#endif  // PYFRESH_TESTS_CORE_INOTIFY_FDS_H_
