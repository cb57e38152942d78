#include "tests/proto/trace_test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "proto/event_source.h"

namespace vmreplay::testing {

TempDir::TempDir() {
  std::string base = ::testing::TempDir() + "vmreplay-XXXXXX";
  std::vector<char> buf(base.begin(), base.end());
  buf.push_back('\0');
  char* made = mkdtemp(buf.data());
  if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
  dir_ = made == nullptr ? "/tmp" : made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

proto::Header TestHeader() {
  proto::Header h;
  h.set_platform(proto::PLATFORM_WINDOWS);
  h.set_page_size(4096);
  h.set_allocation_granularity(65536);
  h.set_min_user_address(0x10000);
  h.set_max_user_address(0x7ffffffeffff);
  h.set_physical_memory(16ull << 30);
  h.set_source(proto::SOURCE_SYNTHETIC);
  h.set_pointer_bits(64);
  h.add_command_line("test");
  (*h.mutable_metadata())["purpose"] = "unit test";
  return h;
}

Status WriteTrace(const std::string& path, const std::vector<Event>& events,
                  const WriterOptions& options) {
  std::unique_ptr<TraceWriter> writer;
  VMREPLAY_RETURN_IF_ERROR(TraceWriter::Create(path, TestHeader(), options, &writer));
  // Strings are interned at first use, as every vmreplay writer does.
  for (const Event& e : events) {
    if (e.file != 0 && writer->InternString("gc.cpp") != e.file) {
      return Status::Error("test traces use file id 1 only");
    }
    VMREPLAY_RETURN_IF_ERROR(writer->Append(e));
  }
  return writer->Finish();
}

Status ReadTrace(const std::string& path, std::vector<Event>* events, proto::Header* header) {
  std::unique_ptr<EventSource> source;
  VMREPLAY_RETURN_IF_ERROR(OpenTrace(path, &source));
  if (header != nullptr) *header = source->header();
  events->clear();
  Event e;
  while (source->Next(&e)) events->push_back(e);
  return source->status();
}

std::vector<size_t> FrameOffsets(const std::string& bytes) {
  std::vector<size_t> offsets;
  size_t at = 8;
  while (at + 20 <= bytes.size()) {
    offsets.push_back(at);
    uint32_t length = 0;
    for (int i = 3; i >= 0; --i)
      length = (length << 8) | static_cast<unsigned char>(bytes[at + 8 + i]);
    at += 20 + length;
  }
  return offsets;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace vmreplay::testing
