#include "proto/event_source.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "proto/binary_trace_reader.h"
#include "proto/frame.h"
#include "proto/text_format.h"

namespace vmreplay {

Status OpenTrace(const std::string& path, std::unique_ptr<EventSource>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(path + ": cannot open: " + std::strerror(errno));
  char head[sizeof kFileMagic] = {};
  in.read(head, sizeof head);
  const auto got = static_cast<size_t>(in.gcount());
  if (got == sizeof head && std::memcmp(head, kFileMagic, sizeof head) == 0) {
    std::unique_ptr<BinaryTraceReader> reader;
    VMREPLAY_RETURN_IF_ERROR(BinaryTraceReader::Open(path, ReaderOptions(), &reader));
    *out = std::move(reader);
    return Status::Ok();
  }
  if (got == 0) return Status::Error(path + ": empty file (0 bytes), not a vmreplay trace");
  // A text trace starts with the header line, possibly after comments.
  std::string_view start(head, got);
  if (start.rfind("header", 0) == 0 || start[0] == '#' || start[0] == '\n') {
    return OpenTextTrace(path, out);
  }
  return Status::Error(path + ": not a vmreplay trace (bad magic at byte offset 0)");
}

}  // namespace vmreplay
