#include "recorder/windows/recording_host_control.h"

namespace vmreplay::win {

RecordingHostControl::RecordingHostControl(RecordingMemoryManager* manager) : manager_(manager) {
  manager_->AddRef();
}

RecordingHostControl::~RecordingHostControl() { manager_->Release(); }

HRESULT STDMETHODCALLTYPE RecordingHostControl::QueryInterface(REFIID riid, void** ppv) {
  if (ppv == nullptr) return E_POINTER;
  if (SameGuid(riid, kIID_IUnknown) || SameGuid(riid, kIID_IHostControl)) {
    *ppv = static_cast<IHostControl*>(this);
    AddRef();
    return S_OK;
  }
  *ppv = nullptr;
  return E_NOINTERFACE;
}

ULONG STDMETHODCALLTYPE RecordingHostControl::AddRef() {
  return refs_.fetch_add(1, std::memory_order_relaxed) + 1;
}

ULONG STDMETHODCALLTYPE RecordingHostControl::Release() {
  const ULONG left = refs_.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (left == 0) delete this;
  return left;
}

HRESULT STDMETHODCALLTYPE RecordingHostControl::GetHostManager(REFIID riid, void** ppObject) {
  if (ppObject == nullptr) return E_POINTER;
  *ppObject = nullptr;
  if (!SameGuid(riid, kIID_IHostMemoryManager)) return E_NOINTERFACE;
  requests_.fetch_add(1);
  manager_->AddRef();
  *ppObject = static_cast<IHostMemoryManager*>(manager_);
  return S_OK;
}

HRESULT STDMETHODCALLTYPE RecordingHostControl::SetAppDomainManager(DWORD, IUnknown*) {
  return S_OK;
}

}  // namespace vmreplay::win
