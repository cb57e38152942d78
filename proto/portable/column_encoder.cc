#include "proto/portable/column_encoder.h"

#include <algorithm>

namespace vmreplay {
namespace {

constexpr size_t kMaxVarint = 10;

void AppendVarint(uint64_t v, std::string* out) {
  uint8_t buf[kMaxVarint];
  out->append(reinterpret_cast<const char*>(buf),
              static_cast<size_t>(column_coding::PutVarint(v, buf) - buf));
}

void AppendBytesField(uint32_t field, const void* data, size_t size, std::string* out) {
  AppendVarint(field << 3 | 2, out);
  AppendVarint(size, out);
  out->append(static_cast<const char*>(data), size);
}

}  // namespace

ColumnEncoder::State ColumnEncoder::Prepare(size_t rows, FieldMask fields) {
  const size_t worst = rows * kMaxVarint;
  ColumnEnds starts{};
  for (int field = 1; field < kColumnCount; ++field) {
    const bool used = field < kFirstOptionalColumn ||
                      (fields & (FieldMask{1} << (field - kFirstOptionalColumn))) != 0;
    if (!used) continue;  // stays null: no row may write it
    if (columns_[field].size() < worst) columns_[field].resize(worst);
    starts[field] = columns_[field].data();
  }
  State s;
  s.op = starts[1];
  s.thread = starts[2];
  s.stamp = starts[3];
  s.latency = starts[4];
  int field = kFirstOptionalColumn;
#define VMREPLAY_START(name, coding, text) s.c.name = starts[field++];
  VMREPLAY_EVENT_FIELDS(VMREPLAY_START)
#undef VMREPLAY_START
  return s;
}

void ColumnEncoder::Begin(size_t max_rows, FieldMask fields) { state_ = Prepare(max_rows, fields); }

void ColumnEncoder::Finish(const State& s, uint32_t first_string_id,
                           std::span<const std::string> new_strings, std::string* out) {
  ColumnEnds ends{};
  ends[1] = s.op;
  ends[2] = s.thread;
  ends[3] = s.stamp;
  ends[4] = s.latency;
  int field = kFirstOptionalColumn;
#define VMREPLAY_END(name, coding, text) ends[field++] = s.c.name;
  VMREPLAY_EVENT_FIELDS(VMREPLAY_END)
#undef VMREPLAY_END
  out->clear();
  for (int f = 1; f < kColumnCount; ++f) {
    if (ends[f] == nullptr) continue;
    const size_t size = static_cast<size_t>(ends[f] - columns_[f].data());
    if (size == 0) continue;
    // The optional column reads as zeros when absent (event.h): a chunk of hooked calls only
    // leaves it out, and is encoded byte for byte as before format 1.3.
    if (f == kFirstOptionalColumn + static_cast<int>(kOptionalColumn) &&
        std::all_of(columns_[f].data(), ends[f], [](uint8_t b) { return b == 0; })) {
      continue;
    }
    AppendBytesField(static_cast<uint32_t>(f), columns_[f].data(), size, out);
  }
  if (first_string_id != 0) {  // proto3 scalar: absent when zero
    AppendVarint(kFirstStringIdField << 3, out);
    AppendVarint(first_string_id, out);
  }
  for (const std::string& str : new_strings) {
    AppendBytesField(kStringsField, str.data(), str.size(), out);
  }
}

}  // namespace vmreplay
