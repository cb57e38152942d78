// Text form: any text either parses or fails with one line naming the file and line. What
// parses must format and re-parse to itself (and format the same the second time), and
// encode -> read must give the same events and file names.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "fuzz/fuzz_support.h"
#include "proto/text_format.h"

namespace vmreplay::fuzz {
namespace {

std::string Format(const Trace& t) {
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<std::string> strings;
  std::string out = FormatHeaderLine(t.header) + "\n";
  for (size_t i = 0; i < t.events.size(); ++i) {
    Event e = t.events[i];
    if (!t.files[i].empty()) {
      auto [it, added] = ids.emplace(t.files[i], static_cast<uint32_t>(strings.size()) + 1);
      if (added) strings.push_back(t.files[i]);
      e.file = it->second;
    }
    AppendEventLine(
        e, [&](uint32_t id) { return id == 0 ? std::string_view() : strings[id - 1]; }, &out);
    out += "\n";
  }
  if (t.has_footer) out += FormatFooterLine(t.footer) + "\n";
  return out;
}

int Run(const uint8_t* data, size_t size) {
  MemFile in(std::string_view(reinterpret_cast<const char*>(data), size));
  Trace parsed;
  if (!ReadTrace(in.path(), &parsed).ok()) return 0;
  const std::string formatted = Format(parsed);
  MemFile again_file(formatted);
  Trace again;
  Status s = ReadTrace(again_file.path(), &again);
  Require(s.ok(), "formatted text does not parse: " + s.message());
  RequireSameTrace(parsed, again, "text -> format -> text");
  Require(Format(again) == formatted, "formatting is not canonical");
  RequireRoundTrip(parsed, /*compress=*/true, "text -> encode -> read");
  return 0;
}

}  // namespace
}  // namespace vmreplay::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return vmreplay::fuzz::Run(data, size);
}
