# Read by cpack: Debian packages install under /usr, never /usr/local.
if(CPACK_GENERATOR STREQUAL "DEB" AND NOT CPACK_PYFRESH_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "pyfresh: Debian packages need a build configured with -DCMAKE_INSTALL_PREFIX=/usr "
                      "(this one has ${CPACK_PYFRESH_INSTALL_PREFIX}); scripts/build-debs.sh does that")
endif()
