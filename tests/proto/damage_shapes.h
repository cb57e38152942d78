// Crafted damage shapes that once made `vmreplay check` slow or hungry (issue 16), for the
// tests that keep it linear in time and bounded in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vmreplay::testing {

// The file magic and a valid header frame: what every shape starts with.
std::string TracePrefix();

// `junk_bytes` of fake chunk frame headers, one every 20 bytes, each claiming a payload that
// runs to the end of the file, none with the right checksum. Verifying every candidate in
// full is quadratic in the junk's size.
std::string DenseFakeFrames(size_t junk_bytes);

// Valid empty chunk frames, each followed by a fake header claiming the rest of the file: a
// reader that verifies the frame after each intact one in full is quadratic too.
std::string IntactAndFakeAlternating(size_t junk_bytes);

// `junk_bytes` of random bytes after the header, then a valid footer-less end.
std::string RandomJunk(size_t junk_bytes, uint64_t seed);

// A damaged frame, then `chunks` tiny chunks, each defining one string whose id jumps 2^20
// past the previous one (allowed after damage: lost chunks may have defined those ids).
std::string JumpingStringIds(int chunks);

}  // namespace vmreplay::testing
