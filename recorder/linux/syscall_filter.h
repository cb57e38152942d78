// Preload side of the system-call tracer (recorder/linux/syscall_tracer.h): a seccomp filter
// that stops the mmap-family system calls the preload's hooks never see (glibc's malloc
// growing its heaps, thread stacks, setlocale's files, ld.so's dlopen) for vmrecord to record,
// and the announcement that tells vmrecord which process image a stopped thread belongs to.
//
// The filter returns SECCOMP_RET_TRACE for mmap, munmap, mremap, mprotect and madvise unless
// the instruction pointer is in the preload's own system-call code (own_syscall.h), and for
// the announcement; everything else is allowed without a stop. Filters are inherited by fork
// children and kept across exec, so it is installed once: each image announces itself first,
// and installs the filter only when the tracer did not answer (no filter of ours yet, even if
// the process runs under another seccomp policy, as in a container) and the session's tracer
// thread is its tracer (TracerPid), since a filter with no tracer would fail the calls.
//
// After an exec the inherited filter still exempts the first image's own-code range, so the new
// image's hooked calls stop too (the tracer tells them by their instruction pointer and lets
// them go): correct, at the cost of two stops each.
#pragma once

#include <cstdint>

namespace vmreplay::recorder::preload {

// If vmrecord's tracer is attached (kTracerEnvVar): announces this image, and if no filter of
// ours answered, installs it for every thread of the process and announces again. `guard` is this
// thread's re-entry guard (t_guard): the tracer reads it in a stopped thread, at the same
// offset from that thread's thread pointer, to tell the heap's own calls from glibc's others.
// `tracer_tid`: the filter is installed only when that thread is this process's tracer.
void StartSyscallTracing(uint32_t instance, const int* guard, uint32_t tracer_tid);

// Announces this image to the tracer (a fork child: instance changed, filter inherited).
void AnnounceImage(uint32_t instance, const int* guard);

}  // namespace vmreplay::recorder::preload
