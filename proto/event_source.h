// Reading a trace, binary or text, as one stream of events.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proto/event.h"
#include "proto/status.h"
#include "proto/trace.pb.h"

namespace vmreplay {

class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual const proto::Header& header() const = 0;
  // Fills *event with the next event. Returns false at the end of the trace or on error;
  // status() tells which.
  virtual bool Next(Event* event) = 0;
  virtual const Status& status() const = 0;
  // The string with this id (DebugAlloc file names); "" for 0 or an unknown id.
  virtual std::string_view String(uint32_t id) const = 0;
  // The footer, once Next has returned false on a complete trace; nullptr before or if absent.
  virtual const proto::Footer* footer() const = 0;
  virtual uint64_t events_read() const = 0;
};

// Opens a binary (.pb, starts with "VMRTRACE") or text (starts with "header {") trace.
Status OpenTrace(const std::string& path, std::unique_ptr<EventSource>* out);

}  // namespace vmreplay
