// vmrecord-clr.exe: a CLR host (.NET Framework 4) that installs the recording memory manager,
// runs one managed method and writes every memory call the runtime made to a trace.
//
//   vmrecord-clr.exe [-o OUT.pb] [--runtime v4.0.30319] [--no-watch] ASSEMBLY TYPE METHOD [ARG]
//
// Entry point convention (ICLRRuntimeHost::ExecuteInDefaultAppDomain): TYPE is the full type
// name and METHOD a `static int METHOD(string arg)` in ASSEMBLY; its return value becomes the
// exit code. Exit code 2: the host could not record (the message says why).
#include <windows.h>
// shellapi.h needs windows.h first.
#include <shellapi.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "recorder/windows/clr_hosting.h"
#include "recorder/windows/memory_notifier.h"
#include "recorder/windows/recording_host_control.h"
#include "recorder/windows/recording_memory_manager.h"
#include "recorder/windows/recording_session.h"

namespace vmreplay::win {
namespace {

constexpr int kExitHostFailure = 2;

std::string Utf8(const std::wstring& w) {
  if (w.empty()) return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0,
                                    nullptr, nullptr);
  std::string s(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), s.data(), n, nullptr,
                      nullptr);
  return s;
}

int Fail(const char* what, HRESULT hr) {
  std::fprintf(stderr, "vmrecord-clr: %s failed (HRESULT 0x%08lx)\n", what,
               static_cast<unsigned long>(hr));
  return kExitHostFailure;
}

// Releases a COM pointer at scope exit.
template <typename T>
struct ComPtr {
  T* p = nullptr;
  ~ComPtr() {
    if (p != nullptr) p->Release();
  }
  void** out() { return reinterpret_cast<void**>(&p); }
};

struct Args {
  std::wstring out = L"trace.pb";
  std::wstring runtime = L"v4.0.30319";
  bool watch = true;
  std::vector<std::wstring> positional;  // assembly, type, method, [argument]
};

bool Parse(int argc, wchar_t** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::wstring a = argv[i];
    if (a == L"-o" && i + 1 < argc) {
      args->out = argv[++i];
    } else if (a == L"--runtime" && i + 1 < argc) {
      args->runtime = argv[++i];
    } else if (a == L"--no-watch") {
      args->watch = false;
    } else {
      args->positional.push_back(a);
    }
  }
  return args->positional.size() == 3 || args->positional.size() == 4;
}

int Run(int argc, wchar_t** argv) {
  Args args;
  if (!Parse(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: vmrecord-clr.exe [-o OUT.pb] [--runtime v4.0.30319] [--no-watch] "
                 "ASSEMBLY TYPE METHOD [ARG]\n"
                 "  runs `static int METHOD(string ARG)` of TYPE in ASSEMBLY under a recording\n"
                 "  IHostMemoryManager and writes every call to OUT.pb (default trace.pb)\n");
    return kExitHostFailure;
  }
  SessionOptions options;
  options.trace_path = Utf8(args.out);
  options.runtime_version = Utf8(args.runtime);
  for (int i = 0; i < argc; ++i) options.command_line.push_back(Utf8(argv[i]));
  std::unique_ptr<RecordingSession> session;
  if (Status s = RecordingSession::Start(options, &session); !s.ok()) {
    std::fprintf(stderr, "vmrecord-clr: %s\n", s.message().c_str());
    return kExitHostFailure;
  }

  HMODULE mscoree = LoadLibraryW(L"mscoree.dll");
  auto create = mscoree == nullptr ? nullptr
                                   : reinterpret_cast<CLRCreateInstanceFn>(reinterpret_cast<void*>(
                                         GetProcAddress(mscoree, "CLRCreateInstance")));
  if (create == nullptr) {
    std::fprintf(stderr,
                 "vmrecord-clr: mscoree.dll!CLRCreateInstance not found (.NET Framework "
                 "4 is required)\n");
    return kExitHostFailure;
  }
  ComPtr<ICLRMetaHost> meta;
  ComPtr<ICLRRuntimeInfo> info;
  ComPtr<ICLRRuntimeHost> host;
  HRESULT hr = create(kCLSID_CLRMetaHost, kIID_ICLRMetaHost, meta.out());
  if (FAILED(hr)) return Fail("CLRCreateInstance(CLSID_CLRMetaHost)", hr);
  hr = meta.p->GetRuntime(args.runtime.c_str(), kIID_ICLRRuntimeInfo, info.out());
  if (FAILED(hr)) return Fail("ICLRMetaHost::GetRuntime", hr);
  hr = info.p->GetInterface(kCLSID_CLRRuntimeHost, kIID_ICLRRuntimeHost, host.out());
  if (FAILED(hr)) return Fail("ICLRRuntimeInfo::GetInterface(CLSID_CLRRuntimeHost)", hr);

  auto* manager = new RecordingMemoryManager(session.get());
  auto* control = new RecordingHostControl(manager);
  // Must precede Start: the runtime refuses a host control once started.
  hr = host.p->SetHostControl(control);
  if (FAILED(hr)) return Fail("ICLRRuntimeHost::SetHostControl", hr);
  MemoryNotifier notifier(manager, 500);
  if (args.watch && !notifier.Start()) {
    std::fprintf(stderr, "vmrecord-clr: memory notifications unavailable (error %lu)\n",
                 GetLastError());
  }
  hr = host.p->Start();
  if (FAILED(hr)) return Fail("ICLRRuntimeHost::Start", hr);
  DWORD result = 0;
  const std::wstring arg = args.positional.size() == 4 ? args.positional[3] : L"";
  hr = host.p->ExecuteInDefaultAppDomain(args.positional[0].c_str(), args.positional[1].c_str(),
                                         args.positional[2].c_str(), arg.c_str(), &result);
  const HRESULT run_hr = hr;
  host.p->Stop();
  notifier.Stop();
  if (control->memory_manager_requests() == 0) {
    std::fprintf(stderr,
                 "vmrecord-clr: warning: the runtime never asked for the memory manager; "
                 "the trace holds no CLR calls\n");
  }
  control->Release();
  manager->Release();
  const Status finished = session->Finish();
  std::fprintf(stderr, "vmrecord-clr: %llu events -> %s%s\n",
               static_cast<unsigned long long>(session->events_written()),
               options.trace_path.c_str(), finished.ok() ? "" : " (FAILED)");
  if (!finished.ok()) {
    std::fprintf(stderr, "vmrecord-clr: %s\n", finished.message().c_str());
    return kExitHostFailure;
  }
  if (FAILED(run_hr)) return Fail("ICLRRuntimeHost::ExecuteInDefaultAppDomain", run_hr);
  return static_cast<int>(result);
}

}  // namespace
}  // namespace vmreplay::win

int main() {
  int argc = 0;
  wchar_t** argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  if (argv == nullptr) return 2;
  const int rc = vmreplay::win::Run(argc, argv);
  LocalFree(argv);
  return rc;
}
