// The stat identity of a file: any difference means the file changed.
#ifndef PYFRESH_FILE_IDENTITY_H_
#define PYFRESH_FILE_IDENTITY_H_

#include <cstdint>

namespace pyfresh {

// Compared with != on every field, never "newer than": a file restored
// with an older mtime (cp -p, git checkout) is a change too. A missing file
// has exists == false and all other fields zero.
struct FileIdentity {
  bool exists = false;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t size = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  // A directory's mtime changes when an entry is created, removed or
  // renamed: the change detector also watches a tracked directory's own
  // entries, so that this is noticed with inotify as with polling.
  bool is_directory = false;

  friend bool operator==(const FileIdentity& a, const FileIdentity& b) {
    return a.exists == b.exists && a.mtime_ns == b.mtime_ns && a.ctime_ns == b.ctime_ns &&
           a.size == b.size && a.inode == b.inode && a.device == b.device &&
           a.is_directory == b.is_directory;
  }
  friend bool operator!=(const FileIdentity& a, const FileIdentity& b) { return !(a == b); }
};

}  // namespace pyfresh

#endif  // PYFRESH_FILE_IDENTITY_H_
