// The CLR hosting interfaces the recorder implements or calls, declared from the Microsoft
// documentation ("Hosting Interfaces", .NET Framework 2.0-4.8) where the SDK header lacks them.
//
// mingw-w64's mscoree.h declares IHostControl and ICLRRuntimeHost but not IHostMemoryManager,
// IHostMalloc, ICLRMemoryNotificationCallback or their enums, and mingw-w64 has no metahost.h
// (ICLRMetaHost, ICLRRuntimeInfo) and no libmscoree.a: those are declared here, each behind the
// SDK's own include guard so that MSVC's mscoree.h / metahost.h take precedence.
// CLRCreateInstance is resolved from mscoree.dll at run time (see clr_runtime.h), so no import
// library is needed with either toolchain.
#pragma once

#include <windows.h>
// windows.h first: mscoree.h relies on its types.
#include <mscoree.h>
#if defined(_MSC_VER) && __has_include(<metahost.h>)
#include <metahost.h>
#endif

// ---- IHostMemoryManager, IHostMalloc, ICLRMemoryNotificationCallback and their enums ----
// One declaration for the recorder and the replayer's plugins (the public header keeps the SDK's
// include guards, so MSVC's mscoree.h, when it has them, takes precedence).
#include "vmreplay/host_memory_manager.h"

// ---- metahost.h (.NET Framework 4 activation) ----
#ifndef __ICLRRuntimeInfo_INTERFACE_DEFINED__
#define __ICLRRuntimeInfo_INTERFACE_DEFINED__
// Only GetInterface is called; the other methods are declared to keep the vtable order.
struct ICLRRuntimeInfo : public IUnknown {
  virtual HRESULT STDMETHODCALLTYPE GetVersionString(LPWSTR pwzBuffer, DWORD* pcchBuffer) = 0;
  virtual HRESULT STDMETHODCALLTYPE GetRuntimeDirectory(LPWSTR pwzBuffer, DWORD* pcchBuffer) = 0;
  virtual HRESULT STDMETHODCALLTYPE IsLoaded(HANDLE hndProcess, BOOL* pbLoaded) = 0;
  virtual HRESULT STDMETHODCALLTYPE LoadErrorString(UINT iResourceID, LPWSTR pwzBuffer,
                                                    DWORD* pcchBuffer, LONG iLocaleID) = 0;
  // The SDK names this LoadLibrary, which windows.h turns into a macro.
  virtual HRESULT STDMETHODCALLTYPE LoadRuntimeLibrary(LPCWSTR pwzDllName, HMODULE* phndModule) = 0;
  virtual HRESULT STDMETHODCALLTYPE GetProcAddress(LPCSTR pszProcName, LPVOID* ppProc) = 0;
  virtual HRESULT STDMETHODCALLTYPE GetInterface(REFCLSID rclsid, REFIID riid, LPVOID* ppUnk) = 0;
  virtual HRESULT STDMETHODCALLTYPE IsLoadable(BOOL* pbLoadable) = 0;
  virtual HRESULT STDMETHODCALLTYPE SetDefaultStartupFlags(DWORD dwStartupFlags,
                                                           LPCWSTR pwzHostConfigFile) = 0;
  virtual HRESULT STDMETHODCALLTYPE GetDefaultStartupFlags(DWORD* pdwStartupFlags,
                                                           LPWSTR pwzHostConfigFile,
                                                           DWORD* pcchHostConfigFile) = 0;
  virtual HRESULT STDMETHODCALLTYPE BindAsLegacyV2Runtime() = 0;
  virtual HRESULT STDMETHODCALLTYPE IsStarted(BOOL* pbStarted, DWORD* pdwStartupFlags) = 0;
};
#endif

#ifndef __ICLRMetaHost_INTERFACE_DEFINED__
#define __ICLRMetaHost_INTERFACE_DEFINED__
// Only GetRuntime is called; the other methods are declared to keep the vtable order.
struct ICLRMetaHost : public IUnknown {
  virtual HRESULT STDMETHODCALLTYPE GetRuntime(LPCWSTR pwzVersion, REFIID riid,
                                               LPVOID* ppRuntime) = 0;
  virtual HRESULT STDMETHODCALLTYPE GetVersionFromFile(LPCWSTR pwzFilePath, LPWSTR pwzBuffer,
                                                       DWORD* pcchBuffer) = 0;
  virtual HRESULT STDMETHODCALLTYPE EnumerateInstalledRuntimes(IEnumUnknown** ppEnumerator) = 0;
  virtual HRESULT STDMETHODCALLTYPE EnumerateLoadedRuntimes(HANDLE hndProcess,
                                                            IEnumUnknown** ppEnumerator) = 0;
  virtual HRESULT STDMETHODCALLTYPE RequestRuntimeLoadedNotification(void* pCallbackFunction) = 0;
  virtual HRESULT STDMETHODCALLTYPE QueryLegacyV2RuntimeBinding(REFIID riid, LPVOID* ppUnk) = 0;
  virtual HRESULT STDMETHODCALLTYPE ExitProcess(INT32 iExitCode) = 0;
};
#endif

namespace vmreplay::win {

// Interface and class ids, as constants of our own so that neither toolchain needs the SDK's
// IID definitions (mscoree.lib / uuid.lib) at link time.
inline constexpr GUID kIID_IHostMemoryManager = vmreplay::kIID_IHostMemoryManager;
inline constexpr GUID kIID_IHostMalloc = vmreplay::kIID_IHostMalloc;
inline constexpr GUID kIID_ICLRMemoryNotificationCallback =
    vmreplay::kIID_ICLRMemoryNotificationCallback;
inline constexpr GUID kIID_IHostControl = {
    0x02CA073C, 0x7079, 0x4860, {0x88, 0x0A, 0xC2, 0xF7, 0xA4, 0x49, 0xC9, 0x91}};
inline constexpr GUID kIID_IUnknown = vmreplay::kIID_IUnknown;
inline constexpr GUID kCLSID_CLRMetaHost = {
    0x9280188D, 0x0E8E, 0x4867, {0xB3, 0x0C, 0x7F, 0xA8, 0x38, 0x84, 0xE8, 0xDE}};
inline constexpr GUID kIID_ICLRMetaHost = {
    0xD332DB9E, 0xB9B3, 0x4125, {0x82, 0x07, 0xA1, 0x48, 0x84, 0xF5, 0x32, 0x16}};
inline constexpr GUID kIID_ICLRRuntimeInfo = {
    0xBD39D1D2, 0xBA2F, 0x486A, {0x89, 0xB0, 0xB4, 0xB0, 0xCB, 0x46, 0x68, 0x91}};
inline constexpr GUID kCLSID_CLRRuntimeHost = {
    0x90F1A06E, 0x7712, 0x4762, {0x86, 0xB5, 0x7A, 0x5E, 0xBA, 0x6B, 0xDB, 0x02}};
inline constexpr GUID kIID_ICLRRuntimeHost = {
    0x90F1A06C, 0x7712, 0x4762, {0x86, 0xB5, 0x7A, 0x5E, 0xBA, 0x6B, 0xDB, 0x02}};

// mscoree.dll!CLRCreateInstance (.NET Framework 4).
using CLRCreateInstanceFn = HRESULT(STDAPICALLTYPE*)(REFCLSID clsid, REFIID riid,
                                                     LPVOID* ppInterface);

inline bool SameGuid(REFIID a, const GUID& b) { return IsEqualGUID(a, b) != 0; }

}  // namespace vmreplay::win
