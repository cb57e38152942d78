#include "traces/synth/clr_process.h"

#include "simulator/win32_constants.h"

namespace vmreplay::synth {
namespace {

constexpr uint32_t kSOk = 0;
constexpr uint32_t kEOutOfMemory = 0x8007000E;
constexpr uint64_t kGranule = 64 * 1024;

sim::AddressSpaceConfig SpaceConfig(const ProcessShape& shape) {
  sim::AddressSpaceConfig c = sim::AddressSpaceConfig::Win64();
  c.physical_memory = shape.physical_memory;
  c.placement = sim::Placement::kLayoutFaithful;
  return c;
}

sim::MemoryPressureConfig PressureConfig(const ProcessShape& shape) {
  sim::MemoryPressureConfig c;
  c.physical_memory = shape.physical_memory;
  return c;
}

}  // namespace

ClrProcess::ClrProcess(const ProcessShape& shape, uint64_t seed, TraceWriter* writer)
    : shape_(shape),
      writer_(writer),
      rng_(seed),
      space_(SpaceConfig(shape)),
      pressure_(PressureConfig(shape)) {
  // 64-bit Windows places NULL-address reservations high in the 47-bit space; the exact place
  // varies with ASLR, so it is drawn from the seed.
  placement_cursor_ = 0x0000019000000000ull + rng_.Range(0, 0xFFF) * kGranule * 16;
  heap_bump_ = 0x000001D400000000ull + rng_.Range(0, 0xFFF) * kGranule;
}

void ClrProcess::Emit(Event e, double latency_ns) {
  if (!status_.ok()) return;
  if (shape_.max_events != 0 && writer_->events_written() >= shape_.max_events) return;
  e.timestamp_ns = now_;
  const double jittered = latency_ns * rng_.LogNormal(1.0, 0.25);
  e.latency_ns = jittered < 50.0 ? 50 : static_cast<uint64_t>(jittered);
  now_ += e.latency_ns + rng_.Range(20, 400);  // the caller's own work between calls
  status_ = writer_->Append(e);
}

void ClrProcess::AfterVm(uint64_t tid) {
  (void)tid;
  if (writer_->events_written() == 0) return;
  // The index is that of the virtual-memory event just written, as the replay engine uses it.
  const uint64_t index = writer_->events_written() - 1;
  if (auto n = pressure_.Update(committed(), index)) {
    Event e;
    e.op = Op::kMemoryNotification;
    e.thread = kNotifierThread;
    e.level = static_cast<uint32_t>(n->level);
    e.hresult = kSOk;
    Emit(e, 4000);  // the callback itself: the CLR just sets a flag / signals the finalizer
  }
}

uint64_t ClrProcess::CreateMalloc(uint64_t tid) {
  Event e;
  e.op = Op::kCreateMalloc;
  e.thread = tid;
  e.flags = kMallocThreadSafe;
  e.result = heap_id_ = 1;
  e.hresult = kSOk;
  Emit(e, 1500);
  return heap_id_;
}

void ClrProcess::RegisterMemoryNotificationCallback(uint64_t tid) {
  Event e;
  e.op = Op::kRegisterMemoryNotificationCallback;
  e.thread = tid;
  e.addr = 0x00007FFB3C2A5E40ull;  // the callback object, inside clr.dll's image
  e.hresult = kSOk;
  Emit(e, 800);
}

uint64_t ClrProcess::NextPlacement(uint64_t size) {
  const uint64_t at = placement_cursor_;
  placement_cursor_ += (size + kGranule - 1) / kGranule * kGranule + rng_.Range(0, 15) * kGranule;
  return at;
}

uint64_t ClrProcess::Reserve(uint64_t tid, uint64_t size, uint32_t protect, uint32_t level,
                             bool commit) {
  const uint32_t type = win32::kMemReserve | (commit ? win32::kMemCommit : 0);
  const sim::AllocOutcome r = space_.VirtualAlloc(0, size, type, protect, NextPlacement(size));
  Event e;
  e.op = Op::kVirtualAlloc;
  e.thread = tid;
  e.size = size;
  e.flags = type;
  e.protect = protect;
  e.level = level;
  e.result = r.address;
  e.error = r.error;
  e.hresult = r.error == 0 ? kSOk : kEOutOfMemory;
  // A reservation is a VAD insert (a few us); committing also charges the commit (per page).
  Emit(e, 3500 + (commit ? static_cast<double>(size) * 0.02 : 0.0));
  AfterVm(tid);
  return r.error == 0 ? r.address : 0;
}

bool ClrProcess::Commit(uint64_t tid, uint64_t addr, uint64_t size, uint32_t protect,
                        uint32_t level) {
  const sim::AllocOutcome r = space_.VirtualAlloc(addr, size, win32::kMemCommit, protect);
  Event e;
  e.op = Op::kVirtualAlloc;
  e.thread = tid;
  e.addr = addr;
  e.size = size;
  e.flags = win32::kMemCommit;
  e.protect = protect;
  e.level = level;
  e.result = r.address;
  e.error = r.error;
  e.hresult = r.error == 0 ? kSOk : kEOutOfMemory;
  Emit(e, 1800 + static_cast<double>(size) * 0.02);  // ~80 ns per 4 KiB page charged
  AfterVm(tid);
  return r.error == 0;
}

bool ClrProcess::Decommit(uint64_t tid, uint64_t addr, uint64_t size) {
  const uint32_t error = space_.VirtualFree(addr, size, win32::kMemDecommit);
  Event e;
  e.op = Op::kVirtualFree;
  e.thread = tid;
  e.addr = addr;
  e.size = size;
  e.flags = win32::kMemDecommit;
  e.error = error;
  e.hresult = error == 0 ? kSOk : 0x80070000u | error;
  // Decommit unmaps pages and flushes the TLB: costlier per byte than the commit charge.
  Emit(e, 2500 + static_cast<double>(size) * 0.06);
  AfterVm(tid);
  return error == 0;
}

bool ClrProcess::Release(uint64_t tid, uint64_t base) {
  // Committed bytes inside the reservation cost like a decommit.
  const uint64_t before = committed();
  const uint32_t error = space_.VirtualFree(base, 0, win32::kMemRelease);
  const uint64_t freed = before - committed();
  Event e;
  e.op = Op::kVirtualFree;
  e.thread = tid;
  e.addr = base;
  e.size = 0;
  e.flags = win32::kMemRelease;
  e.error = error;
  e.hresult = error == 0 ? kSOk : 0x80070000u | error;
  Emit(e, 4000 + static_cast<double>(freed) * 0.06);
  AfterVm(tid);
  return error == 0;
}

uint32_t ClrProcess::Protect(uint64_t tid, uint64_t addr, uint64_t size, uint32_t protect) {
  uint32_t old = 0;
  const uint32_t error = space_.VirtualProtect(addr, size, protect, &old);
  Event e;
  e.op = Op::kVirtualProtect;
  e.thread = tid;
  e.addr = addr;
  e.size = size;
  e.protect = protect;
  e.old_protect = error == 0 ? old : 0;
  e.error = error;
  e.hresult = error == 0 ? kSOk : 0x80070000u | error;
  Emit(e, 1500 + static_cast<double>(size) * 0.004);
  AfterVm(tid);
  return e.old_protect;
}

void ClrProcess::Query(uint64_t tid, uint64_t addr) {
  sim::MemoryBasicInformation info;
  uint32_t error = 0;
  const uint64_t bytes = space_.VirtualQuery(addr, &info, &error);
  Event e;
  e.op = Op::kVirtualQuery;
  e.thread = tid;
  e.addr = addr;
  e.size = win32::kMemoryBasicInformationSize64;  // dwLength
  e.result = bytes;
  e.error = error;
  e.hresult = kSOk;  // the host returns S_OK; *pResult carries the answer
  e.q_base = info.base_address;
  e.q_alloc_base = info.allocation_base;
  e.q_alloc_protect = info.allocation_protect;
  e.q_region_size = info.region_size;
  e.q_state = info.state;
  e.q_protect = info.protect;
  e.q_type = info.type;
  Emit(e, 450);
  AfterVm(tid);
}

sim::MemoryLoad ClrProcess::GetMemoryLoad(uint64_t tid) {
  const sim::MemoryLoad load = pressure_.GetMemoryLoad(committed());
  Event e;
  e.op = Op::kGetMemoryLoad;
  e.thread = tid;
  e.load = load.load_percent;
  e.avail = load.available_bytes;
  e.hresult = kSOk;
  Emit(e, 900);  // GlobalMemoryStatusEx
  return load;
}

uint64_t ClrProcess::HostAlloc(uint64_t tid, uint64_t size, uint32_t level, std::string_view file,
                               int32_t line) {
  const uint64_t size_class = size <= 16 ? 16 : (size + 15) / 16 * 16;
  uint64_t p;
  auto it = free_blocks_.find(size_class);
  if (it != free_blocks_.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
  } else {
    p = heap_bump_;
    heap_bump_ += size_class + 16;  // block header
  }
  live_blocks_[p] = size_class;
  Event e;
  e.op = file.empty() ? Op::kHostAlloc : Op::kHostDebugAlloc;
  e.thread = tid;
  e.heap = heap_id_;
  e.size = size;
  e.level = level;
  if (!file.empty()) {
    e.file = writer_->InternString(file);
    e.line = line;
  }
  e.result = p;
  e.hresult = kSOk;
  Emit(e, 70 + static_cast<double>(size) * 0.01);
  return p;
}

void ClrProcess::HostFree(uint64_t tid, uint64_t ptr) {
  auto it = live_blocks_.find(ptr);
  if (it != live_blocks_.end()) {
    free_blocks_[it->second].push_back(ptr);
    live_blocks_.erase(it);
  }
  Event e;
  e.op = Op::kHostFree;
  e.thread = tid;
  e.heap = heap_id_;
  e.addr = ptr;
  e.hresult = kSOk;
  Emit(e, 55);
}

}  // namespace vmreplay::synth
