// Android malloc_debug `record_allocs` dumps (bionic libc/malloc_debug, README.md and
// RecordData.cpp / libmemory_trace). One line per call:
//   TID: malloc PTR SIZE [START_NS END_NS]
//   TID: calloc PTR NMEMB SIZE [START_NS END_NS]
//   TID: memalign PTR ALIGNMENT SIZE [START_NS END_NS]
//   TID: realloc NEW_PTR OLD_PTR SIZE [START_NS END_NS]
//   TID: free PTR [START_NS END_NS]
//   TID: thread_done 0x0 [END_NS]          no event (counted as ignored)
// PTR values are hex with 0x; sizes decimal. Older Android releases write no timestamps: then
// the timestamp of each event is its event index (ns) and the latency 0. With timestamps, event
// times are relative to the first event's start (earlier starts, possible across threads, are
// clamped to 0) and the latency is END - START.
#pragma once

#include <memory>
#include <string>

#include "replayer/importers/importer.h"

namespace vmreplay::importers {

std::unique_ptr<LineParser> MakeRecordAllocsParser(const std::string& name);

}  // namespace vmreplay::importers
