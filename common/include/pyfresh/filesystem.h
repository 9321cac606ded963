// The filesystem and clock behind small interfaces, so tests can make a
// file change twice within one second or time pass without sleeping.
#ifndef PYFRESH_FILESYSTEM_H_
#define PYFRESH_FILESYSTEM_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pyfresh/file_identity.h"

namespace pyfresh {

class Filesystem {
 public:
  virtual ~Filesystem() = default;
  // Identity of `path` (following symlinks); exists == false when it is gone
  // or cannot be stat'ed.
  virtual FileIdentity Stat(const std::string& path) const = 0;

  // The symbolic links met while resolving absolute `path`, and where it
  // resolves to (see ResolveSymlinks). The default knows of no links.
  struct Resolved {
    std::vector<std::string> links;  // absolute spellings of each link met
    std::string real_path;
  };
  virtual Resolved ResolveLinks(const std::string& path) const { return Resolved{{}, path}; }
};

// Resolves an absolute path component by component as the kernel does:
// `read_link(p)` returns the target of `p` when `p` is a symbolic link, and
// nothing otherwise (not a link, missing). A relative target is resolved
// against the link's directory, ".." against the resolved path; after 40
// links the rest is taken literally. A relative `path` is returned as is.
Filesystem::Resolved ResolveSymlinks(
    const std::string& path, const std::function<std::optional<std::string>(const std::string&)>& read_link);

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds.
  virtual int64_t NowNs() const = 0;
};

// The real ones. Process-lifetime singletons without destructors (this code
// is loaded into servers; no static destructors).
const Filesystem& RealFilesystem();
const Clock& RealClock();

}  // namespace pyfresh

#endif  // PYFRESH_FILESYSTEM_H_
