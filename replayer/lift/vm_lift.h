// The runtime's mmap-family calls as the VirtualAlloc family the CLR asked for (the table of
// patterns is lift_stats.h; the sources each comes from are in replayer/lift/README.md).
//
// Guarantees:
//  - Every recorded call is counted once: as the first call of a lifted pattern, as folded into
//    one, as the runtime's but not lifted, or as unclassified (with its event index). Nothing is
//    guessed: a call that fits no pattern is unclassified, never approximated.
//  - Every lifted call's outcome is the simulator's under the rules a `sim` replay applies
//    (win32_model.h): a lifted call the simulator would refuse is unclassified instead of
//    emitted, so a faithful `sim` replay of the lifted trace has no divergence by construction.
//  - A pattern's calls are matched per thread (the GC and the PAL make them in a row on one
//    thread, under their locks); other threads' calls in between go on. A lifted call is emitted
//    when its pattern is complete: its timestamp is its first call's, its latency spans to the
//    end of its last, so a trace's timestamps can step back at those points.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "proto/event.h"
#include "replayer/lift/lift_stats.h"
#include "replayer/lift/recorded_layout.h"
#include "replayer/lift/win32_model.h"

namespace vmreplay::lift {

// A lifted reservation whose owner its call pattern tells.
struct OwnedReservation {
  uint64_t base = 0;
  uint64_t size = 0;
  Owner owner = Owner::kRuntime;
};

class VmLift {
 public:
  // `pools`: event indices of the mmap calls that reserved the executable pool
  // (ExecutablePoolScan).
  VmLift(const sim::AddressSpaceConfig& config, std::set<uint64_t> pools, LiftStats* stats);

  // REQUIRES: IsPosixVirtualOp(e.op). Appends the host calls completed by `e` to *out.
  void Lift(const Event& e, uint64_t index, std::vector<Event>* out);
  // Completes every pattern still open (the end of the trace).
  void Finish(std::vector<Event>* out);

  // Reservations the GC's call pattern identifies (GC heap, handle table), in lift order.
  const std::vector<OwnedReservation>& gc_reservations() const { return gc_reservations_; }
  // The executable pools seen: [start, end).
  const std::vector<std::pair<uint64_t, uint64_t>>& pools() const { return pool_ranges_; }
  const Win32Model& model() const { return model_; }

 private:
  // A pattern under way on one thread.
  struct Open {
    enum class Kind : uint8_t { kReserve, kFold, kViewRelease };
    Kind kind = Kind::kFold;
    uint64_t first_index = 0;
    Event first;  // the recorded call that opened it
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t last_end_ns = 0;  // end of its last recorded call so far
    uint64_t trimmed = 0;      // kReserve: alignment padding unmapped so far
    bool pending = false;      // kFold: `lifted` is still to be emitted
    Event lifted;
    int fold_advice = -1;  // madvise advice on [start, end) that still belongs to it
  };

  uint64_t PageUp(uint64_t v) const { return (v + page_ - 1) & ~(page_ - 1); }
  static uint64_t EndOf(const Event& e) { return e.timestamp_ns + e.latency_ns; }

  // Completes the open patterns of other threads that `e` touches, then this thread's unless
  // `e` belongs to it. Returns true when `e` was folded into this thread's pattern.
  bool Continue(const Event& e, uint64_t index, std::vector<Event>* out);
  bool Fold(Open* open, const Event& e, uint64_t index, std::vector<Event>* out);
  void Complete(uint64_t thread, std::vector<Event>* out);
  // `advice`: MADV_DONTDUMP completed it; `commit_prot`: a commit of all of it did (-1: none).
  void CompleteReserve(const Open& open, bool advice, int commit_prot, std::vector<Event>* out);

  // A call glibc or ld.so made itself (origin libc or loader): never the runtime's, but its
  // mapping is kept, so that the runtime's own calls on it (an mprotect of libcoreclr.so's
  // pages) are known memory.
  void LiftSystemCall(const Event& e, uint64_t index);
  void LiftMmap(const Event& e, uint64_t index, std::vector<Event>* out);
  void LiftMunmap(const Event& e, uint64_t index, std::vector<Event>* out);
  void LiftMprotect(const Event& e, uint64_t index);
  void LiftMadvise(const Event& e, uint64_t index);

  // Applies a lifted call to the model, filling in its outcome. False (and the recorded call
  // counted as refused) when the Win32 rules refuse it.
  bool Apply(Event* lifted, uint64_t recorded_address, Op recorded_op, uint64_t index);
  // Starts a pattern on e's thread over [start, end), opened by recorded event `index`.
  Open* OpenPattern(Open::Kind kind, const Event& e, uint64_t index, uint64_t start, uint64_t end);
  // A lifted call waiting for the coredump advice that may follow it on the same thread.
  void OpenFold(const Event& e, uint64_t index, const Event& lifted, int advice);
  void NotLiftedOn(const Mapping* m, const Event& e, uint64_t index);
  // The mapping holding all of [start, end), or nullptr with `e` counted as unclassified (unknown
  // memory, or a range over several mappings).
  const Mapping* MappingOf(const Event& e, uint64_t index, uint64_t start, uint64_t end,
                           uint64_t* mapping_start);

  Win32Model model_;
  uint64_t page_;
  std::set<uint64_t> pools_;
  LiftStats* stats_;
  RecordedLayout layout_;
  std::map<uint64_t, Open> open_;     // by thread
  std::set<int> double_mapping_fds_;  // files mapped as code views
  std::vector<OwnedReservation> gc_reservations_;
  std::vector<std::pair<uint64_t, uint64_t>> pool_ranges_;
};

}  // namespace vmreplay::lift
