// Out-of-tree use of the installed trace library: writes a small trace, reads it back, and
// counts the events of the trace given on the command line.
// Usage: trace_consumer OUT.pb [TRACE.pb]; prints "wrote N read N" and "TRACE: N events".
#include <cstdio>
#include <memory>

#include "proto/event_source.h"
#include "proto/trace_writer.h"

namespace {

int CountEvents(const char* path, uint64_t* events) {
  std::unique_ptr<vmreplay::EventSource> source;
  if (vmreplay::Status s = vmreplay::OpenTrace(path, &source); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  vmreplay::Event event;
  while (source->Next(&event)) ++*events;
  if (!source->status().ok()) {
    std::fprintf(stderr, "%s\n", source->status().message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  vmreplay::proto::Header header;
  header.set_page_size(4096);
  std::unique_ptr<vmreplay::TraceWriter> writer;
  if (vmreplay::Status s = vmreplay::TraceWriter::Create(argv[1], header, {}, &writer); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  constexpr uint64_t kPairs = 1000;
  for (uint64_t i = 0; i < kPairs; ++i) {
    vmreplay::Event malloc_call;
    malloc_call.op = vmreplay::Op::kMalloc;
    malloc_call.thread = 1;
    malloc_call.timestamp_ns = 2 * i;
    malloc_call.size = 16 + i;
    malloc_call.result = 0x10000 + 64 * i;
    vmreplay::Event free_call = malloc_call;
    free_call.op = vmreplay::Op::kFree;
    free_call.timestamp_ns = 2 * i + 1;
    free_call.addr = malloc_call.result;
    free_call.size = 0;
    free_call.result = 0;
    if (!writer->Append(malloc_call).ok() || !writer->Append(free_call).ok()) return 1;
  }
  if (!writer->Finish().ok()) return 1;
  uint64_t read = 0;
  if (CountEvents(argv[1], &read) != 0) return 1;
  std::printf("wrote %llu read %llu\n", static_cast<unsigned long long>(2 * kPairs),
              static_cast<unsigned long long>(read));
  if (argc > 2) {
    uint64_t events = 0;
    if (CountEvents(argv[2], &events) != 0) return 1;
    std::printf("%s: %llu events\n", argv[2], static_cast<unsigned long long>(events));
  }
  return read == 2 * kPairs ? 0 : 1;
}
