#include "pyfresh/filesystem.h"

#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <deque>
#include <string_view>
#include <utility>

namespace pyfresh {
namespace {

int64_t ToNs(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + static_cast<int64_t>(ts.tv_nsec);
}

// The non-empty components of `path`, in order.
std::deque<std::string> Components(std::string_view path) {
  std::deque<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

constexpr int kMaxLinkHops = 40;  // the kernel's own limit (MAXSYMLINKS)

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

  Resolved ResolveLinks(const std::string& path) const override {
    // One readlink() per component: EINVAL (not a link) and ENOENT are the
    // common answers.
    return ResolveSymlinks(path, [](const std::string& candidate) -> std::optional<std::string> {
      char buffer[PATH_MAX];
      const ssize_t length = ::readlink(candidate.c_str(), buffer, sizeof buffer);
      if (length <= 0 || static_cast<size_t>(length) >= sizeof buffer) return std::nullopt;
      return std::string(buffer, static_cast<size_t>(length));
    });
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

Filesystem::Resolved ResolveSymlinks(
    const std::string& path, const std::function<std::optional<std::string>(const std::string&)>& read_link) {
  Filesystem::Resolved resolved;
  if (path.empty() || path[0] != '/') {
    resolved.real_path = path;
    return resolved;
  }
  std::deque<std::string> pending = Components(path);
  std::string current;  // resolved so far; "" is the root
  int hops = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      current.resize(current.rfind('/') == std::string::npos ? 0 : current.rfind('/'));
      continue;
    }
    std::string candidate = current + "/" + part;
    std::optional<std::string> target;
    if (hops < kMaxLinkHops) target = read_link(candidate);
    if (!target.has_value() || target->empty()) {
      current = std::move(candidate);
      continue;
    }
    ++hops;
    resolved.links.push_back(std::move(candidate));
    if ((*target)[0] == '/') current.clear();
    std::deque<std::string> target_parts = Components(*target);
    pending.insert(pending.begin(), target_parts.begin(), target_parts.end());
  }
  resolved.real_path = current.empty() ? "/" : current;
  return resolved;
}

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
