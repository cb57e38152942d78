// Serializes a run of events as one ChunkColumns message (proto/trace.proto), byte for byte what
// libprotobuf would write for the same message: each non-empty column as one packed field in
// field-number order, then first_string_id and the chunk's new strings.
//
// Dependency-free (standard library only) so that both the protobuf trace writer and the
// portable writer used by the Windows recorder share it. It writes varints through raw pointers
// into per-column buffers sized once, which is several times faster than filling protobuf
// repeated fields and serializing them.
//
// The rows need not be Events: EncodeRows reads any row type through an accessor (EventAccess
// is the model), so a producer that holds calls in its own form, such as the Linux collector's
// ring records, encodes them without building an Event per call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "proto/event.h"

namespace vmreplay {

// Reads the columns of an Event. A row accessor provides, for its Row type: op, thread,
// timestamp_ns, latency_ns, and field<F>() for every optional field F that some operation's
// kOpInfo mask lists (only fields in the row's own operation's mask are ever read).
struct EventAccess {
  using Row = Event;
  Op op(const Event& e) const { return e.op; }
  uint64_t thread(const Event& e) const { return e.thread; }
  uint64_t timestamp_ns(const Event& e) const { return e.timestamp_ns; }
  uint64_t latency_ns(const Event& e) const { return e.latency_ns; }
  template <Field F>
  auto field(const Event& e) const {
#define VMREPLAY_EVENT_MEMBER(name, coding, text) \
  if constexpr (F == Field::k_##name) {           \
    return e.name;                                \
  } else
    VMREPLAY_EVENT_FIELDS(VMREPLAY_EVENT_MEMBER)
#undef VMREPLAY_EVENT_MEMBER
    return uint64_t{0};
  }
};

class ColumnEncoder {
 public:
  // Replaces *out with the serialized ChunkColumns. Delta coding restarts at each call, so
  // every chunk decodes on its own. REQUIRES: every event's op is valid.
  void Encode(std::span<const Event> events, uint32_t first_string_id,
              std::span<const std::string> new_strings, std::string* out) {
    EncodeRows(events, EventAccess{}, first_string_id, new_strings, out);
  }

  // The same for rows read through `access` (see EventAccess).
  template <typename Access>
  void EncodeRows(std::span<const typename Access::Row> rows, const Access& access,
                  uint32_t first_string_id, std::span<const std::string> new_strings,
                  std::string* out);

  // ChunkColumns field numbers: op 1, thread 2, timestamp_ns 3, latency_ns 4, then the optional
  // fields from 5 in VMREPLAY_EVENT_FIELDS order; first_string_id 40, strings 41.
  static constexpr int kFirstOptionalColumn = 5;
  static constexpr int kColumnCount = kFirstOptionalColumn + kFieldCount;  // index = field number
  static constexpr uint32_t kFirstStringIdField = 40;
  static constexpr uint32_t kStringsField = 41;

 private:
  using ColumnEnds = std::array<uint8_t*, kColumnCount>;
  // Sizes every column for `rows` rows of worst-case varints; returns where each starts.
  ColumnEnds PrepareColumns(size_t rows);
  // Writes the non-empty columns, first_string_id and the strings to *out.
  void Serialize(const ColumnEnds& ends, uint32_t first_string_id,
                 std::span<const std::string> new_strings, std::string* out);

  std::vector<uint8_t> columns_[kColumnCount];
};

namespace column_coding {

inline uint8_t* PutVarint(uint64_t v, uint8_t* p) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
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

// One function per operation, writing exactly the fields its kOpInfo mask lists.
template <typename Access>
struct RowEncoders {
  using Row = typename Access::Row;
  using Fn = void (*)(const Row&, const Access&, Cursors&, Prev&);

  template <FieldMask M>
  static void Fields(const Row& row, const Access& access, Cursors& c, Prev& prev) {
#define VMREPLAY_ENCODE(name, coding, text)                                                \
  if constexpr ((M & Bit(Field::k_##name)) != 0) {                                         \
    c.name = PutVarint(                                                                    \
        Code<FieldCoding::coding>(access.template field<Field::k_##name>(row), prev.name), \
        c.name);                                                                           \
  }
    VMREPLAY_EVENT_FIELDS(VMREPLAY_ENCODE)
#undef VMREPLAY_ENCODE
  }

  template <size_t... I>
  static constexpr std::array<Fn, kOpCount> Make(std::index_sequence<I...>) {
    return {&Fields<kOpInfo[I].fields>...};
  }
  static constexpr std::array<Fn, kOpCount> kByOp = Make(std::make_index_sequence<kOpCount>());
};

}  // namespace column_coding

template <typename Access>
void ColumnEncoder::EncodeRows(std::span<const typename Access::Row> rows, const Access& access,
                               uint32_t first_string_id, std::span<const std::string> new_strings,
                               std::string* out) {
  using namespace column_coding;  // NOLINT: the coding helpers
  ColumnEnds ends = PrepareColumns(rows.size());
  uint8_t* op = ends[1];
  uint8_t* thread = ends[2];
  uint8_t* stamp = ends[3];
  uint8_t* latency = ends[4];
  Cursors c{};
  {
    int field = kFirstOptionalColumn;
#define VMREPLAY_START(name, coding, text) c.name = ends[field++];
    VMREPLAY_EVENT_FIELDS(VMREPLAY_START)
#undef VMREPLAY_START
  }
  Prev prev;
  uint64_t prev_thread = 0, prev_stamp = 0;
  for (const auto& row : rows) {
    const auto code = static_cast<size_t>(access.op(row));
    op = PutVarint(code, op);
    thread = PutVarint(Code<FieldCoding::kDelta>(access.thread(row), prev_thread), thread);
    stamp = PutVarint(Code<FieldCoding::kDelta>(access.timestamp_ns(row), prev_stamp), stamp);
    latency = PutVarint(access.latency_ns(row), latency);
    RowEncoders<Access>::kByOp[code < kOpCount ? code : 0](row, access, c, prev);
  }
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
  Serialize(ends, first_string_id, new_strings, out);
}

}  // namespace vmreplay
