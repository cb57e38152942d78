// The text form of a trace: one event per line (see proto/text_format.md). It round-trips
// exactly with the binary form.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "proto/event.h"
#include "proto/event_source.h"
#include "proto/status.h"
#include "proto/trace.pb.h"

namespace vmreplay {

std::string FormatHeaderLine(const proto::Header& header);
std::string FormatFooterLine(const proto::Footer& footer);
// Appends the event's line (without newline). `strings` resolves `file` ids.
void AppendEventLine(const Event& event, const std::function<std::string_view(uint32_t)>& strings,
                     std::string* out);

// Parses one event line. `intern` turns a file name into a string id. On failure returns false
// with *error saying what is wrong (without file and line context).
bool ParseEventLine(std::string_view line, const std::function<uint32_t(std::string_view)>& intern,
                    Event* event, std::string* error);
bool ParseHeaderLine(std::string_view line, proto::Header* header, std::string* error);
bool ParseFooterLine(std::string_view line, proto::Footer* footer, std::string* error);

// Streams a text trace.
class TextTraceReader;
Status OpenTextTrace(const std::string& path, std::unique_ptr<EventSource>* out);

}  // namespace vmreplay
