/* The CLR's memory-hosting interfaces, as the .NET Framework documentation declares them
 * ("Hosting Interfaces": IHostMemoryManager, IHostMalloc, ICLRMemoryNotificationCallback), for a
 * host's memory manager that vmreplay replays traces against (see manager_plugin.h).
 *
 * COM layout: each interface is an abstract class whose first three virtual functions are
 * IUnknown's (QueryInterface, AddRef, Release), then the interface's methods in the order of
 * mscoree.idl, so an implementation built against the Windows SDK's mscoree.h has the same
 * vtable. On Windows the types come from <windows.h>; elsewhere this header declares the few
 * Win32 types and constants the interfaces need, with the SDK's names and values
 * (STDMETHODCALLTYPE is the platform's default calling convention there).
 *
 * IIDs: IHostMemoryManager {7BC698D1-F9E3-4460-9CDE-D04248E9FA25}, IHostMalloc
 * {1831991C-CC53-4A31-B218-04E910446479}, ICLRMemoryNotificationCallback
 * {47EB8E57-0846-4546-AF76-6F42FCFC2649}. */
#ifndef VMREPLAY_HOST_MEMORY_MANAGER_H_
#define VMREPLAY_HOST_MEMORY_MANAGER_H_

#ifdef _WIN32
#include <windows.h>
#else
#include <stddef.h>
#include <stdint.h>

/* ---- Win32 types (windef.h, winnt.h, basetsd.h) ---- */
typedef int32_t HRESULT;
typedef uint32_t DWORD;
typedef uint16_t WORD;
typedef uint32_t ULONG;
typedef int BOOL;
typedef size_t SIZE_T;
typedef void* LPVOID;
typedef const void* LPCVOID;
typedef struct _GUID {
  uint32_t Data1;
  uint16_t Data2;
  uint16_t Data3;
  uint8_t Data4[8];
} GUID, IID;
#ifdef __cplusplus
typedef const IID& REFIID;
#endif
#define STDMETHODCALLTYPE

#define S_OK ((HRESULT)0)
#define S_FALSE ((HRESULT)1)
#define E_NOTIMPL ((HRESULT)0x80004001L)
#define E_NOINTERFACE ((HRESULT)0x80004002L)
#define E_POINTER ((HRESULT)0x80004003L)
#define E_FAIL ((HRESULT)0x80004005L)
#define E_OUTOFMEMORY ((HRESULT)0x8007000EL)
#define E_INVALIDARG ((HRESULT)0x80070057L)
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#define HRESULT_FROM_WIN32(x) \
  ((HRESULT)(x) <= 0 ? ((HRESULT)(x)) : ((HRESULT)(((x)&0x0000FFFF) | (7 << 16) | 0x80000000)))

/* VirtualAlloc / VirtualFree types and page protections (winnt.h). */
#define MEM_COMMIT 0x00001000
#define MEM_RESERVE 0x00002000
#define MEM_DECOMMIT 0x00004000
#define MEM_RELEASE 0x00008000
#define MEM_FREE 0x00010000
#define MEM_PRIVATE 0x00020000
#define MEM_MAPPED 0x00040000
#define MEM_RESET 0x00080000
#define MEM_TOP_DOWN 0x00100000
#define MEM_IMAGE 0x01000000
#define MEM_LARGE_PAGES 0x20000000
#define PAGE_NOACCESS 0x01
#define PAGE_READONLY 0x02
#define PAGE_READWRITE 0x04
#define PAGE_WRITECOPY 0x08
#define PAGE_EXECUTE 0x10
#define PAGE_EXECUTE_READ 0x20
#define PAGE_EXECUTE_READWRITE 0x40
#define PAGE_EXECUTE_WRITECOPY 0x80
#define PAGE_GUARD 0x100

/* GetLastError values (winerror.h) the platform answers with. */
#define ERROR_SUCCESS 0
#define ERROR_NOT_ENOUGH_MEMORY 8
#define ERROR_OUTOFMEMORY 14
#define ERROR_INVALID_PARAMETER 87
#define ERROR_INVALID_ADDRESS 487
#define ERROR_COMMITMENT_LIMIT 1455

/* The 64-bit MEMORY_BASIC_INFORMATION (48 bytes). */
typedef struct _MEMORY_BASIC_INFORMATION {
  void* BaseAddress;
  void* AllocationBase;
  DWORD AllocationProtect;
  WORD PartitionId;
  SIZE_T RegionSize;
  DWORD State;
  DWORD Protect;
  DWORD Type;
} MEMORY_BASIC_INFORMATION, *PMEMORY_BASIC_INFORMATION;

#ifdef __cplusplus
struct IUnknown {
  virtual HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void** ppvObject) = 0;
  virtual ULONG STDMETHODCALLTYPE AddRef() = 0;
  virtual ULONG STDMETHODCALLTYPE Release() = 0;
};
#endif
#endif /* _WIN32 */

#ifdef __cplusplus
/* ---- mscoree.idl ---- */
#ifndef __IHostMemoryManager_INTERFACE_DEFINED__
/* How bad a failed allocation would be. */
typedef enum {
  eTaskCritical = 0,      /* the task (thread) can be aborted */
  eAppDomainCritical = 1, /* the application domain must be unloaded */
  eProcessCritical = 2,   /* the process cannot continue */
} EMemoryCriticalLevel;

/* IHostMemoryManager::CreateMalloc flags. */
typedef enum {
  MALLOC_THREADSAFE = 0x1, /* the heap is used from several threads */
  MALLOC_EXECUTABLE = 0x2, /* the heap holds executable code */
} MALLOC_TYPE;
#endif

#ifndef __ICLRMemoryNotificationCallback_INTERFACE_DEFINED__
#define __ICLRMemoryNotificationCallback_INTERFACE_DEFINED__
typedef enum {
  eMemoryAvailableLow = 1,
  eMemoryAvailableNeutral = 2,
  eMemoryAvailableHigh = 3,
} EMemoryAvailable;

/* Implemented by the CLR; the host calls it when memory runs low or high. */
struct ICLRMemoryNotificationCallback : public IUnknown {
  virtual HRESULT STDMETHODCALLTYPE OnMemoryNotification(EMemoryAvailable eMemoryAvailable) = 0;
};
#endif

#ifndef __IHostMalloc_INTERFACE_DEFINED__
#define __IHostMalloc_INTERFACE_DEFINED__
/* Implemented by the host: one heap, created by IHostMemoryManager::CreateMalloc. */
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
/* Implemented by the host: the CLR's only route to virtual memory and heaps once installed. */
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

namespace vmreplay {
inline constexpr GUID kIID_IHostMemoryManager = {
    0x7BC698D1, 0xF9E3, 0x4460, {0x9C, 0xDE, 0xD0, 0x42, 0x48, 0xE9, 0xFA, 0x25}};
inline constexpr GUID kIID_IHostMalloc = {
    0x1831991C, 0xCC53, 0x4A31, {0xB2, 0x18, 0x04, 0xE9, 0x10, 0x44, 0x64, 0x79}};
inline constexpr GUID kIID_ICLRMemoryNotificationCallback = {
    0x47EB8E57, 0x0846, 0x4546, {0xAF, 0x76, 0x6F, 0x42, 0xFC, 0xFC, 0x26, 0x49}};
inline constexpr GUID kIID_IUnknown = {
    0x00000000, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
}  // namespace vmreplay
#endif /* __cplusplus */

#endif /* VMREPLAY_HOST_MEMORY_MANAGER_H_ */
