#include "proto/frame_scanner.h"

#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t by value: no allocation per use
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vmreplay {

FrameScanner::FrameScanner(int fd, uint64_t file_size) : fd_(fd), file_size_(file_size) {}
FrameScanner::~FrameScanner() = default;

bool FrameScanner::PreadFully(uint64_t offset, char* out, size_t size) {
  stats_.bytes_read += size;
  while (size > 0) {
    ssize_t n = pread(fd_, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

const char* FrameScanner::View(uint64_t offset, size_t size) {
  if (offset > file_size_ || size > file_size_ - offset) return nullptr;
  if (offset < window_offset_ || offset + size > window_offset_ + window_size_) {
    // Not zeroed, and no larger than the file: opening a small trace stays cheap.
    if (window_ == nullptr) {
      window_.reset(new char[static_cast<size_t>(std::min<uint64_t>(kWindow, file_size_))]);
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kWindow, file_size_ - offset));
    window_size_ = 0;  // invalid until the read succeeds
    if (!PreadFully(offset, window_.get(), n)) return nullptr;
    window_offset_ = offset;
    window_size_ = n;
  }
  return window_.get() + (offset - window_offset_);
}

bool FrameScanner::Read(uint64_t offset, void* dst, size_t size) {
  if (offset > file_size_ || size > file_size_ - offset) return false;
  // Frames are a few KiB: served from the window (one pread each was ~5 % of a replay).
  if (size <= kWindow / 4) {
    const char* p = View(offset, size);
    if (p == nullptr) return false;
    std::memcpy(dst, p, size);
    return true;
  }
  return PreadFully(offset, static_cast<char*>(dst), size);
}

bool FrameScanner::Header(uint64_t at, FrameHeader* header, std::string* why) {
  const char* p = View(at, kFrameHeaderSize);
  if (p == nullptr) {
    *why = "truncated frame header (" + std::to_string(file_size_ - std::min(at, file_size_)) +
           " bytes left)";
    return false;
  }
  return ParseFrameHeader(reinterpret_cast<const unsigned char*>(p), header, why);
}

FrameScanner::Verdict FrameScanner::Verify(uint64_t at, const FrameHeader& header) {
  // Failed verifications that end at or before this frame no longer overlap anything to come.
  std::erase_if(open_ends_, [at](uint64_t end) { return end <= at; });
  if (open_ends_.size() >= kMaxOverlap) {
    ++stats_.unverified;
    return Verdict::kUnverified;
  }
  const uint64_t begin = at + kFrameHeaderSize;
  const size_t length = header.length;
  uint64_t sum = 0;
  bool read = true;
  if (length <= kWindow / 4) {
    const char* p = View(begin, length);
    read = p != nullptr;
    if (read) sum = XXH3_64bits(p, length);
  } else {
    // Streamed through a buffer of its own: the window stays where the scan is, and a frame
    // that claims 64 MiB costs no 64 MiB of memory to refute.
    if (stream_ == nullptr) stream_.reset(new char[kWindow]);
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    for (size_t done = 0; read && done < length;) {
      const size_t n = std::min(kWindow, length - done);
      read = PreadFully(begin + done, stream_.get(), n);
      if (read) XXH3_64bits_update(&state, stream_.get(), n);
      done += n;
    }
    if (read) sum = XXH3_64bits_digest(&state);
  }
  stats_.bytes_hashed += length;
  if (read && sum == header.checksum) return Verdict::kMatch;
  open_ends_.push_back(begin + length);
  return Verdict::kMismatch;
}

bool FrameScanner::FindNext(uint64_t from, uint64_t* at, FrameHeader* header) {
  static constexpr char kSync[4] = {'V', 'M', 'R', 'F'};
  static_assert(kFrameSync == 0x46524D56, "the sync word's bytes, little-endian");
  uint64_t pos = from;
  while (pos <= file_size_ && file_size_ - pos >= kFrameHeaderSize) {
    // Search whatever the window holds from pos on (refilled only when under a header's worth
    // is left), so each byte is read about once however many candidates it holds.
    const uint64_t window_end = window_offset_ + window_size_;
    size_t avail = pos >= window_offset_ && pos < window_end ? window_end - pos : 0;
    const char* w = avail >= kFrameHeaderSize ? window_.get() + (pos - window_offset_) : nullptr;
    if (w == nullptr) {
      avail = static_cast<size_t>(std::min<uint64_t>(kWindow, file_size_ - pos));
      w = View(pos, avail);
      if (w == nullptr) return false;
    }
    const void* hit = memmem(w, avail, kSync, sizeof kSync);
    if (hit == nullptr) {
      pos += avail - (sizeof kSync - 1);  // a sync word may straddle the window's end
      if (pos + kFrameHeaderSize > file_size_) return false;
      continue;
    }
    const uint64_t candidate = pos + static_cast<uint64_t>(static_cast<const char*>(hit) - w);
    pos = candidate + 1;
    std::string why;
    if (!Header(candidate, header, &why)) continue;
    if (header->length > file_size_ - candidate - kFrameHeaderSize) continue;
    ++stats_.candidates;
    if (Verify(candidate, *header) == Verdict::kMatch) {
      *at = candidate;
      return true;
    }
  }
  return false;
}

}  // namespace vmreplay
