// The Win32 oracle: runs VirtualAlloc / VirtualFree / VirtualProtect / VirtualQuery sequences
// against the real API (Windows, or Wine) and writes every call and its outcome as a vmreplay
// text trace (proto/text_format.md). win32_differential_test replays the trace on the simulator
// and compares every outcome.
//
//   win32_oracle.exe edge OUT.txt                hand-written edge cases
//   win32_oracle.exe random SEED COUNT OUT.txt   seeded random sequence of COUNT calls
//
// The simulator knows nothing of the mappings the process already has (DLLs, heaps, stacks), so
// the trace alone must determine every answer:
//  - every call the oracle makes is recorded, including the set-up ones;
//  - a 1 GiB window is found by reserving it top-down (far from the bottom-up heap growth of
//    the process), released, and its two ends re-reserved as permanent guards; explicit
//    addresses are only ever taken inside the window, whose free space is therefore bounded by
//    reservations the trace knows;
//  - NULL-address reservations may land anywhere; their recorded address tells the simulator
//    where, and queries inside them never see beyond their own reservation;
//  - free memory is only queried inside the window, plus once above the highest user address;
//  - nothing allocates memory while the trace is being taken: output goes to a buffer
//    committed before the window is chosen, formatted without the C runtime.
#include <windows.h>

#include <cstdint>

namespace {

constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kGranularity = 0x10000;
constexpr uint64_t kWindowSize = uint64_t{1} << 30;
constexpr uint64_t kMiB = uint64_t{1} << 20;

uint64_t PageUp(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

// Text output into memory committed up front; formatting by hand keeps the C runtime (and its
// heap) out of the traced section.
class Output {
 public:
  bool Init(uint64_t capacity) {
    data_ = static_cast<char*>(
        VirtualAlloc(nullptr, capacity, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
    capacity_ = capacity;
    return data_ != nullptr;
  }
  void Str(const char* s) {
    while (*s) Char(*s++);
  }
  void Char(char c) {
    if (size_ < capacity_) {
      data_[size_++] = c;
    } else {
      overflow_ = true;
    }
  }
  void Dec(uint64_t v) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) Char(digits[--n]);
  }
  void Hex(uint64_t v) {
    Str("0x");
    char digits[24];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v & 0xf];
      v >>= 4;
    } while (v != 0);
    while (n > 0) Char(digits[--n]);
  }
  // " name=value", decimal or hex as proto/event.h's field table says.
  void DecField(const char* name, uint64_t v) {
    Char(' ');
    Str(name);
    Char('=');
    Dec(v);
  }
  void HexField(const char* name, uint64_t v) {
    Char(' ');
    Str(name);
    Char('=');
    Hex(v);
  }
  bool overflow() const { return overflow_; }

  bool WriteTo(const char* path) const {
    HANDLE file =
        CreateFileA(path, GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) return false;
    uint64_t done = 0;
    bool ok = true;
    while (ok && done < size_) {
      DWORD chunk = static_cast<DWORD>(size_ - done > (1u << 30) ? (1u << 30) : size_ - done);
      DWORD written = 0;
      ok = WriteFile(file, data_ + done, chunk, &written, nullptr) && written == chunk;
      done += written;
    }
    return CloseHandle(file) && ok;
  }

 private:
  char* data_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t size_ = 0;
  bool overflow_ = false;
};

// Makes each call, measures it, and appends its event line.
class Tracer {
 public:
  explicit Tracer(Output* out) : out_(out) {
    QueryPerformanceFrequency(&frequency_);
    QueryPerformanceCounter(&start_);
    thread_ = GetCurrentThreadId();
  }

  uint64_t calls() const { return calls_; }

  uint64_t Alloc(uint64_t addr, uint64_t size, DWORD type, DWORD protect) {
    LARGE_INTEGER t0, t1;
    QueryPerformanceCounter(&t0);
    SetLastError(0);
    void* result = VirtualAlloc(reinterpret_cast<void*>(addr), size, type, protect);
    DWORD error = result ? 0 : GetLastError();
    QueryPerformanceCounter(&t1);
    Begin("VirtualAlloc", t0, t1);
    out_->HexField("addr", addr);
    out_->DecField("size", size);
    out_->HexField("flags", type);
    out_->HexField("protect", protect);
    out_->DecField("level", 0);
    out_->Str(" ->");
    out_->HexField("result", reinterpret_cast<uint64_t>(result));
    End(error);
    out_->Char('\n');
    return reinterpret_cast<uint64_t>(result);
  }

  bool Free(uint64_t addr, uint64_t size, DWORD type) {
    LARGE_INTEGER t0, t1;
    QueryPerformanceCounter(&t0);
    SetLastError(0);
    BOOL ok = VirtualFree(reinterpret_cast<void*>(addr), size, type);
    DWORD error = ok ? 0 : GetLastError();
    QueryPerformanceCounter(&t1);
    Begin("VirtualFree", t0, t1);
    out_->HexField("addr", addr);
    out_->DecField("size", size);
    out_->HexField("flags", type);
    out_->Str(" ->");
    End(error);
    out_->Char('\n');
    return ok;
  }

  bool Protect(uint64_t addr, uint64_t size, DWORD protect) {
    DWORD old_protect = 0;
    LARGE_INTEGER t0, t1;
    QueryPerformanceCounter(&t0);
    SetLastError(0);
    BOOL ok = VirtualProtect(reinterpret_cast<void*>(addr), size, protect, &old_protect);
    DWORD error = ok ? 0 : GetLastError();
    QueryPerformanceCounter(&t1);
    Begin("VirtualProtect", t0, t1);
    out_->HexField("addr", addr);
    out_->DecField("size", size);
    out_->HexField("protect", protect);
    out_->Str(" ->");
    End(error);
    // The API leaves *lpflOldProtect unspecified on failure; the trace says 0 then.
    out_->HexField("old_protect", ok ? old_protect : 0);
    out_->Char('\n');
    return ok;
  }

  // Returns the answer; all zero when the call failed.
  MEMORY_BASIC_INFORMATION Query(uint64_t addr) {
    MEMORY_BASIC_INFORMATION info = {};
    LARGE_INTEGER t0, t1;
    QueryPerformanceCounter(&t0);
    SetLastError(0);
    SIZE_T bytes = VirtualQuery(reinterpret_cast<void*>(addr), &info, sizeof(info));
    DWORD error = bytes ? 0 : GetLastError();
    QueryPerformanceCounter(&t1);
    if (bytes == 0) info = MEMORY_BASIC_INFORMATION{};
    Begin("VirtualQuery", t0, t1);
    out_->HexField("addr", addr);
    out_->DecField("size", sizeof(info));
    out_->Str(" ->");
    out_->HexField("result", bytes);
    End(error);
    out_->HexField("q_base", reinterpret_cast<uint64_t>(info.BaseAddress));
    out_->HexField("q_alloc_base", reinterpret_cast<uint64_t>(info.AllocationBase));
    out_->HexField("q_alloc_protect", info.AllocationProtect);
    out_->DecField("q_region_size", info.RegionSize);
    out_->HexField("q_state", info.State);
    out_->HexField("q_protect", info.Protect);
    out_->HexField("q_type", info.Type);
    out_->Char('\n');
    return info;
  }

 private:
  uint64_t Nanos(int64_t ticks) const {
    uint64_t t = static_cast<uint64_t>(ticks);
    uint64_t f = static_cast<uint64_t>(frequency_.QuadPart);
    return t / f * 1000000000 + t % f * 1000000000 / f;
  }
  void Begin(const char* op, LARGE_INTEGER t0, LARGE_INTEGER t1) {
    ++calls_;
    out_->Str(op);
    out_->DecField("thread", thread_);
    out_->DecField("ts", Nanos(t0.QuadPart - start_.QuadPart));
    out_->DecField("lat", Nanos(t1.QuadPart - t0.QuadPart));
  }
  // The outcome fields every one of these calls has; callers append the rest.
  void End(DWORD error) {
    out_->HexField("hresult", 0);
    out_->DecField("error", error);
  }

  Output* out_;
  LARGE_INTEGER frequency_;
  LARGE_INTEGER start_;
  DWORD thread_;
  uint64_t calls_ = 0;
};

// A Tracer that first fences off the window it works in.
class Oracle : public Tracer {
 public:
  using Tracer::Tracer;

  // Finds a window far from the heap, then fences it with two permanent guard reservations.
  bool OpenWindow() {
    uint64_t w = Alloc(0, kWindowSize, MEM_RESERVE | MEM_TOP_DOWN, PAGE_NOACCESS);
    if (w == 0 || !Free(w, 0, MEM_RELEASE)) return false;
    if (Alloc(w, kGranularity, MEM_RESERVE, PAGE_NOACCESS) != w) return false;
    uint64_t high = w + kWindowSize - kGranularity;
    if (Alloc(high, kGranularity, MEM_RESERVE, PAGE_NOACCESS) != high) return false;
    window_ = w;
    return true;
  }
  uint64_t window() const { return window_; }
  // The usable interior, between the guards.
  uint64_t lo() const { return window_ + kGranularity; }
  uint64_t hi() const { return window_ + kWindowSize - kGranularity; }
  bool InWindow(uint64_t base, uint64_t size) const { return base >= lo() && base + size <= hi(); }

 private:
  uint64_t window_ = 0;
};

void WriteHeader(Output* out, const char* mode, const char* seed, uint64_t count) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  MEMORYSTATUSEX ms = {};
  ms.dwLength = sizeof(ms);
  GlobalMemoryStatusEx(&ms);
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  // FILETIME counts 100 ns since 1601; the Unix epoch is 11644473600 s later.
  uint64_t filetime = (uint64_t{ft.dwHighDateTime} << 32) | ft.dwLowDateTime;
  uint64_t unix_ns = (filetime - 116444736000000000ull) * 100;

  out->Str("header { format_major: 1 platform: PLATFORM_WINDOWS page_size: ");
  out->Dec(si.dwPageSize);
  out->Str(" allocation_granularity: ");
  out->Dec(si.dwAllocationGranularity);
  out->Str(" min_user_address: ");
  out->Dec(reinterpret_cast<uint64_t>(si.lpMinimumApplicationAddress));
  out->Str(" max_user_address: ");
  out->Dec(reinterpret_cast<uint64_t>(si.lpMaximumApplicationAddress));
  out->Str(" physical_memory: ");
  out->Dec(ms.ullTotalPhys);
  out->Str(" source: SOURCE_WIN32_ORACLE command_line: \"win32_oracle.exe\" command_line: \"");
  out->Str(mode);
  out->Str("\" start_time_unix_ns: ");
  out->Dec(unix_ns);
  out->Str(" metadata { key: \"seed\" value: \"");
  out->Str(seed);
  out->Str("\" } metadata { key: \"mode\" value: \"");
  out->Str(mode);
  out->Str("\" } metadata { key: \"count\" value: \"");
  out->Dec(count);
  out->Str("\" }");
  // Wine exports wine_get_version from ntdll; the test uses it to apply known Wine deviations.
  using WineGetVersion = const char*(CDECL*)();
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  auto wine_get_version = reinterpret_cast<WineGetVersion>(
      reinterpret_cast<void*>(ntdll ? GetProcAddress(ntdll, "wine_get_version") : nullptr));
  if (wine_get_version) {
    out->Str(" metadata { key: \"wine_version\" value: \"");
    out->Str(wine_get_version());
    out->Str("\" }");
  }
  out->Str(" pointer_bits: 64 }\n");
}

void WriteFooter(Output* out, uint64_t events) {
  out->Str("footer { event_count: ");
  out->Dec(events);
  out->Str(" }\n");
}

// ---------------------------------------------------------------------------------------------
// Edge cases. Each group works in its own 4 MiB slot of the window, so groups do not interact
// and free-memory answers are bounded by neighbouring slots or the guards.

void RunEdgeCases(Oracle& o) {
  const uint64_t kSlot = 4 * kMiB;
  uint64_t next_slot = o.lo();
  auto slot = [&] {
    uint64_t s = next_slot;
    next_slot += kSlot;
    return s;
  };

  // Reservation rounding: base down to 64 KiB, end up to the page.
  {
    uint64_t s = slot();
    uint64_t a = o.Alloc(s + 0x1234, 0x3000, MEM_RESERVE, PAGE_READWRITE);  // -> s, 0x5000
    o.Query(s);
    o.Query(s + 0x4fff);
    o.Query(s + 0x5000);  // free up to the next slot
    o.Free(a, 0, MEM_RELEASE);
    o.Query(s);  // free again: up to the next allocation (a later slot or the high guard)
    // Size 1 byte reserves one page; a 2-byte range straddling a page boundary two pages.
    a = o.Alloc(s + 0x20000, 1, MEM_RESERVE, PAGE_NOACCESS);
    o.Query(a);
    o.Free(a, 0, MEM_RELEASE);
    a = o.Alloc(s + 0x20fff, 2, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);  // reserves 0x2000
    o.Query(s + 0x20000);
    o.Query(s + 0x21000);
    o.Free(a, 0, MEM_RELEASE);
    // Reserving at a 64 KiB multiple plus a page offset: the base still rounds down.
    a = o.Alloc(s + 0x3f000, 0x2000, MEM_RESERVE, PAGE_READONLY);  // -> s+0x30000, 0x11000
    o.Query(a);
    o.Query(s + 0x40000);  // the second 64 KiB unit is reserved too (0x1000 of it)
    o.Free(a, 0, MEM_RELEASE);
  }

  // NULL-address reservations: size rounds up to the page; reserve, commit, both, implicit.
  {
    uint64_t a = o.Alloc(0, 0x1234, MEM_RESERVE, PAGE_NOACCESS);
    o.Query(a);
    o.Query(a + 0x1fff);
    o.Free(a, 0, MEM_RELEASE);
    a = o.Alloc(0, 0x3001, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    o.Query(a);
    o.Free(a, 0, MEM_RELEASE);
    a = o.Alloc(0, 0x10000, MEM_COMMIT, PAGE_READONLY);  // MEM_COMMIT alone reserves too
    o.Query(a);
    o.Query(a + 0xffff);
    o.Free(a, 0, MEM_RELEASE);
    a = o.Alloc(0, 0x20000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
    o.Query(a);
    o.Free(a, 0, MEM_RELEASE);
    a = o.Alloc(0, 0x5000, MEM_RESERVE | MEM_COMMIT | MEM_TOP_DOWN, PAGE_EXECUTE_READWRITE);
    o.Query(a);
    o.Free(a, 0, MEM_RELEASE);
  }

  // MEM_TOP_DOWN with an explicit address: the address wins.
  {
    uint64_t s = slot();
    uint64_t a = o.Alloc(s, 0x10000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
    o.Query(a);
    o.Free(a, 0, MEM_RELEASE);
  }

  // Commit inside a reservation: page rounding, re-commit, protections, coalescing.
  {
    uint64_t s = slot();
    uint64_t a = o.Alloc(s, 0x20000, MEM_RESERVE, PAGE_NOACCESS);
    o.Query(a);                                               // whole reservation, protect 0
    o.Alloc(s + 0x1ffe, 4, MEM_COMMIT, PAGE_READWRITE);       // pages 1 and 2
    o.Query(s);                                               // page 0 reserved
    o.Query(s + 0x1000);                                      // pages 1-2 committed
    o.Query(s + 0x3000);                                      // rest reserved
    o.Alloc(s + 0x3000, 0x2000, MEM_COMMIT, PAGE_READWRITE);  // pages 3-4, same protect: merge
    o.Query(s + 0x1000);
    o.Alloc(s + 0x5000, 0x1000, MEM_COMMIT, PAGE_READONLY);  // page 5 other protect: split
    o.Query(s + 0x1000);
    o.Query(s + 0x5000);
    o.Query(s + 0x6000);
    // Re-commit committed pages with another protection (and a partly committed range).
    o.Alloc(s + 0x2000, 0x5000, MEM_COMMIT, PAGE_EXECUTE_READ);  // pages 2-6
    o.Query(s + 0x1000);
    o.Query(s + 0x2000);
    o.Query(s + 0x7000);
    // Commit with an address and size that are both unaligned, ending exactly on a page.
    o.Alloc(s + 0x8800, 0x800, MEM_COMMIT, PAGE_READWRITE);  // page 8 only
    o.Query(s + 0x8000);
    o.Query(s + 0x9000);
    // Commit of size 0 inside the reservation.
    o.Alloc(s + 0xa000, 0, MEM_COMMIT, PAGE_READWRITE);
    // Commit the whole reservation through its base with size 0? Not valid for VirtualAlloc.
    o.Alloc(s + 0x1f000, 0x2000, MEM_COMMIT, PAGE_READWRITE);  // runs off the end
    o.Query(s + 0x1f000);
    o.Alloc(s + 0x1f000, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);  // overlaps: fails
    o.Free(a, 0, MEM_RELEASE);
  }

  // Commit spanning two adjacent reservations fails; each reservation is its own region.
  {
    uint64_t s = slot();
    uint64_t a = o.Alloc(s, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    uint64_t b = o.Alloc(s + 0x10000, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    o.Alloc(s + 0xf000, 0x2000, MEM_COMMIT, PAGE_READWRITE);
    o.Query(s + 0xf000);
    o.Alloc(s, 0x10000, MEM_COMMIT, PAGE_READWRITE);
    o.Alloc(s + 0x10000, 0x10000, MEM_COMMIT, PAGE_READWRITE);
    o.Query(s);  // same state and protect, but never merged across reservations
    o.Query(s + 0x10000);
    o.Protect(s + 0xf000, 0x2000, PAGE_READONLY);  // protect spanning reservations
    o.Free(s + 0xf000, 0x2000, MEM_DECOMMIT);      // decommit spanning reservations
    o.Query(s + 0xf000);
    o.Free(s + 0x8000, 0, MEM_RELEASE);  // release not at the base
    o.Free(a, 0x10000, MEM_RELEASE);     // release with a size
    o.Free(a, 0, MEM_RELEASE | MEM_DECOMMIT);
    o.Free(a, 0, 0);  // no free type
    o.Free(a, 0, MEM_FREE);
    o.Query(a);
    o.Free(a, 0, MEM_RELEASE);
    o.Free(a, 0, MEM_RELEASE);  // double release
    o.Query(a);                 // free, up to b
    o.Free(b, 0, MEM_RELEASE);
  }

  // Commit, decommit and release in free memory.
  {
    uint64_t s = slot();
    o.Alloc(s + 0x1000, 0x1000, MEM_COMMIT, PAGE_READWRITE);
    o.Free(s + 0x1000, 0x1000, MEM_DECOMMIT);
    o.Free(s, 0, MEM_RELEASE);
    o.Protect(s, 0x1000, PAGE_READWRITE);
    o.Alloc(s, 0x1000, MEM_RESET, PAGE_READWRITE);
    o.Query(s);
    o.Query(s + 0x1234);
  }

  // Decommit: partial, size 0 from the base, size 0 from inside, already decommitted pages.
  {
    uint64_t s = slot();
    uint64_t a = o.Alloc(s, 0x40000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    o.Free(s + 0x3000, 0x2000, MEM_DECOMMIT);
    o.Query(s);
    o.Query(s + 0x3000);
    o.Query(s + 0x5000);
    o.Free(s + 0x3800, 0x1000, MEM_DECOMMIT);  // reserved pages + one committed: fine
    o.Query(s + 0x3000);
    o.Free(s + 0x20100, 0, MEM_DECOMMIT);  // size 0 away from the base: to the end
    o.Query(s + 0x5000);
    o.Query(s + 0x20000);
    o.Free(s + 0x3f000, 0x2000, MEM_DECOMMIT);  // runs off the end of the reservation
    o.Free(a, 0, MEM_DECOMMIT);                 // size 0 at the base: everything
    o.Query(a);
    o.Free(a, 0, MEM_DECOMMIT);  // again, all reserved already
    o.Free(a, 0, MEM_RELEASE);
    // Decommitted pages that had different protections form one reserved region (Wine splits
    // it: a known deviation), and merge with never-committed pages.
    a = o.Alloc(s, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    o.Alloc(s + 0x1000, 0x1000, MEM_COMMIT, PAGE_READONLY);
    o.Alloc(s + 0x2000, 0x1000, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    o.Query(s + 0x2000);
    o.Free(s + 0x1000, 0x2000, MEM_DECOMMIT);
    o.Query(s);
    o.Query(s + 0x1000);
    o.Query(s + 0x2000);
    o.Free(a, 0, MEM_RELEASE);
  }

  // MEM_RESET: on committed pages, reserved pages, beyond the reservation, combined flags.
  {
    uint64_t s = slot();
    uint64_t a = o.Alloc(s, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    o.Alloc(s, 0x4000, MEM_COMMIT, PAGE_READWRITE);
    o.Alloc(s + 0x1800, 0x1000, MEM_RESET, PAGE_NOACCESS);  // pages 1-2, committed
    o.Query(s);
    o.Alloc(s + 0x4000, 0x1000, MEM_RESET, PAGE_READWRITE);  // reserved page
    o.Query(s + 0x4000);
    o.Alloc(s + 0x2000, 0x4000, MEM_RESET, PAGE_READWRITE);  // committed + reserved
    o.Alloc(s + 0xf000, 0x2000, MEM_RESET, PAGE_READWRITE);  // beyond the end
    // "MEM_RESET cannot be used with any other value". Aimed at free memory: Wine ignores the
    // MEM_RESET bit (a known deviation) and must fail for another reason, not change state.
    o.Alloc(s + 0x100000, 0x1000, MEM_RESET | MEM_COMMIT, PAGE_READWRITE);
    // flProtect is ignored for MEM_RESET but must still be valid (KB Q162104).
    o.Alloc(s, 0x1000, MEM_RESET, 0);
    o.Query(s);
    o.Free(a, 0, MEM_RELEASE);
  }

  // VirtualProtect: reserved pages, mixed ranges, old protection of the first page.
  {
    uint64_t s = slot();
    uint64_t a = o.Alloc(s, 0x20000, MEM_RESERVE, PAGE_READWRITE);
    o.Protect(s, 0x1000, PAGE_READONLY);  // reserved only
    o.Alloc(s, 0x4000, MEM_COMMIT, PAGE_READWRITE);
    o.Protect(s + 0x3000, 0x2000, PAGE_READONLY);  // committed + reserved
    o.Protect(s + 0x1000, 0x1000, PAGE_READONLY);  // page 1
    o.Query(s);
    o.Query(s + 0x1000);
    o.Query(s + 0x2000);
    o.Protect(s + 0x1000, 0x2000, PAGE_EXECUTE_READ);  // old = page 1's READONLY
    o.Protect(s + 0x0fff, 2, PAGE_READWRITE);          // pages 0-1, old = page 0's READWRITE
    o.Query(s);
    o.Query(s + 0x2000);
    o.Protect(s + 0x2000, 0x2000, PAGE_READWRITE);  // back to one region
    o.Query(s);
    o.Protect(s, 0x4000, PAGE_NOACCESS);
    o.Query(s);
    o.Protect(s, 0x4000, PAGE_EXECUTE);
    o.Protect(s, 0x4000, PAGE_EXECUTE_READWRITE);
    o.Protect(s, 0x4000, PAGE_READWRITE | PAGE_GUARD);
    o.Query(s);
    o.Protect(s, 0x1000, PAGE_READWRITE);
    o.Query(s);
    o.Query(s + 0x1000);
    // Invalid protection values.
    o.Protect(s, 0x1000, 0);
    o.Protect(s, 0x1000, PAGE_READONLY | PAGE_EXECUTE);
    o.Protect(s, 0x1000, PAGE_READWRITE | PAGE_EXECUTE_WRITECOPY);
    o.Protect(s, 0x1000, 0x80000000);
    o.Protect(s, 0x1000, PAGE_WRITECOPY);
    // (VirtualProtect with size 0 is left out: the documentation does not say what it does.)
    o.Protect(s + 0x100000, 0x1000, PAGE_READONLY);  // free memory after the reservation
    o.Free(a, 0, MEM_RELEASE);
    o.Protect(s, 0x1000, PAGE_READONLY);  // released
  }

  // Invalid VirtualAlloc arguments.
  {
    uint64_t s = slot();
    o.Alloc(0, 0, MEM_RESERVE, PAGE_READWRITE);  // zero size
    o.Alloc(s, 0, MEM_RESERVE, PAGE_READWRITE);
    o.Alloc(0, 0x1000, 0, PAGE_READWRITE);  // no allocation type
    o.Alloc(0, 0x1000, MEM_TOP_DOWN, PAGE_READWRITE);
    o.Alloc(0, 0x1000, MEM_RESERVE, 0);  // invalid protections
    o.Alloc(0, 0x1000, MEM_COMMIT, 0);
    o.Alloc(s, 0x1000, MEM_RESERVE, PAGE_READONLY | PAGE_EXECUTE);
    o.Alloc(s, 0x1000, MEM_RESERVE, PAGE_WRITECOPY);
    o.Alloc(s, 0x1000, MEM_RESERVE, PAGE_EXECUTE_WRITECOPY);
    o.Alloc(s, 0x1000, MEM_RESERVE, 0x80000000);
    o.Alloc(s, 0x1000, MEM_RESERVE | MEM_FREE, PAGE_READWRITE);  // invalid type bits
    // MEM_RESET combines with nothing; aimed at the low guard so that Wine, which ignores the
    // bit, fails too (with another error) instead of reserving.
    o.Alloc(o.window(), 0x1000, MEM_RESERVE | MEM_RESET, PAGE_READWRITE);
    o.Query(s);  // nothing happened
    // Above the highest user address, and sizes no address space holds.
    o.Alloc(0x800000000000ull, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    // Sizes larger than the whole user address space (not merely larger than its free space,
    // which depends on mappings the trace cannot know).
    o.Alloc(0, 0x800000000000ull, MEM_RESERVE, PAGE_READWRITE);
    o.Alloc(0, ~uint64_t{0} - 0x20000, MEM_RESERVE, PAGE_READWRITE);
    // Reservations overlapping existing ones (here, the guards) fail.
    o.Alloc(o.window(), 0x10000, MEM_RESERVE, PAGE_READWRITE);
    o.Alloc(o.hi() - 0x10000, 0x20000, MEM_RESERVE, PAGE_READWRITE);
    o.Alloc(o.window() + 0x8000, 0x1000, MEM_COMMIT, PAGE_READWRITE);  // commit inside a guard
    o.Query(o.window() + 0x8000);
    o.Query(o.hi() - 1);  // free up to the high guard
  }

  // Queries: beyond the highest user address fails.
  {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    uint64_t max = reinterpret_cast<uint64_t>(si.lpMaximumApplicationAddress);
    o.Query(max + 1);
    o.Query(0x800000000000ull);
    o.Query(~uint64_t{0} - 0xfff);
  }

  // A reservation filling a gap exactly: free queries then see the neighbours.
  {
    uint64_t s = slot();
    uint64_t a = o.Alloc(s, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    uint64_t c = o.Alloc(s + 0x30000, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    o.Query(s + 0x10000);  // free, 0x20000
    o.Query(s + 0x2ffff);  // free, one page
    uint64_t b = o.Alloc(s + 0x10000, 0x20000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    o.Query(s + 0x10000);
    o.Free(b, 0, MEM_RELEASE);
    o.Query(s + 0x10000);
    o.Free(a, 0, MEM_RELEASE);
    o.Free(c, 0, MEM_RELEASE);
  }
}

// ---------------------------------------------------------------------------------------------
// Random sequences.

class Rng {  // splitmix64: tiny, seedable, good enough to pick arguments
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  bool Percent(uint64_t p) { return Below(100) < p; }

 private:
  uint64_t state_;
};

struct Reservation {
  uint64_t base;
  uint64_t size;
};

constexpr DWORD kProtections[] = {PAGE_NOACCESS, PAGE_READONLY,     PAGE_READWRITE,
                                  PAGE_EXECUTE,  PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE};
constexpr DWORD kInvalidProtections[] = {0, PAGE_READONLY | PAGE_EXECUTE, PAGE_WRITECOPY,
                                         PAGE_EXECUTE_WRITECOPY, 0x3};

class RandomRun {
 public:
  RandomRun(Oracle& o, uint64_t seed) : o_(o), rng_(seed) {}

  void Run(uint64_t count) {
    while (o_.calls() < count) Step();
    // Tear down what is left (recorded too: more releases to compare).
    for (int i = 0; i < live_count_; ++i) o_.Free(live_[i].base, 0, MEM_RELEASE);
  }

 private:
  static constexpr int kMaxLive = 96;

  // Invalid protections are only used where nothing else is wrong with the call (see
  // InvalidProtection): which error wins when two arguments are bad is undocumented.
  DWORD Protection() { return kProtections[rng_.Below(6)]; }
  DWORD BadProtection() { return kInvalidProtections[rng_.Below(5)]; }
  uint64_t Pages() {
    uint64_t r = rng_.Below(100);
    if (r < 65) return 1 + rng_.Below(16);
    if (r < 95) return 1 + rng_.Below(256);
    return 1 + rng_.Below(2048);
  }
  // A random address in the window's interior.
  uint64_t WindowAddress() { return o_.lo() + rng_.Below(o_.hi() - o_.lo()); }

  // A range mostly inside reservation r, sometimes unaligned, sometimes running off its end.
  void RangeIn(const Reservation& r, uint64_t* addr, uint64_t* size) {
    uint64_t pages = r.size / kPage;
    uint64_t first = rng_.Below(pages);
    uint64_t count = 1 + rng_.Below(pages - first < 24 ? pages - first : 24);
    if (rng_.Percent(8)) count += 1 + rng_.Below(4);
    *addr = r.base + first * kPage;
    *size = count * kPage;
    if (rng_.Percent(20)) *addr += rng_.Below(kPage);  // unaligned start
    if (rng_.Percent(30)) *size -= rng_.Below(kPage);  // unaligned length, still >= 1
    if (rng_.Percent(2)) *size = 0;
  }
  // A live reservation (or, 3% of the time, a random window address as a one-page "reservation").
  Reservation Pick() {
    if (live_count_ == 0 || rng_.Percent(3)) return {WindowAddress() & ~(kPage - 1), kPage};
    return live_[rng_.Below(static_cast<uint64_t>(live_count_))];
  }
  void MaybeQuery(uint64_t addr) {
    if (rng_.Percent(30)) o_.Query(addr);
  }
  bool InWindow(const Reservation& r) const { return o_.InWindow(r.base, r.size); }

  void Reserve() {
    uint64_t size = Pages() * kPage;
    if (rng_.Percent(20)) size -= rng_.Below(kPage);
    uint64_t r = rng_.Below(100);
    uint64_t addr = 0;
    DWORD type = rng_.Percent(60) ? MEM_RESERVE : MEM_RESERVE | MEM_COMMIT;
    if (r < 70) {
      addr = o_.lo() + rng_.Below((o_.hi() - o_.lo()) / kGranularity) * kGranularity;
      if (rng_.Percent(20)) addr += rng_.Below(kGranularity);
      if (rng_.Percent(5)) type |= MEM_TOP_DOWN;
    } else if (r < 80 && live_count_ > 0 && InWindow(live_[live_count_ - 1])) {
      // Right after a live reservation: adjacent reservations (or a collision). Only inside
      // the window: elsewhere the oracle does not know what is mapped.
      const Reservation& n = live_[live_count_ - 1];
      addr = (n.base + n.size + kGranularity - 1) & ~(kGranularity - 1);
    } else if (r < 95) {
      if (rng_.Percent(15)) type |= MEM_TOP_DOWN;
    } else {
      type = MEM_COMMIT;  // NULL + MEM_COMMIT reserves implicitly
    }
    uint64_t base = o_.Alloc(addr, size, type, Protection());
    if (base == 0) return;
    uint64_t end = addr ? PageUp(addr + size) : base + PageUp(size);
    live_[live_count_++] = {base, end - base};
    MaybeQuery(base + rng_.Below(end - base));
  }

  void Release() {
    if (live_count_ == 0) return;
    int i = static_cast<int>(rng_.Below(static_cast<uint64_t>(live_count_)));
    Reservation r = live_[i];
    uint64_t k = rng_.Below(100);
    if (k < 4) {
      o_.Free(r.base + kPage * (1 + rng_.Below(r.size / kPage)), 0, MEM_RELEASE);
      return;
    }
    if (k < 7) {
      o_.Free(r.base, r.size, MEM_RELEASE);
      return;
    }
    if (k < 9) {
      o_.Free(r.base, 0, MEM_RELEASE | MEM_DECOMMIT);
      return;
    }
    if (!o_.Free(r.base, 0, MEM_RELEASE)) return;
    live_[i] = live_[--live_count_];
    // Freed memory is only looked at (or freed again) inside the window, where nothing but
    // the oracle can have mapped it since.
    if (!InWindow(r)) return;
    dead_[dead_next_++ % kDead] = r.base;
    MaybeQuery(r.base);
    if (rng_.Percent(5) && dead_next_ >= kDead) {
      o_.Free(dead_[rng_.Below(kDead)], 0, MEM_RELEASE);  // double release
    }
  }

  // Invalid flProtect with otherwise valid arguments: a NULL-address reservation, or a range
  // just committed successfully (so committed and inside one reservation).
  void InvalidProtection() {
    if (rng_.Percent(30)) {
      o_.Alloc(0, Pages() * kPage, rng_.Percent(50) ? MEM_RESERVE : MEM_RESERVE | MEM_COMMIT,
               BadProtection());
      return;
    }
    const Reservation& r = live_[rng_.Below(static_cast<uint64_t>(live_count_))];
    uint64_t first = rng_.Below(r.size / kPage);
    uint64_t addr = r.base + first * kPage;
    uint64_t size = (1 + rng_.Below(r.size / kPage - first)) * kPage;
    if (!o_.Alloc(addr, size, MEM_COMMIT, Protection())) return;
    if (rng_.Percent(50)) {
      o_.Alloc(addr, size, MEM_COMMIT, BadProtection());
    } else {
      o_.Protect(addr, size, BadProtection());
    }
  }

  void Step() {
    uint64_t k = rng_.Below(100);
    uint64_t addr, size;
    if (live_count_ == 0 || (k < 12 && live_count_ < kMaxLive)) {
      Reserve();
    } else if (k < 12) {
      Release();
    } else if (k < 32) {
      Reservation r = Pick();
      RangeIn(r, &addr, &size);
      o_.Alloc(addr, size, MEM_COMMIT, Protection());
      MaybeQuery(addr);
    } else if (k < 42) {
      Reservation r = Pick();
      RangeIn(r, &addr, &size);
      if (rng_.Percent(10)) addr = r.base, size = 0;  // everything
      o_.Free(addr, size, MEM_DECOMMIT);
      MaybeQuery(addr);
    } else if (k < 52) {
      Release();
    } else if (k < 68) {
      Reservation r = Pick();
      RangeIn(r, &addr, &size);
      if (size == 0) size = 1;  // size 0 is undocumented for VirtualProtect
      o_.Protect(addr, size, Protection());
      MaybeQuery(addr);
    } else if (k < 72) {
      Reservation r = Pick();
      RangeIn(r, &addr, &size);
      o_.Alloc(addr, size, MEM_RESET, rng_.Percent(90) ? PAGE_READWRITE : PAGE_NOACCESS);
    } else if (k < 92) {
      uint64_t q = rng_.Below(100);
      const Reservation& r = live_[rng_.Below(static_cast<uint64_t>(live_count_))];
      if (q < 70) {
        o_.Query(r.base + rng_.Below(r.size));
      } else if (q < 85 && InWindow(r)) {
        o_.Query(r.base + r.size);  // just past the end: another region, or free (see Release)
      } else {
        o_.Query(WindowAddress());
      }
    } else {
      // Invalid calls: odd flags, free-memory targets, bad protections.
      switch (rng_.Below(7)) {
        case 0:
          o_.Alloc(WindowAddress(), Pages() * kPage, MEM_COMMIT, PAGE_READWRITE);
          break;
        case 1:
          o_.Protect(WindowAddress(), Pages() * kPage, PAGE_READONLY);
          break;
        case 2:
          o_.Free(WindowAddress(), kPage, MEM_DECOMMIT);
          break;
        case 3:
          o_.Free(Pick().base, 0, rng_.Percent(50) ? 0 : MEM_FREE);
          break;
        case 4:
          o_.Alloc(WindowAddress(), 0, MEM_RESERVE, PAGE_READWRITE);
          break;
        case 6:
          InvalidProtection();
          break;
        default:
          // At a live reservation, so that Wine (which ignores MEM_RESET here) fails as well.
          o_.Alloc(live_[rng_.Below(static_cast<uint64_t>(live_count_))].base, kPage,
                   MEM_RESERVE | MEM_RESET, PAGE_READWRITE);
          break;
      }
    }
  }

  static constexpr int kDead = 16;
  Oracle& o_;
  Rng rng_;
  Reservation live_[kMaxLive] = {};
  int live_count_ = 0;
  uint64_t dead_[kDead] = {};
  uint64_t dead_next_ = 0;
};

bool ParseU64(const char* s, uint64_t* out) {
  uint64_t v = 0;
  if (!*s) return false;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + static_cast<uint64_t>(*s - '0');
  }
  *out = v;
  return true;
}

int Usage() {
  const char msg[] =
      "usage: win32_oracle.exe edge OUT.txt\n"
      "       win32_oracle.exe random SEED COUNT OUT.txt\n";
  DWORD written;
  WriteFile(GetStdHandle(STD_ERROR_HANDLE), msg, sizeof(msg) - 1, &written, nullptr);
  return 2;
}

int Fail(const char* what) {
  DWORD written;
  HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
  WriteFile(err, "win32_oracle: ", 14, &written, nullptr);
  DWORD n = 0;
  while (what[n]) ++n;
  WriteFile(err, what, n, &written, nullptr);
  WriteFile(err, "\n", 1, &written, nullptr);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  bool edge = argc == 3 && lstrcmpA(argv[1], "edge") == 0;
  bool random = argc == 5 && lstrcmpA(argv[1], "random") == 0;
  uint64_t seed = 0, count = 0;
  if (random && (!ParseU64(argv[2], &seed) || !ParseU64(argv[3], &count))) return Usage();
  if (!edge && !random) return Usage();
  const char* path = argv[argc - 1];

  Output out;
  // About 300 bytes an event; edge mode has a few hundred.
  if (!out.Init((count + 2000) * 512)) return Fail("cannot allocate the output buffer");
  WriteHeader(&out, argv[1], edge ? "0" : argv[2], count);
  Oracle oracle(&out);
  if (!oracle.OpenWindow()) return Fail("cannot set up the address window");
  if (edge) {
    RunEdgeCases(oracle);
  } else {
    RandomRun(oracle, seed).Run(count);
  }
  WriteFooter(&out, oracle.calls());
  if (out.overflow()) return Fail("output buffer overflow");
  if (!out.WriteTo(path)) return Fail("cannot write the trace");
  return 0;
}
