// What a lift did with every recorded call: the one table of call patterns the lift recognises
// (each with the Win32 call it becomes), the calls it attributes but does not lift, and the calls
// it cannot classify. Every recorded event lands in exactly one of the three.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/event.h"

namespace vmreplay::lift {

// A recognised pattern: the recorded calls it consists of and the host call it becomes.
struct PatternInfo {
  std::string_view name;
  std::string_view host_call;
  std::string_view pattern;
};

enum class Lifted : uint8_t {
  kGcHeapReserve,
  kGcHandleTableReserve,
  kAlignedReserve,
  kReserve,
  kReserveWithoutAdvice,
  kReserveAndCommit,
  kCommit,
  kProtect,
  kDecommit,
  kReset,
  kResetRefusedByKernel,
  kRelease,
  kCodeViewReserve,
  kCodeViewRelease,
  kWritableView,
  kFileView,
  kImageSection,
  kViewRelease,
  kCreateHeap,
  kMalloc,
  kCalloc,
  kAlignedAlloc,
  kRealloc,
  kFree,
  kCount
};

inline constexpr std::array<PatternInfo, static_cast<size_t>(Lifted::kCount)> kLiftedInfo = {{
    {"gc-heap-reserve", "VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS)",
     "mmap PROT_NONE, munmap of the 4 KiB alignment padding, MADV_DONTDUMP: "
     "GCToOSInterface::VirtualReserve at card_size*card_word_width = 8 KiB (gc virtual_alloc)"},
    {"gc-handle-table-reserve", "VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS)",
     "the same with 64 KiB at 64 KiB alignment (handletablecore.cpp SegmentAlloc)"},
    {"aligned-reserve", "VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS)",
     "the same with any other alignment"},
    {"reserve", "VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS)",
     "mmap PROT_NONE + MADV_DONTDUMP: PAL ReserveVirtualMemory, GCToOSInterface::VirtualReserve "
     "without alignment"},
    {"reserve-without-advice", "VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS)",
     "mmap PROT_NONE not followed by MADV_DONTDUMP or a commit"},
    {"reserve-commit", "VirtualAlloc(MEM_RESERVE|MEM_COMMIT)",
     "mmap PROT_NONE, then mprotect of all of it: PAL VirtualAlloc(MEM_RESERVE|MEM_COMMIT)"},
    {"commit", "VirtualAlloc(MEM_COMMIT)",
     "mprotect with access over uncommitted pages [+ MADV_DODUMP]: GCToOSInterface::VirtualCommit, "
     "PAL VIRTUALCommitMemory, CommitDoubleMappedMemory"},
    {"protect", "VirtualProtect",
     "mprotect over committed pages [+ MADV_DODUMP / MADV_DONTDUMP]: PAL VirtualProtect"},
    {"decommit", "VirtualFree(MEM_DECOMMIT)",
     "mmap MAP_FIXED PROT_NONE anonymous [+ MADV_DONTDUMP]: GCToOSInterface::VirtualDecommit, PAL "
     "VirtualFree(MEM_DECOMMIT)"},
    {"reset", "VirtualAlloc(MEM_RESET, PAGE_READWRITE)",
     "madvise MADV_FREE or MADV_DONTNEED [+ MADV_DONTDUMP]: GCToOSInterface::VirtualReset"},
    {"reset-refused-by-kernel", "VirtualAlloc(MEM_RESET, PAGE_READWRITE)",
     "madvise(MADV_FREE|MADV_DONTDUMP) failing with EINVAL [+ MADV_DONTDUMP]: VirtualReset of "
     "builds that pass both as one value"},
    {"release", "VirtualFree(MEM_RELEASE)",
     "munmap of a whole reservation: GCToOSInterface::VirtualRelease, PAL "
     "VirtualFree(MEM_RELEASE)"},
    {"code-view-reserve", "VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS)",
     "mmap MAP_SHARED|MAP_FIXED PROT_NONE of a file into the executable pool: W^X "
     "ReserveDoubleMappedMemory"},
    {"code-view-release", "VirtualFree(MEM_RELEASE)",
     "[mmap MAP_SHARED|MAP_FIXED read-write over the view] + munmap of it: "
     "ReleaseDoubleMappedMemory"},
    {"wx-writable-view", "AcquiredVirtualAddressSpace",
     "mmap MAP_SHARED read-write of the double-mapping file: W^X GetRWMapping"},
    {"file-view", "AcquiredVirtualAddressSpace",
     "mmap of a file elsewhere, not MAP_FIXED: PAL MapViewOfFile and the runtime's file maps"},
    {"image-section", "AcquiredVirtualAddressSpace",
     "mmap MAP_PRIVATE|MAP_FIXED of a file into the executable pool: PAL MAPMapPEFile"},
    {"view-release", "ReleasedVirtualAddressSpace", "munmap of a file view or writable view"},
    {"create-heap", "CreateMalloc(MALLOC_THREADSAFE)", "before the first heap call"},
    {"malloc", "HostAlloc", "malloc"},
    {"calloc", "HostAlloc(count * size)", "calloc"},
    {"aligned-alloc", "HostAlloc (IHostMalloc has no alignment)",
     "posix_memalign, aligned_alloc, memalign, valloc, pvalloc"},
    {"realloc", "HostAlloc + HostFree",
     "realloc (HostFree first when the block stays in place, HostAlloc alone from NULL, HostFree "
     "alone to size 0)"},
    {"free", "HostFree", "free of a non-NULL pointer"},
}};

// Calls the lift recognises as the runtime's but that are no IHostMemoryManager or IHostMalloc
// call of their own.
enum class NotLifted : uint8_t {
  kFolded,
  kExecutablePool,
  kDirectMapping,
  kThreadStack,
  kViewProtect,
  kCoredumpAdvice,
  kOtherAdvice,
  kFreeNull,
  kHeapInternal,
  kSystemMapping,
  kCount
};

inline constexpr std::array<PatternInfo, static_cast<size_t>(NotLifted::kCount)> kNotLiftedInfo = {{
    {"folded", "part of a lifted call",
     "alignment trims, MADV_DODUMP / MADV_DONTDUMP after the call they belong to, the zeroing "
     "remap of a code view release"},
    {"executable-pool", "none (the PAL's own pool)",
     "the reservation W^X views and images are mapped into: ExecutableMemoryAllocator::"
     "TryReserveInitialMemory; the CLR's code reservations are lifted from their views"},
    {"direct-mapping", "none (not the VirtualAlloc family)",
     "anonymous mapping made with access by mmap directly, and later calls on it"},
    {"thread-stack", "none (not the VirtualAlloc family)",
     "MAP_STACK mappings (PAL alternate signal stacks), their guard pages and release"},
    {"view-protect", "none (a view's protection is the OS's)",
     "mprotect inside a file view or image section"},
    {"coredump-advice", "none",
     "MADV_DODUMP / MADV_DONTDUMP inside a known mapping, not after a call it belongs to"},
    {"other-advice", "none", "madvise advice with no Win32 counterpart"},
    {"free-null", "none", "free(NULL)"},
    {"heap-internal", "none (the heap's own pages)",
     "mmap-family calls glibc's malloc made inside a recorded heap call (origin=heap); the "
     "lifted HostAlloc/HostFree stand for them"},
    {"system-mapping", "none (glibc's or ld.so's own)",
     "mmap-family calls glibc or ld.so made themselves (origin libc or loader: ld.so mapping "
     "libcoreclr.so, thread stacks, locale files), and the runtime's calls on those mappings"},
}};

enum class Unclassified : uint8_t {
  kUnknownMemory,
  kPartialRelease,
  kHintMissed,
  kSyscallFailed,
  kRefusedByWin32Rules,
  kMremap,
  kFixedOverOther,
  kPoolOutsideView,
  kProtectUncommitted,
  kSpansMappings,
  kUnliftedMapping,
  kViewRemapWithoutRelease,
  kCount
};

inline constexpr std::array<PatternInfo, static_cast<size_t>(Unclassified::kCount)>
    kUnclassifiedInfo = {{
        {"unknown-memory", "",
         "address outside every mapping the recording saw (mapped before the preload started, by "
         "ld.so, or by glibc internally)"},
        {"partial-release", "", "munmap of part of a reservation or view"},
        {"hint-missed", "",
         "reservation placed away from its address hint (the PAL then unmaps it and fails)"},
        {"syscall-failed", "", "the system call failed"},
        {"refused-by-win32-rules", "", "the lifted call would fail under Win32 rules"},
        {"mremap", "", "mremap has no Win32 counterpart"},
        {"fixed-over-other", "",
         "MAP_FIXED mapping over memory that is no reservation, view or pool"},
        {"pool-outside-view", "",
         "call inside the executable pool outside any view (W^X off: the PAL hands out pool "
         "memory without a system call)"},
        {"protect-uncommitted", "",
         "mprotect(PROT_NONE) over pages not all committed (Win32 protects committed pages only)"},
        {"spans-mappings", "", "range covering more than one mapping, or a gap"},
        {"unlifted-mapping", "", "call on a mapping the lift could not classify"},
        {"view-remap-without-release", "",
         "MAP_FIXED read-write remap of a code view not followed by its munmap"},
    }};

// Counts, and where: every classification is a count, and the ones not lifted or not classified
// also keep the first event indices per recorded operation.
class LiftStats {
 public:
  static constexpr size_t kIndicesKept = 10;

  struct Listed {
    uint64_t count = 0;
    std::vector<uint64_t> first_indices;  // at most kIndicesKept
  };

  void CountLifted(Lifted pattern) { ++lifted_[static_cast<size_t>(pattern)]; }
  void CountNotLifted(NotLifted reason, Op op, uint64_t index) {
    Add(&not_lifted_[{reason, op}], index);
  }
  void CountUnclassified(Unclassified reason, Op op, uint64_t index) {
    Add(&unclassified_[{reason, op}], index);
  }
  void CountEventIn() { ++events_in_; }
  void CountEventOut() { ++events_out_; }

  uint64_t lifted(Lifted pattern) const { return lifted_[static_cast<size_t>(pattern)]; }
  uint64_t not_lifted(NotLifted reason) const;
  uint64_t unclassified(Unclassified reason) const;
  uint64_t unclassified_total() const;
  uint64_t events_in() const { return events_in_; }
  uint64_t events_out() const { return events_out_; }
  const std::map<std::pair<Unclassified, Op>, Listed>& unclassified_calls() const {
    return unclassified_;
  }
  const std::map<std::pair<NotLifted, Op>, Listed>& not_lifted_calls() const { return not_lifted_; }

  // The classification table: pattern -> host call with counts, then what was not lifted and
  // what could not be classified, by reason and operation, with the first event indices.
  std::string FormatTable() const;
  // The same as header metadata: lift.lifted.<pattern>, lift.not_lifted.<reason>.<op>,
  // lift.unclassified.<reason>.<op> (count, then the first event indices).
  void ToMetadata(std::map<std::string, std::string>* metadata) const;

 private:
  static void Add(Listed* l, uint64_t index) {
    ++l->count;
    if (l->first_indices.size() < kIndicesKept) l->first_indices.push_back(index);
  }

  std::array<uint64_t, static_cast<size_t>(Lifted::kCount)> lifted_{};
  std::map<std::pair<NotLifted, Op>, Listed> not_lifted_;
  std::map<std::pair<Unclassified, Op>, Listed> unclassified_;
  uint64_t events_in_ = 0;
  uint64_t events_out_ = 0;
};

}  // namespace vmreplay::lift
