// The decoded form of one trace event, and the single table of which operation uses which
// field. Everything that reads or writes events (the binary codec, the text form, the
// recorders, the replay engine) works from this one header.
#pragma once

#include <cstdint>
#include <string_view>

namespace vmreplay {

// Stable operation codes; values equal proto::Op in trace.proto.
enum class Op : uint8_t {
  kUnknown = 0,
  // IHostMemoryManager.
  kVirtualAlloc = 1,
  kVirtualFree = 2,
  kVirtualQuery = 3,
  kVirtualProtect = 4,
  kGetMemoryLoad = 5,
  kRegisterMemoryNotificationCallback = 6,
  kNeedsVirtualAddressSpace = 7,
  kAcquiredVirtualAddressSpace = 8,
  kReleasedVirtualAddressSpace = 9,
  kCreateMalloc = 10,
  // IHostMalloc.
  kHostAlloc = 11,
  kHostDebugAlloc = 12,
  kHostFree = 13,
  // ICLRMemoryNotificationCallback::OnMemoryNotification (host -> CLR).
  kMemoryNotification = 14,
  // Linux virtual memory.
  kMmap = 15,
  kMunmap = 16,
  kMremap = 17,
  kMprotect = 18,
  kMadvise = 19,
  // Linux heap.
  kMalloc = 20,
  kCalloc = 21,
  kRealloc = 22,
  kFree = 23,
  kPosixMemalign = 24,
  kAlignedAlloc = 25,
  kMemalign = 26,
  kValloc = 27,
  kPvalloc = 28,
};
inline constexpr int kOpCount = 29;

// One recorded call. Which fields are meaningful depends on `op` (see kOpFields); the others
// are zero. Addresses are the *recorded* process's addresses.
struct Event {
  Op op = Op::kUnknown;
  uint64_t thread = 0;        // OS thread id of the caller
  uint64_t timestamp_ns = 0;  // call entry, relative to Header.start_time_unix_ns
  uint64_t latency_ns = 0;    // duration of the call itself

  // Arguments.
  uint64_t addr = 0;      // lpAddress / start / addr / ptr to free or realloc / callback ptr
  uint64_t size = 0;      // dwSize / length / cbSize / malloc size / calloc element size / dwLength
  uint32_t flags = 0;     // flAllocationType / dwFreeType / mmap flags / madvise advice /
                          // mremap flags / MALLOC_TYPE
  uint32_t protect = 0;   // flProtect / flNewProtect / PROT_*
  uint32_t level = 0;     // EMemoryCriticalLevel, or EMemoryAvailable for notifications
  uint64_t new_size = 0;  // mremap
  uint64_t new_addr = 0;  // mremap with MREMAP_FIXED
  uint64_t count = 0;     // calloc nmemb
  uint64_t alignment = 0;  // posix_memalign / aligned_alloc / memalign
  int32_t fd = 0;          // mmap
  uint64_t offset = 0;     // mmap
  uint64_t heap = 0;       // which IHostMalloc (the id CreateMalloc returned in `result`)
  uint32_t file = 0;       // DebugAlloc szFileName, as a trace string id (0 = none)
  int32_t line = 0;        // DebugAlloc iLineNo

  // Observed outcome.
  uint64_t result = 0;   // returned address / pointer / VirtualQuery bytes / CreateMalloc heap id
  uint32_t hresult = 0;  // HRESULT returned to the CLR (IHostMemoryManager, IHostMalloc, callback)
  uint32_t error = 0;    // Win32 GetLastError() or errno; 0 on success
  uint32_t old_protect = 0;  // VirtualProtect *pflOldProtect
  // VirtualQuery's MEMORY_BASIC_INFORMATION answer.
  uint64_t q_base = 0;
  uint64_t q_alloc_base = 0;
  uint32_t q_alloc_protect = 0;
  uint64_t q_region_size = 0;
  uint32_t q_state = 0;
  uint32_t q_protect = 0;
  uint32_t q_type = 0;
  uint32_t load = 0;   // GetMemoryLoad *pMemoryLoad (percent)
  uint64_t avail = 0;  // GetMemoryLoad *pAvailableBytes
  // Linux mmap family: who made the system call (CallOrigin; 0 = a hooked call).
  uint32_t origin = 0;

  bool operator==(const Event&) const = default;
};

// How a field is stored in its column and shown in the text form.
enum class FieldCoding : uint8_t { kPlain, kDelta, kSigned };
enum class FieldText : uint8_t { kDecimal, kHex, kString, kOrigin };

// Who made a recorded system call of the mmap family. The preload records the calls made
// through the dynamic symbol table (kHooked); vmrecord's system-call tracer adds the ones made
// inside glibc and ld.so with their own `syscall` instruction (recorder/linux/syscall_tracer.h).
enum class CallOrigin : uint8_t {
  kHooked = 0,        // the program or a library called mmap() & co.: the preload's hook
  kLibc = 1,          // glibc on its own: thread stacks, setlocale's files, stdio, exits
  kHeapInternal = 2,  // glibc's malloc inside a recorded heap call (the heap's own pages)
  kLoader = 3,        // ld.so: dlopen mapping a library, relocation protections
  kOther = 4,         // any other code issuing the system call itself
};
inline constexpr int kCallOriginCount = 5;
inline constexpr std::string_view kCallOriginNames[kCallOriginCount] = {"hooked", "libc", "heap",
                                                                        "loader", "other"};

// X(name, coding, text): every optional field of Event, in column and text order. The proto
// column numbers in ChunkColumns follow the same order (addr = 5 ... avail = 31, origin = 32).
#define VMREPLAY_EVENT_FIELDS(X)     \
  X(addr, kDelta, kHex)              \
  X(size, kPlain, kDecimal)          \
  X(flags, kPlain, kHex)             \
  X(protect, kPlain, kHex)           \
  X(level, kPlain, kDecimal)         \
  X(new_size, kPlain, kDecimal)      \
  X(new_addr, kDelta, kHex)          \
  X(count, kPlain, kDecimal)         \
  X(alignment, kPlain, kDecimal)     \
  X(fd, kSigned, kDecimal)           \
  X(offset, kPlain, kDecimal)        \
  X(heap, kPlain, kDecimal)          \
  X(file, kPlain, kString)           \
  X(line, kSigned, kDecimal)         \
  X(result, kDelta, kHex)            \
  X(hresult, kPlain, kHex)           \
  X(error, kPlain, kDecimal)         \
  X(old_protect, kPlain, kHex)       \
  X(q_base, kDelta, kHex)            \
  X(q_alloc_base, kDelta, kHex)      \
  X(q_alloc_protect, kPlain, kHex)   \
  X(q_region_size, kPlain, kDecimal) \
  X(q_state, kPlain, kHex)           \
  X(q_protect, kPlain, kHex)         \
  X(q_type, kPlain, kHex)            \
  X(load, kPlain, kDecimal)          \
  X(avail, kPlain, kDecimal)         \
  X(origin, kPlain, kOrigin)

enum class Field : uint8_t {
#define VMREPLAY_FIELD_ENUM(name, coding, text) k_##name,
  VMREPLAY_EVENT_FIELDS(VMREPLAY_FIELD_ENUM)
#undef VMREPLAY_FIELD_ENUM
      kCount
};
inline constexpr int kFieldCount = static_cast<int>(Field::kCount);
using FieldMask = uint32_t;
static_assert(kFieldCount <= 32);

constexpr FieldMask Bit(Field f) { return FieldMask{1} << static_cast<int>(f); }

// The one column a chunk may leave out although its operations use it: traces before format
// 1.3 have no `origin`, and every call in them was a hooked one (0).
inline constexpr Field kOptionalColumn = Field::k_origin;

// Field sets shared by several operations.
inline constexpr FieldMask kWin32Outcome = Bit(Field::k_hresult) | Bit(Field::k_error);
inline constexpr FieldMask kQueryAnswer = Bit(Field::k_q_base) | Bit(Field::k_q_alloc_base) |
                                          Bit(Field::k_q_alloc_protect) |
                                          Bit(Field::k_q_region_size) | Bit(Field::k_q_state) |
                                          Bit(Field::k_q_protect) | Bit(Field::k_q_type);
inline constexpr FieldMask kAddrSize = Bit(Field::k_addr) | Bit(Field::k_size);
inline constexpr FieldMask kHeapResult = Bit(Field::k_result) | Bit(Field::k_error);
inline constexpr FieldMask kVmOutcome = Bit(Field::k_error) | Bit(Field::k_origin);

struct OpInfo {
  std::string_view name;  // the call's own name, as in the text form
  FieldMask fields;       // the fields this operation records
};

// Indexed by Op. Which arguments and outcomes each operation records.
inline constexpr OpInfo kOpInfo[kOpCount] = {
    {"Unknown", 0},
    {"VirtualAlloc", kAddrSize | Bit(Field::k_flags) | Bit(Field::k_protect) | Bit(Field::k_level) |
                         Bit(Field::k_result) | kWin32Outcome},
    {"VirtualFree", kAddrSize | Bit(Field::k_flags) | kWin32Outcome},
    {"VirtualQuery", kAddrSize | Bit(Field::k_result) | kWin32Outcome | kQueryAnswer},
    {"VirtualProtect",
     kAddrSize | Bit(Field::k_protect) | Bit(Field::k_old_protect) | kWin32Outcome},
    {"GetMemoryLoad", Bit(Field::k_load) | Bit(Field::k_avail) | Bit(Field::k_hresult)},
    {"RegisterMemoryNotificationCallback", Bit(Field::k_addr) | Bit(Field::k_hresult)},
    {"NeedsVirtualAddressSpace", kAddrSize | Bit(Field::k_hresult)},
    {"AcquiredVirtualAddressSpace", kAddrSize | Bit(Field::k_hresult)},
    {"ReleasedVirtualAddressSpace", Bit(Field::k_addr) | Bit(Field::k_hresult)},
    {"CreateMalloc", Bit(Field::k_flags) | Bit(Field::k_result) | Bit(Field::k_hresult)},
    {"HostAlloc", Bit(Field::k_heap) | Bit(Field::k_size) | Bit(Field::k_level) |
                      Bit(Field::k_result) | Bit(Field::k_hresult)},
    {"HostDebugAlloc", Bit(Field::k_heap) | Bit(Field::k_size) | Bit(Field::k_level) |
                           Bit(Field::k_file) | Bit(Field::k_line) | Bit(Field::k_result) |
                           Bit(Field::k_hresult)},
    {"HostFree", Bit(Field::k_heap) | Bit(Field::k_addr) | Bit(Field::k_hresult)},
    {"OnMemoryNotification", Bit(Field::k_level) | Bit(Field::k_hresult)},
    {"mmap", kAddrSize | Bit(Field::k_protect) | Bit(Field::k_flags) | Bit(Field::k_fd) |
                 Bit(Field::k_offset) | Bit(Field::k_result) | kVmOutcome},
    {"munmap", kAddrSize | kVmOutcome},
    {"mremap", kAddrSize | Bit(Field::k_new_size) | Bit(Field::k_flags) | Bit(Field::k_new_addr) |
                   Bit(Field::k_result) | kVmOutcome},
    {"mprotect", kAddrSize | Bit(Field::k_protect) | kVmOutcome},
    {"madvise", kAddrSize | Bit(Field::k_flags) | kVmOutcome},
    {"malloc", Bit(Field::k_size) | kHeapResult},
    {"calloc", Bit(Field::k_count) | Bit(Field::k_size) | kHeapResult},
    {"realloc", kAddrSize | kHeapResult},
    {"free", Bit(Field::k_addr)},
    {"posix_memalign", Bit(Field::k_alignment) | Bit(Field::k_size) | kHeapResult},
    {"aligned_alloc", Bit(Field::k_alignment) | Bit(Field::k_size) | kHeapResult},
    {"memalign", Bit(Field::k_alignment) | Bit(Field::k_size) | kHeapResult},
    {"valloc", Bit(Field::k_size) | kHeapResult},
    {"pvalloc", Bit(Field::k_size) | kHeapResult},
};

inline bool IsValidOp(uint32_t op) { return op > 0 && op < kOpCount; }
inline const OpInfo& InfoOf(Op op) { return kOpInfo[static_cast<int>(op)]; }
inline std::string_view OpName(Op op) { return InfoOf(op).name; }

// Operation families, for the engine and the metrics.
inline bool IsWin32VirtualOp(Op op) { return op >= Op::kVirtualAlloc && op <= Op::kCreateMalloc; }
inline bool IsHostMallocOp(Op op) { return op >= Op::kHostAlloc && op <= Op::kHostFree; }
inline bool IsPosixVirtualOp(Op op) { return op >= Op::kMmap && op <= Op::kMadvise; }
inline bool IsPosixHeapOp(Op op) { return op >= Op::kMalloc && op <= Op::kPvalloc; }

}  // namespace vmreplay
