#include "recorder/windows/recording_memory_manager.h"

#include "recorder/windows/recording_host_malloc.h"

namespace vmreplay::win {

RecordingMemoryManager::RecordingMemoryManager(RecordingSession* session) : session_(session) {}

RecordingMemoryManager::~RecordingMemoryManager() {
  if (callback_ != nullptr) callback_->Release();
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::QueryInterface(REFIID riid, void** ppv) {
  if (ppv == nullptr) return E_POINTER;
  if (SameGuid(riid, kIID_IUnknown) || SameGuid(riid, kIID_IHostMemoryManager)) {
    *ppv = static_cast<IHostMemoryManager*>(this);
    AddRef();
    return S_OK;
  }
  *ppv = nullptr;
  return E_NOINTERFACE;
}

ULONG STDMETHODCALLTYPE RecordingMemoryManager::AddRef() {
  return refs_.fetch_add(1, std::memory_order_relaxed) + 1;
}

ULONG STDMETHODCALLTYPE RecordingMemoryManager::Release() {
  const ULONG left = refs_.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (left == 0) delete this;
  return left;
}

Event RecordingMemoryManager::Begin(Op op) const {
  Event e;
  e.op = op;
  e.thread = GetCurrentThreadId();
  e.timestamp_ns = session_->NowNs();
  return e;
}

void RecordingMemoryManager::End(Event& e, HRESULT hr) const {
  e.latency_ns = session_->NowNs() - e.timestamp_ns;
  e.hresult = static_cast<uint32_t>(hr);
  session_->Record(e);
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::CreateMalloc(DWORD dwMallocType,
                                                               IHostMalloc** ppMalloc) {
  Event e = Begin(Op::kCreateMalloc);
  HRESULT hr = E_POINTER;
  if (ppMalloc != nullptr) {
    const uint64_t id = next_heap_id_.fetch_add(1, std::memory_order_relaxed);
    *ppMalloc = RecordingHostMalloc::Create(session_, id, dwMallocType);
    hr = *ppMalloc != nullptr ? S_OK : E_OUTOFMEMORY;
    if (*ppMalloc != nullptr) e.result = id;  // HostAlloc/DebugAlloc/Free name it in `heap`
  }
  e.flags = dwMallocType;
  End(e, hr);
  return hr;
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::VirtualAlloc(void* pAddress, SIZE_T dwSize,
                                                               DWORD flAllocationType,
                                                               DWORD flProtect,
                                                               EMemoryCriticalLevel eCriticalLevel,
                                                               void** ppMem) {
  Event e = Begin(Op::kVirtualAlloc);
  HRESULT hr = E_POINTER;
  if (ppMem != nullptr) {
    void* p = ::VirtualAlloc(pAddress, dwSize, flAllocationType, flProtect);
    e.error = p != nullptr ? 0 : GetLastError();
    *ppMem = p;
    e.result = reinterpret_cast<uint64_t>(p);
    hr = p != nullptr ? S_OK : E_OUTOFMEMORY;
  }
  e.addr = reinterpret_cast<uint64_t>(pAddress);
  e.size = dwSize;
  e.flags = flAllocationType;
  e.protect = flProtect;
  e.level = static_cast<uint32_t>(eCriticalLevel);
  End(e, hr);
  return hr;
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::VirtualFree(LPVOID lpAddress, SIZE_T dwSize,
                                                              DWORD dwFreeType) {
  Event e = Begin(Op::kVirtualFree);
  const BOOL ok = ::VirtualFree(lpAddress, dwSize, dwFreeType);
  e.error = ok ? 0 : GetLastError();
  e.addr = reinterpret_cast<uint64_t>(lpAddress);
  e.size = dwSize;
  e.flags = dwFreeType;
  End(e, ok ? S_OK : HRESULT_FROM_WIN32(e.error));
  return ok ? S_OK : HRESULT_FROM_WIN32(e.error);
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::VirtualQuery(void* lpAddress, void* lpBuffer,
                                                               SIZE_T dwLength, SIZE_T* pResult) {
  Event e = Begin(Op::kVirtualQuery);
  HRESULT hr = E_POINTER;
  if (pResult != nullptr) {
    auto* info = static_cast<MEMORY_BASIC_INFORMATION*>(lpBuffer);
    const SIZE_T bytes = ::VirtualQuery(lpAddress, info, dwLength);
    e.error = bytes != 0 ? 0 : GetLastError();
    *pResult = bytes;
    e.result = bytes;
    hr = bytes != 0 ? S_OK : HRESULT_FROM_WIN32(e.error);
    if (bytes >= sizeof(MEMORY_BASIC_INFORMATION)) {
      e.q_base = reinterpret_cast<uint64_t>(info->BaseAddress);
      e.q_alloc_base = reinterpret_cast<uint64_t>(info->AllocationBase);
      e.q_alloc_protect = info->AllocationProtect;
      e.q_region_size = info->RegionSize;
      e.q_state = info->State;
      e.q_protect = info->Protect;
      e.q_type = info->Type;
    }
  }
  e.addr = reinterpret_cast<uint64_t>(lpAddress);
  e.size = dwLength;
  End(e, hr);
  return hr;
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::VirtualProtect(void* lpAddress, SIZE_T dwSize,
                                                                 DWORD flNewProtect,
                                                                 DWORD* pflOldProtect) {
  Event e = Begin(Op::kVirtualProtect);
  HRESULT hr = E_POINTER;
  if (pflOldProtect != nullptr) {
    DWORD old = 0;
    const BOOL ok = ::VirtualProtect(lpAddress, dwSize, flNewProtect, &old);
    e.error = ok ? 0 : GetLastError();
    *pflOldProtect = old;
    e.old_protect = ok ? old : 0;  // unspecified by Win32 after a failure
    hr = ok ? S_OK : HRESULT_FROM_WIN32(e.error);
  }
  e.addr = reinterpret_cast<uint64_t>(lpAddress);
  e.size = dwSize;
  e.protect = flNewProtect;
  End(e, hr);
  return hr;
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::GetMemoryLoad(DWORD* pMemoryLoad,
                                                                SIZE_T* pAvailableBytes) {
  Event e = Begin(Op::kGetMemoryLoad);
  HRESULT hr = E_POINTER;
  if (pMemoryLoad != nullptr && pAvailableBytes != nullptr) {
    MEMORYSTATUSEX ms = {};
    ms.dwLength = sizeof ms;
    if (GlobalMemoryStatusEx(&ms)) {
      // The load the OS reports and the physical memory still available: what the CLR's
      // own default (no host) uses for its GC heuristics.
      *pMemoryLoad = ms.dwMemoryLoad;
      *pAvailableBytes = static_cast<SIZE_T>(ms.ullAvailPhys);
      e.load = ms.dwMemoryLoad;
      e.avail = ms.ullAvailPhys;
      hr = S_OK;
    } else {
      hr = HRESULT_FROM_WIN32(GetLastError());
    }
  }
  End(e, hr);
  return hr;
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::RegisterMemoryNotificationCallback(
    ICLRMemoryNotificationCallback* pCallback) {
  Event e = Begin(Op::kRegisterMemoryNotificationCallback);
  if (pCallback != nullptr) pCallback->AddRef();
  AcquireSRWLockExclusive(&callback_lock_);
  ICLRMemoryNotificationCallback* previous = callback_;
  callback_ = pCallback;
  ReleaseSRWLockExclusive(&callback_lock_);
  if (previous != nullptr) previous->Release();
  e.addr = reinterpret_cast<uint64_t>(pCallback);
  End(e, S_OK);
  return S_OK;
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::NeedsVirtualAddressSpace(LPVOID startAddress,
                                                                           SIZE_T size) {
  Event e = Begin(Op::kNeedsVirtualAddressSpace);
  e.addr = reinterpret_cast<uint64_t>(startAddress);
  e.size = size;
  End(e, S_OK);
  return S_OK;
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::AcquiredVirtualAddressSpace(LPVOID startAddress,
                                                                              SIZE_T size) {
  Event e = Begin(Op::kAcquiredVirtualAddressSpace);
  e.addr = reinterpret_cast<uint64_t>(startAddress);
  e.size = size;
  End(e, S_OK);
  return S_OK;
}

HRESULT STDMETHODCALLTYPE RecordingMemoryManager::ReleasedVirtualAddressSpace(LPVOID startAddress) {
  Event e = Begin(Op::kReleasedVirtualAddressSpace);
  e.addr = reinterpret_cast<uint64_t>(startAddress);
  End(e, S_OK);
  return S_OK;
}

HRESULT RecordingMemoryManager::DeliverMemoryNotification(EMemoryAvailable level) {
  AcquireSRWLockShared(&callback_lock_);
  ICLRMemoryNotificationCallback* callback = callback_;
  if (callback != nullptr) callback->AddRef();
  ReleaseSRWLockShared(&callback_lock_);
  if (callback == nullptr) return S_FALSE;
  Event e = Begin(Op::kMemoryNotification);
  const HRESULT hr = callback->OnMemoryNotification(level);
  callback->Release();
  e.level = static_cast<uint32_t>(level);
  End(e, hr);
  return hr;
}

}  // namespace vmreplay::win
