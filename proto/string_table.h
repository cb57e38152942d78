// The strings of a trace (DebugAlloc file names) by id, as a reader collects them chunk by
// chunk. Ids are global to the trace and ascend without gaps, except across chunks lost to
// damage, where they may jump: the table keeps one run of consecutive ids per jump, so its
// memory is the strings the file really holds, never space sized by an id a damaged file
// claims (a 737-byte file once made the reader allocate 300 MB this way). The strings
// themselves are capped at kMaxBytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"

namespace vmreplay {

class StringTable {
 public:
  // Bytes of strings (with a fixed overhead per string) a trace may define in all.
  static constexpr uint64_t kMaxBytes = uint64_t{64} << 20;
  static constexpr uint64_t kOverheadPerString = 32;

  // Ids 1..last_id() may be defined (some perhaps lost to damage); the next chunk's ids
  // follow.
  uint32_t last_id() const { return runs_.empty() ? 0 : runs_.back().last_id(); }

  // Adds `strings` as ids first_id, first_id + 1, ... REQUIRES: first_id > last_id() and the
  // ids fit in 32 bits (the chunk decoder checks both). Fails past kMaxBytes.
  Status Add(uint32_t first_id, std::vector<std::string>* strings);

  // The string with this id; "" for 0 or an id no intact chunk defined.
  std::string_view Find(uint32_t id) const;

  uint64_t bytes() const { return bytes_; }

 private:
  struct Run {
    uint32_t first_id;
    std::vector<std::string> strings;
    uint32_t last_id() const { return first_id + static_cast<uint32_t>(strings.size()) - 1; }
  };
  std::vector<Run> runs_;  // ascending, disjoint
  uint64_t bytes_ = 0;
};

}  // namespace vmreplay
