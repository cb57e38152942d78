# `cpack -G DEB` in the build tree: vmreplay_<version>_<arch>.deb with the installed files. The
# runtime dependencies come from dpkg-shlibdeps (the libraries the programs link); the
# allocators that replay loads with dlopen are recommendations, as is the SDK's toolchain.
set(CPACK_PACKAGE_NAME vmreplay)
set(CPACK_PACKAGE_VENDOR "vmreplay")
set(CPACK_PACKAGE_CONTACT "vmreplay developers <vmreplay@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "record-and-replay simulator for host memory traffic")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libjemalloc2, libmimalloc2.0, libtcmalloc-minimal4, bash-completion")
# The CMake package and pkg-config file need the headers of what vmreplay::trace links.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "libprotobuf-dev, libzstd-dev, libxxhash-dev, pkg-config, python3-protobuf, python3-zstandard, python3-xxhash, python3-pandas")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Records the virtual-memory and heap traffic of a process (the CLR's IHostMemoryManager\n calls, or the mmap and malloc families on Linux) and replays it against alternative\n memory managers, comparing peak commit, fragmentation and latency.")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
include(CPack)
