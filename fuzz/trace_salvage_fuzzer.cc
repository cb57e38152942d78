// Binary reader, salvage (check --salvage): any bytes, damaged as they come. What salvage
// keeps must be a trace that reads back strictly, complete, with the same events and file
// names; finding frames must stay linear in the input (FrameScanner's counters) and the list
// of damaged places bounded.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz/fuzz_support.h"
#include "proto/binary_trace_reader.h"

namespace vmreplay::fuzz {
namespace {

int Run(const uint8_t* data, size_t size) {
  MemFile in(std::string_view(reinterpret_cast<const char*>(data), size));
  std::unique_ptr<BinaryTraceReader> reader;
  Status s = BinaryTraceReader::Open(in.path(), ReaderOptions{.skip_damage = true}, &reader);
  if (!s.ok()) {
    RequireOneLineError(s, in.path());
    return 0;
  }
  Trace salvaged;
  salvaged.header = reader->header();
  (*salvaged.header.mutable_metadata())["salvaged_from"] = in.path();
  while (const std::vector<Event>* events = reader->NextChunk()) {
    for (Event e : *events) {
      salvaged.files.emplace_back(e.file == 0 ? std::string_view() : reader->String(e.file));
      e.file = 0;
      salvaged.events.push_back(e);
    }
  }
  Require(reader->status().ok(), "salvage failed: " + reader->status().message());
  Require(reader->events_read() == salvaged.events.size(), "events_read miscounts");
  Require(reader->damage().size() <= BinaryTraceReader::kMaxDamageRecords, "damage list unbounded");
  Require(reader->damage_count() >= reader->damage().size(), "damage count below the list");
  Require(!reader->complete() || reader->footer() != nullptr, "complete without a footer");
  Require(reader->complete() || reader->damage_count() != 0 || reader->footer() == nullptr,
          "an undamaged trace with a footer is not complete");
  const FrameScanner::Stats& st = reader->scan_stats();
  Require(st.bytes_read <= (FrameScanner::kMaxOverlap + 2) * size + 2 * FrameScanner::kWindow,
          "read " + std::to_string(st.bytes_read) + " bytes of a " + std::to_string(size) +
              "-byte file");
  Require(st.bytes_hashed <= (FrameScanner::kMaxOverlap + 1) * size,
          "hashed " + std::to_string(st.bytes_hashed) + " bytes of a " + std::to_string(size) +
              "-byte file");
  const Trace back =
      RequireRoundTrip(salvaged, /*compress=*/true, "salvage -> write -> strict read");
  Require(back.has_footer, "salvaged trace has no footer");
  return 0;
}

}  // namespace
}  // namespace vmreplay::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return vmreplay::fuzz::Run(data, size);
}
