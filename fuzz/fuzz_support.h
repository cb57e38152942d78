// What the fuzz targets share: inputs as in-memory files, traces read back with their strings
// resolved, and the oracles every target applies (an error is one line naming its input; what
// reads back must read back the same after another write).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/event.h"
#include "proto/status.h"
#include "proto/trace.pb.h"

namespace vmreplay::fuzz {

// Stops the run with `what` when `ok` is false: a finding.
void Require(bool ok, const std::string& what);

// A file in memory (memfd), named by a path the readers can open.
class MemFile {
 public:
  explicit MemFile(std::string_view bytes = {});
  ~MemFile();
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// A trace as read, strings resolved so that traces by different writers compare.
struct Trace {
  proto::Header header;
  std::vector<Event> events;       // with file ids zeroed
  std::vector<std::string> files;  // the file name of each event ("" for none)
  bool has_footer = false;
  proto::Footer footer;
};

// Reads a trace (binary or text) with OpenTrace. Returns the read's status; on error it must
// be one line that starts with the path (else Require fails).
Status ReadTrace(const std::string& path, Trace* out);

// Writes `trace` with TraceWriter (file names interned at first use, the footer's thread names
// passed on). Compression on or off.
void WriteTrace(const Trace& trace, bool compress, const std::string& path);

// Writes `trace` (WriteTrace), reads it back strictly and requires the same trace; returns
// what was read. `what` names the round trip in a finding.
Trace RequireRoundTrip(const Trace& trace, bool compress, const std::string& what);

// Requires a and b to hold the same events with the same file names, and equal headers but
// for format_minor (a writer stamps its own).
void RequireSameTrace(const Trace& a, const Trace& b, const std::string& what);

// One line, starting with `prefix`.
void RequireOneLineError(const Status& s, const std::string& prefix);

// Recomputes the checksum of every frame along the chain from the first (so that mutations of
// payloads reach the decoders instead of failing at the checksum); stops where a frame header
// does not parse or overruns the input.
void FixFrameChecksums(std::string* bytes);

// The importer targets: parses `data` as `format` (importers::Format), then requires that the
// events written as a trace read back the same.
int ImportRoundTrip(int format, const uint8_t* data, size_t size);

}  // namespace vmreplay::fuzz
