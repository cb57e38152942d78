// Feeds every event of a trace, in order, to a callback, with progress: the one reading loop of
// both replay drivers. Binary traces are read a decoded chunk at a time (no per-event virtual
// call), optionally decoded ahead on a thread of their own; other sources event by event.
#pragma once

#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

#include "proto/binary_trace_reader.h"
#include "proto/event_source.h"
#include "replayer/engine/chunk_read_ahead.h"
#include "replayer/engine/progress_bar.h"
#include "replayer/engine/replay_engine.h"

namespace vmreplay::replay {

// Whether decoding the rest of a trace on another core pays: a decoded event is ~200 bytes to
// move between cores, which costs about what decoding a small, well-compressed one does (a
// 10 M-event malloc recording at 1.3 bytes per event replayed 15 % slower with it), while a
// CLR trace's larger events cost 2-3 times that to decode (replay 25 % faster with it). The
// first chunks' stored bytes per event tell them apart. (A trace with not many more chunks
// than that is not worth a thread.)
inline bool ReadAheadPays(uint64_t chunk_bytes, uint64_t events) {
  return std::thread::hardware_concurrency() >= 2 && events != 0 && chunk_bytes >= 4 * events;
}

// How many events ahead of the one applied the hints are given: a cache miss's worth of
// replay work.
inline constexpr size_t kPrefetchAhead = 4;

// Hints that do nothing (threaded replay: the workers' tables may be growing meanwhile).
struct NoReplayHints {
  bool active() const { return false; }
  void Prefetch(const Event&) const {}
};

// Calls apply(event, index) for index 0, 1, ... until it returns false or the trace ends.
// Returns the number of events read. Read errors are left in source.status(). A binary trace
// is read a decoded chunk at a time, after the first few on a thread of its own
// (chunk_read_ahead.h) if `read_ahead` says so; while hints.active() at the start of a chunk,
// hints.Prefetch(event) is called kPrefetchAhead events before apply(event).
template <typename Apply, typename Hints>
uint64_t PumpEvents(EventSource& source, ProgressBar& progress, ReadAhead read_ahead, Apply&& apply,
                    const Hints& hints) {
  uint64_t index = 0;
  auto* binary = dynamic_cast<BinaryTraceReader*>(&source);
  if (binary == nullptr) {
    Event e;
    while (source.Next(&e)) {
      if (!apply(e, index++)) return index;
      if ((index & 0xffff) == 0) progress.Update(index, 0);
    }
    return index;
  }
  auto fraction = [&](uint64_t bytes_read) {
    return binary->file_size() == 0
               ? 0.0
               : static_cast<double>(bytes_read) / static_cast<double>(binary->file_size());
  };
  auto apply_events = [&](const std::vector<Event>& events, auto with_hints) {
    const size_t n = events.size();
    for (size_t i = 0; i < n; ++i) {
      if constexpr (with_hints) {
        if (i + kPrefetchAhead < n) hints.Prefetch(events[i + kPrefetchAhead]);
      }
      if (!apply(events[i], index++)) return false;
    }
    return true;
  };
  auto apply_chunk = [&](const std::vector<Event>& events, uint64_t bytes_read) {
    // Decided per chunk, not per event.
    const bool more = hints.active() ? apply_events(events, std::true_type{})
                                     : apply_events(events, std::false_type{});
    if (!more) return false;
    progress.Update(index, fraction(bytes_read));
    return true;
  };
  // The first chunks here, to see what their events cost to store (a process's start-up is
  // unlike the rest of it).
  constexpr int kProbeChunks = 8;
  const uint64_t before = binary->bytes_read();
  uint64_t probed = 0;
  for (int i = 0; i < kProbeChunks; ++i) {
    const std::vector<Event>* chunk = binary->NextChunk();
    if (chunk == nullptr) return index;
    probed += chunk->size();
    if (!apply_chunk(*chunk, binary->bytes_read())) return index;
  }
  const uint64_t probed_bytes = binary->bytes_read() - before;
  const bool long_trace = binary->file_size() - binary->bytes_read() > 8 * probed_bytes;
  const bool ahead =
      read_ahead == ReadAhead::kOn ||
      (read_ahead == ReadAhead::kAuto && long_trace && ReadAheadPays(probed_bytes, probed));
  if (ahead) {
    ChunkReadAhead read(*binary);
    while (const ChunkReadAhead::Chunk* chunk = read.Next()) {
      if (!apply_chunk(chunk->events, chunk->bytes_read)) return index;
    }
    return index;
  }
  while (const std::vector<Event>* chunk = binary->NextChunk()) {
    if (!apply_chunk(*chunk, binary->bytes_read())) return index;
  }
  return index;
}

}  // namespace vmreplay::replay
