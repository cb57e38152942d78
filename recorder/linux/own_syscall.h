// The preload's own system-call instruction. Every mmap-family call the preload makes (the
// hooked calls it forwards, and its own mapping of the segment) goes through this one function,
// which lives in a section of its own (`vmrecord_sys`), so that the seccomp filter and
// vmrecord's tracer can tell the preload's calls from glibc's and ld.so's by the instruction
// pointer alone (syscall_filter.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vmreplay::recorder::preload {

// syscall(2) without libc: returns the result, or -1 with errno set.
long OwnSyscall(long nr, long a, long b, long c, long d, long e, long f);

// [begin, end) of the code OwnSyscall's instruction is in: what the kernel reports as the
// instruction pointer of a system call made through it lies inside.
struct CodeRange {
  uint64_t begin = 0;
  uint64_t end = 0;
};
CodeRange OwnSyscallRange();

// Reads the file at `path` (a small /proc file) into buffer[0, size) with plain system calls;
// returns the bytes read (0 if it cannot be opened).
size_t ReadWholeFile(const char* path, char* buffer, size_t size);

}  // namespace vmreplay::recorder::preload
