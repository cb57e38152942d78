// Helpers for trace I/O tests: temporary files, writing and reading whole traces.
#pragma once

#include <string>
#include <vector>

#include "proto/event.h"
#include "proto/status.h"
#include "proto/trace.pb.h"
#include "proto/trace_writer.h"

namespace vmreplay::testing {

// A fresh directory under the test's temp dir, removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

proto::Header TestHeader();

// Writes events (file ids must be 0 or 1; id 1 is "gc.cpp").
Status WriteTrace(const std::string& path, const std::vector<Event>& events,
                  const WriterOptions& options = WriterOptions());

// Reads every event with OpenTrace; returns the status of the read.
Status ReadTrace(const std::string& path, std::vector<Event>* events,
                 proto::Header* header = nullptr);

// Byte offsets of the frames of a well-formed trace: [0] header, then chunks, last the footer.
std::vector<size_t> FrameOffsets(const std::string& bytes);

std::string ReadFile(const std::string& path);
// The bytes as hex pairs ("ff fe"), for messages about binary strings.
std::string Hex(const std::string& bytes);
void WriteFile(const std::string& path, const std::string& bytes);

}  // namespace vmreplay::testing
