#include "proto/portable/column_encoder.h"

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

ColumnEncoder::ColumnEnds ColumnEncoder::PrepareColumns(size_t rows) {
  const size_t worst = rows * kMaxVarint;
  ColumnEnds starts{};
  for (int field = 1; field < kColumnCount; ++field) {
    if (columns_[field].size() < worst) columns_[field].resize(worst);
    starts[field] = columns_[field].data();
  }
  return starts;
}

void ColumnEncoder::Serialize(const ColumnEnds& ends, uint32_t first_string_id,
                              std::span<const std::string> new_strings, std::string* out) {
  out->clear();
  for (int field = 1; field < kColumnCount; ++field) {
    const size_t size = static_cast<size_t>(ends[field] - columns_[field].data());
    if (size != 0) {
      AppendBytesField(static_cast<uint32_t>(field), columns_[field].data(), size, out);
    }
  }
  if (first_string_id != 0) {  // proto3 scalar: absent when zero
    AppendVarint(kFirstStringIdField << 3, out);
    AppendVarint(first_string_id, out);
  }
  for (const std::string& s : new_strings) AppendBytesField(kStringsField, s.data(), s.size(), out);
}

}  // namespace vmreplay
