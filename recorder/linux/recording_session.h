// The preload library's connection to the collector: attaching to the shared ring, the
// identity of the recording process and thread, and emitting one record.
//
// Contract for everything here: no allocation once attached, no locks, async-signal-safe on
// the emit path. Attaching (once per process image) allocates through the real allocator and
// maps the segment through Boost.Interprocess; callers hold the re-entry guard while it runs,
// so those calls are the recorder's own and are never recorded.
#pragma once

#include <cstdint>

#include "recorder/linux/wire_protocol.h"

namespace vmreplay::recorder::preload {

// True once this process image is attached and recording. When it returns false the call is
// passed through unrecorded: the recording has not started yet (libc has not initialised its
// environment, so the ring's name is not readable), or this process is not being recorded.
// REQUIRES: the caller holds the re-entry guard (attaching calls the hooked functions).
bool EnsureSession();

// Fills in pid, tid and instance and writes the record to the ring, waiting for space.
// Drops the record only if the collector has gone away. REQUIRES: EnsureSession() was true.
void Emit(WireRecord* record);

// For calls that release memory (free, munmap): takes the record's place in the ring before
// the call, so that the trace orders the release before any allocation another thread makes
// of the same memory once it is released. Returns kNoPosition if the collector has gone away.
// The record is then written with EmitAt once the call has returned; a writer that dies in
// between leaves a slot the collector knows to be a call that never returned.
// REQUIRES: EnsureSession() was true.
inline constexpr uint64_t kNoPosition = ~uint64_t{0};
uint64_t ReserveBeforeCall();
// Fills in pid, tid and instance and writes the record at `position` (from ReserveBeforeCall;
// kNoPosition drops it).
void EmitAt(uint64_t position, WireRecord* record);

// The session clock (SessionHeader::clock): the TSC or CLOCK_MONOTONIC nanoseconds. No system
// call, no allocation. REQUIRES: EnsureSession() was true.
uint64_t Now();

}  // namespace vmreplay::recorder::preload
