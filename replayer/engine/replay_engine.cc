#include "replayer/engine/replay_engine.h"

#include <unistd.h>

#include <cstdio>

#include "proto/event_source.h"
#include "proto/trace_summary.h"
#include "replayer/engine/event_pump.h"
#include "replayer/engine/threaded_replay.h"
#include "replayer/heaps/heap_backends.h"
#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::replay {
namespace {

bool RecordedOk(const Event& e) {
  if (RecordedFailure(e)) return false;
  switch (e.op) {
    case Op::kVirtualAlloc:
      return e.result != 0;
    case Op::kVirtualQuery:
      return e.result != 0;
    default:
      return true;
  }
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

ReplayEngine::ReplayEngine(Manager* manager, const ReplayOptions& options, const proto::Header&,
                           ReplayMetrics* metrics, bool concurrent)
    : manager_(manager),
      platform_(&manager->platform()),
      heap_(manager->CreateMalloc()),
      options_(options),
      metrics_(metrics),
      mode_(manager->compare_mode()),
      identity_(manager->identity_addresses()),
      latency_every_(options.latency_every),
      page_size_(options.vm.page_size),
      ledger_(heap_, concurrent) {
  metrics_->platform = std::string(platform_->name());
  metrics_->heap = std::string(heap_->name());
  if (metrics_->manager.empty()) metrics_->manager = std::string(manager->name());
}

uint64_t ReplayEngine::NextSkip(ReplayMetrics* m) const {
  // xorshift64* per lane, seeded from the lane's address-free state: deterministic per replay.
  uint64_t x = m->latency_rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  m->latency_rng = x;
  return ((x * 0x2545F4914F6CDD1Dull) >> 32) % (2 * latency_every_ - 1);
}

Status ParseLatency(const std::string& text, uint64_t* every) {
  if (text == "all") {
    *every = 1;
  } else if (text == "off") {
    *every = 0;
  } else if (text.rfind("sample:", 0) == 0 && text.size() > 7 &&
             text.find_first_not_of("0123456789", 7) == std::string::npos && text.size() < 17 &&
             std::stoull(text.substr(7)) >= 2) {
    *every = std::stoull(text.substr(7));
  } else {
    return Status::Error("--latency: '" + text + "' is not one of: all, sample:N (N >= 2), off");
  }
  return Status::Ok();
}

void ReplayEngine::Diverge(ReplayMetrics* m, const Event& e, uint64_t index, std::string what) {
  ++m->divergences;
  if (m->first_divergences.size() < options_.max_divergences_kept) {
    m->first_divergences.push_back(Divergence{index, e.op, std::move(what)});
  }
  if (options_.strict) {
    stop_.store(true, std::memory_order_relaxed);
    m->stopped_early = true;
  }
}

void ReplayEngine::Compare(ReplayMetrics* m, const Event& e, uint64_t index, bool replay_ok,
                           uint32_t replay_error, const std::string& detail) {
  const bool recorded_ok = RecordedOk(e);
  if (recorded_ok != replay_ok) {
    Diverge(m, e, index,
            recorded_ok
                ? "recorded success, replay failed with error " + std::to_string(replay_error)
                : "recorded failure (error " + std::to_string(e.error) + "), replay succeeded");
    return;
  }
  if (mode_ == CompareMode::kSuccessOnly) return;
  if (!recorded_ok && e.error != replay_error) {
    Diverge(m, e, index,
            "recorded error " + std::to_string(e.error) + ", replay error " +
                std::to_string(replay_error));
    return;
  }
  if (mode_ == CompareMode::kExact && !detail.empty()) Diverge(m, e, index, detail);
}

ReplayEngine::Translation ReplayEngine::Translate(uint64_t recorded) const {
  // Layout-faithful identity backend (sim): every range is live at its recorded address and
  // unknown addresses pass through, so the lookup could only answer `recorded`.
  if (identity_ && ranges_.all_identity()) return {recorded, false};
  if (auto hit = ranges_.Lookup(RecordedAddr{recorded})) {
    if (hit->dead) return {std::nullopt, true};
    return {hit->address.value, false};
  }
  if (identity_) return {recorded, false};
  return {std::nullopt, false};
}

void ReplayEngine::AfterVm(uint64_t index, ReplayMetrics* m) {
  if (auto f = platform_->fragmentation()) {
    if (!m->max_fragmentation || *f > *m->max_fragmentation) m->max_fragmentation = f;
  }
  if (auto n = manager_->PollNotification(index)) {
    switch (n->level) {
      case sim::MemoryAvailable::kLow:
        ++m->notifications_low;
        break;
      case sim::MemoryAvailable::kNeutral:
        ++m->notifications_neutral;
        break;
      case sim::MemoryAvailable::kHigh:
        ++m->notifications_high;
        break;
    }
    if (n->load_percent > m->max_memory_load) m->max_memory_load = n->load_percent;
  }
}

bool ReplayEngine::Apply(const Event& e, uint64_t index, ReplayMetrics* m) {
  ++m->events;
  // glibc's malloc mapping its own pages inside a recorded heap call: the replay's heap makes
  // its own system calls for the same heap call, so these are the recorded heap's, not the
  // program's (recorder/linux/syscall_tracer.h).
  if (__builtin_expect(e.origin == static_cast<uint32_t>(CallOrigin::kHeapInternal), 0)) {
    ++m->skipped_heap_internal;
    return true;
  }
  const bool heap_op = IsHostMallocOp(e.op) || IsPosixHeapOp(e.op);
  if (!heap_op) manager_->set_event_index(index);  // Heap events never touch the platform.
  switch (e.op) {
    case Op::kVirtualAlloc:
      ApplyVirtualAlloc(e, index, m);
      break;
    case Op::kVirtualFree:
      ApplyVirtualFree(e, index, m);
      break;
    case Op::kVirtualProtect:
      ApplyVirtualProtect(e, index, m);
      break;
    case Op::kVirtualQuery:
      ApplyVirtualQuery(e, index, m);
      break;
    case Op::kGetMemoryLoad: {
      ++m->replayed;
      const uint64_t start = Start(m);
      const sim::MemoryLoad load = manager_->GetMemoryLoad();
      Time(m, e.op, start);
      ++m->memory_load_answers;
      if (load.load_percent > m->max_memory_load) m->max_memory_load = load.load_percent;
      return !stopped();
    }
    case Op::kMemoryNotification:
      ++m->recorded_notifications;
      ++m->skipped_not_memory;
      return true;
    case Op::kNeedsVirtualAddressSpace:
    case Op::kAcquiredVirtualAddressSpace:
    case Op::kReleasedVirtualAddressSpace:
      ApplyAddressSpaceHint(e, m);
      return !stopped();
    case Op::kMmap:
      ApplyMmap(e, index, m);
      break;
    case Op::kMunmap:
    case Op::kMprotect:
    case Op::kMadvise:
      ApplyRangeOp(e, index, m);
      break;
    case Op::kMremap:
      ApplyMremap(e, index, m);
      break;
    default:
      if (heap_op) {
        ApplyHeap(e, index, m);
      } else {
        ++m->skipped_not_memory;
      }
      return !stopped();
  }
  AfterVm(index, m);
  return !stopped();
}

// ------------------------------------------------------------------------------------ Win32

void ReplayEngine::ApplyVirtualAlloc(const Event& e, uint64_t index, ReplayMetrics* m) {
  // MEM_COMMIT alone at NULL reserves too (Windows commits a new reservation).
  const bool reserve =
      (e.flags & win32::kMemReserve) != 0 || (e.addr == 0 && (e.flags & win32::kMemCommit) != 0);
  const bool recorded_ok = RecordedOk(e);
  const uint64_t rec_base = e.result;
  const uint64_t rec_len = PageUp((e.addr != 0 ? e.addr : e.result) + e.size) - rec_base;
  uint64_t address = 0;
  uint64_t size = e.size;
  if (e.addr != 0) {
    const auto [t, dead] = Translate(e.addr);
    if (dead) {
      ++m->skipped_dependent;
      return;
    }
    if (t) {
      address = *t;
    } else if (!reserve) {  // Commit into memory the replay never saw reserved.
      // Counted, not compared: a real backend cannot know what the recorded process had there.
      if (recorded_ok) {
        ++m->untranslatable;
        return;
      }
      Compare(m, e, index, false, win32::kErrorInvalidAddress);
      return;
    } else if (recorded_ok) {
      // A reservation at an address the real backend cannot honour: relocate it. The recorded
      // reservation spans [result, PageUp(addr + size)), more than PageUp(size) when addr is not
      // granularity-aligned, so reserve (and, with MEM_COMMIT, commit) all of it, as Windows
      // does for an unaligned MEM_RESERVE | MEM_COMMIT: every later call inside it translates.
      size = rec_len;
    } else {
      // Recorded failure at an address no translated range knows (foreign memory in the
      // recorded process): nothing here can reproduce it.
      ++m->untranslatable;
      return;
    }
  }
  ++m->replayed;
  const uint64_t start = Start(m);
  const VmResult r = manager_->VirtualAlloc(address, size, e.flags, e.protect, e.level, e.result);
  Time(m, e.op, start);
  const bool ok = r.error == 0 && r.address != 0;
  std::string detail;
  if (ok && recorded_ok && r.address != e.result) {
    detail = "recorded result " + Hex(e.result) + ", replay " + Hex(r.address);
  }
  Compare(m, e, index, ok, r.error, detail);
  if (!reserve) {
    const bool commit = (e.flags & win32::kMemCommit) != 0;
    if (commit && recorded_ok && !ok) {
      failed_commits_[e.addr & ~(page_size_ - 1)] = PageUp(e.addr + e.size);
    } else if (commit && ok && !failed_commits_.empty()) {
      ForgetFailedCommits(e.addr & ~(page_size_ - 1), PageUp(e.addr + e.size));
    }
    return;
  }
  if (recorded_ok && ok) {
    ranges_.Insert(RecordedAddr{rec_base}, rec_len, ReplayedAddr{r.address});
  } else if (recorded_ok) {
    ranges_.Insert(RecordedAddr{rec_base}, rec_len, ReplayedAddr{0}, /*dead=*/true);
  } else if (ok) {
    // The recording has no such reservation: give it back so later calls see the same state.
    manager_->VirtualFree(r.address, 0, win32::kMemRelease);
  }
}

void ReplayEngine::ApplyVirtualFree(const Event& e, uint64_t index, ReplayMetrics* m) {
  const auto [t, dead] = Translate(e.addr);
  const bool recorded_ok = RecordedOk(e);
  const bool release = e.flags == win32::kMemRelease;
  if (dead) {
    ++m->skipped_dependent;
    if (release && recorded_ok) {
      if (auto r = ranges_.RangeOf(RecordedAddr{e.addr})) ranges_.Remove(r->first, r->second);
    }
    return;
  }
  if (!t) {
    if (recorded_ok) {  // Counted, not compared (see ApplyVirtualAlloc).
      ++m->untranslatable;
      return;
    }
    Compare(m, e, index, false, win32::kErrorInvalidAddress);
    return;
  }
  ++m->replayed;
  const uint64_t start = Start(m);
  const uint32_t error = manager_->VirtualFree(*t, e.size, e.flags);
  Time(m, e.op, start);
  Compare(m, e, index, error == 0, error);
  if (release && recorded_ok) {
    if (auto r = ranges_.RangeOf(RecordedAddr{e.addr})) {
      if (!failed_commits_.empty()) ForgetFailedCommits(r->first.value, r->first.value + r->second);
      ranges_.Remove(r->first, r->second);
    }
  } else if (release && error == 0) {
    ranges_.MarkDead(RecordedAddr{e.addr});  // Released here, still there in the recording.
  }
}

bool ReplayEngine::InFailedCommit(uint64_t start, uint64_t end) const {
  auto it = failed_commits_.upper_bound(start);
  if (it != failed_commits_.begin() && std::prev(it)->second > start) return true;
  return it != failed_commits_.end() && it->first < end;
}

void ReplayEngine::ForgetFailedCommits(uint64_t start, uint64_t end) {
  auto it = failed_commits_.upper_bound(start);
  if (it != failed_commits_.begin() && std::prev(it)->second > start) --it;
  while (it != failed_commits_.end() && it->first < end) {
    const auto [s, e] = *it;
    it = failed_commits_.erase(it);
    if (s < start) failed_commits_[s] = start;
    if (e > end) failed_commits_[end] = e;
  }
}

void ReplayEngine::ApplyVirtualProtect(const Event& e, uint64_t index, ReplayMetrics* m) {
  const auto [t, dead] = Translate(e.addr);
  if (dead || (!failed_commits_.empty() &&
               InFailedCommit(e.addr & ~(page_size_ - 1), PageUp(e.addr + e.size)))) {
    ++m->skipped_dependent;
    return;
  }
  if (!t) {
    if (RecordedOk(e)) {  // Counted, not compared (see ApplyVirtualAlloc).
      ++m->untranslatable;
      return;
    }
    Compare(m, e, index, false, win32::kErrorInvalidAddress);
    return;
  }
  ++m->replayed;
  uint32_t old = 0;
  const uint64_t start = Start(m);
  const uint32_t error = manager_->VirtualProtect(*t, e.size, e.protect, &old);
  Time(m, e.op, start);
  std::string detail;
  if (error == 0 && RecordedOk(e) && old != e.old_protect) {
    detail = "recorded old protection " + Hex(e.old_protect) + ", replay " + Hex(old);
  }
  Compare(m, e, index, error == 0, error, detail);
}

void ReplayEngine::ApplyVirtualQuery(const Event& e, uint64_t index, ReplayMetrics* m) {
  const auto [t, dead] = Translate(e.addr);
  if (dead) {
    ++m->skipped_dependent;
    return;
  }
  if (!t) {  // Real backend, foreign memory: nothing comparable to ask.
    ++m->untranslatable;
    return;
  }
  ++m->replayed;
  sim::MemoryBasicInformation info;
  uint32_t error = 0;
  const uint64_t start = Start(m);
  const uint64_t bytes = manager_->VirtualQuery(*t, &info, &error);
  Time(m, e.op, start);
  std::string detail;
  if (bytes != 0 && RecordedOk(e) && mode_ == CompareMode::kExact) {
    const sim::MemoryBasicInformation recorded{e.q_base,        e.q_alloc_base, e.q_alloc_protect,
                                               e.q_region_size, e.q_state,      e.q_protect,
                                               e.q_type};
    if (bytes != e.result || !(info == recorded)) {
      detail = "VirtualQuery answer differs: recorded base " + Hex(e.q_base) + " size " +
               std::to_string(e.q_region_size) + " state " + Hex(e.q_state) + ", replay base " +
               Hex(info.base_address) + " size " + std::to_string(info.region_size) + " state " +
               Hex(info.state);
    }
  }
  Compare(m, e, index, bytes != 0, error, detail);
}

// ------------------------------------------------------------------------------------ POSIX

void ReplayEngine::ApplyMmap(const Event& e, uint64_t index, ReplayMetrics* m) {
  using namespace linux_abi;
  const int fixed_flags = kMapFixed | kMapFixedNoReplace;
  int flags = static_cast<int>(e.flags);
  uint64_t address = identity_ ? e.addr : 0;
  if ((flags & fixed_flags) != 0) {
    const auto [t, dead] = Translate(e.addr);
    if (dead) {
      ++m->skipped_dependent;
      return;
    }
    if (t) {
      address = *t;
    } else {
      flags &= ~fixed_flags;  // Real backend: relocate instead of mapping over foreign memory.
      address = 0;
    }
  }
  ++m->replayed;
  const uint64_t start = Start(m);
  const VmResult r = manager_->Mmap(address, e.size, static_cast<int>(e.protect), flags, e.result);
  Time(m, e.op, start);
  const bool ok = r.error == 0;
  const bool recorded_ok = RecordedOk(e);
  std::string detail;
  if (ok && recorded_ok && r.address != e.result) {
    detail = "recorded result " + Hex(e.result) + ", replay " + Hex(r.address);
  }
  Compare(m, e, index, ok, r.error, detail);
  const uint64_t len = PageUp(e.size);
  if (recorded_ok && ok) {
    ranges_.Insert(RecordedAddr{e.result}, len, ReplayedAddr{r.address});
  } else if (recorded_ok) {
    ranges_.Insert(RecordedAddr{e.result}, len, ReplayedAddr{0}, /*dead=*/true);
  } else if (ok && (flags & fixed_flags) == 0) {
    manager_->Munmap(r.address, len);
  }
}

void ReplayEngine::ApplyRangeOp(const Event& e, uint64_t index, ReplayMetrics* m) {
  const uint64_t len = PageUp(e.size);
  const auto pieces = ranges_.Pieces(RecordedAddr{e.addr}, len);
  for (const auto& p : pieces) {
    if (p.dead) {
      ++m->skipped_dependent;
      if (e.op == Op::kMunmap && RecordedOk(e)) ranges_.Remove(RecordedAddr{e.addr}, len);
      return;
    }
  }
  ++m->replayed;
  uint32_t error = 0;
  bool gap = false;
  const uint64_t start = Start(m);
  for (const auto& p : pieces) {
    if (!p.mapped && !identity_) {
      gap = true;
      continue;
    }
    // Pass the recorded size when the call is one piece (backends see unrounded lengths).
    const uint64_t size = pieces.size() == 1 ? e.size : p.size;
    uint32_t err = 0;
    if (e.op == Op::kMunmap) {
      err = manager_->Munmap(p.replayed.value, size);
    } else if (e.op == Op::kMprotect) {
      err = manager_->Mprotect(p.replayed.value, size, static_cast<int>(e.protect));
    } else {
      err = manager_->Madvise(p.replayed.value, size, static_cast<int>(e.flags));
    }
    if (error == 0) error = err;
  }
  Time(m, e.op, start);
  // Unknown pages on a real backend: Linux answers ENOMEM for mprotect / madvise; munmap of
  // unmapped pages succeeds.
  if (gap && e.op != Op::kMunmap && error == 0) error = linux_abi::kEnomem;
  if (gap && RecordedOk(e) && e.op != Op::kMunmap) ++m->untranslatable;
  Compare(m, e, index, error == 0, error);
  if (e.op == Op::kMunmap && RecordedOk(e)) ranges_.Remove(RecordedAddr{e.addr}, len);
}

void ReplayEngine::ApplyMremap(const Event& e, uint64_t index, ReplayMetrics* m) {
  using namespace linux_abi;
  const auto [t, dead] = Translate(e.addr);
  if (dead) {
    ++m->skipped_dependent;
    return;
  }
  const bool recorded_ok = RecordedOk(e);
  if (!t) {
    if (recorded_ok) ++m->untranslatable;
    Compare(m, e, index, false, kEfault);
    return;
  }
  int flags = static_cast<int>(e.flags);
  uint64_t new_address = 0;
  if ((flags & kMremapFixed) != 0) {
    const std::optional<uint64_t> n = Translate(e.new_addr).address;
    if (n) {
      new_address = *n;
    } else {
      flags &= ~kMremapFixed;
    }
  }
  ++m->replayed;
  const uint64_t start = Start(m);
  const VmResult r = manager_->Mremap(*t, e.size, e.new_size, flags, new_address, e.result);
  Time(m, e.op, start);
  const bool ok = r.error == 0;
  std::string detail;
  if (ok && recorded_ok && r.address != e.result) {
    detail = "recorded result " + Hex(e.result) + ", replay " + Hex(r.address);
  }
  Compare(m, e, index, ok, r.error, detail);
  if (recorded_ok) {
    ranges_.Remove(RecordedAddr{e.addr}, PageUp(e.size));
    if (ok) {
      ranges_.Insert(RecordedAddr{e.result}, PageUp(e.new_size), ReplayedAddr{r.address});
    } else {
      manager_->Munmap(*t, e.size);  // The recording moved on; the stale mapping would only leak.
      ranges_.Insert(RecordedAddr{e.result}, PageUp(e.new_size), ReplayedAddr{0}, true);
    }
  } else if (ok) {
    ranges_.Remove(RecordedAddr{e.addr}, PageUp(e.size));
    ranges_.Insert(RecordedAddr{e.addr}, PageUp(e.new_size), ReplayedAddr{r.address});
  }
}

// ------------------------------------------------------------------------------------ Heap

void ReplayEngine::ApplyHeap(const Event& e, uint64_t index, ReplayMetrics* m) {
  ledger_.CountCall();
  // RecordedOk(e) for a heap call, where only the recorded error decides.
  const bool recorded_ok =
      !RecordedFailure(e) && !(e.result == 0 && e.op != Op::kFree && e.op != Op::kHostFree);
  uint64_t size = e.size;
  size_t alignment = 0;
  switch (e.op) {
    case Op::kFree:
    case Op::kHostFree: {
      if (e.addr == 0) {
        ++m->skipped_null_free;
        return;
      }
      const std::optional<HeapBlock> b = ledger_.Take(e.addr);
      if (!b) {
        ++m->untranslatable;
        return;
      }
      if (b->p == nullptr) {
        ++m->skipped_dependent;
        return;
      }
      ++m->replayed;
      ledger_.Release(b->size);  // Samples the footprint first when live was at a peak.
      const uint64_t start = Start(m);
      heap_->Free(b->p);
      Time(m, e.op, start);
      return;
    }
    case Op::kRealloc: {
      if (e.addr == 0) break;  // realloc(NULL, n) is malloc(n).
      const std::optional<HeapBlock> old = ledger_.Find(e.addr);
      if (!old) {
        ++m->untranslatable;
        return;
      }
      if (old->p == nullptr) {
        ++m->skipped_dependent;
        ledger_.Erase(e.addr);
        if (recorded_ok) ledger_.Add(e.result, nullptr, 0, index);
        return;
      }
      ++m->replayed;
      if (e.size == 0) {  // glibc: realloc(p, 0) frees p.
        ledger_.Release(old->size);
        const uint64_t start = Start(m);
        heap_->Free(old->p);
        Time(m, e.op, start);
        ledger_.Erase(e.addr);
        return;
      }
      const uint64_t start = Start(m);
      void* q = heap_->Realloc(old->p, old->size, e.size);
      Time(m, e.op, start);
      Compare(m, e, index, q != nullptr, q != nullptr ? 0 : linux_abi::kEnomem);
      if (q == nullptr && !recorded_ok) return;  // Both failed: the old block stays.
      ledger_.Erase(e.addr);
      ledger_.Release(old->size);
      if (q == nullptr) {  // Recorded success: the block moved on without the replay.
        heap_->Free(old->p);
        ledger_.Add(e.result, nullptr, 0, index);
        return;
      }
      ledger_.Add(recorded_ok ? e.result : e.addr, q, e.size, index);
      return;
    }
    case Op::kCalloc:
      if (e.count != 0 && e.size > UINT64_MAX / e.count) {
        size = UINT64_MAX;
      } else {
        size = e.count * e.size;
      }
      break;
    case Op::kPosixMemalign:
    case Op::kAlignedAlloc:
    case Op::kMemalign:
      alignment = e.alignment;
      break;
    case Op::kValloc:
      alignment = page_size_;
      break;
    case Op::kPvalloc:
      alignment = page_size_;
      size = PageUp(e.size);
      break;
    default:
      break;
  }
  if (alignment != 0 && (alignment & (alignment - 1)) != 0) {  // Invalid: fails with EINVAL.
    Compare(m, e, index, false, linux_abi::kEinval);
    return;
  }
  ++m->replayed;
  const uint64_t start = Start(m);
  void* p = size == UINT64_MAX ? nullptr : heap_->Alloc(size, alignment, e.level);
  Time(m, e.op, start);
  // Both succeeded: nothing to compare (a heap call has no exact-mode detail). Skipping the call
  // is most of a replay's allocations.
  if (p == nullptr || RecordedFailure(e)) {
    Compare(m, e, index, p != nullptr, p != nullptr ? 0 : linux_abi::kEnomem);
  }
  if (recorded_ok) {
    ledger_.Add(e.result, p, size, index);
  } else if (p != nullptr) {
    heap_->Free(p);  // Not in the recording: nothing will free it.
  }
}

void ReplayEngine::ApplyAddressSpaceHint(const Event& e, ReplayMetrics* m) {
  // Calls about mapped views (MapViewOfFile's address space): the manager may act on them; the
  // recorded addresses are the recording's (views are not replayed), so none is compared.
  ++m->replayed;
  const uint64_t start = Start(m);
  if (e.op == Op::kNeedsVirtualAddressSpace) {
    manager_->NeedsVirtualAddressSpace(e.addr, e.size);
  } else if (e.op == Op::kAcquiredVirtualAddressSpace) {
    manager_->AcquiredVirtualAddressSpace(e.addr, e.size);
  } else {
    manager_->ReleasedVirtualAddressSpace(e.addr);
  }
  Time(m, e.op, start);
}

void ReplayEngine::Finish() {
  metrics_->vm = platform_->stats();
  const ManagerStats ms = manager_->stats();
  metrics_->manager_figures = ms.figures;
  metrics_->notes = ms.notes;
  ledger_.Finish(metrics_);
}

// ------------------------------------------------------------------------------------ Driver

Status BackendCell(std::string_view backend, std::string* manager, std::string* platform) {
  if (backend == "sim" || backend == "os") {
    *manager = "passthrough";
    *platform = std::string(backend);
  } else if (backend == "arena") {
    *manager = "arena";
    *platform = "os";
  } else if (const size_t slash = backend.rfind('/'); slash != std::string_view::npos) {
    *manager = std::string(backend.substr(0, slash));
    *platform = std::string(backend.substr(slash + 1));
  } else {
    return Status::Error("unknown backend '" + std::string(backend) +
                         "' (sim, os, arena, or MANAGER/PLATFORM; vmreplay backends lists them)");
  }
  return Status::Ok();
}

Status ReplayTrace(const std::string& path, const ReplayOptions& given, ReplayMetrics* out,
                   ReplayObserver* observer) {
  std::unique_ptr<EventSource> source;
  VMREPLAY_RETURN_IF_ERROR(OpenTrace(path, &source));
  const proto::Header& h = source->header();
  ReplayOptions options = given;
  options.vm.windows = h.platform() != proto::PLATFORM_LINUX;
  if (h.page_size() != 0) options.vm.page_size = h.page_size();
  if (h.allocation_granularity() != 0) {
    options.vm.allocation_granularity = h.allocation_granularity();
  }
  if (h.physical_memory() != 0) options.vm.physical_memory = h.physical_memory();
  options.vm.foreign_mappings = ForeignMappingsOf(h);
  ManagerSpec spec;
  VMREPLAY_RETURN_IF_ERROR(ManagerSpec::Parse(options.manager, &spec));
  std::unique_ptr<Platform> platform;
  VMREPLAY_RETURN_IF_ERROR(MakePlatform(options.platform, options.vm, &platform));
  std::unique_ptr<HeapBackend> heap;
  VMREPLAY_RETURN_IF_ERROR(MakeHeapBackend(options.heap, options.heap_options, &heap));
  ManagerContext context;
  context.platform = platform.get();
  context.heap = heap.get();
  context.windows = options.vm.windows;
  context.physical_memory = options.vm.physical_memory;
  std::unique_ptr<Manager> manager;
  VMREPLAY_RETURN_IF_ERROR(MakeManager(spec, context, &manager));
  ReplayMetrics metrics;
  metrics.manager = spec.label();
  metrics.threaded = options.threaded;
  metrics.latency_every = options.latency_every;
  if (observer != nullptr) observer->OnStart(&metrics);
  const auto start = std::chrono::steady_clock::now();
  {
    ReplayEngine engine(manager.get(), options, h, &metrics, options.threaded);
    ProgressBar progress(options.progress, metrics.label());
    if (options.threaded) {
      VMREPLAY_RETURN_IF_ERROR(
          ReplayThreaded(*source, engine, *platform, options, &metrics, observer, progress));
    } else {
      PumpEvents(
          *source, progress, options.read_ahead,
          [&](const Event& e, uint64_t i) {
            const bool more = engine.Apply(e, i);
            if (observer != nullptr) observer->AfterEvent(e, i, *platform, metrics);
            return more;
          },
          engine);
    }
    engine.Finish();
  }
  metrics.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!metrics.stopped_early) VMREPLAY_RETURN_IF_ERROR(source->status());
  if (observer != nullptr) observer->OnFinish(&metrics);
  *out = std::move(metrics);
  return Status::Ok();
}

}  // namespace vmreplay::replay
