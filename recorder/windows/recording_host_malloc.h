// IHostMalloc over a private Win32 heap, recording every call (ops HostAlloc, HostDebugAlloc,
// HostFree) into a RecordingSession.
#pragma once

#include <atomic>
#include <cstdint>

#include "recorder/windows/clr_hosting.h"
#include "recorder/windows/recording_session.h"

namespace vmreplay::win {

// One heap made by CreateMalloc. MALLOC_THREADSAFE keeps the heap's own lock (otherwise
// HEAP_NO_SERIALIZE: the CLR promised single-threaded use); MALLOC_EXECUTABLE creates it with
// HEAP_CREATE_ENABLE_EXECUTE. Allocation failures return E_OUTOFMEMORY, as documented.
class RecordingHostMalloc final : public IHostMalloc {
 public:
  // Creates the heap; returns null (GetLastError set) when HeapCreate fails.
  // The object starts with one reference, owned by the caller.
  static RecordingHostMalloc* Create(RecordingSession* session, uint64_t heap_id,
                                     DWORD malloc_type);

  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void** ppv) override;
  ULONG STDMETHODCALLTYPE AddRef() override;
  ULONG STDMETHODCALLTYPE Release() override;

  HRESULT STDMETHODCALLTYPE Alloc(SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel,
                                  void** ppMem) override;
  HRESULT STDMETHODCALLTYPE DebugAlloc(SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel,
                                       char* pszFileName, int iLineNo, void** ppMem) override;
  HRESULT STDMETHODCALLTYPE Free(void* pMem) override;

 private:
  RecordingHostMalloc(RecordingSession* session, uint64_t heap_id, HANDLE heap, DWORD flags);
  ~RecordingHostMalloc();
  HRESULT AllocAndRecord(SIZE_T size, EMemoryCriticalLevel level, const char* file, int line,
                         void** out);

  std::atomic<ULONG> refs_{1};
  RecordingSession* const session_;
  const uint64_t heap_id_;
  const HANDLE heap_;
  const DWORD flags_;  // per-call Heap* flags
};

}  // namespace vmreplay::win
