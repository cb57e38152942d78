#include "recorder/linux/ring_directory.h"

namespace vmreplay::recorder {
namespace {

constexpr uint64_t kPage = 4096;
uint64_t RoundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

uint64_t HeadersBytes(uint32_t total) {
  return RoundUp(uint64_t{total} * sizeof(ThreadRingHeader), kPage);
}

}  // namespace

uint64_t RingDirectory::SegmentBytesFor(uint32_t rings, uint32_t shared, uint64_t ring_words) {
  const uint32_t total = rings + shared;
  return kSessionHeaderBytes + HeadersBytes(total) + uint64_t{total} * ring_words * 8;
}

uint64_t RingDirectory::RingWordsThatFit(uint64_t available, uint32_t rings, uint32_t shared,
                                         uint64_t ring_words) {
  while (ring_words > kMinFittedRingWords &&
         SegmentBytesFor(rings, shared, ring_words) > available / 2) {
    ring_words /= 2;
  }
  return ring_words;
}

bool RingDirectory::Format(SessionHeader* session, size_t bytes, uint32_t rings, uint32_t shared,
                           uint64_t ring_words) {
  if (ring_words < kMinRingWords || (ring_words & (ring_words - 1)) != 0 || shared == 0) {
    return false;
  }
  if (SegmentBytesFor(rings, shared, ring_words) > bytes) return false;
  session->rings_offset = kSessionHeaderBytes;
  session->data_offset = kSessionHeaderBytes + HeadersBytes(rings + shared);
  session->ring_words = ring_words;
  session->ring_count = rings;
  session->shared_ring_count = shared;
  session->segment_bytes = bytes;
  session->rings_used.store(0, std::memory_order_relaxed);
  auto* headers =
      reinterpret_cast<ThreadRingHeader*>(reinterpret_cast<char*>(session) + session->rings_offset);
  for (uint32_t i = rings; i < rings + shared; ++i) {
    headers[i].owner.store(owner_word::kShared, std::memory_order_relaxed);
  }
  return true;
}

bool RingDirectory::Attach(SessionHeader* session, size_t bytes) {
  const uint64_t total = uint64_t{session->ring_count} + session->shared_ring_count;
  const uint64_t words = session->ring_words;
  if (session->shared_ring_count == 0 || words < kMinRingWords || (words & (words - 1)) != 0 ||
      session->rings_offset < kSessionHeaderBytes || session->segment_bytes > bytes ||
      session->rings_offset + total * sizeof(ThreadRingHeader) > session->data_offset ||
      session->data_offset + total * words * 8 > session->segment_bytes) {
    return false;
  }
  session_ = session;
  char* base = reinterpret_cast<char*>(session);
  headers_ = reinterpret_cast<ThreadRingHeader*>(base + session->rings_offset);
  data_ = reinterpret_cast<uint64_t*>(base + session->data_offset);
  ring_words_ = words;
  ring_count_ = session->ring_count;
  shared_count_ = session->shared_ring_count;
  return true;
}

int RingDirectory::Claim(uint32_t pid, uint32_t tid) {
  const uint64_t me = owner_word::Make(pid, tid);
  for (uint32_t i = 0; i < ring_count_; ++i) {
    uint64_t expected = 0;
    if (headers_[i].owner.load(std::memory_order_relaxed) != 0 ||
        !headers_[i].owner.compare_exchange_strong(expected, me, std::memory_order_acq_rel)) {
      continue;
    }
    // The collector scans rings below rings_used: raise it before the first record.
    uint32_t used = session_->rings_used.load(std::memory_order_relaxed);
    while (used < i + 1 &&
           !session_->rings_used.compare_exchange_weak(used, i + 1, std::memory_order_acq_rel)) {
    }
    return static_cast<int>(i);
  }
  return -1;
}

}  // namespace vmreplay::recorder
