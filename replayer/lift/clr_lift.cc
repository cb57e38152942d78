#include "replayer/lift/clr_lift.h"

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

#include "proto/event_source.h"
#include "replayer/lift/clr_lifter.h"
#include "replayer/lift/executable_pool_scan.h"
#include "replayer/lift/win32_model.h"
#include "simulator/win32_constants.h"

namespace vmreplay::lift {
namespace {

// What the PAL's GetSystemInfo reports as dwAllocationGranularity (pal/src/misc/sysinfo.cpp);
// the lifted header uses the page size instead, where the reservations really land.
constexpr uint64_t kPalReportedGranularity = 0x10000;

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

std::string FormatRanges(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  std::string s;
  for (const auto& [base, size] : ranges) {
    if (!s.empty()) s += ",";
    s += Hex(base) + "+" + Hex(size);
  }
  return s;
}

// Reads every event of `path` in order, checking it is a Linux recording.
Status ForEachEvent(const std::string& path, proto::Header* header, proto::Footer* footer,
                    const std::function<void(const Event&, uint64_t)>& visit) {
  std::unique_ptr<EventSource> source;
  VMREPLAY_RETURN_IF_ERROR(OpenTrace(path, &source));
  if (source->header().platform() != proto::PLATFORM_LINUX) {
    return Status::Error(path + ": not a Linux recording (platform " +
                         proto::Platform_Name(source->header().platform()) +
                         "); lift --clr takes a vmrecord trace of a .NET process");
  }
  if (source->header().source() == proto::SOURCE_LIFTED) {
    return Status::Error(path + ": already lifted");
  }
  if (header != nullptr) *header = source->header();
  Event e;
  uint64_t index = 0;
  while (source->Next(&e)) {
    if (!IsPosixVirtualOp(e.op) && !IsPosixHeapOp(e.op)) {
      return Status::Error(path + ": event " + std::to_string(index) + ": " +
                           std::string(OpName(e.op)) +
                           " is not a Linux call; lift --clr takes a vmrecord trace");
    }
    visit(e, index++);
  }
  VMREPLAY_RETURN_IF_ERROR(source->status());
  if (footer != nullptr && source->footer() != nullptr) *footer = *source->footer();
  return Status::Ok();
}

proto::Header LiftedHeader(const proto::Header& recorded, const std::string& in,
                           const LiftResult& r) {
  proto::Header h = recorded;
  const uint64_t page = recorded.page_size() != 0 ? recorded.page_size() : 4096;
  h.set_platform(proto::PLATFORM_LINUX);
  h.set_page_size(page);
  h.set_allocation_granularity(page);
  h.set_source(proto::SOURCE_LIFTED);
  auto& m = *h.mutable_metadata();
  m["lift"] = "clr";
  m["lift.from"] = std::filesystem::path(in).filename().string() + " (" +
                   proto::SourceKind_Name(recorded.source()) + ")";
  m["lift.pal_reported_allocation_granularity"] = std::to_string(kPalReportedGranularity);
  std::vector<std::pair<uint64_t, uint64_t>> heap, handles;
  for (const OwnedReservation& g : r.gc_reservations) {
    (g.owner == Owner::kGcHeap ? heap : handles).emplace_back(g.base, g.size);
  }
  m[kGcHeapReservationsKey] = FormatRanges(heap);
  m[kGcHandleTableReservationsKey] = FormatRanges(handles);
  std::vector<std::pair<uint64_t, uint64_t>> pools;
  for (const auto& [start, end] : r.pools) pools.emplace_back(start, end - start);
  m["lift.executable_pools"] = FormatRanges(pools);
  m["lift.largest_reservation"] = FormatRanges({{r.largest.base, r.largest.size}}) +
                                  " at lifted event " + std::to_string(r.largest.lifted_index);
  std::map<std::string, std::string> stats;
  r.stats.ToMetadata(&stats);
  for (auto& [key, value] : stats) m[key] = value;
  return h;
}

const char* OwnerName(Owner owner) {
  switch (owner) {
    case Owner::kGcHeap:
      return "the GC heap's";
    case Owner::kGcHandleTable:
      return "the GC handle table's";
    case Owner::kRuntime:
      break;
  }
  return "the runtime's";
}

}  // namespace

std::string LargestReservationNote(const LargestReservation& largest) {
  char line[320];
  std::snprintf(line, sizeof line,
                "note: the largest reservation is %.2f GiB (%s, lifted event %llu): a backend "
                "that cannot reserve that much (the arena holds --arena-size, 64 GiB by default) "
                "refuses it and skips every call inside it",
                static_cast<double>(largest.size) / (1ull << 30), OwnerName(largest.owner),
                static_cast<unsigned long long>(largest.lifted_index));
  return line;
}

bool ParseRanges(const std::string& text, std::vector<std::pair<uint64_t, uint64_t>>* ranges) {
  ranges->clear();
  size_t at = 0;
  while (at < text.size()) {
    const size_t comma = text.find(',', at);
    const std::string item = text.substr(at, comma == std::string::npos ? comma : comma - at);
    unsigned long long base = 0, size = 0;
    char tail = 0;
    if (std::sscanf(item.c_str(), "0x%llx+0x%llx%c", &base, &size, &tail) != 2) return false;
    ranges->emplace_back(base, size);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return true;
}

Status LiftClrTrace(const std::string& in, const std::string& out, const WriterOptions& options,
                    LiftResult* result) {
  ExecutablePoolScan scan;
  proto::Header recorded;
  VMREPLAY_RETURN_IF_ERROR(ForEachEvent(in, &recorded, nullptr, [&](const Event& e, uint64_t i) {
    // The pool is the runtime's own reservation: a hooked call (glibc's and ld.so's are not).
    if (IsPosixVirtualOp(e.op) && e.origin == 0) scan.Observe(e, i);
  }));
  const sim::AddressSpaceConfig config = LiftedAddressSpaceConfig(recorded);

  // Counting pass: the header, which carries the counts, is written before any event.
  LiftResult r;
  {
    ClrLifter counter(config, scan.pools());
    std::vector<Event> lifted;
    auto count_out = [&] {
      for (const Event& l : lifted) {
        if (l.op == Op::kVirtualAlloc && (l.flags & win32::kMemReserve) != 0 &&
            l.size > r.largest.size) {
          r.largest = {l.result, l.size, Owner::kRuntime, counter.stats().events_out()};
        }
        counter.stats().CountEventOut();
      }
      lifted.clear();
    };
    VMREPLAY_RETURN_IF_ERROR(ForEachEvent(in, nullptr, nullptr, [&](const Event& e, uint64_t i) {
      counter.Lift(e, i, &lifted);
      count_out();
    }));
    counter.Finish(&lifted);
    count_out();
    r.stats = counter.stats();
    r.gc_reservations = counter.vm().gc_reservations();
    for (const OwnedReservation& g : r.gc_reservations) {
      if (g.base == r.largest.base) r.largest.owner = g.owner;
    }
    r.pools = counter.vm().pools();
  }
  r.header = LiftedHeader(recorded, in, r);

  std::unique_ptr<TraceWriter> writer;
  VMREPLAY_RETURN_IF_ERROR(TraceWriter::Create(out, r.header, options, &writer));
  ClrLifter lifter(config, scan.pools());
  std::vector<Event> lifted;
  Status write = Status::Ok();
  auto emit = [&] {
    for (const Event& l : lifted) {
      if (write.ok()) write = writer->Append(l);
    }
    lifted.clear();
  };
  proto::Footer recorded_footer;
  Status read = ForEachEvent(in, nullptr, &recorded_footer, [&](const Event& e, uint64_t i) {
    lifter.Lift(e, i, &lifted);
    emit();
  });
  lifter.Finish(&lifted);
  emit();
  proto::Footer extra;
  extra.set_dropped_events(recorded_footer.dropped_events());
  extra.set_end_time_unix_ns(recorded_footer.end_time_unix_ns());
  for (const proto::ThreadInfo& t : recorded_footer.threads()) {
    proto::ThreadInfo* named = extra.add_threads();
    named->set_thread_id(t.thread_id());
    named->set_name(t.name());
  }
  if (read.ok() && write.ok()) write = writer->Finish(extra);
  writer.reset();
  if (!read.ok() || !write.ok()) {
    std::error_code ignored;
    std::filesystem::remove(out, ignored);
    return read.ok() ? write : read;
  }
  *result = std::move(r);
  return Status::Ok();
}

}  // namespace vmreplay::lift
