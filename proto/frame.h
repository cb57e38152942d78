// The on-disk framing of a trace: a file magic, then frames of
// [sync u32][kind u8][reserved u8 x3][length u32][xxh3-64 u64][payload].
// Frames are self-checking and the sync word lets a reader find the next frame after damage.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace vmreplay {

inline constexpr char kFileMagic[8] = {'V', 'M', 'R', 'T', 'R', 'A', 'C', 'E'};
inline constexpr uint32_t kFrameSync = 0x46524D56;  // "VMRF" little-endian
inline constexpr size_t kFrameHeaderSize = 20;
inline constexpr uint32_t kMaxFramePayload = 64u << 20;
inline constexpr uint32_t kFormatMajor = 1;
// 1.1: text fields are bytes; 1.2: initial_mappings; 1.3: the mmap family's origin column.
inline constexpr uint32_t kFormatMinor = 3;

enum class FrameKind : uint8_t { kHeader = 1, kChunk = 2, kFooter = 3 };

uint64_t Checksum(const void* data, size_t size);

// The footer's checksum of the chunk sequence, computed as chunks go by: XXH3-64 over each
// chunk checksum as 8 little-endian bytes. Constant memory however many chunks a trace has.
class ChunkSequenceChecksum {
 public:
  ChunkSequenceChecksum();
  ~ChunkSequenceChecksum();
  void Add(uint64_t chunk_checksum);
  uint64_t Digest() const;
  uint64_t count() const { return count_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  uint64_t count_ = 0;
};

// Appends one frame to `out`.
void AppendFrame(FrameKind kind, std::string_view payload, std::string* out);

struct FrameHeader {
  FrameKind kind;
  uint32_t length;
  uint64_t checksum;
};

// Parses a frame header from kFrameHeaderSize bytes. Returns false (with *why) if the sync word,
// kind or length is impossible.
bool ParseFrameHeader(const unsigned char* bytes, FrameHeader* header, std::string* why);

std::string_view FrameKindName(FrameKind kind);

}  // namespace vmreplay
