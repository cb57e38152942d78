// The preload library's connection to the collector: attaching to the shared segment, the
// identity of the recording process and thread, and writing records into this thread's ring.
//
// Contract for everything here: no allocation once attached, no lock on a thread's own ring,
// async-signal-safe on the record path. Attaching (once per process image) allocates through
// the real allocator and maps the segment through Boost.Interprocess; callers hold the
// re-entry guard while it runs, so those calls are the recorder's own and are never recorded.
//
// The record path is inline: a thread that owns its ring writes a record with a handful of
// plain stores (thread_ring.h); everything else (the first record of a thread, which claims
// its ring, shared rings, waiting for space) is out of line.
#pragma once

#include <time.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "recorder/linux/thread_ring.h"
#include "recorder/linux/wire_protocol.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace vmreplay::recorder::preload {

namespace internal {
enum AttachState : int { kUnattached, kAttaching, kActive, kDisabled };
extern std::atomic<int> g_attach_state;
bool EnsureSessionSlow();  // until attached: see EnsureSession
}  // namespace internal

// True once this process image is attached and recording. When it returns false the call is
// passed through unrecorded: the recording has not started yet (libc has not initialised its
// environment, so the segment's name is not readable), or this process is not being recorded.
// REQUIRES: the caller holds the re-entry guard (attaching calls the hooked functions).
inline bool EnsureSession() {
  if (__builtin_expect(
          internal::g_attach_state.load(std::memory_order_acquire) == internal::kActive, 1)) {
    return true;
  }
  return internal::EnsureSessionSlow();
}

// What the record path reads of the session; fixed once attached (pid and instance are
// rewritten in a fork child before it records anything).
struct SessionState {
  bool use_tsc = false;
  bool coarse = false;            // kTimingCoarse: one clock read per call, no latency
  bool fence_per_record = false;  // kFencePerRecord, or membarrier registration failed
  uint32_t pid = 0;
  uint32_t instance = 0;
};
extern SessionState g_session_state;

// This thread's ring. mode kNone until its first record claims one (or picks a shared ring).
struct ThreadWriter {
  enum Mode : uint8_t { kNone, kOwned, kShared };
  RingView ring;
  uint64_t limit = 0;  // kOwned: head may reach this before the tail must be read again
  uint32_t tid = 0;
  Mode mode = kNone;
  bool retired = false;  // the thread is exiting: its owned ring was handed back
};
// constinit: no dynamic initialisation, so no TLS wrapper call on each access.
extern thread_local constinit ThreadWriter t_writer __attribute__((tls_model("initial-exec")));

// The re-entry guard: nonzero while a hook (or the recorder's own code) runs on this thread,
// so that every call made meanwhile is forwarded unrecorded. initial-exec: reading it never
// calls __tls_get_addr, which may allocate.
extern thread_local constinit int t_guard __attribute__((tls_model("initial-exec")));

// The session clock (SessionHeader::clock): the TSC or CLOCK_MONOTONIC nanoseconds. No system
// call, no allocation. REQUIRES: EnsureSession() was true.
inline uint64_t Now() {
#if defined(__x86_64__)
  if (__builtin_expect(g_session_state.use_tsc, 1)) return __rdtsc();
#endif
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The session clock for a key: read only after every earlier instruction, the loads of the
// call just made included, has completed (so a key is later than whatever the call observed
// of other threads) and after the pending mark is ordered (record_merger.h). Coarse timing
// reads it without the lfence (SessionTiming).
inline uint64_t KeyNow() {
#if defined(__x86_64__)
  if (__builtin_expect(g_session_state.use_tsc, 1)) {
    if (!g_session_state.coarse) _mm_lfence();
    return __rdtsc();
  }
#endif
  return Now();  // CLOCK_MONOTONIC's vDSO read is ordered itself
}

// A call's entry time, for its latency: 0 under coarse timing, which reads no entry time.
inline uint64_t EntryNow() { return __builtin_expect(g_session_state.coarse, 0) ? 0 : Now(); }
// The latency of a call that started at EntryNow() == `entry` and is keyed at `key`.
inline uint64_t LatencyOf(uint64_t key, uint64_t entry) {
  return __builtin_expect(g_session_state.coarse, 0) ? 0 : key - entry;
}

namespace internal {

// Out of line: every record that is not on a thread's own ring with room to spare.
void EmitSlow(uint8_t op, uint64_t entry, uint32_t error, const uint64_t* payload, unsigned n);
bool WaitForOwnedSpace(ThreadWriter& w, uint64_t head, unsigned words);

inline void MarkPending(const RingView& ring, uint64_t mark) {
  recorder::MarkPending(ring, mark, g_session_state.fence_per_record);
}

using recorder::PutRecord;

}  // namespace internal

// Records a call that takes its key once it has returned (everything but free and munmap).
// `entry` is Now() from just before the call. Waits for ring space; drops the record only if
// the collector has gone away. REQUIRES: EnsureSession() was true.
template <size_t N>
inline void EmitAfterCall(uint8_t op, uint64_t entry, uint32_t error,
                          const std::array<uint64_t, N>& payload) {
  ThreadWriter& w = t_writer;
  if (__builtin_expect(w.mode != ThreadWriter::kOwned, 0)) {
    internal::EmitSlow(op, entry, error, payload.data(), N);
    return;
  }
  constexpr unsigned kMaxWords = kRecordHeaderWords + N + 1;
  // A copy: the ring's words could alias `w` as far as the compiler knows, so a reference
  // would be reloaded from TLS after every store.
  const RingView ring = w.ring;
  const uint64_t head = ring.header->head.load(std::memory_order_relaxed);
  if (__builtin_expect(head + kMaxWords > w.limit, 0) &&
      !internal::WaitForOwnedSpace(w, head, kMaxWords)) {
    return;
  }
  internal::MarkPending(
      ring, pending_mark::Make(g_session_state.pid, w.tid, /*inside_call=*/false, head));
  const uint64_t key = KeyNow();
  const unsigned words =
      internal::PutRecord(ring, head, key, op, error, LatencyOf(key, entry), payload.data(), N);
  Publish(ring, head, words, key);
}

// Records a release (free, munmap): its key is taken before the call, so that the trace orders
// the release before any allocation another thread makes of the same memory once it is
// released. Construct it right before the call and Finish it right after. A writer that dies in
// between leaves a pending mark that tells the collector the call never returned.
// REQUIRES: EnsureSession() was true.
class ReleaseRecord {
 public:
  explicit ReleaseRecord(unsigned payload_words) {
    ThreadWriter& w = t_writer;
    const unsigned max_words = kRecordHeaderWords + payload_words + 1;
    if (__builtin_expect(w.mode != ThreadWriter::kOwned, 0)) {
      BeginSlow(max_words);
      return;
    }
    head_ = w.ring.header->head.load(std::memory_order_relaxed);
    if (__builtin_expect(head_ + max_words > w.limit, 0) &&
        !internal::WaitForOwnedSpace(w, head_, max_words)) {
      return;
    }
    ring_ = w.ring;
    mark_ = pending_mark::Make(g_session_state.pid, w.tid, /*inside_call=*/true, head_);
    internal::MarkPending(ring_, mark_);
    key_ = KeyNow();
    active_ = true;
  }
  ReleaseRecord(const ReleaseRecord&) = delete;
  ReleaseRecord& operator=(const ReleaseRecord&) = delete;

  template <size_t N>
  void Finish(uint8_t op, uint32_t error, const std::array<uint64_t, N>& payload) {
    if (!active_) return;
    ring_.header->pending.store(mark_ & ~pending_mark::kInsideCall, std::memory_order_relaxed);
    const uint64_t latency = g_session_state.coarse ? 0 : Now() - key_;
    const unsigned words = internal::PutRecord(ring_, head_ + prefix_words_, key_, op, error,
                                               latency, payload.data(), N);
    Publish(ring_, head_, prefix_words_ + words, key_);
  }

 private:
  void BeginSlow(unsigned max_words);

  RingView ring_;
  uint64_t head_ = 0;
  uint64_t key_ = 0;
  uint64_t mark_ = 0;
  unsigned prefix_words_ = 0;  // a writer record written first (shared rings)
  bool active_ = false;
};

// A record's payload words, from the call's integer and pointer arguments and results.
template <typename... T>
inline std::array<uint64_t, sizeof...(T)> Words(T... values) {
  return {static_cast<uint64_t>(values)...};
}

// Records a control record (process start, command line) with its key taken now.
void EmitControl(uint8_t op, uint32_t error, const uint64_t* payload, unsigned n);

}  // namespace vmreplay::recorder::preload
