// clr_driver.exe: stands in for the CLR. It drives the recording IHostMemoryManager exactly as
// the runtime does (CreateMalloc(MALLOC_THREADSAFE) once, RegisterMemoryNotificationCallback
// once, GC-like reserve/commit/decommit/release, queries inside its own reservations, protection
// changes, memory-load polls, the mapped-view address-space callbacks, host-malloc traffic from
// several threads) and forces memory notifications, then writes the trace.
// Needed because Wine does not honour ICLRRuntimeHost::SetHostControl, so a real CLR cannot
// be recorded here. Usage: clr_driver.exe OUT.pb. Exit 0 when every self-check passed.
#include <windows.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "recorder/windows/clr_hosting.h"
#include "recorder/windows/recording_memory_manager.h"
#include "recorder/windows/recording_session.h"
#include "tests/windows/clr_driver_plan.h"

namespace vmreplay::clr_driver {
namespace {

int failures = 0;

void Check(bool ok, const char* what) {
  if (ok) return;
  ++failures;
  std::printf("FAIL: %s (last error %lu)\n", what, GetLastError());
}

// The CLR's side of the notification interface: counts deliveries.
class TestCallback final : public ICLRMemoryNotificationCallback {
 public:
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_POINTER;
    if (win::SameGuid(riid, win::kIID_IUnknown) ||
        win::SameGuid(riid, win::kIID_ICLRMemoryNotificationCallback)) {
      *ppv = this;
      AddRef();
      return S_OK;
    }
    *ppv = nullptr;
    return E_NOINTERFACE;
  }
  ULONG STDMETHODCALLTYPE AddRef() override { return ++refs_; }
  ULONG STDMETHODCALLTYPE Release() override { return --refs_; }  // lives on main's stack
  HRESULT STDMETHODCALLTYPE OnMemoryNotification(EMemoryAvailable level) override {
    last_ = level;
    ++count_;
    return S_OK;
  }
  int count() const { return count_; }
  EMemoryAvailable last() const { return last_; }
  ULONG refs() const { return refs_; }

 private:
  std::atomic<ULONG> refs_{1};
  std::atomic<int> count_{0};
  EMemoryAvailable last_ = eMemoryAvailableNeutral;
};

char* At(void* base, unsigned long long offset) { return static_cast<char*>(base) + offset; }

void Segment(IHostMemoryManager* m) {
  void* base = nullptr;
  Check(m->VirtualAlloc(nullptr, kSegmentSize, MEM_RESERVE, PAGE_READWRITE, eProcessCritical,
                        &base) == S_OK,
        "reserve segment");
  void* committed = nullptr;
  Check(m->VirtualAlloc(base, kInitialCommit, MEM_COMMIT, PAGE_READWRITE, eTaskCritical,
                        &committed) == S_OK &&
            committed == base,
        "commit start of segment");
  std::memset(base, 0xAB, kInitialCommit);
  MEMORY_BASIC_INFORMATION info;
  SIZE_T bytes = 0;
  Check(m->VirtualQuery(base, &info, sizeof info, &bytes) == S_OK && bytes == sizeof info &&
            info.State == MEM_COMMIT && info.RegionSize == kInitialCommit,
        "query committed part");
  Check(m->VirtualQuery(At(base, 1 << 20), &info, sizeof info, &bytes) == S_OK &&
            info.State == MEM_RESERVE && info.AllocationBase == base,
        "query reserved part");
  DWORD old = 0;
  Check(m->VirtualProtect(At(base, 64 << 10), 64 << 10, PAGE_READONLY, &old) == S_OK &&
            old == PAGE_READWRITE,
        "protect read-only");
  Check(m->VirtualQuery(At(base, 64 << 10), &info, sizeof info, &bytes) == S_OK &&
            info.Protect == PAGE_READONLY,
        "query protected part");
  Check(m->VirtualProtect(At(base, 64 << 10), 64 << 10, PAGE_READWRITE, &old) == S_OK &&
            old == PAGE_READONLY,
        "protect back");
  Check(m->VirtualProtect(At(base, 1 << 20), 4096, PAGE_READONLY, &old) ==
            HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS),
        "protect of reserved memory fails with ERROR_INVALID_ADDRESS");
  Check(m->VirtualFree(At(base, 128 << 10), 64 << 10, MEM_DECOMMIT) == S_OK, "decommit");
  Check(m->VirtualQuery(At(base, 128 << 10), &info, sizeof info, &bytes) == S_OK &&
            info.State == MEM_RESERVE,
        "query decommitted part");
  void* again = nullptr;
  Check(m->VirtualAlloc(At(base, 128 << 10), 64 << 10, MEM_COMMIT, PAGE_READWRITE,
                        eAppDomainCritical, &again) == S_OK,
        "recommit");
  DWORD load = 0;
  SIZE_T avail = 0;
  Check(m->GetMemoryLoad(&load, &avail) == S_OK && load <= 100 && avail > 0, "GetMemoryLoad");
  Check(m->VirtualFree(base, 4096, MEM_RELEASE) == HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER),
        "release with a size fails with ERROR_INVALID_PARAMETER");
  Check(m->VirtualFree(base, 0, MEM_RELEASE) == S_OK, "release segment");
}

void Extra(IHostMemoryManager* m) {
  void* p = nullptr;
  Check(m->VirtualAlloc(nullptr, 1 << 20, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, eTaskCritical,
                        &p) == S_OK,
        "reserve+commit");
  Check(m->VirtualFree(p, 0, MEM_RELEASE) == S_OK, "release reserve+commit");
  void* q = reinterpret_cast<void*>(1);
  Check(m->VirtualAlloc(p, 4096, MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &q) == E_OUTOFMEMORY &&
            q == nullptr,
        "commit of released memory fails with E_OUTOFMEMORY");
}

void Worker(IHostMemoryManager* m, IHostMalloc* heap, int index) {
  void* region = nullptr;
  Check(
      m->VirtualAlloc(nullptr, 1 << 20, MEM_RESERVE, PAGE_NOACCESS, eTaskCritical, &region) == S_OK,
      "worker reserve");
  void* page = nullptr;
  Check(m->VirtualAlloc(region, 8192, MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &page) == S_OK,
        "worker commit");
  MEMORY_BASIC_INFORMATION info;
  SIZE_T bytes = 0;
  Check(m->VirtualQuery(region, &info, sizeof info, &bytes) == S_OK && info.RegionSize == 8192,
        "worker query");
  std::vector<void*> blocks;
  for (int i = 0; i < kAllocsPerThread; ++i) {
    void* p = nullptr;
    const SIZE_T size = 16 + static_cast<SIZE_T>((i * 37 + index * 101) % 4000);
    const HRESULT hr =
        i % kDebugEvery == 0
            ? heap->DebugAlloc(size, eTaskCritical,
                               const_cast<char*>(kDebugFiles[(i / kDebugEvery) % kDebugFileCount]),
                               100 + i, &p)
            : heap->Alloc(size, eTaskCritical, &p);
    Check(hr == S_OK && p != nullptr, "host alloc");
    if (p != nullptr) std::memset(p, i, size);
    blocks.push_back(p);
    if (blocks.size() == 8) {  // free in batches: live blocks overlap, as in the runtime
      for (void* b : blocks) Check(heap->Free(b) == S_OK, "host free");
      blocks.clear();
    }
  }
  for (void* b : blocks) Check(heap->Free(b) == S_OK, "host free");
  Check(m->VirtualFree(region, 0, MEM_RELEASE) == S_OK, "worker release");
}

void AddressSpaceCallbacks(IHostMemoryManager* m) {
  // The CLR reports mapped views: Needs after a failed MapViewOfFile, Acquired/Released
  // around a successful map/unmap.
  HANDLE section =
      CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, 1 << 16, nullptr);
  Check(section != nullptr, "CreateFileMapping");
  Check(m->NeedsVirtualAddressSpace(nullptr, 1 << 16) == S_OK, "NeedsVirtualAddressSpace");
  void* view = MapViewOfFile(section, FILE_MAP_WRITE, 0, 0, 1 << 16);
  Check(view != nullptr, "MapViewOfFile");
  Check(m->AcquiredVirtualAddressSpace(view, 1 << 16) == S_OK, "AcquiredVirtualAddressSpace");
  UnmapViewOfFile(view);
  Check(m->ReleasedVirtualAddressSpace(view) == S_OK, "ReleasedVirtualAddressSpace");
  CloseHandle(section);
}

int Run(const char* path) {
  win::SessionOptions options;
  options.trace_path = path;
  options.command_line = {"clr_driver.exe", path};
  options.runtime_version = "none (clr_driver.exe stands in for the CLR)";
  options.ring_capacity = 1024;  // small, so the writers also meet a full ring
  options.events_per_chunk = 512;
  std::unique_ptr<win::RecordingSession> session;
  if (Status s = win::RecordingSession::Start(options, &session); !s.ok()) {
    std::printf("FAIL: %s\n", s.message().c_str());
    return 1;
  }
  auto* manager = new win::RecordingMemoryManager(session.get());

  // COM identity rules.
  void* unknown = nullptr;
  Check(manager->QueryInterface(win::kIID_IUnknown, &unknown) == S_OK && unknown != nullptr,
        "QueryInterface(IUnknown)");
  if (unknown != nullptr) static_cast<IUnknown*>(unknown)->Release();
  void* none = reinterpret_cast<void*>(1);
  Check(manager->QueryInterface(win::kIID_IHostMalloc, &none) == E_NOINTERFACE && none == nullptr,
        "QueryInterface(other) is E_NOINTERFACE");

  TestCallback callback;
  Check(manager->DeliverMemoryNotification(eMemoryAvailableLow) == S_FALSE,
        "no delivery before registration");
  IHostMalloc* heap = nullptr;
  Check(manager->CreateMalloc(MALLOC_THREADSAFE, &heap) == S_OK && heap != nullptr, "CreateMalloc");
  Check(manager->RegisterMemoryNotificationCallback(&callback) == S_OK && callback.refs() == 2,
        "RegisterMemoryNotificationCallback holds a reference");

  for (int s = 0; s < kSegments; ++s) Segment(manager);
  Extra(manager);
  std::vector<std::thread> workers;
  for (int t = 0; t < kWorkerThreads; ++t) {
    workers.emplace_back([=] { Worker(manager, heap, t); });
  }
  for (std::thread& w : workers) w.join();
  AddressSpaceCallbacks(manager);

  Check(manager->DeliverMemoryNotification(eMemoryAvailableLow) == S_OK, "force Low");
  Check(manager->DeliverMemoryNotification(eMemoryAvailableHigh) == S_OK, "force High");
  Check(callback.count() == kForcedNotifications && callback.last() == eMemoryAvailableHigh,
        "callback saw both notifications");

  heap->Release();
  manager->Release();
  Check(callback.refs() == 1, "manager released the callback");
  const Status finished = session->Finish();
  Check(finished.ok(), "trace finished");
  std::printf("clr_driver: %llu events, %llu full-ring waits -> %s; %d failed checks\n",
              static_cast<unsigned long long>(session->events_written()),
              static_cast<unsigned long long>(session->full_waits()), path, failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace vmreplay::clr_driver

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: clr_driver.exe OUT.pb\n");
    return 2;
  }
  return vmreplay::clr_driver::Run(argv[1]);
}
