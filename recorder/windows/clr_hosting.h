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

// ---- Enumerations (mscoree.idl) ----
#ifndef __IHostMemoryManager_INTERFACE_DEFINED__
// How bad a failed allocation would be.
typedef enum {
  eTaskCritical = 0,       // the task (thread) can be aborted
  eAppDomainCritical = 1,  // the application domain must be unloaded
  eProcessCritical = 2,    // the process cannot continue
} EMemoryCriticalLevel;

// IHostMemoryManager::CreateMalloc flags.
typedef enum {
  MALLOC_THREADSAFE = 0x1,  // the heap is used from several threads
  MALLOC_EXECUTABLE = 0x2,  // the heap holds executable code
} MALLOC_TYPE;
#endif

#ifndef __ICLRMemoryNotificationCallback_INTERFACE_DEFINED__
#define __ICLRMemoryNotificationCallback_INTERFACE_DEFINED__
typedef enum {
  eMemoryAvailableLow = 1,
  eMemoryAvailableNeutral = 2,
  eMemoryAvailableHigh = 3,
} EMemoryAvailable;

// Implemented by the CLR; the host calls it when physical memory runs low or high.
struct ICLRMemoryNotificationCallback : public IUnknown {
  virtual HRESULT STDMETHODCALLTYPE OnMemoryNotification(EMemoryAvailable eMemoryAvailable) = 0;
};
#endif

#ifndef __IHostMalloc_INTERFACE_DEFINED__
#define __IHostMalloc_INTERFACE_DEFINED__
// Implemented by the host: one heap, created by IHostMemoryManager::CreateMalloc.
struct IHostMalloc : public IUnknown {
  virtual HRESULT STDMETHODCALLTYPE Alloc(SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel,
                                          void** ppMem) = 0;
  virtual HRESULT STDMETHODCALLTYPE DebugAlloc(SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel,
                                               char* pszFileName, int iLineNo, void** ppMem) = 0;
  virtual HRESULT STDMETHODCALLTYPE Free(void* pMem) = 0;
};
#endif

#ifndef __IHostMemoryManager_INTERFACE_DEFINED__
#define __IHostMemoryManager_INTERFACE_DEFINED__
// Implemented by the host: the CLR's only route to virtual memory and heaps once installed.
struct IHostMemoryManager : public IUnknown {
  virtual HRESULT STDMETHODCALLTYPE CreateMalloc(DWORD dwMallocType, IHostMalloc** ppMalloc) = 0;
  virtual HRESULT STDMETHODCALLTYPE VirtualAlloc(void* pAddress, SIZE_T dwSize,
                                                 DWORD flAllocationType, DWORD flProtect,
                                                 EMemoryCriticalLevel eCriticalLevel,
                                                 void** ppMem) = 0;
  virtual HRESULT STDMETHODCALLTYPE VirtualFree(LPVOID lpAddress, SIZE_T dwSize,
                                                DWORD dwFreeType) = 0;
  virtual HRESULT STDMETHODCALLTYPE VirtualQuery(void* lpAddress, void* lpBuffer, SIZE_T dwLength,
                                                 SIZE_T* pResult) = 0;
  virtual HRESULT STDMETHODCALLTYPE VirtualProtect(void* lpAddress, SIZE_T dwSize,
                                                   DWORD flNewProtect, DWORD* pflOldProtect) = 0;
  virtual HRESULT STDMETHODCALLTYPE GetMemoryLoad(DWORD* pMemoryLoad, SIZE_T* pAvailableBytes) = 0;
  virtual HRESULT STDMETHODCALLTYPE
  RegisterMemoryNotificationCallback(ICLRMemoryNotificationCallback* pCallback) = 0;
  virtual HRESULT STDMETHODCALLTYPE NeedsVirtualAddressSpace(LPVOID startAddress, SIZE_T size) = 0;
  virtual HRESULT STDMETHODCALLTYPE AcquiredVirtualAddressSpace(LPVOID startAddress,
                                                                SIZE_T size) = 0;
  virtual HRESULT STDMETHODCALLTYPE ReleasedVirtualAddressSpace(LPVOID startAddress) = 0;
};
#endif

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
inline constexpr GUID kIID_IHostMemoryManager = {
    0x7BC698D1, 0xF9E3, 0x4460, {0x9C, 0xDE, 0xD0, 0x42, 0x48, 0xE9, 0xFA, 0x25}};
inline constexpr GUID kIID_IHostMalloc = {
    0x1831991C, 0xCC53, 0x4A31, {0xB2, 0x18, 0x04, 0xE9, 0x10, 0x44, 0x64, 0x79}};
inline constexpr GUID kIID_ICLRMemoryNotificationCallback = {
    0x47EB8E57, 0x0846, 0x4546, {0xAF, 0x76, 0x6F, 0x42, 0xFC, 0xFC, 0x26, 0x49}};
inline constexpr GUID kIID_IHostControl = {
    0x02CA073C, 0x7079, 0x4860, {0x88, 0x0A, 0xC2, 0xF7, 0xA4, 0x49, 0xC9, 0x91}};
inline constexpr GUID kIID_IUnknown = {
    0x00000000, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
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
