// `arena`: the host reserves one region of `size` bytes when the runtime starts and serves every
// reservation (and, on Linux traces, every mapping) inside it, placed first-fit, best-fit or
// next-fit (`placement`) on the allocation granularity. Reserving and releasing then cost no
// platform call; commits, decommits and protections are issued on the arena's pages, and a
// release decommits what the CLR had committed (the arena stays reserved). On Linux traces a
// mapping is made accessible with mprotect, a shared file mapping is mapped over the arena's
// pages with MAP_FIXED (backed by the file, not charged), and an unmap puts fresh PROT_NONE pages
// back with one mmap(MAP_FIXED). When no free block of
// the arena is large enough the call fails (ERROR_NOT_ENOUGH_MEMORY / ENOMEM) and the output
// says how much did not fit: the policy's ceiling. The arena's own fragmentation (1 - largest
// free block / free bytes inside the arena) is the figure placement policies compete on.
#pragma once

#include <memory>

#include "replayer/managers/view_manager.h"

namespace vmreplay::replay {

class ArenaManager final : public ViewManager {
 public:
  // Reserves the arena on the platform; error when the platform refuses it.
  static Status Create(const ManagerSpec& spec, const ManagerContext& context,
                       std::unique_ptr<Manager>* out);

  std::string_view name() const override { return "arena"; }
  VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                        uint32_t level, uint64_t recorded_address) override;
  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) override;
  VmResult Mmap(uint64_t address, uint64_t length, int prot, int flags,
                uint64_t recorded_address) override;
  uint32_t Munmap(uint64_t address, uint64_t length) override;
  uint32_t Mprotect(uint64_t address, uint64_t length, int prot) override;
  uint32_t Madvise(uint64_t address, uint64_t length, int advice) override;
  VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                  uint64_t new_address, uint64_t recorded_address) override;
  ManagerStats stats() const override;

  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }

 private:
  ArenaManager(const ManagerContext& context, const sim::AddressSpaceConfig& view, uint64_t base,
               uint64_t size);
  // True when committing `need` more bytes would pass the platform's commit limit: refused
  // before the view changes, so the CLR's view and the platform never disagree.
  bool OverCommitLimit(uint64_t need) const {
    return platform_->committed_bytes() + need > platform_->commit_limit() ||
           platform_->committed_bytes() + need < need;
  }
  // Gives [start, end) of the arena back to fresh PROT_NONE pages (Linux traces).
  void ResetPosix(uint64_t start, uint64_t end);
  void NoteDidNotFit(uint64_t size);
  void AfterChange();

  uint64_t base_;
  uint64_t size_;
  uint64_t did_not_fit_ = 0;
  uint64_t largest_did_not_fit_ = 0;
  uint64_t largest_free_then_ = 0;
  double max_fragmentation_ = 0;
};

}  // namespace vmreplay::replay
