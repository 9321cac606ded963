// Private: which filesystems inotify cannot be trusted on. Not installed.
#ifndef PYFRESH_SRC_REMOTE_FILESYSTEM_H_
#define PYFRESH_SRC_REMOTE_FILESYSTEM_H_

#include <cstdint>

namespace pyfresh {
namespace internal {

// The name of a filesystem type (statfs f_type) on which inotify misses
// changes made elsewhere (network, cluster and VM-shared filesystems, FUSE),
// e.g. "NFS"; nullptr for filesystems where inotify can be trusted.
const char* RemoteFilesystemName(uint64_t f_type);

}  // namespace internal
}  // namespace pyfresh

#endif  // PYFRESH_SRC_REMOTE_FILESYSTEM_H_
