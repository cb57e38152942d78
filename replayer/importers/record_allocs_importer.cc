#include "replayer/importers/record_allocs_importer.h"

#include "replayer/importers/parse_util.h"

namespace vmreplay::importers {
namespace {

constexpr uint32_t kEnomem = 12;

struct Shape {
  std::string_view name;
  Op op;
  size_t args;  // numbers after PTR, without timestamps
};
constexpr Shape kShapes[] = {{"malloc", Op::kMalloc, 1},     {"calloc", Op::kCalloc, 2},
                             {"memalign", Op::kMemalign, 2}, {"realloc", Op::kRealloc, 2},
                             {"free", Op::kFree, 0},         {"thread_done", Op::kUnknown, 0}};

class RecordAllocsParser : public LineParser {
 public:
  explicit RecordAllocsParser(std::string name) : name_(std::move(name)) {}

  Status Line(std::string_view line, uint64_t n, EventSink* sink, ImportStats* stats) override {
    std::vector<std::string_view> w = SplitWords(line);
    if (w.empty()) {
      ++stats->ignored;
      return Status::Ok();
    }
    if (w.size() < 3 || w[0].size() < 2 || w[0].back() != ':') {
      return Error(n, "expected 'TID: OPERATION PTR ...'");
    }
    uint64_t tid;
    if (!ParseU64(w[0].substr(0, w[0].size() - 1), &tid)) return Error(n, "bad thread id");
    const Shape* shape = nullptr;
    for (const Shape& s : kShapes) {
      if (w[1] == s.name) shape = &s;
    }
    if (shape == nullptr) {
      return Error(n, "unknown operation '" + std::string(w[1].substr(0, 24)) + "'");
    }
    uint64_t ptr;
    if (!ParseU64(w[2], &ptr, true)) return Error(n, "bad pointer '" + std::string(w[2]) + "'");
    const size_t rest = w.size() - 3;
    if (shape->op == Op::kUnknown) {  // thread_done [END_NS]
      if (rest > 1) return Error(n, "thread_done wants at most one timestamp");
      ++stats->ignored;
      return Status::Ok();
    }
    if (rest != shape->args && rest != shape->args + 2) {
      return Error(n, std::string(shape->name) + " wants " + std::to_string(shape->args) +
                          " number(s) after the pointer, then optionally START_NS END_NS");
    }
    uint64_t v[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < rest; ++i) {
      // realloc's first argument is the old pointer (hex); the others are decimal.
      const bool hex = shape->op == Op::kRealloc && i == 0;
      if (!ParseU64(w[3 + i], &v[i], hex)) {
        return Error(n, "bad number '" + std::string(w[3 + i].substr(0, 24)) + "'");
      }
    }
    Event e;
    e.op = shape->op;
    e.thread = tid;
    switch (shape->op) {
      case Op::kMalloc:
        e.size = v[0];
        e.result = ptr;
        break;
      case Op::kCalloc:
        e.count = v[0];
        e.size = v[1];
        e.result = ptr;
        break;
      case Op::kMemalign:
        e.alignment = v[0];
        e.size = v[1];
        e.result = ptr;
        break;
      case Op::kRealloc:
        e.addr = v[0];
        e.size = v[1];
        e.result = ptr;
        break;
      default:  // free
        e.addr = ptr;
        break;
    }
    if (e.op != Op::kFree && e.result == 0 && e.size != 0) e.error = kEnomem;
    if (rest == shape->args + 2) {
      const uint64_t start = v[shape->args], end = v[shape->args + 1];
      if (end < start) return Error(n, "end time before start time");
      if (!have_base_) {
        base_ = start;
        have_base_ = true;
      }
      e.timestamp_ns = start > base_ ? start - base_ : 0;
      e.latency_ns = end - start;
    } else {
      e.timestamp_ns = stats->events;
    }
    ++stats->events;
    return sink->Append(e);
  }

  Status Finish(uint64_t, EventSink*, ImportStats*) override { return Status::Ok(); }

 private:
  Status Error(uint64_t n, const std::string& what) const {
    return Status::Error(name_ + ":" + std::to_string(n) + ": " + what);
  }
  std::string name_;
  bool have_base_ = false;
  uint64_t base_ = 0;
};

}  // namespace

std::unique_ptr<LineParser> MakeRecordAllocsParser(const std::string& name) {
  return std::make_unique<RecordAllocsParser>(name);
}

}  // namespace vmreplay::importers
