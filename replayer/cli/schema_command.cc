// `vmreplay schema`: the trace format's one table of fields and operations (proto/event.h) as
// JSON, so readers in other languages (python/vmreplay_trace) decode the columns from the same
// definitions as the C++ reader instead of a copy that could drift.
#include <iostream>

#include "proto/event.h"
#include "proto/frame.h"
#include "replayer/cli/command.h"
#include "replayer/report/json_quote.h"

namespace vmreplay::cli {

int RunSchema(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cout << "usage: vmreplay schema\n"
                 "Prints the trace format's field and operation table as JSON (schema "
                 "vmreplay.schema/1).\n";
    return args[0] == "--help" || args[0] == "-h" ? kExitOk : kExitUsage;
  }
  struct FieldRow {
    const char* name;
    FieldCoding coding;
    FieldText text;
    int bits;  // width of the Event member: stored values are that many bits (signed:
               // sign-extended)
  };
  static constexpr FieldRow kFields[] = {
#define VMREPLAY_FIELD_ROW(name, coding, text) \
  {#name, FieldCoding::coding, FieldText::text, static_cast<int>(8 * sizeof(Event::name))},
      VMREPLAY_EVENT_FIELDS(VMREPLAY_FIELD_ROW)
#undef VMREPLAY_FIELD_ROW
  };
  auto coding = [](FieldCoding c) {
    return c == FieldCoding::kDelta ? "delta" : c == FieldCoding::kSigned ? "signed" : "plain";
  };
  auto text = [](FieldText t) {
    return t == FieldText::kHex      ? "hex"
           : t == FieldText::kString ? "string"
           : t == FieldText::kOrigin ? "origin"
                                     : "decimal";
  };
  std::cout << "{\"schema\":\"vmreplay.schema/1\",\"format_major\":" << kFormatMajor
            << ",\"format_minor\":" << kFormatMinor << ",\"fields\":[";
  // Column numbers of ChunkColumns: op, thread, timestamp_ns, latency_ns are 1-4, the fields 5...
  for (int f = 0; f < kFieldCount; ++f) {
    std::cout << (f ? "," : "") << "{\"name\":\"" << kFields[f].name << "\",\"column\":" << f + 5
              << ",\"coding\":\"" << coding(kFields[f].coding) << "\",\"text\":\""
              << text(kFields[f].text) << "\",\"bits\":" << kFields[f].bits
              << ",\"outcome\":" << (f >= static_cast<int>(Field::k_result) ? "true" : "false")
              << (f == static_cast<int>(kOptionalColumn) ? ",\"optional\":true" : "") << "}";
  }
  std::cout << "],\"ops\":[";
  for (int op = 1; op < kOpCount; ++op) {
    std::cout << (op > 1 ? "," : "") << "{\"code\":" << op
              << ",\"name\":" << JsonQuote(std::string(kOpInfo[op].name)) << ",\"fields\":[";
    bool first = true;
    for (int f = 0; f < kFieldCount; ++f) {
      if ((kOpInfo[op].fields & (FieldMask{1} << f)) == 0) continue;
      std::cout << (first ? "" : ",") << "\"" << kFields[f].name << "\"";
      first = false;
    }
    std::cout << "]}";
  }
  std::cout << "]}\n";
  return kExitOk;
}

}  // namespace vmreplay::cli
