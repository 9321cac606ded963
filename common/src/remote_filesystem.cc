#include "remote_filesystem.h"

namespace pyfresh {
namespace internal {

const char* RemoteFilesystemName(uint64_t f_type) {
  struct Entry {
    uint32_t magic;
    const char* name;
  };
  static constexpr Entry kRemote[] = {
      {0x6969, "NFS"},
      {0x517B, "SMB"},
      {0xFE534D42, "SMB2"},
      {0xFF534D42, "CIFS"},
      {0x01021997, "9p (v9fs)"},
      {0x65735546, "FUSE"},
      {0x786F4256, "VirtualBox shared folder (vboxsf)"},
      {0x7C7C6673, "Parallels shared folder (prl_fs)"},
      {0x00C36400, "CephFS"},
      {0x5346414F, "AFS"},
      {0x6B414653, "AFS (kafs)"},
      {0x73757245, "Coda"},
      {0x564C, "NCP"},
      {0x0BD00BD0, "Lustre"},
      {0x01161970, "GFS2"},
      {0x7461636F, "OCFS2"},
      {0x47504653, "GPFS"},
      {0x19830326, "BeeGFS"},
      {0x13661366, "OrangeFS"},
  };
  // f_type is a signed long; 32-bit magics may arrive sign-extended.
  const auto magic = static_cast<uint32_t>(f_type);
  for (const Entry& entry : kRemote) {
    if (entry.magic == magic) return entry.name;
  }
  return nullptr;
}

}  // namespace internal
}  // namespace pyfresh
