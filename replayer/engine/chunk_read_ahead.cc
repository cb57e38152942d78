#include "replayer/engine/chunk_read_ahead.h"

#include <utility>

namespace vmreplay::replay {

ChunkReadAhead::ChunkReadAhead(BinaryTraceReader& reader, size_t depth)
    : reader_(reader), free_(depth), depth_(depth), thread_([this] { Run(); }) {}

ChunkReadAhead::~ChunkReadAhead() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ChunkReadAhead::Run() {
  for (;;) {
    Chunk chunk;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return stop_ || !free_.empty(); });
      if (stop_) return;
      chunk = std::move(free_.back());
      free_.pop_back();
    }
    const bool more = reader_.NextChunkInto(&chunk.events);
    chunk.bytes_read = reader_.bytes_read();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (more) {
        ready_.push_back(std::move(chunk));
      } else {
        done_ = true;
      }
    }
    changed_.notify_all();
    if (!more) return;
  }
}

const ChunkReadAhead::Chunk* ChunkReadAhead::Next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (have_current_) {
    free_.push_back(std::move(current_));  // its storage goes back to the reader
    current_ = Chunk();
    have_current_ = false;
    changed_.notify_all();
  }
  changed_.wait(lock, [&] { return done_ || !ready_.empty(); });
  if (ready_.empty()) return nullptr;  // done, and everything delivered
  current_ = std::move(ready_.front());
  ready_.pop_front();
  have_current_ = true;
  return &current_;
}

}  // namespace vmreplay::replay
