#include "proto/trace_summary.h"

#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "proto/event_source.h"

namespace vmreplay {

Status Summarize(const std::string& path, TraceSummary* out) {
  std::unique_ptr<EventSource> source;
  VMREPLAY_RETURN_IF_ERROR(OpenTrace(path, &source));
  TraceSummary s;
  s.header = source->header();
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) s.file_size = static_cast<uint64_t>(st.st_size);
  Event e;
  while (source->Next(&e)) {
    if (s.events == 0) s.first_timestamp_ns = e.timestamp_ns;
    ++s.events;
    ++s.per_op[static_cast<int>(e.op)];
    if (IsPosixVirtualOp(e.op) && e.origin < kCallOriginCount) ++s.per_origin[e.origin];
    ++s.per_thread[e.thread];
    s.first_timestamp_ns = std::min(s.first_timestamp_ns, e.timestamp_ns);
    s.last_end_ns = std::max(s.last_end_ns, e.timestamp_ns + e.latency_ns);
    if (RecordedFailure(e)) ++s.failed_calls;
  }
  VMREPLAY_RETURN_IF_ERROR(source->status());
  if (const proto::Footer* f = source->footer()) {
    s.has_footer = true;
    for (const auto& t : f->threads()) {
      if (!t.name().empty()) s.thread_names[t.thread_id()] = t.name();
    }
    s.dropped_events = f->dropped_events();
    s.end = f->end();
  }
  *out = std::move(s);
  return Status::Ok();
}

}  // namespace vmreplay
