// `os`: the real operating system (Linux). A reservation is an anonymous PROT_NONE MAP_NORESERVE
// mapping (aligned to the allocation granularity by over-mapping and trimming), a commit is
// mprotect to the requested protection, a decommit madvise(MADV_DONTNEED) + mprotect(PROT_NONE),
// a release munmap. POSIX traces map onto mmap / munmap / mprotect / madvise / mremap directly
// (file mappings become anonymous: the files are not available at replay). System calls are
// counted per kind; the RSS high-water mark is read from /proc/self/status.
#pragma once

#include "replayer/real_vm_backend.h"

namespace vmreplay::replay {

class OsBackend final : public RealVmBackend {
 public:
  explicit OsBackend(const VmBackendOptions& options);
  ~OsBackend() override;
  std::string_view name() const override { return "os"; }
  VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                  uint64_t new_address, uint64_t recorded_address) override;
  // The 128 TiB address space is shared with the replayer itself: no meaningful figure.
  std::optional<double> fragmentation() const override { return std::nullopt; }

 protected:
  uint64_t PlaceNew(uint64_t length, uint64_t alignment, int prot) override;
  bool MapFixed(uint64_t address, uint64_t length) override;
  void Unmap(uint64_t address, uint64_t length) override;
  void Replace(uint64_t address, uint64_t length, int prot) override;
};

}  // namespace vmreplay::replay
