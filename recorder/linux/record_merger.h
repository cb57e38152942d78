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
#include <array>
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
    uint8_t origin = 0;   // CallOrigin: 0 for the preload's records, set by the tracer's
    bool broken = false;  // a record did not parse: nothing more is read from this ring
  };

  void FenceWriters() const;
  uint32_t UsedRings() const { return std::min(rings_.RingsUsed(), rings_.ring_count()); }
  // Reads ring `i`'s mark, head and last key for a round at clock `t`; returns its bound.
  uint64_t Refresh(uint32_t i, uint64_t t);
  // Decodes the record at cursor.tail of ring `i` into *out. Returns its length in words, and
  // *emit = false for records consumed here (a writer record naming the current writer again);
  // 0 if it does not parse (the ring is then marked broken).
  unsigned Decode(uint32_t i, Cursor& c, const RingView& ring, CallRecord* out, bool* emit);
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
      const unsigned words = Decode(i, c, ring, &record, &emit);
      if (words == 0) {  // unparsable: the ring is broken
        ring_done = true;
        break;
      }
      c.tail += words;
      __builtin_prefetch(ring.data + ((c.tail + 64) & ring.mask));  // 512 bytes ahead
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

namespace record_merger_internal {
// Payload words of each record kind (wire_protocol.h), a long latency word not included; -1 for
// codes that are not records.
constexpr std::array<int8_t, 256> MakePayloadWords() {
  std::array<int8_t, 256> words{};
  for (auto& w : words) w = -1;
  words[kWireMmap] = words[kWireMremap] = 6;
  words[kWireMunmap] = words[kWireMalloc] = words[kWireValloc] = words[kWirePvalloc] = 2;
  words[kWireProcessStart] = words[kWireWriter] = 2;
  words[kWireMprotect] = words[kWireMadvise] = words[kWireCalloc] = words[kWireRealloc] = 3;
  words[kWirePosixMemalign] = words[kWireAlignedAlloc] = words[kWireMemalign] = 3;
  words[kWireCommandLine] = words[kWireMappingName] = 3;
  words[kWireMapping] = 5;
  words[kWireFree] = 1;
  return words;
}
inline constexpr std::array<int8_t, 256> kPayloadWords = MakePayloadWords();
}  // namespace record_merger_internal

inline unsigned RecordMerger::Decode(uint32_t i, Cursor& c, const RingView& ring, CallRecord* out,
                                     bool* emit) {
  const uint64_t available = c.head - c.tail;
  if (__builtin_expect(available < kRecordHeaderWords, 0)) {
    Break(i, "a record shorter than its header");
    return 0;
  }
  const uint64_t key = ring.Word(c.tail);
  const uint64_t header = ring.Word(c.tail + 1);
  const uint8_t op = HeaderOp(header);
  const unsigned payload_words = HeaderPayloadWords(header);
  const uint32_t latency32 = HeaderLatency(header);
  const int expected = record_merger_internal::kPayloadWords[op];
  const unsigned latency_words = latency32 == kLatencyInPayload ? 1 : 0;
  if (__builtin_expect(
          expected < 0 || payload_words != static_cast<unsigned>(expected) + latency_words, 0)) {
    Break(i, "record op " + std::to_string(op) + " with " + std::to_string(payload_words) +
                 " payload words");
    return 0;
  }
  const unsigned words = kRecordHeaderWords + payload_words;
  if (__builtin_expect(words > available, 0)) {
    Break(i, "a record longer than what was published");
    return 0;
  }
  // The payload in place, unless it wraps around the ring's end.
  const uint64_t first = (c.tail + kRecordHeaderWords) & ring.mask;
  uint64_t wrapped[kMaxPayloadWords];
  const uint64_t* p = ring.data + first;
  if (__builtin_expect(first + payload_words > ring.capacity(), 0)) {
    for (unsigned k = 0; k < payload_words; ++k) wrapped[k] = ring.Word(first + k);
    p = wrapped;
  }
  if (op == kWireWriter) {
    const uint32_t instance = static_cast<uint32_t>(p[0] >> 32);
    const uint32_t tid = static_cast<uint32_t>(p[0]);
    const uint32_t pid = static_cast<uint32_t>(p[1]);
    const uint8_t origin = static_cast<uint8_t>(p[1] >> 32);
    *emit = c.instance != instance || c.tid != tid || c.pid != pid;  // passed on when new
    c.instance = instance;
    c.tid = tid;
    c.pid = pid;
    c.origin = origin;
  }
  // Every field is written, so that no stale value survives from the previous record (and
  // member by member: `= {}` or a memset compiles to a slow `rep stos` here).
  uint64_t addr = 0, size = 0, arg = 0, new_addr = 0, result = 0;
  uint32_t flags = 0, protect = 0, error = HeaderError(header);
  int32_t fd = 0;
  switch (op) {
    case kWireMalloc:
    case kWireValloc:
    case kWirePvalloc:
      size = p[0];
      result = p[1];
      break;
    case kWireFree:
      addr = p[0];
      break;
    case kWireCalloc:
    case kWirePosixMemalign:
    case kWireAlignedAlloc:
    case kWireMemalign:
      arg = p[0];
      size = p[1];
      result = p[2];
      break;
    case kWireRealloc:
      addr = p[0];
      size = p[1];
      result = p[2];
      break;
    case kWireMmap:
      addr = p[0];
      size = p[1];
      protect = static_cast<uint32_t>(p[2]);
      flags = static_cast<uint32_t>(p[2] >> 32);
      fd = static_cast<int32_t>(p[3]);
      arg = p[4];
      result = p[5];
      break;
    case kWireMremap:
      addr = p[0];
      size = p[1];
      arg = p[2];
      flags = static_cast<uint32_t>(p[3]);
      new_addr = p[4];
      result = p[5];
      break;
    case kWireMunmap:
      addr = p[0];
      size = p[1];
      break;
    case kWireMprotect:
      addr = p[0];
      size = p[1];
      protect = static_cast<uint32_t>(p[2]);
      break;
    case kWireMadvise:
      addr = p[0];
      size = p[1];
      flags = static_cast<uint32_t>(p[2]);
      break;
    case kWireProcessStart:
      arg = p[0];
      addr = p[1];
      break;
    case kWireMapping:
      addr = p[0];
      new_addr = p[1];
      protect = static_cast<uint32_t>(p[2]);
      flags = static_cast<uint32_t>(p[2] >> 32);
      arg = p[3];
      result = p[4];
      break;
    case kWireCommandLine:
    case kWireMappingName:
      size = error;  // the byte count
      error = 0;
      arg = p[0];
      new_addr = p[1];
      result = p[2];
      break;
    default:
      break;
  }
  const uint64_t latency = latency_words != 0 ? p[payload_words - 1] : latency32;
  out->timestamp = KeyedBeforeCall(op) || op >= kWireProcessStart ? key : key - latency;
  out->latency = latency;
  out->addr = addr;
  out->size = size;
  out->arg = arg;
  out->new_addr = new_addr;
  out->result = result;
  out->pid = c.pid;
  out->tid = c.tid;
  out->instance = c.instance;
  out->flags = flags;
  out->protect = protect;
  out->error = error;
  out->fd = fd;
  out->op = op;
  out->origin = c.origin;
  return words;
}

}  // namespace vmreplay::recorder
