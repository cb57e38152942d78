#include "replayer/importers/mtrace_importer.h"

#include "replayer/importers/parse_util.h"

namespace vmreplay::importers {
namespace {

constexpr uint32_t kEnomem = 12;

class MtraceParser : public LineParser {
 public:
  explicit MtraceParser(std::string name) : name_(std::move(name)) {}

  Status Line(std::string_view line, uint64_t n, EventSink* sink, ImportStats* stats) override {
    std::vector<std::string_view> w = SplitWords(line);
    if (w.empty()) {
      ++stats->ignored;
      return Status::Ok();
    }
    if (w[0] == "=") {
      ++stats->ignored;
      return Status::Ok();
    }
    size_t i = 0;
    if (w[0] == "@") i = 2;  // "@ WHERE": the caller, one word without spaces
    if (w.size() <= i) return Error(n, "missing operation after '@ caller'");
    const std::string_view op = w[i];
    const size_t args = w.size() - i - 1;
    if (pending_realloc_ && op != ">") {
      return Error(n, "expected '>' (realloc result) after the '<' on line " +
                          std::to_string(pending_line_));
    }
    Event e;
    if (op == "+") {
      if (args != 2) return Error(n, "'+' wants PTR SIZE");
      e.op = Op::kMalloc;
      if (!Ptr(w[i + 1], &e.result) || !ParseU64(w[i + 2], &e.size, true)) {
        return Error(n, "bad pointer or size in '+' line");
      }
      if (e.result == 0) e.error = kEnomem;
    } else if (op == "-") {
      if (args != 1) return Error(n, "'-' wants PTR");
      e.op = Op::kFree;
      if (!Ptr(w[i + 1], &e.addr)) return Error(n, "bad pointer in '-' line");
    } else if (op == "<") {
      if (args != 1) return Error(n, "'<' wants PTR");
      if (!Ptr(w[i + 1], &pending_old_)) return Error(n, "bad pointer in '<' line");
      pending_realloc_ = true;
      pending_line_ = n;
      ++stats->ignored;
      return Status::Ok();
    } else if (op == ">") {
      if (!pending_realloc_) return Error(n, "'>' without a preceding '<'");
      if (args != 2) return Error(n, "'>' wants PTR SIZE");
      e.op = Op::kRealloc;
      e.addr = pending_old_;
      if (!Ptr(w[i + 1], &e.result) || !ParseU64(w[i + 2], &e.size, true)) {
        return Error(n, "bad pointer or size in '>' line");
      }
      pending_realloc_ = false;
    } else if (op == "!") {
      if (args != 2) return Error(n, "'!' wants PTR SIZE");
      e.op = Op::kRealloc;
      if (!Ptr(w[i + 1], &e.addr) || !ParseU64(w[i + 2], &e.size, true)) {
        return Error(n, "bad pointer or size in '!' line");
      }
      e.error = kEnomem;
    } else {
      return Error(n, "unknown operation '" + std::string(op.substr(0, 16)) +
                          "' (expected =, +, -, <, >, !)");
    }
    e.timestamp_ns = stats->events;
    ++stats->events;
    return sink->Append(e);
  }

  Status Finish(uint64_t last_line, EventSink*, ImportStats*) override {
    if (pending_realloc_) {
      return Error(last_line, "input ends after the '<' on line " + std::to_string(pending_line_) +
                                  " without its '>'");
    }
    return Status::Ok();
  }

 private:
  static bool Ptr(std::string_view s, uint64_t* out) {
    if (s == "(nil)") {
      *out = 0;
      return true;
    }
    return s.size() > 2 && s[0] == '0' && s[1] == 'x' && ParseU64(s, out);
  }
  Status Error(uint64_t n, const std::string& what) const {
    return Status::Error(name_ + ":" + std::to_string(n) + ": " + what);
  }

  std::string name_;
  bool pending_realloc_ = false;
  uint64_t pending_old_ = 0;
  uint64_t pending_line_ = 0;
};

}  // namespace

std::unique_ptr<LineParser> MakeMtraceParser(const std::string& name) {
  return std::make_unique<MtraceParser>(name);
}

}  // namespace vmreplay::importers
