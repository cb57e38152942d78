#include "proto/frame.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t by value: no allocation per use
#include <xxhash.h>

#include <cstring>

namespace vmreplay {
namespace {

void PutLe32(uint32_t v, char* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutLe64(uint64_t v, char* p) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetLe32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetLe64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

uint64_t Checksum(const void* data, size_t size) { return XXH3_64bits(data, size); }

struct ChunkSequenceChecksum::State {
  XXH3_state_t xxh;
};

ChunkSequenceChecksum::ChunkSequenceChecksum() : state_(std::make_unique<State>()) {
  XXH3_64bits_reset(&state_->xxh);
}
ChunkSequenceChecksum::~ChunkSequenceChecksum() = default;

void ChunkSequenceChecksum::Add(uint64_t chunk_checksum) {
  char le[8];
  PutLe64(chunk_checksum, le);
  XXH3_64bits_update(&state_->xxh, le, sizeof le);
  ++count_;
}

uint64_t ChunkSequenceChecksum::Digest() const { return XXH3_64bits_digest(&state_->xxh); }

void AppendFrame(FrameKind kind, std::string_view payload, std::string* out) {
  char header[kFrameHeaderSize] = {};
  PutLe32(kFrameSync, header);
  header[4] = static_cast<char>(kind);
  PutLe32(static_cast<uint32_t>(payload.size()), header + 8);
  PutLe64(Checksum(payload.data(), payload.size()), header + 12);
  out->append(header, sizeof header);
  out->append(payload);
}

bool ParseFrameHeader(const unsigned char* bytes, FrameHeader* header, std::string* why) {
  if (GetLe32(bytes) != kFrameSync) {
    *why = "no frame sync word";
    return false;
  }
  uint8_t kind = bytes[4];
  if (kind < 1 || kind > 3 || bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 0) {
    *why = "unknown frame kind " + std::to_string(kind);
    return false;
  }
  header->kind = static_cast<FrameKind>(kind);
  header->length = GetLe32(bytes + 8);
  header->checksum = GetLe64(bytes + 12);
  if (header->length > kMaxFramePayload) {
    *why = "frame length " + std::to_string(header->length) + " exceeds the 64 MiB limit";
    return false;
  }
  return true;
}

std::string_view FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kHeader:
      return "header";
    case FrameKind::kChunk:
      return "chunk";
    case FrameKind::kFooter:
      return "footer";
  }
  return "frame";
}

}  // namespace vmreplay
