#include "proto/text_format.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <array>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <limits>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "proto/frame.h"
#include "proto/portable/byte_escape.h"
#include "proto/portable/utf8.h"

namespace vmreplay {
namespace {

constexpr int kFirstOutcomeField = static_cast<int>(Field::k_result);

struct FieldDesc {
  std::string_view name;
  FieldText text;
  bool is_signed;
  uint64_t max;  // largest magnitude the Event member holds
};

template <typename T>
constexpr FieldDesc Describe(std::string_view name, FieldText text) {
  return {name, text, std::numeric_limits<T>::is_signed,
          static_cast<uint64_t>(std::numeric_limits<T>::max())};
}

const std::array<FieldDesc, kFieldCount>& Fields() {
  static const std::array<FieldDesc, kFieldCount> fields = {
#define VMREPLAY_DESCRIBE(name, coding, text) \
  Describe<decltype(Event::name)>(#name, FieldText::text),
      VMREPLAY_EVENT_FIELDS(VMREPLAY_DESCRIBE)
#undef VMREPLAY_DESCRIBE
  };
  return fields;
}

// Reads and writes an Event member by field number as a 64-bit pattern.
uint64_t GetField(const Event& e, int f) {
  int i = 0;
#define VMREPLAY_GET(name, coding, text) \
  if (f == i++) return static_cast<uint64_t>(e.name);
  VMREPLAY_EVENT_FIELDS(VMREPLAY_GET)
#undef VMREPLAY_GET
  return 0;
}
void SetField(Event& e, int f, uint64_t v) {
  int i = 0;
#define VMREPLAY_SET(name, coding, text) \
  if (f == i++) e.name = static_cast<decltype(e.name)>(v);
  VMREPLAY_EVENT_FIELDS(VMREPLAY_SET)
#undef VMREPLAY_SET
}

bool ParseOriginName(std::string_view value, uint64_t* v) {
  for (int i = 0; i < kCallOriginCount; ++i) {
    if (value == kCallOriginNames[i]) {
      *v = static_cast<uint64_t>(i);
      return true;
    }
  }
  return false;
}

void AppendUnsigned(uint64_t v, bool hex, std::string* out) {
  char buf[24];
  int n = hex ? std::snprintf(buf, sizeof buf, "0x%" PRIx64, v)
              : std::snprintf(buf, sizeof buf, "%" PRIu64, v);
  out->append(buf, static_cast<size_t>(n));
}

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendEscapedBytes(s, out);
  out->push_back('"');
}

bool Unquote(std::string_view s, std::string* out) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  return UnescapeBytes(s.substr(1, s.size() - 2), out);
}

// Header and footer strings in the same escape as event lines (protobuf's own printer writes
// octal for every byte past 0x7f, and would do so differently for string and bytes fields).
class EscapingValuePrinter final : public google::protobuf::TextFormat::FastFieldValuePrinter {
 public:
  void PrintString(const std::string& value,
                   google::protobuf::TextFormat::BaseTextGenerator* out) const override {
    Print(value, out);
  }
  void PrintBytes(const std::string& value,
                  google::protobuf::TextFormat::BaseTextGenerator* out) const override {
    Print(value, out);
  }

 private:
  static void Print(const std::string& value,
                    google::protobuf::TextFormat::BaseTextGenerator* out) {
    std::string quoted;
    AppendQuoted(value, &quoted);
    out->PrintString(quoted);
  }
};

// Parses a number in decimal or 0x-hex; negative only where allowed. The result is the
// two's-complement pattern for negative values.
bool ParseNumber(std::string_view s, bool allow_negative, uint64_t max, uint64_t* out) {
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    if (!allow_negative) return false;
    negative = true;
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return false;
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
  if (negative) {
    if (v > max + 1) return false;
    *out = static_cast<uint64_t>(-static_cast<int64_t>(v));
  } else {
    if (v > max) return false;
    *out = v;
  }
  return true;
}

const std::unordered_map<std::string_view, int>& OpsByName() {
  static const auto* map = [] {
    auto* m = new std::unordered_map<std::string_view, int>();
    for (int op = 1; op < kOpCount; ++op) (*m)[kOpInfo[op].name] = op;
    return m;
  }();
  return *map;
}

const std::unordered_map<std::string_view, int>& FieldsByName() {
  static const auto* map = [] {
    auto* m = new std::unordered_map<std::string_view, int>();
    for (int f = 0; f < kFieldCount; ++f) (*m)[Fields()[f].name] = f;
    return m;
  }();
  return *map;
}

// Splits on spaces, keeping quoted strings (with escapes) whole.
bool Tokenize(std::string_view line, std::vector<std::string_view>* tokens) {
  tokens->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size()) break;
    size_t start = i;
    bool quoted = false;
    while (i < line.size()) {
      char c = line[i];
      if (quoted) {
        if (c == '\\') {
          i += 2;
          continue;
        }
        if (c == '"') quoted = false;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        break;
      }
      ++i;
    }
    if (quoted || i > line.size()) return false;
    tokens->push_back(line.substr(start, i - start));
  }
  return true;
}

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, int column, const std::string& message) override {
    if (first.empty()) first = "column " + std::to_string(column + 1) + ": " + message;
  }
  std::string first;
};

template <typename Message>
bool ParseWrapped(std::string_view line, std::string_view keyword, Message* msg,
                  std::string* error) {
  std::string_view s = line;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  if (s.substr(0, keyword.size()) != keyword || s.size() < keyword.size() + 3 || s.back() != '}') {
    *error = "expected '" + std::string(keyword) + " { ... }'";
    return false;
  }
  s.remove_prefix(keyword.size());
  size_t brace = s.find_first_not_of(" \t");
  if (brace == std::string_view::npos || s[brace] != '{') {
    *error = "expected '" + std::string(keyword) + " { ... }'";
    return false;
  }
  s = s.substr(brace + 1, s.size() - brace - 2);
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(s), msg)) {
    *error = std::string(keyword) + ": " + (errors.first.empty() ? "does not parse" : errors.first);
    return false;
  }
  if constexpr (std::is_same_v<Message, proto::Header>) {
    for (const auto& [key, value] : msg->metadata()) {
      // The text parser takes any bytes; the binary form could not hold this key.
      if (!IsValidUtf8(key)) {
        *error = "header: metadata key \"" + EscapeBytes(key) +
                 "\" is not UTF-8 (metadata keys are protobuf map keys)";
        return false;
      }
    }
  }
  return true;
}

template <typename Message>
std::string FormatWrapped(std::string_view keyword, const Message& msg) {
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.SetDefaultFieldValuePrinter(new EscapingValuePrinter());  // the printer owns it
  std::string body;
  printer.PrintToString(msg, &body);
  std::string line(keyword);
  line += " { ";
  line += body;
  line += "}";
  return line;
}

}  // namespace

std::string FormatHeaderLine(const proto::Header& header) {
  return FormatWrapped("header", header);
}
std::string FormatFooterLine(const proto::Footer& footer) {
  return FormatWrapped("footer", footer);
}

bool ParseHeaderLine(std::string_view line, proto::Header* header, std::string* error) {
  return ParseWrapped(line, "header", header, error);
}
bool ParseFooterLine(std::string_view line, proto::Footer* footer, std::string* error) {
  return ParseWrapped(line, "footer", footer, error);
}

void AppendEventLine(const Event& e, const std::function<std::string_view(uint32_t)>& strings,
                     std::string* out) {
  const OpInfo& info = InfoOf(e.op);
  out->append(info.name);
  out->append(" thread=");
  AppendUnsigned(e.thread, false, out);
  out->append(" ts=");
  AppendUnsigned(e.timestamp_ns, false, out);
  out->append(" lat=");
  AppendUnsigned(e.latency_ns, false, out);
  const auto& fields = Fields();
  bool arrow = false;
  for (int f = 0; f < kFieldCount; ++f) {
    if (f == kFirstOutcomeField) {
      out->append(" ->");
      arrow = true;
    }
    if ((info.fields & (FieldMask{1} << f)) == 0) continue;
    uint64_t v = GetField(e, f);
    if (fields[f].text == FieldText::kOrigin) {  // left out for the common case, a hooked call
      if (v == 0) continue;
      out->push_back(' ');
      out->append(fields[f].name);
      out->push_back('=');
      if (v < kCallOriginCount) {
        out->append(kCallOriginNames[v]);
      } else {
        AppendUnsigned(v, false, out);
      }
      continue;
    }
    out->push_back(' ');
    out->append(fields[f].name);
    out->push_back('=');
    if (fields[f].text == FieldText::kString) {
      AppendQuoted(strings(static_cast<uint32_t>(v)), out);
    } else if (fields[f].is_signed) {
      // Sign-extend from the member's width.
      int64_t sv = fields[f].max == std::numeric_limits<int32_t>::max()
                       ? static_cast<int64_t>(static_cast<int32_t>(v))
                       : static_cast<int64_t>(v);
      out->append(std::to_string(sv));
    } else {
      AppendUnsigned(v, fields[f].text == FieldText::kHex, out);
    }
  }
  if (!arrow) out->append(" ->");
}

bool ParseEventLine(std::string_view line, const std::function<uint32_t(std::string_view)>& intern,
                    Event* event, std::string* error) {
  static thread_local std::vector<std::string_view> tokens;
  if (!Tokenize(line, &tokens)) {
    *error = "unterminated quoted string";
    return false;
  }
  if (tokens.empty()) {
    *error = "empty event line";
    return false;
  }
  auto op_it = OpsByName().find(tokens[0]);
  if (op_it == OpsByName().end()) {
    *error = "unknown operation '" + std::string(tokens[0]) + "'";
    return false;
  }
  Event e;
  e.op = static_cast<Op>(op_it->second);
  const FieldMask wanted = kOpInfo[op_it->second].fields;
  FieldMask seen = 0;
  bool seen_thread = false, seen_ts = false, seen_lat = false;
  std::string text;
  for (size_t t = 1; t < tokens.size(); ++t) {
    std::string_view tok = tokens[t];
    if (tok == "->") continue;
    size_t eq = tok.find('=');
    if (eq == std::string_view::npos) {
      *error = "expected name=value, got '" + std::string(tok) + "'";
      return false;
    }
    std::string_view name = tok.substr(0, eq), value = tok.substr(eq + 1);
    uint64_t v = 0;
    if (name == "thread" || name == "ts" || name == "lat") {
      bool& seen_flag = name == "thread" ? seen_thread : name == "ts" ? seen_ts : seen_lat;
      if (seen_flag) {
        *error = "field '" + std::string(name) + "' given twice";
        return false;
      }
      if (!ParseNumber(value, false, std::numeric_limits<uint64_t>::max(), &v)) {
        *error = "field '" + std::string(name) + "': malformed number '" + std::string(value) + "'";
        return false;
      }
      seen_flag = true;
      (name == "thread" ? e.thread : name == "ts" ? e.timestamp_ns : e.latency_ns) = v;
      continue;
    }
    auto f_it = FieldsByName().find(name);
    if (f_it == FieldsByName().end() || (wanted & (FieldMask{1} << f_it->second)) == 0) {
      *error = "field '" + std::string(name) + "' does not belong to " +
               std::string(kOpInfo[op_it->second].name);
      return false;
    }
    const int f = f_it->second;
    if (seen & (FieldMask{1} << f)) {
      *error = "field '" + std::string(name) + "' given twice";
      return false;
    }
    seen |= FieldMask{1} << f;
    const FieldDesc& desc = Fields()[f];
    if (desc.text == FieldText::kString) {
      if (!Unquote(value, &text)) {
        *error = "field '" + std::string(name) + "': malformed string " + std::string(value);
        return false;
      }
      v = intern(text);
    } else if (desc.text == FieldText::kOrigin && ParseOriginName(value, &v)) {
      // a name (hooked, libc, heap, loader, other); a number is read below
    } else if (!ParseNumber(value, desc.is_signed, desc.max, &v)) {
      *error = "field '" + std::string(name) + "': malformed or out-of-range number '" +
               std::string(value) + "'";
      return false;
    }
    SetField(e, f, v);
  }
  if (!seen_thread || !seen_ts || !seen_lat) {
    *error = std::string("missing field '") +
             (!seen_thread ? "thread"
              : !seen_ts   ? "ts"
                           : "lat") +
             "'";
    return false;
  }
  if (seen != wanted && (wanted & ~seen) != Bit(kOptionalColumn)) {  // origin=hooked is left out
    FieldMask missing = wanted & ~seen & ~Bit(kOptionalColumn);
    int f = __builtin_ctz(missing);
    *error = "missing field '" + std::string(Fields()[f].name) + "' for " +
             std::string(kOpInfo[op_it->second].name);
    return false;
  }
  *event = e;
  return true;
}

class TextTraceReader final : public EventSource {
 public:
  TextTraceReader(std::string path, std::ifstream in)
      : path_(std::move(path)), in_(std::move(in)) {}

  Status ReadHeader() {
    std::string line;
    while (GetLine(&line)) {
      ++line_no_;
      if (too_long_)
        return Status::Error(path_ + ":" + std::to_string(line_no_) + ": " + TooLong());
      if (Skippable(line)) continue;
      std::string error;
      if (!ParseHeaderLine(line, &header_, &error)) {
        return Status::Error(path_ + ":" + std::to_string(line_no_) + ": " + error);
      }
      if (header_.format_major() > kFormatMajor) {
        return Status::Error(path_ + ":" + std::to_string(line_no_) + ": format version " +
                             std::to_string(header_.format_major()) +
                             " is newer than this reader (" + std::to_string(kFormatMajor) + ".x)");
      }
      if (header_.format_major() == 0) header_.set_format_major(kFormatMajor);
      return Status::Ok();
    }
    return Status::Error(path_ + ": empty text trace: no header line");
  }

  const proto::Header& header() const override { return header_; }
  const Status& status() const override { return status_; }
  const proto::Footer* footer() const override { return has_footer_ ? &footer_ : nullptr; }
  uint64_t events_read() const override { return events_; }
  std::string_view String(uint32_t id) const override {
    if (id == 0 || id > strings_.size()) return {};
    return strings_[id - 1];
  }

  bool Next(Event* event) override {
    if (!status_.ok() || done_) return false;
    std::string line;
    while (GetLine(&line)) {
      ++line_no_;
      if (too_long_) return Fail(TooLong());
      if (Skippable(line)) continue;
      std::string error;
      if (has_footer_) return Fail("text after the footer line");
      if (line.rfind("footer", 0) == 0) {
        if (!ParseFooterLine(line, &footer_, &error)) return Fail(error);
        has_footer_ = true;
        if (footer_.event_count() != events_) {
          return Fail("footer counts " + std::to_string(footer_.event_count()) +
                      " events, the text has " + std::to_string(events_));
        }
        continue;
      }
      if (!ParseEventLine(
              line, [this](std::string_view s) { return Intern(s); }, event, &error)) {
        return Fail(error);
      }
      ++events_;
      return true;
    }
    if (in_.bad()) return Fail("read error");
    done_ = true;
    return false;
  }

 private:
  // A line may hold a whole command line, escaped; past this it is an error, not memory.
  static constexpr size_t kMaxLine = size_t{64} << 20;
  static std::string TooLong() {
    return "line longer than " + std::to_string(kMaxLine >> 20) + " MiB";
  }

  // std::getline with a cap: false at the end of the input; sets too_long_ (and stops) once
  // the line passes kMaxLine bytes.
  bool GetLine(std::string* line) {
    line->clear();
    std::streambuf* in = in_.rdbuf();
    while (true) {
      const int c = in->sbumpc();
      if (c == std::char_traits<char>::eof()) return !line->empty();
      if (c == '\n') return true;
      if (line->size() == kMaxLine) {
        too_long_ = true;
        return true;
      }
      line->push_back(static_cast<char>(c));
    }
  }

  static bool Skippable(const std::string& line) {
    size_t i = line.find_first_not_of(" \t\r");
    return i == std::string::npos || line[i] == '#';
  }
  bool Fail(const std::string& what) {
    status_ = Status::Error(path_ + ":" + std::to_string(line_no_) + ": event " +
                            std::to_string(events_) + ": " + what);
    return false;
  }
  uint32_t Intern(std::string_view s) {
    auto it = ids_.find(std::string(s));
    if (it != ids_.end()) return it->second;
    strings_.emplace_back(s);
    uint32_t id = static_cast<uint32_t>(strings_.size());
    ids_.emplace(std::string(s), id);
    return id;
  }

  std::string path_;
  std::ifstream in_;
  proto::Header header_;
  proto::Footer footer_;
  bool has_footer_ = false;
  bool done_ = false;
  bool too_long_ = false;
  Status status_;
  uint64_t line_no_ = 0;
  uint64_t events_ = 0;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, uint32_t> ids_;
};

Status OpenTextTrace(const std::string& path, std::unique_ptr<EventSource>* out) {
  std::ifstream in(path);
  if (!in) return Status::Error(path + ": cannot open");
  auto reader = std::make_unique<TextTraceReader>(path, std::move(in));
  VMREPLAY_RETURN_IF_ERROR(reader->ReadHeader());
  *out = std::move(reader);
  return Status::Ok();
}

}  // namespace vmreplay
