// strace logs of the memory system calls: `strace -f -e trace=memory -o LOG CMD`, optionally
// with -t / -tt / -ttt (timestamps) and -T (time spent in the call).
//
// Line: [PID ]|[[pid PID] ][TIME ]BODY, where BODY is one of
//   NAME(ARGS) = RET [ERRNO (text)] [<SECONDS>]     a complete call
//   NAME(ARGS <unfinished ...>                      entry of a call another thread interrupted
//   <... NAME resumed>REST                          its completion: NAME(ARGS + REST
//   +++ exited with N +++ / --- SIGNAL ... ---      ignored
// mmap, munmap, mremap, mprotect and madvise become events (flags and protections symbolic or
// numeric); brk and the other memory calls (mlock, msync, mincore, pkey_mprotect ...) and calls
// whose result is '?' (the process died inside the call) are counted as ignored.
// Each event is written when its call completes (that is when its outcome exists), so with
// unfinished calls timestamps (call entry) are not monotonic in file order. Thread = PID column
// (0 without -f). Times: relative to the first line's time; -t/-tt time-of-day crossing midnight
// is handled; without -t the timestamp is the event index (ns). Latency: the -T figure, else 0.
// Failed calls: error = the errno named, mmap/mremap result = MAP_FAILED (as vmrecord records).
#pragma once

#include <memory>
#include <string>

#include "replayer/importers/importer.h"

namespace vmreplay::importers {

std::unique_ptr<LineParser> MakeStraceParser(const std::string& name);

}  // namespace vmreplay::importers
