#include "remote_filesystem.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ios>

namespace pyfresh {
namespace {

TEST(RemoteFilesystemName, RefusesNetworkAndSharedFilesystems) {
  EXPECT_STREQ(internal::RemoteFilesystemName(0x6969), "NFS");
  EXPECT_STREQ(internal::RemoteFilesystemName(0x517B), "SMB");
  EXPECT_STREQ(internal::RemoteFilesystemName(0xFE534D42), "SMB2");
  EXPECT_STREQ(internal::RemoteFilesystemName(0xFF534D42), "CIFS");
  // Sign-extended from a 32-bit f_type.
  EXPECT_STREQ(internal::RemoteFilesystemName(0xFFFFFFFFFF534D42ULL), "CIFS");
  for (uint64_t magic : {0x01021997ULL, 0x65735546ULL, 0x786f4256ULL, 0x00c36400ULL, 0x5346414FULL}) {
    EXPECT_NE(internal::RemoteFilesystemName(magic), nullptr) << std::hex << magic;
  }
}

TEST(RemoteFilesystemName, AcceptsLocalFilesystems) {
  for (uint64_t magic : {0xEF53ULL /* ext4 */, 0x01021994ULL /* tmpfs */, 0x58465342ULL /* xfs */,
                         0x9123683EULL /* btrfs */, 0x794C7630ULL /* overlayfs */}) {
    EXPECT_EQ(internal::RemoteFilesystemName(magic), nullptr) << std::hex << magic;
  }
}

}  // namespace
}  // namespace pyfresh
