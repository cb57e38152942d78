// The collector's reader of the session's rings: merges every thread's ring into one stream of
// records in key order, the trace order, while the writers go on writing.
//
// Each ring holds its records in key order, so merging them needs a watermark: a key W below
// which no record can still appear in any ring. A round (Round):
//   1. reads the session clock T, then fences every writer: membarrier(GLOBAL_EXPEDITED) makes
//      each registered writer's earlier stores visible or interrupts it before them
//      (kFencePerRecord writers fence each record themselves);
//   2. reads each ring's pending mark, then its head and last key. A ring without a mark takes
//      its next key after setting one, that is after the fence: that key is above T. A ring
//      with a mark was seen idle at some earlier round's T, or holds the last key it
//      published; the record in progress is keyed above both. So the ring's bound is
//      max(last key, T of the last round that saw it idle), and W is the least bound;
//   3. emits every published record with a key below W, across all rings, in key order (ties:
//      the lower ring index first), and hands the space back to the writers.
// W never goes back. A writer keys a record only after its call (or, for a release, before
// it), with an ordered clock read (recording_session.h), so an allocation of memory that
// another thread released is keyed after that release, and the merged order keeps it after.
//
// Writers that die with a mark set (a SIGKILL inside a hook, an exec killing the other
// threads) would hold W back forever: ClearDeadWriters clears their marks and says whether a
// record was lost. Rings whose owner exited or died are freed for new threads once read to
// the end (RecycleRings).
//
// Nothing in a ring is trusted: a record that does not parse (the recorded program can write
// to the mapping) ends that ring's reading and is reported, never a crash.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "recorder/linux/call_record.h"
#include "recorder/linux/ring_directory.h"

namespace vmreplay::recorder {

class RecordMerger {
 public:
  struct Options {
    bool use_tsc = false;     // the session clock (SessionHeader::clock)
    bool membarrier = false;  // the session fences writers with membarrier (SessionHeader::fence)
  };
  RecordMerger(const RingDirectory& rings, Options options);

  struct RoundStats {
    uint64_t emitted = 0;
    // The fullest ring's unread share of its capacity, 0..1, when the round began.
    double fullest = 0;
  };
  // One round of the watermark protocol above; sink(const CallRecord&) receives every emitted
  // call and control record in key order. Writer records are passed on only when the writer
  // changes (a shared ring's writers take turns).
  template <typename Sink>
  RoundStats Round(Sink&& sink);

  // Every record with a key below this has been emitted (the last round's W).
  uint64_t watermark() const { return watermark_; }
  // The session clock now, as rounds read it.
  uint64_t ClockNow() const;

  // Clears the pending marks that have been unchanged for at least `min_age` and whose writer
  // is_dead(pid, tid). lost(pid) is called for each writer that died after its call returned
  // but before its record was published. Returns how many marks were cleared.
  template <typename IsDead, typename Lost>
  int ClearDeadWriters(std::chrono::milliseconds min_age, IsDead&& is_dead, Lost&& lost);

  // Frees every owned ring that is read to its end, with no mark set, whose owner has retired
  // or owner_dead(pid, tid). owner_dead is asked only about rings that got no record since the
  // previous call.
  template <typename OwnerDead>
  void RecycleRings(OwnerDead&& owner_dead);

  // True when the last round found every ring read to its head and no mark set.
  bool drained() const { return drained_; }
  // Records that arrived with a key below one already emitted (a clock read out of order, or a
  // mark cleared for a writer that was not dead after all); emitted in arrival order.
  uint64_t late_records() const { return late_; }
  // The first ring that held a record that does not parse, as "ring N at word W: why".
  const std::string& corruption() const { return corruption_; }
  uint64_t unreadable_words() const { return unreadable_words_; }

 private:
  struct Cursor {
    uint64_t tail = 0;        // next unread word
    uint64_t head = 0;        // published words, as last read
    uint64_t idle_since = 0;  // T of the last round that saw no pending mark
    uint64_t last_key = 0;
    uint64_t mark = 0;  // the pending mark seen last
    std::chrono::steady_clock::time_point mark_since;
    uint64_t recycle_head = ~uint64_t{0};  // head at the previous RecycleRings
    // The writer of the records at the tail (from the ring's writer records).
    uint32_t pid = 0, tid = 0, instance = 0;
    bool broken = false;  // a record did not parse: nothing more is read from this ring
  };

  void FenceWriters() const;
  uint32_t UsedRings() const { return std::min(rings_.RingsUsed(), rings_.ring_count()); }
  // Reads ring `i`'s mark, head and last key for a round at clock `t`; returns its bound.
  uint64_t Refresh(uint32_t i, uint64_t t);
  // Decodes the record at cursor.tail of ring `i` into *out. Returns its length in words, and
  // *emit = false for records consumed here (a writer record naming the current writer again);
  // 0 if it does not parse (the ring is then marked broken).
  unsigned Decode(uint32_t i, CallRecord* out, bool* emit);
  void Break(uint32_t i, const std::string& why);

  const RingDirectory& rings_;
  Options options_;
  std::vector<Cursor> cursors_;
  uint32_t scanned_ = 0;         // owned rings scanned so far: [0, scanned_)
  std::vector<uint32_t> order_;  // ring indices scanned each round: owned, then shared
  std::vector<std::pair<uint64_t, uint32_t>> fronts_;  // (next key, ring) of rings with records
  uint64_t watermark_ = 0;
  uint64_t last_emitted_key_ = 0;
  uint64_t late_ = 0;
  bool drained_ = false;
  std::string corruption_;
  uint64_t unreadable_words_ = 0;
};

template <typename Sink>
RecordMerger::RoundStats RecordMerger::Round(Sink&& sink) {
  RoundStats stats;
  const uint64_t t = ClockNow();
  FenceWriters();
  // A ring claimed during the scan raises rings_used: scan again with it. A ring claimed after
  // the last read of rings_used is keyed after every clock value this round read, so above W.
  uint64_t w;
  bool drained;
  for (uint32_t used = UsedRings();;) {
    while (scanned_ < used) order_.insert(order_.end() - rings_.shared_ring_count(), scanned_++);
    w = ~uint64_t{0};
    drained = true;
    for (uint32_t i : order_) {
      w = std::min(w, Refresh(i, t));
      const Cursor& c = cursors_[i];
      if (c.mark != 0 || (c.tail != c.head && !c.broken)) drained = false;
      stats.fullest = std::max(stats.fullest, static_cast<double>(c.head - c.tail) /
                                                  static_cast<double>(rings_.Ring(i).capacity()));
    }
    const uint32_t again = UsedRings();
    if (again == used) break;
    used = again;
  }
  if (w < watermark_) w = watermark_;

  // Merge: repeatedly take the ring with the least next key (ties: the lower index) and emit
  // its run of records up to the next key of any other ring.
  fronts_.clear();
  for (uint32_t i : order_) {
    const Cursor& c = cursors_[i];
    if (c.tail != c.head && !c.broken) fronts_.emplace_back(rings_.Ring(i).Word(c.tail), i);
  }
  CallRecord record;
  while (!fronts_.empty()) {
    size_t best = 0;
    for (size_t f = 1; f < fronts_.size(); ++f) {
      if (fronts_[f] < fronts_[best]) best = f;
    }
    if (fronts_[best].first >= w) break;
    uint64_t limit = w;  // the run ends at the next key of any other ring
    for (size_t f = 0; f < fronts_.size(); ++f) {
      if (f != best) limit = std::min(limit, fronts_[f].first);
    }
    const uint32_t i = fronts_[best].second;
    Cursor& c = cursors_[i];
    const RingView ring = rings_.Ring(i);
    bool ring_done = false;
    for (;;) {
      const uint64_t key = fronts_[best].first;
      bool emit = true;
      const unsigned words = Decode(i, &record, &emit);
      if (words == 0) {  // unparsable: the ring is broken
        ring_done = true;
        break;
      }
      c.tail += words;
      if (emit) {
        if (key < last_emitted_key_) {
          ++late_;
        } else {
          last_emitted_key_ = key;
        }
        sink(static_cast<const CallRecord&>(record));
        ++stats.emitted;
      }
      if (c.tail == c.head) {
        ring_done = true;
        break;
      }
      fronts_[best].first = ring.Word(c.tail);
      if (fronts_[best].first >= limit) break;
    }
    ring.header->tail.store(c.tail, std::memory_order_release);
    if (ring_done) {
      fronts_[best] = fronts_.back();
      fronts_.pop_back();
    }
  }
  watermark_ = w;
  drained_ = drained;
  return stats;
}

template <typename IsDead, typename Lost>
int RecordMerger::ClearDeadWriters(std::chrono::milliseconds min_age, IsDead&& is_dead,
                                   Lost&& lost) {
  const auto now = std::chrono::steady_clock::now();
  int cleared = 0;
  for (uint32_t i : order_) {
    Cursor& c = cursors_[i];
    ThreadRingHeader& header = *rings_.Ring(i).header;
    uint64_t mark = header.pending.load(std::memory_order_acquire);
    if (mark == 0) continue;
    if (mark != c.mark) {  // a new mark: its age starts now
      c.mark = mark;
      c.mark_since = now;
    }
    if (now - c.mark_since < min_age) continue;
    if (!is_dead(pending_mark::Pid(mark), pending_mark::Tid(mark))) continue;
    const uint64_t head = header.head.load(std::memory_order_acquire);
    if (!header.pending.compare_exchange_strong(mark, 0, std::memory_order_acq_rel)) continue;
    ++cleared;
    c.mark = 0;
    // Died before publishing, after its call had returned (or a record with no call): lost.
    if (!pending_mark::Published(mark, head) && !pending_mark::InsideCall(mark)) {
      lost(pending_mark::Pid(mark));
    }
  }
  return cleared;
}

template <typename OwnerDead>
void RecordMerger::RecycleRings(OwnerDead&& owner_dead) {
  for (uint32_t i = 0; i < scanned_; ++i) {
    Cursor& c = cursors_[i];
    ThreadRingHeader& header = *rings_.Ring(i).header;
    uint64_t owner = header.owner.load(std::memory_order_acquire);
    const uint64_t head = header.head.load(std::memory_order_acquire);
    const bool idle = head == c.recycle_head;
    c.recycle_head = head;
    if (owner == 0 || head != c.tail || header.pending.load(std::memory_order_acquire) != 0) {
      continue;
    }
    const bool retired = (owner & owner_word::kRetired) != 0;
    if (!retired && !(idle && owner_dead(owner_word::Pid(owner), owner_word::Tid(owner)))) continue;
    header.owner.compare_exchange_strong(owner, 0, std::memory_order_acq_rel);
  }
}

}  // namespace vmreplay::recorder
