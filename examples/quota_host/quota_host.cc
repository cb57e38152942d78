// An example host memory manager for `vmreplay --manager=plugin:./libquota_host.so,quota=N`:
// what a host that caps the CLR's commit would write. It is ordinary Win32 code (VirtualAlloc,
// VirtualFree, VirtualQuery, GetLastError); built against include/vmreplay/manager_plugin.h on
// Linux those calls go to the platform vmreplay measures.
//
// Policy: commits past `quota` bytes (option quota=N, default 256 MiB) fail with E_OUTOFMEMORY
// whatever their critical level; GetMemoryLoad reports committed / quota; the CLR is told
// eMemoryAvailableLow once commit passes 90 % of the quota and eMemoryAvailableHigh once it falls
// back under 50 %. IHostMalloc is the C heap.
#include <cstdlib>
#include <cstring>
#include <new>

#include "vmreplay/manager_plugin.h"

namespace {

constexpr SIZE_T kPage = 4096;  // Win32's page on x86-64 (GetSystemInfo's dwPageSize)

// Win32 rounds a range out to the pages it touches.
char* PageDown(void* p) {
  return reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(p) & ~(uintptr_t{kPage} - 1));
}
SIZE_T PagesSpan(void* p, SIZE_T size) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(PageDown(p));
  const uintptr_t end =
      (reinterpret_cast<uintptr_t>(p) + size + kPage - 1) & ~(uintptr_t{kPage} - 1);
  return static_cast<SIZE_T>(end - start);
}

// Bytes of the pages [start, start + size) touches that are in MEM_COMMIT state.
SIZE_T CommittedIn(void* address, SIZE_T size) {
  char* start = PageDown(address);
  size = PagesSpan(address, size);
  SIZE_T committed = 0;
  char* cursor = start;
  while (cursor < start + size) {
    MEMORY_BASIC_INFORMATION info;
    if (VirtualQuery(cursor, &info, sizeof info) == 0 || info.RegionSize == 0) break;
    char* end = static_cast<char*>(info.BaseAddress) + info.RegionSize;
    if (end > start + size) end = start + size;
    if (info.State == MEM_COMMIT) committed += static_cast<SIZE_T>(end - cursor);
    cursor = end;
  }
  return committed;
}

HRESULT LastErrorAsHresult() { return HRESULT_FROM_WIN32(GetLastError()); }

class CHeap final : public IHostMalloc {
 public:
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID, void** out) override {
    *out = nullptr;
    return E_NOINTERFACE;
  }
  ULONG STDMETHODCALLTYPE AddRef() override { return 1; }
  ULONG STDMETHODCALLTYPE Release() override { return 1; }
  HRESULT STDMETHODCALLTYPE Alloc(SIZE_T size, EMemoryCriticalLevel, void** out) override {
    *out = std::malloc(size == 0 ? 1 : size);
    return *out != nullptr ? S_OK : E_OUTOFMEMORY;
  }
  HRESULT STDMETHODCALLTYPE DebugAlloc(SIZE_T size, EMemoryCriticalLevel level, char*, int,
                                       void** out) override {
    return Alloc(size, level, out);
  }
  HRESULT STDMETHODCALLTYPE Free(void* p) override {
    std::free(p);
    return S_OK;
  }
};

class QuotaHost final : public IHostMemoryManager {
 public:
  explicit QuotaHost(uint64_t quota) : quota_(quota) {}

  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID, void** out) override {
    *out = nullptr;
    return E_NOINTERFACE;
  }
  ULONG STDMETHODCALLTYPE AddRef() override { return ++refs_; }
  ULONG STDMETHODCALLTYPE Release() override {
    const ULONG left = --refs_;
    if (left == 0) delete this;
    return left;
  }

  HRESULT STDMETHODCALLTYPE CreateMalloc(DWORD, IHostMalloc** out) override {
    *out = &heap_;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE VirtualAlloc(void* address, SIZE_T size, DWORD type, DWORD protect,
                                         EMemoryCriticalLevel, void** out) override {
    *out = nullptr;
    SIZE_T more = 0;
    if ((type & MEM_COMMIT) != 0) {
      const SIZE_T span = PagesSpan(address, size);
      more = address == nullptr ? span : span - CommittedIn(address, size);
      if (committed_ + more > quota_) return E_OUTOFMEMORY;
    }
    void* p = ::VirtualAlloc(address, size, type, protect);
    if (p == nullptr) return LastErrorAsHresult();
    committed_ += more;
    *out = p;
    Notify();
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE VirtualFree(LPVOID address, SIZE_T size, DWORD type) override {
    MEMORY_BASIC_INFORMATION info;
    SIZE_T less = 0;
    if (::VirtualQuery(address, &info, sizeof info) != 0) {
      char* base = static_cast<char*>(type == MEM_RELEASE ? info.AllocationBase : address);
      // The whole reservation for MEM_RELEASE (and MEM_DECOMMIT of size 0): walk to its end.
      SIZE_T span = size;
      if (type == MEM_RELEASE || size == 0) {
        span = 0;
        char* cursor = base;
        while (::VirtualQuery(cursor, &info, sizeof info) != 0 &&
               info.AllocationBase == static_cast<void*>(base) && info.State != MEM_FREE) {
          cursor = static_cast<char*>(info.BaseAddress) + info.RegionSize;
        }
        span = static_cast<SIZE_T>(cursor - base);
      }
      less = CommittedIn(base, span == 0 ? 1 : span);
    }
    if (!::VirtualFree(address, size, type)) return LastErrorAsHresult();
    committed_ -= less < committed_ ? less : committed_;
    Notify();
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE VirtualQuery(void* address, void* buffer, SIZE_T length,
                                         SIZE_T* result) override {
    *result = ::VirtualQuery(address, static_cast<MEMORY_BASIC_INFORMATION*>(buffer), length);
    return *result != 0 ? S_OK : LastErrorAsHresult();
  }
  HRESULT STDMETHODCALLTYPE VirtualProtect(void* address, SIZE_T size, DWORD protect,
                                           DWORD* old) override {
    return ::VirtualProtect(address, size, protect, old) ? S_OK : LastErrorAsHresult();
  }
  HRESULT STDMETHODCALLTYPE GetMemoryLoad(DWORD* load, SIZE_T* available) override {
    *load = static_cast<DWORD>(committed_ >= quota_ ? 100 : committed_ * 100 / quota_);
    *available = committed_ >= quota_ ? 0 : quota_ - committed_;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE
  RegisterMemoryNotificationCallback(ICLRMemoryNotificationCallback* callback) override {
    callback_ = callback;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE NeedsVirtualAddressSpace(LPVOID, SIZE_T) override { return S_FALSE; }
  HRESULT STDMETHODCALLTYPE AcquiredVirtualAddressSpace(LPVOID, SIZE_T) override { return S_OK; }
  HRESULT STDMETHODCALLTYPE ReleasedVirtualAddressSpace(LPVOID) override { return S_OK; }

 private:
  void Notify() {
    if (callback_ == nullptr) return;
    if (!low_ && committed_ * 10 > quota_ * 9) {
      low_ = true;
      callback_->OnMemoryNotification(eMemoryAvailableLow);
    } else if (low_ && committed_ * 2 < quota_) {
      low_ = false;
      callback_->OnMemoryNotification(eMemoryAvailableHigh);
    }
  }

  ULONG refs_ = 1;
  uint64_t quota_;
  uint64_t committed_ = 0;
  bool low_ = false;
  ICLRMemoryNotificationCallback* callback_ = nullptr;
  CHeap heap_;
};

// "quota=268435456" (bytes; K/M/G suffixes) from the plugin's option text.
uint64_t QuotaOption(const char* options) {
  uint64_t quota = 256ull << 20;
  const char* q = options != nullptr ? std::strstr(options, "quota=") : nullptr;
  if (q != nullptr) {
    char* end = nullptr;
    quota = std::strtoull(q + 6, &end, 10);
    if (*end == 'K' || *end == 'k') quota <<= 10;
    if (*end == 'M' || *end == 'm') quota <<= 20;
    if (*end == 'G' || *end == 'g') quota <<= 30;
  }
  return quota == 0 ? 1 : quota;
}

}  // namespace

extern "C" uint32_t vmreplay_plugin_abi_version() { return VMREPLAY_PLUGIN_ABI_VERSION; }

extern "C" HRESULT vmreplay_create_host_memory_manager(const vmreplay_platform* platform,
                                                       IHostMemoryManager** out) {
  vmreplay::BindPlatform(platform);
  *out = new (std::nothrow) QuotaHost(QuotaOption(platform->options));
  return *out != nullptr ? S_OK : E_OUTOFMEMORY;
}
