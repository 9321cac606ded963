// The filesystem and clock behind small interfaces, so tests can make a
// file change twice within one second or time pass without sleeping.
#ifndef PYFRESH_FILESYSTEM_H_
#define PYFRESH_FILESYSTEM_H_

#include <cstdint>
#include <string>

#include "pyfresh/file_identity.h"

namespace pyfresh {

class Filesystem {
 public:
  virtual ~Filesystem() = default;
  // Identity of `path` (following symlinks); exists == false when it is gone
  // or cannot be stat'ed.
  virtual FileIdentity Stat(const std::string& path) const = 0;
};

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
