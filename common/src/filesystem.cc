#include "pyfresh/filesystem.h"

#include <sys/stat.h>
#include <time.h>

namespace pyfresh {
namespace {

int64_t ToNs(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + static_cast<int64_t>(ts.tv_nsec);
}

class RealFilesystemImpl final : public Filesystem {
 public:
  FileIdentity Stat(const std::string& path) const override {
    FileIdentity identity;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return identity;
    identity.exists = true;
    identity.mtime_ns = ToNs(st.st_mtim);
    identity.ctime_ns = ToNs(st.st_ctim);
    identity.size = static_cast<int64_t>(st.st_size);
    identity.inode = static_cast<uint64_t>(st.st_ino);
    identity.device = static_cast<uint64_t>(st.st_dev);
    identity.is_directory = S_ISDIR(st.st_mode);
    return identity;
  }
};

class RealClockImpl final : public Clock {
 public:
  int64_t NowNs() const override {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ToNs(ts);
  }
};

}  // namespace

const Filesystem& RealFilesystem() {
  // Never destroyed: no static destructor runs inside the host server.
  static const Filesystem* const filesystem = new RealFilesystemImpl();
  return *filesystem;
}

const Clock& RealClock() {
  static const Clock* const clock = new RealClockImpl();
  return *clock;
}

}  // namespace pyfresh
