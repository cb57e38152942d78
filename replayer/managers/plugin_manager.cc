#include "replayer/managers/plugin_manager.h"

#include <dlfcn.h>

#include <cstring>

#include "simulator/win32_constants.h"

namespace vmreplay::replay {

// ICLRMemoryNotificationCallback as the CLR would implement it: notifications are queued and the
// engine collects them after each call (PollNotification).
class PluginManager::Callback final : public ICLRMemoryNotificationCallback {
 public:
  explicit Callback(PluginManager* owner) : owner_(owner) {}
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void** out) override {
    if (std::memcmp(&riid, &kIID_ICLRMemoryNotificationCallback, sizeof(GUID)) == 0 ||
        std::memcmp(&riid, &kIID_IUnknown, sizeof(GUID)) == 0) {
      *out = this;
      return S_OK;
    }
    *out = nullptr;
    return E_NOINTERFACE;
  }
  ULONG STDMETHODCALLTYPE AddRef() override { return 1; }  // Owned by the PluginManager.
  ULONG STDMETHODCALLTYPE Release() override { return 1; }
  HRESULT STDMETHODCALLTYPE OnMemoryNotification(EMemoryAvailable level) override {
    if (level < eMemoryAvailableLow || level > eMemoryAvailableHigh) return E_INVALIDARG;
    std::lock_guard lock(owner_->notifications_mu_);
    owner_->notifications_.push_back(static_cast<uint32_t>(level));
    return S_OK;
  }

 private:
  PluginManager* owner_;
};

// The plugin's IHostMalloc as the replay's heap. IHostMalloc has no alignment and no realloc:
// aligned requests beyond 16 bytes fail (counted by the engine), realloc is Alloc + Free (the
// replay never reads block contents).
class PluginManager::PluginHeap final : public HeapBackend {
 public:
  explicit PluginHeap(IHostMalloc* malloc) : malloc_(malloc) {}
  ~PluginHeap() override { malloc_->Release(); }
  std::string_view name() const override { return "plugin"; }
  void* Alloc(size_t size, size_t alignment, uint32_t level) override {
    if (alignment > 16) return nullptr;
    void* p = nullptr;
    const HRESULT hr =
        malloc_->Alloc(size, static_cast<EMemoryCriticalLevel>(level > 2 ? 2 : level), &p);
    return SUCCEEDED(hr) ? p : nullptr;
  }
  void* Realloc(void* p, size_t, size_t size) override {
    void* q = Alloc(size, 0, eTaskCritical);
    if (q != nullptr) malloc_->Free(p);
    return q;
  }
  void Free(void* p) override {
    if (p != nullptr) malloc_->Free(p);
  }
  std::optional<uint64_t> Footprint() override { return std::nullopt; }

 private:
  IHostMalloc* malloc_;
};

namespace {

PluginManager* Owner(void* context) { return static_cast<PluginManager*>(context); }

}  // namespace

PluginManager::PluginManager(const ManagerContext& context, const ManagerSpec& spec)
    : Manager(context), path_(spec.plugin_path()), options_(spec.plugin_options()) {}

PluginManager::~PluginManager() {
  plugin_heap_.reset();  // Releases the plugin's IHostMalloc first.
  if (manager_ != nullptr) manager_->Release();
  // The library stays loaded: code of it may still be referenced (as allocators are, too).
}

uint32_t PluginManager::ErrorOf(HRESULT hr) {
  if (SUCCEEDED(hr)) return 0;
  const uint32_t u = static_cast<uint32_t>(hr);
  if ((u & 0xFFFF0000u) == 0x80070000u) return u & 0xFFFFu;  // FACILITY_WIN32
  return win32::kErrorInvalidFunction;                       // E_FAIL and the like
}

Status PluginManager::Load(const ManagerSpec& spec, const ManagerContext& context,
                           std::unique_ptr<Manager>* out) {
  const std::string& path = spec.plugin_path();
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    return Status::Error("plugin " + path + ": cannot load: " + (why != nullptr ? why : "?"));
  }
  std::unique_ptr<PluginManager> m(new PluginManager(context, spec));
  VMREPLAY_RETURN_IF_ERROR(m->Start(library));
  *out = std::move(m);
  return Status::Ok();
}

Status PluginManager::Start(void* library) {
  auto abi = reinterpret_cast<vmreplay_plugin_abi_version_fn>(
      dlsym(library, "vmreplay_plugin_abi_version"));
  if (abi == nullptr) {
    return Status::Error("plugin " + path_ +
                         ": not a vmreplay manager plugin (no vmreplay_plugin_abi_version)");
  }
  if (const uint32_t v = abi(); v != VMREPLAY_PLUGIN_ABI_VERSION) {
    return Status::Error("plugin " + path_ + " was built for manager plugin ABI " +
                         std::to_string(v) + "; this vmreplay speaks ABI " +
                         std::to_string(VMREPLAY_PLUGIN_ABI_VERSION) +
                         " (rebuild it against include/vmreplay/manager_plugin.h)");
  }
  auto create = reinterpret_cast<vmreplay_create_host_memory_manager_fn>(
      dlsym(library, "vmreplay_create_host_memory_manager"));
  if (create == nullptr) {
    return Status::Error("plugin " + path_ +
                         ": no vmreplay_create_host_memory_manager (see manager_plugin.h)");
  }
  table_.abi_version = VMREPLAY_PLUGIN_ABI_VERSION;
  table_.size = sizeof table_;
  table_.context = this;
  table_.virtual_alloc = [](void* c, void* address, SIZE_T size, DWORD type, DWORD protect,
                            void** result) -> DWORD {
    const VmResult r = Owner(c)->platform_->VirtualAlloc(reinterpret_cast<uint64_t>(address), size,
                                                         type, protect, 0);
    *result = r.error == 0 ? reinterpret_cast<void*>(r.address) : nullptr;
    return r.error;
  };
  table_.virtual_free = [](void* c, void* address, SIZE_T size, DWORD free_type) -> DWORD {
    return Owner(c)->platform_->VirtualFree(reinterpret_cast<uint64_t>(address), size, free_type);
  };
  table_.virtual_protect = [](void* c, void* address, SIZE_T size, DWORD protect,
                              DWORD* old_protect) -> DWORD {
    uint32_t old = 0;
    const uint32_t error = Owner(c)->platform_->VirtualProtect(reinterpret_cast<uint64_t>(address),
                                                               size, protect, &old);
    if (old_protect != nullptr) *old_protect = old;
    return error;
  };
  table_.virtual_query = [](void* c, const void* address, MEMORY_BASIC_INFORMATION* info) -> DWORD {
    sim::MemoryBasicInformation m;
    uint32_t error = 0;
    if (Owner(c)->platform_->VirtualQuery(reinterpret_cast<uint64_t>(address), &m, &error) == 0) {
      return error != 0 ? error : win32::kErrorInvalidParameter;
    }
    std::memset(info, 0, sizeof *info);
    info->BaseAddress = reinterpret_cast<void*>(m.base_address);
    info->AllocationBase = reinterpret_cast<void*>(m.allocation_base);
    info->AllocationProtect = m.allocation_protect;
    info->RegionSize = m.region_size;
    info->State = m.state;
    info->Protect = m.protect;
    info->Type = m.type;
    return 0;
  };
  table_.page_size = platform_->page_size();
  table_.allocation_granularity = platform_->allocation_granularity();
  table_.physical_memory = pressure_.config().physical_memory;
  table_.commit_limit = platform_->commit_limit();
  table_.options = options_.c_str();

  const HRESULT hr = create(&table_, &manager_);
  if (FAILED(hr) || manager_ == nullptr) {
    manager_ = nullptr;
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(hr));
    return Status::Error("plugin " + path_ + ": vmreplay_create_host_memory_manager failed (" +
                         buf + ")");
  }
  // As the CLR does at start-up: one thread-safe heap, one notification callback.
  IHostMalloc* malloc = nullptr;
  const HRESULT mhr = manager_->CreateMalloc(MALLOC_THREADSAFE, &malloc);
  if (SUCCEEDED(mhr) && malloc != nullptr) {
    plugin_heap_ = std::make_unique<PluginHeap>(malloc);
  } else {
    heap_note_ = "plugin: CreateMalloc declined; heap calls went to the replay's own heap";
  }
  callback_ = std::make_unique<Callback>(this);
  manager_->RegisterMemoryNotificationCallback(callback_.get());
  return Status::Ok();
}

HeapBackend* PluginManager::CreateMalloc() {
  return plugin_heap_ != nullptr ? plugin_heap_.get() : heap_;
}

bool PluginManager::FromPlatform(uint64_t address, uint64_t size) const {
  // Walk the platform's regions over the range: none may be free.
  uint64_t cursor = address;
  const uint64_t end = address + (size == 0 ? 1 : size);
  if (end < address) return false;
  while (cursor < end) {
    sim::MemoryBasicInformation info;
    uint32_t error = 0;
    if (platform_->VirtualQuery(cursor, &info, &error) == 0) return false;
    if (info.state == win32::kMemFree || info.region_size == 0) return false;
    cursor = info.base_address + info.region_size;
  }
  return true;
}

uint32_t PluginManager::Refuse(const std::string& what) {
  if (broken_rules_++ == 0) first_broken_rule_ = what;
  return win32::kErrorInvalidAddress;
}

VmResult PluginManager::VirtualAlloc(uint64_t address, uint64_t size, uint32_t type,
                                     uint32_t protect, uint32_t level, uint64_t) {
  void* mem = nullptr;
  const HRESULT hr =
      manager_->VirtualAlloc(reinterpret_cast<void*>(address), size, type, protect,
                             static_cast<EMemoryCriticalLevel>(level > 2 ? 2 : level), &mem);
  if (FAILED(hr)) return VmResult{0, ErrorOf(hr)};
  const uint64_t result = reinterpret_cast<uint64_t>(mem);
  if (result == 0) return VmResult{0, Refuse("VirtualAlloc succeeded with a NULL address")};
  if (!FromPlatform(result, size)) {
    char buf[96];
    std::snprintf(buf, sizeof buf,
                  "VirtualAlloc returned 0x%llx, outside memory it got from the "
                  "platform",
                  static_cast<unsigned long long>(result));
    return VmResult{0, Refuse(buf)};
  }
  return VmResult{result, 0};
}

uint32_t PluginManager::VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
  return ErrorOf(manager_->VirtualFree(reinterpret_cast<void*>(address), size, free_type));
}

uint32_t PluginManager::VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                                       uint32_t* old_protect) {
  DWORD old = 0;
  const HRESULT hr =
      manager_->VirtualProtect(reinterpret_cast<void*>(address), size, protect, &old);
  *old_protect = old;
  return ErrorOf(hr);
}

uint64_t PluginManager::VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                                     uint32_t* error) {
  MEMORY_BASIC_INFORMATION m{};
  SIZE_T written = 0;
  const HRESULT hr =
      manager_->VirtualQuery(reinterpret_cast<void*>(address), &m, sizeof m, &written);
  if (FAILED(hr) || written == 0) {
    if (error != nullptr) *error = FAILED(hr) ? ErrorOf(hr) : win32::kErrorInvalidParameter;
    return 0;
  }
  *info = sim::MemoryBasicInformation{reinterpret_cast<uint64_t>(m.BaseAddress),
                                      reinterpret_cast<uint64_t>(m.AllocationBase),
                                      m.AllocationProtect,
                                      m.RegionSize,
                                      m.State,
                                      m.Protect,
                                      m.Type};
  if (error != nullptr) *error = 0;
  return written;
}

sim::MemoryLoad PluginManager::GetMemoryLoad() {
  DWORD load = 0;
  SIZE_T available = 0;
  if (FAILED(manager_->GetMemoryLoad(&load, &available))) return Manager::GetMemoryLoad();
  return sim::MemoryLoad{load > 100 ? 100 : load, available};
}

bool PluginManager::NeedsVirtualAddressSpace(uint64_t start, uint64_t size) {
  return manager_->NeedsVirtualAddressSpace(reinterpret_cast<void*>(start), size) == S_OK;
}

void PluginManager::AcquiredVirtualAddressSpace(uint64_t start, uint64_t size) {
  manager_->AcquiredVirtualAddressSpace(reinterpret_cast<void*>(start), size);
}

void PluginManager::ReleasedVirtualAddressSpace(uint64_t start) {
  manager_->ReleasedVirtualAddressSpace(reinterpret_cast<void*>(start));
}

std::optional<sim::MemoryNotification> PluginManager::PollNotification(uint64_t index) {
  std::lock_guard lock(notifications_mu_);
  if (notifications_.empty()) return std::nullopt;
  const uint32_t level = notifications_.front();
  notifications_.pop_front();
  ++notifications_delivered_;
  return sim::MemoryNotification{static_cast<sim::MemoryAvailable>(level), index,
                                 GetMemoryLoad().load_percent};
}

VmResult PluginManager::Mmap(uint64_t address, uint64_t length, int prot, int flags,
                             uint64_t recorded_address) {
  ++passed_through_;
  return Manager::Mmap(address, length, prot, flags, recorded_address);
}

uint32_t PluginManager::Munmap(uint64_t address, uint64_t length) {
  ++passed_through_;
  return Manager::Munmap(address, length);
}

uint32_t PluginManager::Mprotect(uint64_t address, uint64_t length, int prot) {
  ++passed_through_;
  return Manager::Mprotect(address, length, prot);
}

uint32_t PluginManager::Madvise(uint64_t address, uint64_t length, int advice) {
  ++passed_through_;
  return Manager::Madvise(address, length, advice);
}

VmResult PluginManager::Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                               uint64_t new_address, uint64_t recorded_address) {
  ++passed_through_;
  return Manager::Mremap(address, old_size, new_size, flags, new_address, recorded_address);
}

ManagerStats PluginManager::stats() const {
  ManagerStats s;
  s.figures.push_back(
      {"plugin rule breaks", static_cast<double>(broken_rules_), ManagerFigure::Unit::kCount});
  if (broken_rules_ != 0) {
    s.notes.push_back(
        "plugin " + path_ + ": " + std::to_string(broken_rules_) +
        " call(s) broke the plugin rules, counted as failed; the first: " + first_broken_rule_);
  }
  if (!heap_note_.empty()) s.notes.push_back(heap_note_);
  if (passed_through_ != 0) {
    s.notes.push_back("plugin: " + std::to_string(passed_through_) +
                      " mmap-family calls passed through to the platform (the plugin speaks "
                      "IHostMemoryManager)");
  }
  return s;
}

}  // namespace vmreplay::replay
