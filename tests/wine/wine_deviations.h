// Known places where Wine's VirtualAlloc family answers differently from Windows. The simulator
// follows Windows (the documentation, or where it is silent the NT kernel's behaviour pinned by
// conformance tests that pass on Windows); the differential test accepts Wine's answer only in
// exactly these situations, and only when the simulator gives the documented answer.
//
// Every rule is error-code-only or leaves the address space unchanged in both implementations, so
// accepting it never lets the two states drift apart. The oracle aims its invalid calls so that
// Wine's deviations stay of that kind (see win32_oracle.cc).
#pragma once

#include <cstdint>
#include <span>

#include "proto/event.h"
#include "simulator/address_space.h"

namespace vmreplay::wine_test {

// What the simulator answered for one event.
struct SimOutcome {
  uint64_t result = 0;  // VirtualAlloc address / VirtualQuery bytes
  uint32_t error = 0;
  uint32_t old_protect = 0;
  sim::MemoryBasicInformation info;
};

// Facts the rules' conditions need, gathered independently of the outcomes being compared.
struct Context {
  // From the simulator's state *before* the event:
  bool start_free = false;  // the page of event.addr is free (or outside user space)
  // [page(addr), page_up(addr + size)) lies inside one allocation (reservation).
  bool in_one_allocation = false;
  // VirtualQuery: where Wine's remembered page protections (wine_protection_shadow.h) change
  // inside the simulator's answer: the region size Wine is expected to report.
  uint64_t wine_protection_run = 0;
};
// Fills the "before" fields.
void InspectBefore(sim::AddressSpace& space, const Event& event, Context* context);

struct WineDeviation {
  const char* id;
  const char* wine_behaviour;
  const char* reference;  // where the documented / Windows answer comes from
  // True when `recorded` (Wine) and `sim` differ exactly as this rule describes.
  bool (*applies)(const Event& recorded, const SimOutcome& sim, const Context& context);
};

std::span<const WineDeviation> KnownWineDeviations();

}  // namespace vmreplay::wine_test
