#include "recorder/windows/recording_host_malloc.h"

namespace vmreplay::win {

RecordingHostMalloc* RecordingHostMalloc::Create(RecordingSession* session, uint64_t heap_id,
                                                 DWORD malloc_type) {
  const DWORD flags = (malloc_type & MALLOC_THREADSAFE) != 0 ? 0 : HEAP_NO_SERIALIZE;
  const DWORD options =
      flags | ((malloc_type & MALLOC_EXECUTABLE) != 0 ? HEAP_CREATE_ENABLE_EXECUTE : 0);
  HANDLE heap = HeapCreate(options, 0, 0);  // growable
  if (heap == nullptr) return nullptr;
  return new RecordingHostMalloc(session, heap_id, heap, flags);
}

RecordingHostMalloc::RecordingHostMalloc(RecordingSession* session, uint64_t heap_id, HANDLE heap,
                                         DWORD flags)
    : session_(session), heap_id_(heap_id), heap_(heap), flags_(flags) {}

RecordingHostMalloc::~RecordingHostMalloc() { HeapDestroy(heap_); }

HRESULT STDMETHODCALLTYPE RecordingHostMalloc::QueryInterface(REFIID riid, void** ppv) {
  if (ppv == nullptr) return E_POINTER;
  if (SameGuid(riid, kIID_IUnknown) || SameGuid(riid, kIID_IHostMalloc)) {
    *ppv = static_cast<IHostMalloc*>(this);
    AddRef();
    return S_OK;
  }
  *ppv = nullptr;
  return E_NOINTERFACE;
}

ULONG STDMETHODCALLTYPE RecordingHostMalloc::AddRef() {
  return refs_.fetch_add(1, std::memory_order_relaxed) + 1;
}

ULONG STDMETHODCALLTYPE RecordingHostMalloc::Release() {
  const ULONG left = refs_.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (left == 0) delete this;
  return left;
}

HRESULT RecordingHostMalloc::AllocAndRecord(SIZE_T size, EMemoryCriticalLevel level,
                                            const char* file, int line, void** out) {
  Event e;
  e.op = file != nullptr ? Op::kHostDebugAlloc : Op::kHostAlloc;
  e.thread = GetCurrentThreadId();
  e.timestamp_ns = session_->NowNs();
  void* p = nullptr;
  HRESULT hr = E_POINTER;
  if (out != nullptr) {
    p = HeapAlloc(heap_, flags_, size);
    *out = p;
    hr = p != nullptr ? S_OK : E_OUTOFMEMORY;
  }
  e.latency_ns = session_->NowNs() - e.timestamp_ns;
  e.heap = heap_id_;
  e.size = size;
  e.level = static_cast<uint32_t>(level);
  e.line = line;
  e.result = reinterpret_cast<uint64_t>(p);
  e.hresult = static_cast<uint32_t>(hr);
  session_->Record(e, file);
  return hr;
}

HRESULT STDMETHODCALLTYPE RecordingHostMalloc::Alloc(SIZE_T cbSize,
                                                     EMemoryCriticalLevel eCriticalLevel,
                                                     void** ppMem) {
  return AllocAndRecord(cbSize, eCriticalLevel, nullptr, 0, ppMem);
}

HRESULT STDMETHODCALLTYPE RecordingHostMalloc::DebugAlloc(SIZE_T cbSize,
                                                          EMemoryCriticalLevel eCriticalLevel,
                                                          char* pszFileName, int iLineNo,
                                                          void** ppMem) {
  // A DebugAlloc without a file name is still a DebugAlloc: record it with an empty name.
  return AllocAndRecord(cbSize, eCriticalLevel, pszFileName != nullptr ? pszFileName : "", iLineNo,
                        ppMem);
}

HRESULT STDMETHODCALLTYPE RecordingHostMalloc::Free(void* pMem) {
  Event e;
  e.op = Op::kHostFree;
  e.thread = GetCurrentThreadId();
  e.timestamp_ns = session_->NowNs();
  HRESULT hr = S_OK;
  if (pMem != nullptr && !HeapFree(heap_, flags_, pMem)) hr = HRESULT_FROM_WIN32(GetLastError());
  e.latency_ns = session_->NowNs() - e.timestamp_ns;
  e.heap = heap_id_;
  e.addr = reinterpret_cast<uint64_t>(pMem);
  e.hresult = static_cast<uint32_t>(hr);
  session_->Record(e);
  return hr;
}

}  // namespace vmreplay::win
