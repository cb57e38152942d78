// Reading a binary trace ahead of the replay: a thread of its own reads, decompresses and
// decodes the next chunks while the caller replays the current one, so that on a machine with
// a core to spare the replay thread only replays.
//
// Guarantees: chunks come out in trace order, each exactly once; memory stays bounded by
// `depth` decoded chunks whatever the trace length; the reader is used by the read-ahead thread
// alone until Next has returned nullptr (then its status() and footer() are final and safe to
// read). Destroying the read-ahead early stops the thread after the chunk it is decoding.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "proto/binary_trace_reader.h"
#include "proto/event.h"

namespace vmreplay::replay {

class ChunkReadAhead {
 public:
  // REQUIRES: depth >= 1; `reader` outlives the read-ahead and is not used meanwhile.
  explicit ChunkReadAhead(BinaryTraceReader& reader, size_t depth = 3);
  ~ChunkReadAhead();
  ChunkReadAhead(const ChunkReadAhead&) = delete;
  ChunkReadAhead& operator=(const ChunkReadAhead&) = delete;

  struct Chunk {
    std::vector<Event> events;
    uint64_t bytes_read = 0;  // of the file, once this chunk was read (for progress)
  };
  // The next chunk, valid until the next call; nullptr at the end of the trace or on error.
  const Chunk* Next();

 private:
  void Run();

  BinaryTraceReader& reader_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Chunk> ready_;  // decoded, in order
  std::vector<Chunk> free_;  // storage to decode into
  Chunk current_;            // the chunk Next returned last
  bool have_current_ = false;
  size_t depth_;
  bool done_ = false;   // the reader has no more chunks
  bool stop_ = false;   // the consumer is gone
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace vmreplay::replay
