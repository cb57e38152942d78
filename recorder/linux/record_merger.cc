#include "recorder/linux/record_merger.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace vmreplay::recorder {
namespace {

// Payload words of each record kind (wire_protocol.h), a long latency word not included;
// -1 for codes that are not records.
int PayloadWordsOf(uint8_t op) {
  switch (op) {
    case kWireMmap:
    case kWireMremap:
      return 6;
    case kWireMunmap:
    case kWireMalloc:
    case kWireValloc:
    case kWirePvalloc:
    case kWireProcessStart:
    case kWireWriter:
      return 2;
    case kWireMprotect:
    case kWireMadvise:
    case kWireCalloc:
    case kWireRealloc:
    case kWirePosixMemalign:
    case kWireAlignedAlloc:
    case kWireMemalign:
    case kWireCommandLine:
      return 3;
    case kWireFree:
      return 1;
    default:
      return -1;
  }
}

}  // namespace

RecordMerger::RecordMerger(const RingDirectory& rings, Options options)
    : rings_(rings), options_(options), cursors_(rings.total_rings()) {
  for (uint32_t i = rings.ring_count(); i < rings.total_rings(); ++i) order_.push_back(i);
}

uint64_t RecordMerger::ClockNow() const {
#if defined(__x86_64__)
  if (options_.use_tsc) {
    _mm_lfence();
    const uint64_t t = __rdtsc();
    _mm_lfence();  // read before anything the round does next
    return t;
  }
#endif
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void RecordMerger::FenceWriters() const {
  if (options_.membarrier) syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

uint64_t RecordMerger::Refresh(uint32_t i, uint64_t t) {
  Cursor& c = cursors_[i];
  const ThreadRingHeader& header = *rings_.Ring(i).header;
  // The mark first: a record whose mark is already cleared is published (Publish clears the
  // mark after the head).
  const uint64_t mark = header.pending.load(std::memory_order_acquire);
  c.head = header.head.load(std::memory_order_acquire);
  c.last_key = header.last_key.load(std::memory_order_relaxed);
  if (mark == 0) {
    c.idle_since = t;
  } else if (mark != c.mark) {
    c.mark_since = std::chrono::steady_clock::now();
  }
  c.mark = mark;
  if (!c.broken && c.head - c.tail > rings_.Ring(i).capacity()) {  // no writer publishes that
    Break(i, "head " + std::to_string(c.head) + " is more than a ring ahead of the tail");
  }
  if (c.broken) {
    // Nothing more is read from it, but its writer must not wait for space forever.
    if (c.head > c.tail) unreadable_words_ += c.head - c.tail;
    c.tail = c.head;
    rings_.Ring(i).header->tail.store(c.tail, std::memory_order_release);
    return ~uint64_t{0};
  }
  return std::max(c.last_key, c.idle_since);
}

void RecordMerger::Break(uint32_t i, const std::string& why) {
  Cursor& c = cursors_[i];
  if (c.broken) return;
  c.broken = true;
  if (corruption_.empty()) {
    corruption_ = "ring " + std::to_string(i) + " at word " + std::to_string(c.tail) + ": " + why;
  }
}

unsigned RecordMerger::Decode(uint32_t i, CallRecord* out, bool* emit) {
  Cursor& c = cursors_[i];
  const RingView ring = rings_.Ring(i);
  const uint64_t available = c.head - c.tail;
  if (available < kRecordHeaderWords) {
    Break(i, "a record shorter than its header");
    return 0;
  }
  const uint64_t key = ring.Word(c.tail);
  const uint64_t header = ring.Word(c.tail + 1);
  const uint8_t op = HeaderOp(header);
  const unsigned payload_words = HeaderPayloadWords(header);
  const uint32_t latency32 = HeaderLatency(header);
  const int expected = PayloadWordsOf(op);
  const unsigned latency_words = latency32 == kLatencyInPayload ? 1 : 0;
  if (expected < 0 || payload_words != static_cast<unsigned>(expected) + latency_words) {
    Break(i, "record op " + std::to_string(op) + " with " + std::to_string(payload_words) +
                 " payload words");
    return 0;
  }
  const unsigned words = kRecordHeaderWords + payload_words;
  if (words > available) {
    Break(i, "a record longer than what was published");
    return 0;
  }
  // The payload in place, unless it wraps around the ring's end.
  const uint64_t first = (c.tail + kRecordHeaderWords) & ring.mask;
  uint64_t wrapped[kMaxPayloadWords];
  const uint64_t* p = ring.data + first;
  if (first + payload_words > ring.capacity()) {
    for (unsigned k = 0; k < payload_words; ++k) wrapped[k] = ring.Word(first + k);
    p = wrapped;
  }
  if (op == kWireWriter) {
    const bool same = c.instance == static_cast<uint32_t>(p[0] >> 32) &&
                      c.tid == static_cast<uint32_t>(p[0]) && c.pid == static_cast<uint32_t>(p[1]);
    c.instance = static_cast<uint32_t>(p[0] >> 32);
    c.tid = static_cast<uint32_t>(p[0]);
    c.pid = static_cast<uint32_t>(p[1]);
    *emit = !same;  // a thread's first records: passed on so that it can be named
  }
  *out = CallRecord{};
  out->op = op;
  out->pid = c.pid;
  out->tid = c.tid;
  out->instance = c.instance;
  out->error = HeaderError(header);
  out->latency = latency_words != 0 ? p[payload_words - 1] : latency32;
  out->timestamp = KeyedBeforeCall(op) || op >= kWireProcessStart ? key : key - out->latency;
  switch (op) {
    case kWireMmap:
      out->addr = p[0];
      out->size = p[1];
      out->protect = static_cast<uint32_t>(p[2]);
      out->flags = static_cast<uint32_t>(p[2] >> 32);
      out->fd = static_cast<int32_t>(p[3]);
      out->arg = p[4];
      out->result = p[5];
      break;
    case kWireMremap:
      out->addr = p[0];
      out->size = p[1];
      out->arg = p[2];
      out->flags = static_cast<uint32_t>(p[3]);
      out->new_addr = p[4];
      out->result = p[5];
      break;
    case kWireMunmap:
      out->addr = p[0];
      out->size = p[1];
      break;
    case kWireMprotect:
      out->addr = p[0];
      out->size = p[1];
      out->protect = static_cast<uint32_t>(p[2]);
      break;
    case kWireMadvise:
      out->addr = p[0];
      out->size = p[1];
      out->flags = static_cast<uint32_t>(p[2]);
      break;
    case kWireMalloc:
    case kWireValloc:
    case kWirePvalloc:
      out->size = p[0];
      out->result = p[1];
      break;
    case kWireCalloc:
    case kWirePosixMemalign:
    case kWireAlignedAlloc:
    case kWireMemalign:
      out->arg = p[0];
      out->size = p[1];
      out->result = p[2];
      break;
    case kWireRealloc:
      out->addr = p[0];
      out->size = p[1];
      out->result = p[2];
      break;
    case kWireFree:
      out->addr = p[0];
      break;
    case kWireProcessStart:
      out->arg = p[0];
      out->addr = p[1];
      break;
    case kWireCommandLine:
      out->size = out->error;
      out->error = 0;
      out->arg = p[0];
      out->new_addr = p[1];
      out->result = p[2];
      break;
    default:
      break;
  }
  return words;
}

}  // namespace vmreplay::recorder
