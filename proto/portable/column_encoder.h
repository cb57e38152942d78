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

  // Row by row, for a producer whose rows arrive one at a time (the Linux collector, which
  // keeps one chunk in progress per trace): Begin, then Add up to `max_rows` rows, then Finish
  // writes the chunk as Encode would and makes the encoder ready for the next Begin. Only the
  // columns of `fields` (and the four every row has) get buffers. REQUIRES: every row's
  // operation records only fields in `fields`.
  void Begin(size_t max_rows, FieldMask fields = ~FieldMask{0});
  template <typename Access>
  void Add(const typename Access::Row& row, const Access& access) {
    AddRow(state_, row, access);
  }
  size_t rows() const { return state_.rows; }
  void Finish(uint32_t first_string_id, std::span<const std::string> new_strings,
              std::string* out) {
    Finish(state_, first_string_id, new_strings, out);
    state_ = State();
  }

  // ChunkColumns field numbers: op 1, thread 2, timestamp_ns 3, latency_ns 4, then the optional
  // fields from 5 in VMREPLAY_EVENT_FIELDS order; first_string_id 40, strings 41.
  static constexpr int kFirstOptionalColumn = 5;
  static constexpr int kColumnCount = kFirstOptionalColumn + kFieldCount;  // index = field number
  static constexpr uint32_t kFirstStringIdField = 40;
  static constexpr uint32_t kStringsField = 41;

 private:
  using ColumnEnds = std::array<uint8_t*, kColumnCount>;
  // Where each column's next value goes, and the previous values delta columns code against.
  struct State {
    uint8_t* op = nullptr;
    uint8_t* thread = nullptr;
    uint8_t* stamp = nullptr;
    uint8_t* latency = nullptr;
    column_coding::Cursors c{};
    column_coding::Prev prev;
    uint64_t prev_thread = 0;
    uint64_t prev_stamp = 0;
    size_t rows = 0;
  };
  // Sizes the columns of `fields` for `rows` rows of worst-case varints; returns a state whose
  // cursors sit at their starts.
  State Prepare(size_t rows, FieldMask fields);
  template <typename Access>
  static void AddRow(State& s, const typename Access::Row& row, const Access& access);
  // Writes the non-empty columns, first_string_id and the strings to *out.
  void Finish(const State& s, uint32_t first_string_id, std::span<const std::string> new_strings,
              std::string* out);

  std::vector<uint8_t> columns_[kColumnCount];
  State state_;  // the incremental API's chunk in progress
};

template <typename Access>
void ColumnEncoder::AddRow(State& s, const typename Access::Row& row, const Access& access) {
  using namespace column_coding;  // NOLINT: the coding helpers
  const auto code = static_cast<size_t>(access.op(row));
  s.op = PutVarint(code, s.op);
  s.thread = PutVarint(Code<FieldCoding::kDelta>(access.thread(row), s.prev_thread), s.thread);
  s.stamp = PutVarint(Code<FieldCoding::kDelta>(access.timestamp_ns(row), s.prev_stamp), s.stamp);
  s.latency = PutVarint(access.latency_ns(row), s.latency);
  RowEncoders<Access>::kByOp[code < kOpCount ? code : 0](row, access, s.c, s.prev);
  ++s.rows;
}

template <typename Access>
void ColumnEncoder::EncodeRows(std::span<const typename Access::Row> rows, const Access& access,
                               uint32_t first_string_id, std::span<const std::string> new_strings,
                               std::string* out) {
  // A local state: its cursors stay in registers across the loop (byte stores into the columns
  // could alias a member's).
  State s = Prepare(rows.size(), ~FieldMask{0});
  for (const auto& row : rows) AddRow(s, row, access);
  Finish(s, first_string_id, new_strings, out);
}

}  // namespace vmreplay
