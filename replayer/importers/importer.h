// vmreplay_importers: convert foreign allocation logs into vmreplay traces.
//
// Guarantees: streaming (memory is bounded by the longest line and, for strace, the calls left
// unfinished at once, never by the input's length); every malformed input yields one error line
// "FILE:LINE: what is wrong" and no trace is left half-written as a success; no input crashes.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/event.h"
#include "proto/status.h"
#include "proto/trace.pb.h"

namespace vmreplay::importers {

enum class Format { kMtrace, kStrace, kRecordAllocs };

// "mtrace", "strace", "record_allocs".
std::string_view FormatName(Format f);
Status ParseFormat(std::string_view name, Format* out);

// Where imported events go: a trace writer, or a vector in tests.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual Status Append(const Event& e) = 0;
  virtual uint32_t InternString(std::string_view s) = 0;
};

struct ImportStats {
  uint64_t lines = 0;    // lines read
  uint64_t events = 0;   // events produced
  uint64_t ignored = 0;  // well-formed lines that carry no event (markers, brk, thread_done ...)
};

// One format's line parser. Errors are "NAME:LINE: what".
class LineParser {
 public:
  virtual ~LineParser() = default;
  virtual Status Line(std::string_view line, uint64_t line_no, EventSink* sink,
                      ImportStats* stats) = 0;
  // End of input: checks nothing is left dangling (a '<' without its '>' ...).
  virtual Status Finish(uint64_t last_line, EventSink* sink, ImportStats* stats) = 0;
};

// A parser for `format`; `name` is the input's name used in error messages.
std::unique_ptr<LineParser> MakeParser(Format format, const std::string& name);

// The header of an imported trace (Linux x86-64 shape, SOURCE_IMPORTED).
proto::Header MakeImportHeader(Format format, const std::string& input,
                               const std::vector<std::string>& command_line);

// Parses all of `in` (named `name`) into `sink`.
Status ImportStream(Format format, std::istream& in, const std::string& name, EventSink* sink,
                    ImportStats* stats);

// Reads the log `in_path` and writes the trace `out_path`. On error the output is removed.
Status ImportFile(Format format, const std::string& in_path, const std::string& out_path,
                  const std::vector<std::string>& command_line, ImportStats* stats);

}  // namespace vmreplay::importers
