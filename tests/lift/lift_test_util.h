// Lifting hand-written Linux text traces (proto/text_format.md) and reading back the lifted
// events as text lines, for the lift's tests.
#pragma once

#include <stdlib.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "proto/event_source.h"
#include "proto/text_format.h"
#include "replayer/lift/clr_lift.h"

namespace vmreplay::lift::testing {

inline constexpr char kLinuxHeader[] =
    "header { format_major: 1 platform: PLATFORM_LINUX page_size: 4096 allocation_granularity: "
    "4096 source: SOURCE_LINUX_PRELOAD start_time_unix_ns: 1000000 command_line: \"dotnet\" "
    "command_line: \"app.dll\" }\n";

inline std::string TempPath(const std::string& name) {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/vmreplay_lift_testXXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir + "/" + name;
}

inline std::string WriteText(const std::string& name, const std::string& body) {
  const std::string path = TempPath(name);
  std::ofstream(path) << kLinuxHeader << body;
  return path;
}

struct LiftOutput {
  Status status;
  LiftResult result;
  std::string path;                // the lifted trace
  std::vector<std::string> lines;  // its events in the text form
  proto::Header header;
};

// Lifts `body` (event lines after the Linux header) and reads the lifted trace back.
inline LiftOutput LiftText(const std::string& name, const std::string& body) {
  LiftOutput l;
  l.path = TempPath(name + ".lifted.pb");
  l.status = LiftClrTrace(WriteText(name + ".txt", body), l.path, WriterOptions(), &l.result);
  if (!l.status.ok()) return l;
  std::unique_ptr<EventSource> source;
  l.status = OpenTrace(l.path, &source);
  if (!l.status.ok()) return l;
  l.header = source->header();
  Event e;
  while (source->Next(&e)) {
    std::string line;
    AppendEventLine(
        e, [](uint32_t) { return std::string_view(); }, &line);
    l.lines.push_back(line);
  }
  l.status = source->status();
  return l;
}

// Every recorded event is counted once: as a lifted pattern (CreateMalloc has no recorded
// event), as not lifted, or as unclassified.
inline uint64_t CountedEvents(const LiftStats& s) {
  uint64_t n = 0;
  for (size_t i = 0; i < kLiftedInfo.size(); ++i) {
    if (static_cast<Lifted>(i) != Lifted::kCreateHeap) n += s.lifted(static_cast<Lifted>(i));
  }
  for (size_t i = 0; i < kNotLiftedInfo.size(); ++i) n += s.not_lifted(static_cast<NotLifted>(i));
  return n + s.unclassified_total();
}

}  // namespace vmreplay::lift::testing
