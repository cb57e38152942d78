// The factory of managers (one place to add one); the table of names and knobs is in
// manager_options.cc.
#include "replayer/managers/arena_manager.h"
#include "replayer/managers/budget_manager.h"
#include "replayer/managers/decommit_cache_manager.h"
#include "replayer/managers/large_pages_manager.h"
#include "replayer/managers/passthrough_manager.h"
#include "replayer/managers/plugin_manager.h"

namespace vmreplay::replay {

Status MakeManager(const ManagerSpec& spec, const ManagerContext& context,
                   std::unique_ptr<Manager>* out) {
  const std::string& name = spec.name();
  if (name == "passthrough") {
    *out = std::make_unique<PassthroughManager>(context);
  } else if (name == "arena") {
    return ArenaManager::Create(spec, context, out);
  } else if (name == "decommit-cache") {
    *out = std::make_unique<DecommitCacheManager>(spec, context);
  } else if (name == "large-pages") {
    const uint64_t page = spec.Bytes("page");
    if (page == 0 || (page & (page - 1)) != 0 || page % context.platform->page_size() != 0) {
      return Status::Error("large-pages: page must be a power of two and a multiple of the " +
                           std::to_string(context.platform->page_size()) + "-byte page");
    }
    *out = std::make_unique<LargePagesManager>(spec, context);
  } else if (name == "budget") {
    if (spec.Bytes("limit") == 0) return Status::Error("budget: limit must be positive");
    *out = std::make_unique<BudgetManager>(spec, context);
  } else if (name == "plugin") {
    return PluginManager::Load(spec, context, out);
  } else {
    return Status::Error("unknown manager '" + name + "'");
  }
  return Status::Ok();
}

}  // namespace vmreplay::replay
