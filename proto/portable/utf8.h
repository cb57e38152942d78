// UTF-8 validation, for the one place the format still needs it: metadata keys, which are
// protobuf map keys and so must be `string` (proto3 parsers refuse a string that is not UTF-8).
// Header-only and dependency-free, so the portable writer shares it.
#pragma once

#include <cstdint>
#include <string_view>

namespace vmreplay {

// Well-formed UTF-8 as protobuf checks it: no overlong forms, no surrogates (U+D800..DFFF),
// nothing past U+10FFFF.
inline bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p != end) {
    const unsigned c = *p++;
    if (c < 0x80) continue;
    int more;
    unsigned lo = 0x80, hi = 0xbf;  // range of the byte after the lead byte
    if (c >= 0xc2 && c <= 0xdf) {
      more = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // past U+10FFFF
    } else {
      return false;
    }
    if (end - p < more) return false;
    if (*p < lo || *p > hi) return false;
    ++p;
    for (int i = 1; i < more; ++i, ++p) {
      if (*p < 0x80 || *p > 0xbf) return false;
    }
  }
  return true;
}

}  // namespace vmreplay
