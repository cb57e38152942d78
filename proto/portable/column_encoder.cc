#include "proto/portable/column_encoder.h"

#include <array>
#include <cstring>
#include <utility>

namespace vmreplay {
namespace {

constexpr size_t kMaxVarint = 10;

inline uint8_t* PutVarint(uint64_t v, uint8_t* p) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

void AppendVarint(uint64_t v, std::string* out) {
  uint8_t buf[kMaxVarint];
  out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(PutVarint(v, buf) - buf));
}

void AppendBytesField(uint32_t field, const void* data, size_t size, std::string* out) {
  AppendVarint(field << 3 | 2, out);
  AppendVarint(size, out);
  out->append(static_cast<const char*>(data), size);
}

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

// Column coding (see proto/trace.proto): delta columns hold the zigzagged difference to the
// previous value in the column, signed columns the zigzagged value, plain ones the value.
template <FieldCoding C, typename T>
inline uint64_t Code(T value, uint64_t& prev) {
  if constexpr (C == FieldCoding::kDelta) {
    const uint64_t v = static_cast<uint64_t>(value);
    const uint64_t delta = v - prev;
    prev = v;
    return ZigZag(static_cast<int64_t>(delta));
  } else if constexpr (C == FieldCoding::kSigned) {
    return ZigZag(static_cast<int64_t>(value));
  } else {
    return static_cast<uint64_t>(value);
  }
}

struct Prev {
#define VMREPLAY_PREV_MEMBER(name, coding, text) uint64_t name = 0;
  VMREPLAY_EVENT_FIELDS(VMREPLAY_PREV_MEMBER)
#undef VMREPLAY_PREV_MEMBER
};

// Write cursors into the optional columns, in VMREPLAY_EVENT_FIELDS order.
struct Cursors {
#define VMREPLAY_CURSOR_MEMBER(name, coding, text) uint8_t* name;
  VMREPLAY_EVENT_FIELDS(VMREPLAY_CURSOR_MEMBER)
#undef VMREPLAY_CURSOR_MEMBER
};

template <FieldMask M>
void EncodeFields(const Event& e, Cursors& c, Prev& prev) {
#define VMREPLAY_ENCODE(name, coding, text)                                   \
  if constexpr ((M & Bit(Field::k_##name)) != 0) {                            \
    c.name = PutVarint(Code<FieldCoding::coding>(e.name, prev.name), c.name); \
  }
  VMREPLAY_EVENT_FIELDS(VMREPLAY_ENCODE)
#undef VMREPLAY_ENCODE
}

using EncodeFn = void (*)(const Event&, Cursors&, Prev&);
template <size_t... I>
constexpr std::array<EncodeFn, kOpCount> MakeEncoders(std::index_sequence<I...>) {
  return {&EncodeFields<kOpInfo[I].fields>...};
}
constexpr auto kEncoders = MakeEncoders(std::make_index_sequence<kOpCount>());

}  // namespace

void ColumnEncoder::Encode(std::span<const Event> events, uint32_t first_string_id,
                           std::span<const std::string> new_strings, std::string* out) {
  const size_t worst = events.size() * kMaxVarint;
  for (auto& column : columns_) {
    if (column.size() < worst) column.resize(worst);
  }
  uint8_t* op = columns_[1].data();
  uint8_t* thread = columns_[2].data();
  uint8_t* stamp = columns_[3].data();
  uint8_t* latency = columns_[4].data();
  Cursors c{};
  {
    int field = kFirstOptionalColumn;
#define VMREPLAY_START(name, coding, text) c.name = columns_[field++].data();
    VMREPLAY_EVENT_FIELDS(VMREPLAY_START)
#undef VMREPLAY_START
  }
  Prev prev;
  uint64_t prev_thread = 0, prev_stamp = 0;
  for (const Event& e : events) {
    op = PutVarint(static_cast<uint64_t>(e.op), op);
    thread = PutVarint(Code<FieldCoding::kDelta>(e.thread, prev_thread), thread);
    stamp = PutVarint(Code<FieldCoding::kDelta>(e.timestamp_ns, prev_stamp), stamp);
    latency = PutVarint(e.latency_ns, latency);
    kEncoders[static_cast<size_t>(e.op) < kOpCount ? static_cast<size_t>(e.op) : 0](e, c, prev);
  }
  std::array<uint8_t*, kColumnCount> ends{};
  ends[1] = op;
  ends[2] = thread;
  ends[3] = stamp;
  ends[4] = latency;
  {
    int field = kFirstOptionalColumn;
#define VMREPLAY_END(name, coding, text) ends[field++] = c.name;
    VMREPLAY_EVENT_FIELDS(VMREPLAY_END)
#undef VMREPLAY_END
  }
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
