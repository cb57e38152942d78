// glibc mtrace(3) logs (MALLOC_TRACE=FILE with mtrace() in the program; since glibc 2.34 with
// LD_PRELOAD=libc_malloc_debug.so.0). Line forms (glibc 2.36 malloc/mtrace-impl.c):
//   = Start | = End                       markers, ignored
//   [@ WHERE ]+ PTR SIZE                  malloc / calloc / memalign / realloc(NULL, n) -> malloc
//                                         (PTR "(nil)": a failed allocation, error ENOMEM)
//   [@ WHERE ]- PTR                       free (or realloc(p, 0))
//   [@ WHERE ]< OLD  then  [@ WHERE ]> NEW SIZE   one successful realloc -> realloc
//   [@ WHERE ]! OLD SIZE                  failed realloc -> realloc with result 0, ENOMEM
// SIZE is hex ("0x10"). mtrace records no thread and no time: every event is on thread 0 and
// its timestamp is its event index (ns), which keeps the order and nothing more.
#pragma once

#include <memory>
#include <string>

#include "replayer/importers/importer.h"

namespace vmreplay::importers {

std::unique_ptr<LineParser> MakeMtraceParser(const std::string& name);

}  // namespace vmreplay::importers
