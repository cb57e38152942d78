/* The manager plugin ABI: a host's own IHostMemoryManager in a shared library, replayed by
 * `vmreplay TRACE --manager=plugin:./libhost.so[,OPTIONS]` over a measured platform (sim or os).
 *
 * A plugin exports two C functions:
 *
 *   uint32_t vmreplay_plugin_abi_version(void);
 *       returns VMREPLAY_PLUGIN_ABI_VERSION as the plugin was compiled; vmreplay refuses a
 *       plugin of another version with a message naming both.
 *
 *   HRESULT vmreplay_create_host_memory_manager(const vmreplay_platform* platform,
 *                                               IHostMemoryManager** manager);
 *       called once per replay, before any other call; on S_OK *manager holds one reference,
 *       which vmreplay Releases when the replay ends. `platform` outlives the manager.
 *
 * Then vmreplay drives the manager as the CLR does: CreateMalloc(MALLOC_THREADSAFE) once (a
 * failed or E_NOTIMPL answer leaves the replay's own heap in place), RegisterMemoryNotification-
 * Callback once, then the trace's calls in order. The manager gets its memory from the platform
 * table below instead of the OS; vmreplay measures commit, reservation, fragmentation and system
 * calls there, and outcomes and latency at the manager's interface.
 *
 * Rules vmreplay checks, so a faulty plugin yields counted divergences and one-line notes rather
 * than a wrong figure: every address the plugin returns from VirtualAlloc must lie in memory it
 * got from the platform (else the call counts as failed with ERROR_INVALID_ADDRESS); failed
 * HRESULTs are failures (HRESULT_FROM_WIN32 codes keep their Win32 error). A plugin runs in
 * vmreplay's process: one that corrupts memory or crashes takes the replay with it.
 *
 * Threads: the VirtualAlloc family is called from one thread at a time; the IHostMalloc from
 * several at once under --threads=replay (as MALLOC_THREADSAFE promises). */
#ifndef VMREPLAY_MANAGER_PLUGIN_H_
#define VMREPLAY_MANAGER_PLUGIN_H_

#include "vmreplay/host_memory_manager.h"

#define VMREPLAY_PLUGIN_ABI_VERSION 1u

#ifdef __cplusplus
extern "C" {
#endif

/* The platform's verbs. Each returns the Win32 error (ERROR_SUCCESS = 0) that GetLastError would
 * give after the same call; `context` is vmreplay_platform::context. */
typedef DWORD (*vmreplay_virtual_alloc_fn)(void* context, void* address, SIZE_T size,
                                           DWORD allocation_type, DWORD protect, void** result);
typedef DWORD (*vmreplay_virtual_free_fn)(void* context, void* address, SIZE_T size,
                                          DWORD free_type);
typedef DWORD (*vmreplay_virtual_protect_fn)(void* context, void* address, SIZE_T size,
                                             DWORD new_protect, DWORD* old_protect);
/* Writes *info and returns ERROR_SUCCESS, or an error (an address above the user range). */
typedef DWORD (*vmreplay_virtual_query_fn)(void* context, const void* address,
                                           MEMORY_BASIC_INFORMATION* info);

/* Virtual memory with Win32 semantics, over the platform being measured. */
typedef struct vmreplay_platform {
  uint32_t abi_version; /* VMREPLAY_PLUGIN_ABI_VERSION of the vmreplay that calls */
  uint32_t size;        /* sizeof(vmreplay_platform) there: fields are only ever appended */
  void* context;        /* pass back as the first argument */
  vmreplay_virtual_alloc_fn virtual_alloc;
  vmreplay_virtual_free_fn virtual_free;
  vmreplay_virtual_protect_fn virtual_protect;
  vmreplay_virtual_query_fn virtual_query;
  SIZE_T page_size;
  SIZE_T allocation_granularity;
  uint64_t physical_memory; /* of the recording machine */
  uint64_t commit_limit;    /* bytes the platform lets be committed (UINT64_MAX: none) */
  const char* options;      /* the text after the library in --manager=plugin:PATH,OPTIONS */
} vmreplay_platform;

typedef uint32_t (*vmreplay_plugin_abi_version_fn)(void);
typedef HRESULT (*vmreplay_create_host_memory_manager_fn)(const vmreplay_platform* platform,
                                                          IHostMemoryManager** manager);

#ifdef __cplusplus
} /* extern "C" */
#endif

#if defined(__cplusplus) && !defined(_WIN32)
/* A manager written against Win32 compiles unchanged: VirtualAlloc, VirtualFree, VirtualProtect,
 * VirtualQuery, GetLastError and SetLastError below have Win32's signatures and route to the
 * platform the plugin was created with (call vmreplay::BindPlatform first). */
namespace vmreplay {
inline const vmreplay_platform* g_platform = nullptr;
inline thread_local DWORD g_last_error = 0;
inline void BindPlatform(const vmreplay_platform* platform) { g_platform = platform; }
}  // namespace vmreplay

inline DWORD GetLastError() { return vmreplay::g_last_error; }
inline void SetLastError(DWORD error) { vmreplay::g_last_error = error; }
inline LPVOID VirtualAlloc(LPVOID address, SIZE_T size, DWORD type, DWORD protect) {
  void* result = nullptr;
  const vmreplay_platform* p = vmreplay::g_platform;
  vmreplay::g_last_error = p->virtual_alloc(p->context, address, size, type, protect, &result);
  return vmreplay::g_last_error == 0 ? result : nullptr;
}
inline BOOL VirtualFree(LPVOID address, SIZE_T size, DWORD free_type) {
  const vmreplay_platform* p = vmreplay::g_platform;
  vmreplay::g_last_error = p->virtual_free(p->context, address, size, free_type);
  return vmreplay::g_last_error == 0;
}
inline BOOL VirtualProtect(LPVOID address, SIZE_T size, DWORD new_protect, DWORD* old_protect) {
  const vmreplay_platform* p = vmreplay::g_platform;
  vmreplay::g_last_error = p->virtual_protect(p->context, address, size, new_protect, old_protect);
  return vmreplay::g_last_error == 0;
}
inline SIZE_T VirtualQuery(LPCVOID address, PMEMORY_BASIC_INFORMATION info, SIZE_T length) {
  const vmreplay_platform* p = vmreplay::g_platform;
  if (length < sizeof(MEMORY_BASIC_INFORMATION)) {
    vmreplay::g_last_error = ERROR_INVALID_PARAMETER;
    return 0;
  }
  vmreplay::g_last_error = p->virtual_query(p->context, address, info);
  return vmreplay::g_last_error == 0 ? sizeof(MEMORY_BASIC_INFORMATION) : 0;
}
#endif

#endif /* VMREPLAY_MANAGER_PLUGIN_H_ */
