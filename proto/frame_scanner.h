// Reads the frames of a trace file, and after damage finds the next frame that checks out, in
// time linear in the file size and memory independent of it, whatever the damage:
// - bytes come through one window of kWindow bytes, refilled only when a read leaves it, so
//   a scan reads each byte about once;
// - the sync word is found with memmem over the window, never byte by byte per candidate;
// - no byte is hashed by more than kMaxOverlap checksum verifications that failed. A frame
//   header in damaged bytes may claim any length up to 64 MiB; verifying every such
//   candidate in full is quadratic (a megabyte of fake headers took seconds, 4 MB a
//   minute). A candidate whose payload would overlap kMaxOverlap failed ones is left
//   unverified and counted instead: real damage (a flipped length, a torn write) leaves one
//   or two such frames open, so intact chunks after it are still found.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/frame.h"

namespace vmreplay {

class FrameScanner {
 public:
  static constexpr size_t kWindow = size_t{1} << 20;
  static constexpr size_t kMaxOverlap = 4;

  // What reading the file cost so far (tests assert these stay linear in the file size).
  struct Stats {
    uint64_t bytes_read = 0;    // read from the file
    uint64_t bytes_hashed = 0;  // checksummed while verifying frames
    uint64_t candidates = 0;    // sync words after damage whose frame header parsed
    uint64_t unverified = 0;    // frames left unverified: too many failed frames overlap them
  };

  enum class Verdict { kMatch, kMismatch, kUnverified };

  FrameScanner(int fd, uint64_t file_size);
  ~FrameScanner();

  uint64_t file_size() const { return file_size_; }
  const Stats& stats() const { return stats_; }

  // Copies [offset, offset + size) of the file into dst; false if the file is shorter or
  // the read fails.
  bool Read(uint64_t offset, void* dst, size_t size);

  // Parses the frame header at `at` (false with *why if there are not kFrameHeaderSize
  // bytes left or the header is impossible).
  bool Header(uint64_t at, FrameHeader* header, std::string* why);

  // Checks the payload of the frame at `at` (whose length fits in the file) against its
  // checksum. Calls must come in increasing `at`, as a reader moves through the file.
  Verdict Verify(uint64_t at, const FrameHeader& header);

  // The first offset >= from where a frame header parses, its payload fits in the file and
  // Verify matches; false if none.
  bool FindNext(uint64_t from, uint64_t* at, FrameHeader* header);

 private:
  // A pointer to the file's bytes [offset, offset + size), size <= kWindow; nullptr past the
  // end. Refills the window at `offset` when it does not hold them.
  const char* View(uint64_t offset, size_t size);
  bool PreadFully(uint64_t offset, char* out, size_t size);

  int fd_;
  uint64_t file_size_;
  Stats stats_;
  std::unique_ptr<char[]> window_;
  uint64_t window_offset_ = 0;
  size_t window_size_ = 0;
  std::unique_ptr<char[]> stream_;   // for hashing payloads larger than a quarter window
  std::vector<uint64_t> open_ends_;  // where the failed verifications still open end
};

}  // namespace vmreplay
