// Small strict parsers shared by the importers: no locale, no exceptions, whole-token only.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace vmreplay::importers {

// Unsigned integer: "0x"-prefixed hex, else decimal (or hex when `hex` is true). False on an
// empty token, a stray character or overflow.
bool ParseU64(std::string_view s, uint64_t* out, bool hex = false);
// Signed decimal (or 0x hex).
bool ParseI64(std::string_view s, int64_t* out);
// Seconds with an optional fraction ("0.000255", "1700000000.123456") to nanoseconds.
bool ParseSecondsNs(std::string_view s, uint64_t* out);
// Splits on runs of spaces and tabs.
std::vector<std::string_view> SplitWords(std::string_view s);
std::string_view Trim(std::string_view s);

}  // namespace vmreplay::importers
