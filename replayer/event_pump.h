// Feeds every event of a trace, in order, to a callback, with progress: the one reading loop of
// both replay drivers. Binary traces are read a decoded chunk at a time (no per-event virtual
// call); other sources event by event.
#pragma once

#include <cstdint>
#include <vector>

#include "proto/binary_trace_reader.h"
#include "proto/event_source.h"
#include "replayer/progress_bar.h"

namespace vmreplay::replay {

// Calls apply(event, index) for index 0, 1, ... until it returns false or the trace ends.
// Returns the number of events read. Read errors are left in source.status().
template <typename Apply>
uint64_t PumpEvents(EventSource& source, ProgressBar& progress, Apply&& apply) {
  uint64_t index = 0;
  if (auto* binary = dynamic_cast<BinaryTraceReader*>(&source)) {
    for (;;) {
      const std::vector<Event>* chunk = binary->NextChunk();
      if (chunk == nullptr) break;
      for (const Event& e : *chunk) {
        if (!apply(e, index++)) return index;
      }
      progress.Update(index, binary->file_size() == 0
                                 ? 0
                                 : static_cast<double>(binary->bytes_read()) /
                                       static_cast<double>(binary->file_size()));
    }
    return index;
  }
  Event e;
  while (source.Next(&e)) {
    if (!apply(e, index++)) return index;
    if ((index & 0xffff) == 0) progress.Update(index, 0);
  }
  return index;
}

}  // namespace vmreplay::replay
