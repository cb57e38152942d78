// Helpers for the synth tests: generate a trace into a temporary file and read it back.
#pragma once

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/event_source.h"
#include "traces/synth/synth.h"

namespace vmreplay::synth {

struct ReadTrace {
  proto::Header header;
  std::vector<Event> events;
  std::vector<std::string> files;  // the DebugAlloc file name of each event ("" when none)
};

inline std::string TempPath(const std::string& tag) {
  return ::testing::TempDir() + "synth_" + tag + "_" + std::to_string(getpid()) + ".pb";
}

inline std::string Generate(const SynthOptions& o, const std::string& tag) {
  const std::string path = TempPath(tag);
  const Status s = Synthesize(o, {"vmreplay", "synth", "test"}, path);
  EXPECT_TRUE(s.ok()) << s.message();
  return path;
}

inline std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline ReadTrace Read(const std::string& path) {
  ReadTrace t;
  std::unique_ptr<EventSource> src;
  const Status s = OpenTrace(path, &src);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return t;
  t.header = src->header();
  Event e;
  while (src->Next(&e)) {
    t.events.push_back(e);
    t.files.emplace_back(e.file == 0 ? std::string_view() : src->String(e.file));
  }
  EXPECT_TRUE(src->status().ok()) << src->status().message();
  return t;
}

inline SynthOptions Small(Profile p, uint64_t seed = 7) {
  SynthOptions o;
  o.profile = p;
  o.seed = seed;
  o.duration_s = 3.0;
  o.heap_mb = 128;
  o.threads = 4;
  return o;
}

}  // namespace vmreplay::synth
