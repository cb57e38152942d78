// Preload side of the system-call tracer (recorder/linux/syscall_tracer.h): a seccomp filter
// that stops the mmap-family system calls the preload's hooks never see (glibc's malloc
// growing its heaps, thread stacks, setlocale's files, ld.so's dlopen) for vmrecord to record,
// and the announcement that tells vmrecord which process image a stopped thread belongs to.
//
// The filter returns SECCOMP_RET_TRACE for mmap, munmap, mremap, mprotect and madvise unless
// the instruction pointer is in the preload's own system-call code (own_syscall.h), and for
// the announcement; everything else is allowed without a stop. Filters are inherited by fork
// children and kept across exec, so it is installed once, by the first image that starts
// recording; later images (and fork children) only announce themselves.
#pragma once

#include <cstdint>

namespace vmreplay::recorder::preload {

// If vmrecord's tracer is attached (kTracerEnvVar) and no filter is installed yet: installs
// the filter for every thread of the process, then announces this image. `guard` is this
// thread's re-entry guard (t_guard): the tracer reads it in a stopped thread, at the same
// offset from that thread's thread pointer, to tell the heap's own calls from glibc's others.
void StartSyscallTracing(uint32_t instance, const int* guard);

// Announces this image to the tracer (a fork child: instance changed, filter inherited).
void AnnounceImage(uint32_t instance, const int* guard);

}  // namespace vmreplay::recorder::preload
