#include "proto/chunk_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <zstd.h>

#include <array>
#include <cstring>
#include <utility>

namespace vmreplay {
namespace {

inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Per-chunk coding state of the delta columns and the always-present columns.
struct DeltaState {
#define VMREPLAY_DELTA_MEMBER(name, coding, text) uint64_t name = 0;
  VMREPLAY_EVENT_FIELDS(VMREPLAY_DELTA_MEMBER)
#undef VMREPLAY_DELTA_MEMBER
  uint64_t thread = 0;
  uint64_t timestamp_ns = 0;
};

// Decodes one stored value into a field of type T. Values that do not fit T set `overflow`
// so that a crafted chunk can never produce a silently truncated number.
template <FieldCoding C, typename T>
inline T DecodeValue(uint64_t stored, uint64_t& prev, uint64_t& overflow) {
  if constexpr (C == FieldCoding::kDelta) {
    prev += static_cast<uint64_t>(UnZigZag(stored));
    if constexpr (sizeof(T) < 8) overflow |= prev >> (8 * sizeof(T));
    return static_cast<T>(prev);
  } else if constexpr (C == FieldCoding::kSigned) {
    int64_t v = UnZigZag(stored);
    if constexpr (sizeof(T) < 8) overflow |= static_cast<uint64_t>(v != static_cast<T>(v));
    return static_cast<T>(v);
  } else {
    if constexpr (sizeof(T) < 8) overflow |= stored >> (8 * sizeof(T));
    return static_cast<T>(stored);
  }
}

// Raw pointers into the parsed columns; bounds were checked for the whole chunk beforehand.
struct Cursors {
#define VMREPLAY_CURSOR_MEMBER(name, coding, text) const uint64_t* name = nullptr;
  VMREPLAY_EVENT_FIELDS(VMREPLAY_CURSOR_MEMBER)
#undef VMREPLAY_CURSOR_MEMBER
};

template <FieldMask M>
void DecodeFields(Event& e, Cursors& c, DeltaState& d, uint64_t& overflow) {
#define VMREPLAY_DECODE_FIELD(name, coding, text)                                             \
  if constexpr ((M & Bit(Field::k_##name)) != 0) {                                            \
    e.name = DecodeValue<FieldCoding::coding, decltype(e.name)>(*c.name++, d.name, overflow); \
  }
  VMREPLAY_EVENT_FIELDS(VMREPLAY_DECODE_FIELD)
#undef VMREPLAY_DECODE_FIELD
}

using DecodeFn = void (*)(Event&, Cursors&, DeltaState&, uint64_t&);

template <size_t... I>
constexpr std::array<DecodeFn, kOpCount> MakeDecoders(std::index_sequence<I...>) {
  return {&DecodeFields<kOpInfo[I].fields>...};
}
constexpr auto kDecoders = MakeDecoders(std::make_index_sequence<kOpCount>());
template <size_t... I>
constexpr std::array<DecodeFn, kOpCount> MakeDecodersWithoutOptional(std::index_sequence<I...>) {
  return {&DecodeFields<kOpInfo[I].fields & ~Bit(kOptionalColumn)>...};
}
constexpr auto kDecodersWithoutOptional =
    MakeDecodersWithoutOptional(std::make_index_sequence<kOpCount>());

// String ids ascend without gaps, except across chunks lost to damage.
Status CheckStrings(uint64_t first_id, size_t count, uint32_t known_strings, bool after_damage) {
  if (count == 0) return Status::Ok();
  if (first_id <= known_strings) {
    return Status::Error("chunk redefines string id " + std::to_string(first_id));
  }
  if (first_id != uint64_t{known_strings} + 1 &&
      (!after_damage || first_id - known_strings > kMaxEventsPerChunk)) {
    return Status::Error("string ids jump from " + std::to_string(known_strings) + " to " +
                         std::to_string(first_id));
  }
  if (first_id + count - 1 > UINT32_MAX) {
    return Status::Error("string ids " + std::to_string(first_id) + " to " +
                         std::to_string(first_id + count - 1) + " do not fit in 32 bits");
  }
  return Status::Ok();
}

uint64_t MaxStringId(uint64_t first_id, size_t count, uint32_t known_strings, bool after_damage) {
  if (after_damage) return UINT32_MAX;
  return count > 0 ? first_id + count - 1 : known_strings;
}

// ---- Fast path: packed varint columns read in place from the serialized ChunkColumns. ----
// Our writer emits every column packed, once. Reading the bytes in place avoids materialising
// ~30 repeated fields per chunk; anything else (another encoder's layout) takes the generic
// protobuf path below, so the reader stays compatible with any valid encoding of the schema.

struct RawColumn {
  const uint8_t* begin = nullptr;
  const uint8_t* end = nullptr;
};

[[gnu::always_inline]] inline uint64_t ReadVarint(const uint8_t*& p, uint64_t& bad) {
  uint64_t b = *p++;
  if (__builtin_expect(b < 0x80, 1)) return b;
  uint64_t r = b & 0x7f;
  int shift = 7;
  do {
    b = *p++;
    if (shift < 64) {
      r |= (b & 0x7f) << shift;
    } else {
      bad |= 1;
    }
    shift += 7;
  } while (b >= 0x80);
  return r;
}

// Number of varints in a packed column: one terminating byte (high bit clear) each.
// Indexes rather than pointer steps: an absent column is {nullptr, nullptr}, and nullptr + 8
// is undefined behaviour even when the loop would not run.
inline uint64_t CountVarints(const RawColumn& c) {
  const size_t size = static_cast<size_t>(c.end - c.begin);
  uint64_t n = 0;
  size_t i = 0;
  for (; size - i >= 8; i += 8) {  // eight bytes at a time: count the clear high bits
    uint64_t word;
    std::memcpy(&word, c.begin + i, 8);
    // A 1 in each byte whose high bit is clear, summed into the top byte by the multiply.
    // (__builtin_popcountll is a libgcc call on baseline x86-64: 3% of a replay.)
    const uint64_t ends = (~word & 0x8080808080808080ull) >> 7;
    n += (ends * 0x0101010101010101ull) >> 56;
  }
  for (; i < size; ++i) n += c.begin[i] < 0x80;
  return n;
}

struct RawCursors {
#define VMREPLAY_RAW_MEMBER(name, coding, text) const uint8_t* name = nullptr;
  VMREPLAY_EVENT_FIELDS(VMREPLAY_RAW_MEMBER)
#undef VMREPLAY_RAW_MEMBER
};

// Writes every field of the event: the operation's fields from the columns, the rest zero.
template <FieldMask M>
void DecodeRawFields(Event& e, RawCursors& c, DeltaState& d, uint64_t& overflow) {
#define VMREPLAY_DECODE_RAW(name, coding, text)                                               \
  if constexpr ((M & Bit(Field::k_##name)) != 0) {                                            \
    e.name = DecodeValue<FieldCoding::coding, decltype(e.name)>(ReadVarint(c.name, overflow), \
                                                                d.name, overflow);            \
  } else {                                                                                    \
    e.name = 0;                                                                               \
  }
  VMREPLAY_EVENT_FIELDS(VMREPLAY_DECODE_RAW)
#undef VMREPLAY_DECODE_RAW
}

using RawDecodeFn = void (*)(Event&, RawCursors&, DeltaState&, uint64_t&);
template <size_t... I>
constexpr std::array<RawDecodeFn, kOpCount> MakeRawDecoders(std::index_sequence<I...>) {
  return {&DecodeRawFields<kOpInfo[I].fields>...};
}
constexpr auto kRawDecoders = MakeRawDecoders(std::make_index_sequence<kOpCount>());
// For chunks without the optional column (kOptionalColumn): that field reads as 0.
template <size_t... I>
constexpr std::array<RawDecodeFn, kOpCount> MakeRawDecodersWithoutOptional(
    std::index_sequence<I...>) {
  return {&DecodeRawFields<kOpInfo[I].fields & ~Bit(kOptionalColumn)>...};
}
constexpr auto kRawDecodersWithoutOptional =
    MakeRawDecodersWithoutOptional(std::make_index_sequence<kOpCount>());

// Column field numbers in ChunkColumns: op 1, thread 2, timestamp 3, latency 4, then the
// optional fields from 5 in VMREPLAY_EVENT_FIELDS order.
constexpr int kFirstOptionalColumn = 5;
constexpr int kColumnCount = kFirstOptionalColumn + kFieldCount;

// Decodes our own packed layout in place. Sets *fallback (and returns Ok) when the bytes use
// another valid layout that the generic parser must handle.
Status DecodeInPlace(const std::string& raw, uint64_t first_event_index, uint32_t n,
                     uint32_t known_strings, bool after_damage, DecodedChunk* out, bool* fallback) {
  using google::protobuf::io::CodedInputStream;
  *fallback = false;
  std::array<RawColumn, kColumnCount> cols{};
  std::array<bool, kColumnCount> seen{};
  uint32_t first_string_id = 0;
  out->strings.clear();
  CodedInputStream in(reinterpret_cast<const uint8_t*>(raw.data()), static_cast<int>(raw.size()));
  in.SetTotalBytesLimit(static_cast<int>(raw.size()) + 1);
  const auto* base = reinterpret_cast<const uint8_t*>(raw.data());
  while (uint32_t tag = in.ReadTag()) {
    const uint32_t field = tag >> 3, wire = tag & 7;
    if (field >= 1 && field < kColumnCount) {
      uint32_t len = 0;
      if (wire != 2 || seen[field]) {
        *fallback = true;
        return Status::Ok();
      }
      if (!in.ReadVarint32(&len) || len > raw.size() - static_cast<size_t>(in.CurrentPosition())) {
        return Status::Error("chunk columns do not parse");
      }
      const uint8_t* begin = base + in.CurrentPosition();
      cols[field] = RawColumn{begin, begin + len};
      seen[field] = true;
      if (!in.Skip(static_cast<int>(len))) return Status::Error("chunk columns do not parse");
    } else if (field == 40) {
      if (wire != 0) {
        *fallback = true;
        return Status::Ok();
      }
      if (!in.ReadVarint32(&first_string_id)) return Status::Error("chunk columns do not parse");
    } else if (field == 41) {
      std::string str;
      uint32_t len = 0;
      if (wire != 2) {
        *fallback = true;
        return Status::Ok();
      }
      if (!in.ReadVarint32(&len) || !in.ReadString(&str, static_cast<int>(len))) {
        return Status::Error("chunk columns do not parse");
      }
      out->strings.push_back(std::move(str));
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      return Status::Error("chunk columns do not parse");  // unknown fields are skipped
    }
  }
  if (!in.ConsumedEntireMessage() || in.CurrentPosition() != static_cast<int>(raw.size())) {
    return Status::Error("chunk columns do not parse");
  }
  // Validate lengths before touching any value, so the decode loop needs no bounds checks:
  // each column holds exactly the number of varints its operations need, and ends on a
  // terminating byte.
  auto check = [&](int field, uint64_t expected, const char* name) -> Status {
    const RawColumn& c = cols[field];
    if (CountVarints(c) != expected || (c.begin != c.end && c.end[-1] >= 0x80)) {
      return Status::Error(std::string("column '") + name + "' holds " +
                           std::to_string(CountVarints(c)) + " values, the operations need " +
                           std::to_string(expected));
    }
    return Status::Ok();
  };
  VMREPLAY_RETURN_IF_ERROR(check(1, n, "op"));
  VMREPLAY_RETURN_IF_ERROR(check(2, n, "thread"));
  VMREPLAY_RETURN_IF_ERROR(check(3, n, "timestamp_ns"));
  VMREPLAY_RETURN_IF_ERROR(check(4, n, "latency_ns"));
  uint64_t overflow = 0;
  std::vector<uint8_t>& ops = out->scratch_ops;
  ops.resize(n);
  std::array<uint64_t, kOpCount> per_op{};
  const uint8_t* op_cursor = cols[1].begin;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t op = ReadVarint(op_cursor, overflow);
    if (!IsValidOp(op > UINT32_MAX ? 0 : static_cast<uint32_t>(op))) {
      return Status::Error("event " + std::to_string(first_event_index + i) +
                           ": unknown operation code " + std::to_string(op));
    }
    ops[i] = static_cast<uint8_t>(op);
    ++per_op[op];
  }
  RawCursors cur;
  bool absent_optional = false;  // an older trace without the origin column
  {
    int f = 0;
#define VMREPLAY_CHECK_RAW(name, coding, text)                                        \
  {                                                                                   \
    uint64_t expected = 0;                                                            \
    for (int op = 0; op < kOpCount; ++op) {                                           \
      if (kOpInfo[op].fields & Bit(Field::k_##name)) expected += per_op[op];          \
    }                                                                                 \
    if (Field::k_##name == kOptionalColumn &&                                         \
        cols[kFirstOptionalColumn + f].begin == cols[kFirstOptionalColumn + f].end) { \
      absent_optional = true;                                                         \
    } else {                                                                          \
      VMREPLAY_RETURN_IF_ERROR(check(kFirstOptionalColumn + f, expected, #name));     \
    }                                                                                 \
    cur.name = cols[kFirstOptionalColumn + f].begin;                                  \
    ++f;                                                                              \
  }
    VMREPLAY_EVENT_FIELDS(VMREPLAY_CHECK_RAW)
#undef VMREPLAY_CHECK_RAW
  }
  VMREPLAY_RETURN_IF_ERROR(
      CheckStrings(first_string_id, out->strings.size(), known_strings, after_damage));
  const uint64_t max_string_id =
      MaxStringId(first_string_id, out->strings.size(), known_strings, after_damage);
  out->first_event_index = first_event_index;
  out->first_string_id = first_string_id;
  // Every field of every event is written below, so reuse the array as it is (no memset).
  if (out->events.size() != n) out->events.resize(n);
  DeltaState d;
  const uint8_t* threads = cols[2].begin;
  const uint8_t* stamps = cols[3].begin;
  const uint8_t* latencies = cols[4].begin;
  Event* events = out->events.data();
  const auto& decoders = absent_optional ? kRawDecodersWithoutOptional : kRawDecoders;
  uint64_t max_file = 0;
  for (uint32_t i = 0; i < n; ++i) {
    Event& e = events[i];
    e.op = static_cast<Op>(ops[i]);
    d.thread += static_cast<uint64_t>(UnZigZag(ReadVarint(threads, overflow)));
    e.thread = d.thread;
    d.timestamp_ns += static_cast<uint64_t>(UnZigZag(ReadVarint(stamps, overflow)));
    e.timestamp_ns = d.timestamp_ns;
    e.latency_ns = ReadVarint(latencies, overflow);
    decoders[ops[i]](e, cur, d, overflow);
    max_file = e.file > max_file ? e.file : max_file;
  }
  if (overflow != 0) return Status::Error("a 32-bit field holds a value out of range");
  if (max_file > max_string_id) {
    return Status::Error("file string id " + std::to_string(max_file) + " is not defined");
  }
  return Status::Ok();
}

}  // namespace

struct ChunkEncoder::ZstdContext {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~ZstdContext() { ZSTD_freeCCtx(cctx); }
};
struct ChunkDecoder::ZstdContext {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~ZstdContext() { ZSTD_freeDCtx(dctx); }
};

ChunkEncoder::ChunkEncoder() : zstd_(std::make_unique<ZstdContext>()) {}
ChunkEncoder::~ChunkEncoder() = default;

void ChunkEncoder::Encode(std::span<const Event> events, uint64_t first_event_index,
                          uint32_t first_string_id, std::span<const std::string> new_strings,
                          bool compress, int zstd_level, std::string* out) {
  columns_.Encode(events, first_string_id, new_strings, &raw_);
  EncodeColumns(raw_, first_event_index, static_cast<uint32_t>(events.size()), compress, zstd_level,
                out);
}

void ChunkEncoder::EncodeColumns(std::string_view columns, uint64_t first_event_index,
                                 uint32_t event_count, bool compress, int zstd_level,
                                 std::string* out) {
  chunk_.Clear();
  chunk_.set_first_event_index(first_event_index);
  chunk_.set_event_count(event_count);
  chunk_.set_raw_size(static_cast<uint32_t>(columns.size()));
  if (compress) {
    std::string* dst = chunk_.mutable_columns();
    dst->resize(ZSTD_compressBound(columns.size()));
    size_t n = ZSTD_compressCCtx(zstd_->cctx, dst->data(), dst->size(), columns.data(),
                                 columns.size(), zstd_level);
    if (ZSTD_isError(n)) {
      // Compression of a bounded buffer cannot fail short of memory exhaustion; store raw.
      chunk_.set_codec(proto::CODEC_NONE);
      dst->assign(columns.data(), columns.size());
    } else {
      dst->resize(n);
      chunk_.set_codec(proto::CODEC_ZSTD);
    }
  } else {
    chunk_.set_codec(proto::CODEC_NONE);
    chunk_.set_columns(columns.data(), columns.size());
  }
  out->clear();
  chunk_.SerializeToString(out);
}

ChunkDecoder::ChunkDecoder() : zstd_(std::make_unique<ZstdContext>()) {}
ChunkDecoder::~ChunkDecoder() = default;

Status ChunkDecoder::Decode(const void* data, size_t size, uint32_t known_strings,
                            bool after_damage, DecodedChunk* out) {
  if (!chunk_.ParseFromArray(data, static_cast<int>(size))) {
    return Status::Error("chunk message does not parse");
  }
  const uint32_t n = chunk_.event_count();
  if (n > kMaxEventsPerChunk) {
    return Status::Error("chunk claims " + std::to_string(n) + " events (limit " +
                         std::to_string(kMaxEventsPerChunk) + ")");
  }
  if (chunk_.raw_size() > (64u << 20)) {
    return Status::Error("chunk claims " + std::to_string(chunk_.raw_size()) +
                         " uncompressed bytes (limit 64 MiB)");
  }
  const std::string& stored = chunk_.columns();
  const std::string* raw = &stored;
  if (chunk_.codec() == proto::CODEC_ZSTD) {
    unsigned long long content = ZSTD_getFrameContentSize(stored.data(), stored.size());
    if (content != chunk_.raw_size()) {
      return Status::Error("zstd frame size does not match the chunk's raw size " +
                           std::to_string(chunk_.raw_size()));
    }
    raw_.resize(chunk_.raw_size());
    size_t got =
        ZSTD_decompressDCtx(zstd_->dctx, raw_.data(), raw_.size(), stored.data(), stored.size());
    if (ZSTD_isError(got) || got != raw_.size()) {
      return Status::Error(std::string("zstd decompression failed: ") +
                           (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short output"));
    }
    raw = &raw_;
  } else if (chunk_.codec() != proto::CODEC_NONE) {
    return Status::Error("unknown codec " + std::to_string(chunk_.codec()));
  } else if (stored.size() != chunk_.raw_size()) {
    return Status::Error("uncompressed columns size does not match raw size");
  }
  bool fallback = false;
  Status fast = DecodeInPlace(*raw, chunk_.first_event_index(), n, known_strings, after_damage, out,
                              &fallback);
  if (!fallback) return fast;
  if (!columns_.ParseFromArray(raw->data(), static_cast<int>(raw->size()))) {
    return Status::Error("chunk columns do not parse");
  }
  const proto::ChunkColumns& c = columns_;
  if (static_cast<uint32_t>(c.op_size()) != n || static_cast<uint32_t>(c.thread_size()) != n ||
      static_cast<uint32_t>(c.timestamp_ns_size()) != n ||
      static_cast<uint32_t>(c.latency_ns_size()) != n) {
    return Status::Error("chunk holds " + std::to_string(c.op_size()) + " operation codes for " +
                         std::to_string(n) + " events");
  }
  // Count each column's expected length from the operations, then check every column.
  std::array<uint64_t, kOpCount> per_op{};
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t op = c.op(static_cast<int>(i));
    if (!IsValidOp(op)) {
      return Status::Error("event " + std::to_string(chunk_.first_event_index() + i) +
                           ": unknown operation code " + std::to_string(op));
    }
    ++per_op[op];
  }
  Cursors cur;
  int field_index = 0;
#define VMREPLAY_CHECK_COLUMN(name, coding, text)                                          \
  {                                                                                        \
    uint64_t expected = 0;                                                                 \
    for (int op = 0; op < kOpCount; ++op) {                                                \
      if (kOpInfo[op].fields & Bit(Field::k_##name)) expected += per_op[op];               \
    }                                                                                      \
    if (static_cast<uint64_t>(c.name##_size()) != expected &&                              \
        !(Field::k_##name == kOptionalColumn && c.name##_size() == 0)) {                   \
      return Status::Error("column '" #name "' holds " + std::to_string(c.name##_size()) + \
                           " values, the operations need " + std::to_string(expected));    \
    }                                                                                      \
    cur.name = c.name().data();                                                            \
    ++field_index;                                                                         \
  }
  VMREPLAY_EVENT_FIELDS(VMREPLAY_CHECK_COLUMN)
#undef VMREPLAY_CHECK_COLUMN
  (void)field_index;

  VMREPLAY_RETURN_IF_ERROR(
      CheckStrings(c.first_string_id(), c.strings_size(), known_strings, after_damage));
  const uint64_t max_string_id =
      MaxStringId(c.first_string_id(), c.strings_size(), known_strings, after_damage);

  out->first_event_index = chunk_.first_event_index();
  out->first_string_id = c.first_string_id();
  out->strings.assign(c.strings().begin(), c.strings().end());
  out->events.resize(n);
  DeltaState d;
  uint64_t overflow = 0;
  const uint32_t* ops = c.op().data();
  const uint64_t* threads = c.thread().data();
  const uint64_t* stamps = c.timestamp_ns().data();
  const uint64_t* latencies = c.latency_ns().data();
  Event* events = out->events.data();
  const auto& decoders =
      c.origin_size() == 0 ? kDecodersWithoutOptional : kDecoders;  // kOptionalColumn
  for (uint32_t i = 0; i < n; ++i) {
    Event& e = events[i];
    e = Event();
    e.op = static_cast<Op>(ops[i]);
    d.thread += static_cast<uint64_t>(UnZigZag(threads[i]));
    e.thread = d.thread;
    d.timestamp_ns += static_cast<uint64_t>(UnZigZag(stamps[i]));
    e.timestamp_ns = d.timestamp_ns;
    e.latency_ns = latencies[i];
    decoders[ops[i]](e, cur, d, overflow);
    if (e.file > max_string_id) {
      return Status::Error("event " + std::to_string(chunk_.first_event_index() + i) +
                           ": file string id " + std::to_string(e.file) + " is not defined");
    }
  }
  if (overflow != 0) {
    return Status::Error("a 32-bit field holds a value out of range");
  }
  return Status::Ok();
}

}  // namespace vmreplay
