#include "recorder/linux/wire_event.h"

namespace vmreplay::recorder {

bool IsCallRecord(const WireRecord& record) {
  return record.op >= kWireMmap && record.op <= kWirePvalloc;
}

}  // namespace vmreplay::recorder
