// `passthrough`: the reference policy. Every call reaches the platform as the CLR made it,
// GetMemoryLoad and the notifications are the machine's; the figures are the workload's own.
// It is the base Manager unchanged (manager.h), named here so each policy has its file.
#pragma once

#include "replayer/managers/manager.h"

namespace vmreplay::replay {

class PassthroughManager final : public Manager {
 public:
  explicit PassthroughManager(const ManagerContext& context) : Manager(context) {}
};

}  // namespace vmreplay::replay
