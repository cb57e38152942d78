// Manager plugins that break include/vmreplay/manager_plugin.h's rules, one fault per build
// (BAD_PLUGIN_<fault>), for plugin_manager_test: the replayer must answer each with a one-line
// error or counted divergences, never a crash.
#include "vmreplay/manager_plugin.h"

namespace {

// Answers everything with `kAnswer`; VirtualAlloc "succeeds" with `kAddress` when asked to.
class BadHost final : public IHostMemoryManager {
 public:
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID, void** out) override {
    *out = nullptr;
    return E_NOINTERFACE;
  }
  ULONG STDMETHODCALLTYPE AddRef() override { return 1; }
  ULONG STDMETHODCALLTYPE Release() override { return 1; }
  HRESULT STDMETHODCALLTYPE CreateMalloc(DWORD, IHostMalloc** out) override {
    *out = nullptr;
    return E_FAIL;
  }
  HRESULT STDMETHODCALLTYPE VirtualAlloc(void*, SIZE_T, DWORD, DWORD, EMemoryCriticalLevel,
                                         void** out) override {
#ifdef BAD_PLUGIN_outside
    *out = reinterpret_cast<void*>(0x123450000ull);  // never reserved from the platform
    return S_OK;
#else
    *out = nullptr;
    return E_FAIL;
#endif
  }
  HRESULT STDMETHODCALLTYPE VirtualFree(LPVOID, SIZE_T, DWORD) override { return E_FAIL; }
  HRESULT STDMETHODCALLTYPE VirtualQuery(void*, void*, SIZE_T, SIZE_T* result) override {
    *result = 0;
    return E_FAIL;
  }
  HRESULT STDMETHODCALLTYPE VirtualProtect(void*, SIZE_T, DWORD, DWORD*) override { return E_FAIL; }
  HRESULT STDMETHODCALLTYPE GetMemoryLoad(DWORD*, SIZE_T*) override { return E_FAIL; }
  HRESULT STDMETHODCALLTYPE
  RegisterMemoryNotificationCallback(ICLRMemoryNotificationCallback* callback) override {
    // An out-of-range notification must be refused, not counted.
    callback->OnMemoryNotification(static_cast<EMemoryAvailable>(42));
    return E_FAIL;
  }
  HRESULT STDMETHODCALLTYPE NeedsVirtualAddressSpace(LPVOID, SIZE_T) override { return E_FAIL; }
  HRESULT STDMETHODCALLTYPE AcquiredVirtualAddressSpace(LPVOID, SIZE_T) override { return E_FAIL; }
  HRESULT STDMETHODCALLTYPE ReleasedVirtualAddressSpace(LPVOID) override { return E_FAIL; }
};

BadHost host;

}  // namespace

#ifndef BAD_PLUGIN_no_abi
extern "C" uint32_t vmreplay_plugin_abi_version() {
#ifdef BAD_PLUGIN_wrong_abi
  return 999;
#else
  return VMREPLAY_PLUGIN_ABI_VERSION;
#endif
}
#endif

#ifndef BAD_PLUGIN_no_create
extern "C" HRESULT vmreplay_create_host_memory_manager(const vmreplay_platform*,
                                                       IHostMemoryManager** out) {
#ifdef BAD_PLUGIN_create_fails
  *out = nullptr;
  return E_OUTOFMEMORY;
#else
  *out = &host;
  return S_OK;
#endif
}
#endif
