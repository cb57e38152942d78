// IHostControl handed to ICLRRuntimeHost::SetHostControl: offers the recording memory manager
// for IID_IHostMemoryManager and no other manager, so the CLR keeps its defaults for threads,
// synchronisation, I/O completion and assembly loading.
#pragma once

#include <atomic>

#include "recorder/windows/clr_hosting.h"
#include "recorder/windows/recording_memory_manager.h"

namespace vmreplay::win {

class RecordingHostControl final : public IHostControl {
 public:
  // Holds a reference to `manager`. Starts with one reference, owned by the caller.
  explicit RecordingHostControl(RecordingMemoryManager* manager);

  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void** ppv) override;
  ULONG STDMETHODCALLTYPE AddRef() override;
  ULONG STDMETHODCALLTYPE Release() override;

  // IID_IHostMemoryManager -> the manager (AddRef'd); anything else -> E_NOINTERFACE.
  HRESULT STDMETHODCALLTYPE GetHostManager(REFIID riid, void** ppObject) override;
  // The host has no AppDomainManager of its own; accepted and ignored.
  HRESULT STDMETHODCALLTYPE SetAppDomainManager(DWORD appDomainID,
                                                IUnknown* appDomainManager) override;

  // How often the CLR asked for the memory manager (0 means SetHostControl had no effect).
  long memory_manager_requests() const { return requests_.load(); }

 private:
  ~RecordingHostControl();
  std::atomic<ULONG> refs_{1};
  std::atomic<long> requests_{0};
  RecordingMemoryManager* const manager_;
};

}  // namespace vmreplay::win
