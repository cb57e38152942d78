// IHostMemoryManager that forwards every call to the real Win32 function and records the
// call's arguments, outcome, thread, timestamp and latency into a RecordingSession.
//
// HRESULTs follow the documentation: S_OK on success; E_OUTOFMEMORY when VirtualAlloc or
// CreateMalloc cannot get memory (the CLR treats any failure there as out-of-memory; the
// event's `error` keeps GetLastError()); HRESULT_FROM_WIN32(GetLastError()) for the other
// failing Win32 calls; E_POINTER for a null out-parameter. The address-space callbacks
// (Needs/Acquired/Released) are accepted with S_OK: this host imposes no policy, it records.
#pragma once

#include <atomic>
#include <cstdint>

#include "recorder/windows/clr_hosting.h"
#include "recorder/windows/recording_session.h"

namespace vmreplay::win {

class RecordingMemoryManager final : public IHostMemoryManager {
 public:
  // REQUIRES: `session` outlives the manager and every heap it creates.
  // The object starts with one reference, owned by the caller.
  explicit RecordingMemoryManager(RecordingSession* session);

  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void** ppv) override;
  ULONG STDMETHODCALLTYPE AddRef() override;
  ULONG STDMETHODCALLTYPE Release() override;

  HRESULT STDMETHODCALLTYPE CreateMalloc(DWORD dwMallocType, IHostMalloc** ppMalloc) override;
  HRESULT STDMETHODCALLTYPE VirtualAlloc(void* pAddress, SIZE_T dwSize, DWORD flAllocationType,
                                         DWORD flProtect, EMemoryCriticalLevel eCriticalLevel,
                                         void** ppMem) override;
  HRESULT STDMETHODCALLTYPE VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType) override;
  HRESULT STDMETHODCALLTYPE VirtualQuery(void* lpAddress, void* lpBuffer, SIZE_T dwLength,
                                         SIZE_T* pResult) override;
  HRESULT STDMETHODCALLTYPE VirtualProtect(void* lpAddress, SIZE_T dwSize, DWORD flNewProtect,
                                           DWORD* pflOldProtect) override;
  HRESULT STDMETHODCALLTYPE GetMemoryLoad(DWORD* pMemoryLoad, SIZE_T* pAvailableBytes) override;
  HRESULT STDMETHODCALLTYPE
  RegisterMemoryNotificationCallback(ICLRMemoryNotificationCallback* pCallback) override;
  HRESULT STDMETHODCALLTYPE NeedsVirtualAddressSpace(LPVOID startAddress, SIZE_T size) override;
  HRESULT STDMETHODCALLTYPE AcquiredVirtualAddressSpace(LPVOID startAddress, SIZE_T size) override;
  HRESULT STDMETHODCALLTYPE ReleasedVirtualAddressSpace(LPVOID startAddress) override;

  // Host -> CLR: calls the registered ICLRMemoryNotificationCallback on this thread and
  // records the delivery (op OnMemoryNotification, level, the callback's HRESULT).
  // Returns S_FALSE, recording nothing, when no callback is registered.
  HRESULT DeliverMemoryNotification(EMemoryAvailable level);

 private:
  ~RecordingMemoryManager();
  Event Begin(Op op) const;
  void End(Event& e, HRESULT hr) const;

  std::atomic<ULONG> refs_{1};
  RecordingSession* const session_;
  std::atomic<uint64_t> next_heap_id_{1};
  SRWLOCK callback_lock_ = SRWLOCK_INIT;  // guards callback_; allocation-free
  ICLRMemoryNotificationCallback* callback_ = nullptr;
};

}  // namespace vmreplay::win
