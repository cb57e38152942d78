#include "replayer/lift/vm_lift.h"

#include <algorithm>
#include <utility>

#include "replayer/lift/host_call.h"
#include "replayer/lift/runtime_abi.h"
#include "simulator/posix_constants.h"
#include "simulator/protection.h"
#include "simulator/win32_constants.h"

namespace vmreplay::lift {

using namespace linux_abi;

namespace {

// GCToOSInterface::VirtualReserve alignments that identify the GC's reservations.
constexpr uint64_t kGcHeapAlignment = 8192;        // card_size * card_word_width (gc virtual_alloc)
constexpr uint64_t kHandleTableSegment = 0x10000;  // HANDLE_SEGMENT_SIZE and _ALIGNMENT

// A call on [address, address + size).
Event OnRange(const Event& recorded, Op op, uint64_t address, uint64_t size) {
  Event out = HostCallAt(recorded, op);
  out.addr = address;
  out.size = size;
  return out;
}

Event VirtualAlloc(const Event& recorded, uint64_t address, uint64_t size, uint32_t type,
                   uint32_t protect) {
  Event out = OnRange(recorded, Op::kVirtualAlloc, address, size);
  out.flags = type;
  out.protect = protect;
  out.level = kETaskCritical;
  return out;
}

Event VirtualFree(const Event& recorded, uint64_t address, uint64_t size, uint32_t type) {
  Event out = OnRange(recorded, Op::kVirtualFree, address, size);
  out.flags = type;
  return out;
}

Event VirtualProtect(const Event& recorded, uint64_t address, uint64_t size, uint32_t protect) {
  Event out = OnRange(recorded, Op::kVirtualProtect, address, size);
  out.protect = protect;
  return out;
}

Event Acquired(const Event& recorded, uint64_t address, uint64_t size) {
  Event out = OnRange(recorded, Op::kAcquiredVirtualAddressSpace, address, size);
  out.hresult = kSOk;
  return out;
}

Event Released(const Event& recorded, uint64_t address) {
  Event out = HostCallAt(recorded, Op::kReleasedVirtualAddressSpace);
  out.addr = address;
  out.hresult = kSOk;
  return out;
}

bool IsLiftedReservation(const Mapping* m) {
  return m != nullptr && (m->role == Role::kReservation || m->role == Role::kCodeView);
}

bool IsView(const Mapping* m) {
  return m != nullptr && (m->role == Role::kFileView || m->role == Role::kWritableView ||
                          m->role == Role::kImageSection);
}

// Mappings that are not the VirtualAlloc family's: later calls on them are counted, not lifted.
bool NotTheRuntimes(const Mapping* m) {
  return m->role == Role::kDirect || m->role == Role::kStack || m->role == Role::kSystem;
}

Mapping MakeMapping(Role role, uint64_t base, uint64_t length, Owner owner = Owner::kRuntime,
                    int fd = -1) {
  Mapping m;
  m.role = role;
  m.owner = owner;
  m.base = base;
  m.length = length;
  m.fd = fd;
  return m;
}

}  // namespace

VmLift::VmLift(const sim::AddressSpaceConfig& config, std::set<uint64_t> pools, LiftStats* stats)
    : model_(config), page_(config.page_size), pools_(std::move(pools)), stats_(stats) {}

// ------------------------------------------------------------------------------ Open patterns

bool VmLift::Continue(const Event& e, uint64_t index, std::vector<Event>* out) {
  const bool placed = e.op == Op::kMmap && (e.flags & (kMapFixed | kMapFixedNoReplace)) == 0;
  const uint64_t start = placed ? e.result : e.addr;
  const uint64_t end = start + PageUp(e.size);
  std::vector<std::pair<uint64_t, uint64_t>> touched;  // (first index, thread)
  for (const auto& [thread, open] : open_) {
    if (thread != e.thread && open.start < end && start < open.end) {
      touched.emplace_back(open.first_index, thread);
    }
  }
  std::sort(touched.begin(), touched.end());
  for (const auto& t : touched) Complete(t.second, out);
  auto own = open_.find(e.thread);
  if (own == open_.end()) return false;
  if (Fold(&own->second, e, index, out)) return true;
  Complete(e.thread, out);
  return false;
}

bool VmLift::Fold(Open* open, const Event& e, uint64_t index, std::vector<Event>* out) {
  if (e.error != 0) return false;
  const uint64_t start = e.addr;
  const uint64_t end = e.addr + PageUp(e.size);
  const bool same_range = start == open->start && end == open->end;
  const uint64_t thread = e.thread;
  switch (open->kind) {
    case Open::Kind::kReserve:
      if (e.op == Op::kMunmap && end < open->end && start == open->start) {
        open->start = end;  // head padding
      } else if (e.op == Op::kMunmap && start > open->start && end == open->end) {
        open->end = start;  // tail padding
      } else if (e.op == Op::kMadvise && e.flags == kMadvDontDump && same_range) {
        open->last_end_ns = EndOf(e);
        stats_->CountNotLifted(NotLifted::kFolded, e.op, index);
        const Open done = *open;
        open_.erase(thread);
        CompleteReserve(done, true, -1, out);
        return true;
      } else if (e.op == Op::kMprotect && e.protect != kProtNone && open->trimmed == 0 &&
                 same_range) {
        open->last_end_ns = EndOf(e);
        stats_->CountNotLifted(NotLifted::kFolded, e.op, index);
        const Open done = *open;
        open_.erase(thread);
        CompleteReserve(done, false, static_cast<int>(e.protect), out);
        return true;
      } else {
        return false;
      }
      open->trimmed += end - start;
      open->last_end_ns = EndOf(e);
      stats_->CountNotLifted(NotLifted::kFolded, e.op, index);
      return true;
    case Open::Kind::kFold:
      if (e.op != Op::kMadvise || static_cast<int>(e.flags) != open->fold_advice || !same_range) {
        return false;
      }
      open->last_end_ns = EndOf(e);
      stats_->CountNotLifted(NotLifted::kFolded, e.op, index);
      Complete(thread, out);
      return true;
    case Open::Kind::kViewRelease: {
      if (e.op != Op::kMunmap || !same_range) return false;
      const Open done = *open;
      open_.erase(thread);
      Event release = VirtualFree(done.first, done.start, 0, win32::kMemRelease);
      release.latency_ns = EndOf(e) - release.timestamp_ns;
      layout_.Erase(done.start, done.end);
      if (Apply(&release, 0, Op::kMmap, done.first_index)) {
        stats_->CountLifted(Lifted::kCodeViewRelease);
        out->push_back(release);
      }
      stats_->CountNotLifted(NotLifted::kFolded, e.op, index);
      return true;
    }
  }
  return false;
}

void VmLift::Complete(uint64_t thread, std::vector<Event>* out) {
  auto it = open_.find(thread);
  if (it == open_.end()) return;
  const Open open = it->second;
  open_.erase(it);
  switch (open.kind) {
    case Open::Kind::kReserve:
      CompleteReserve(open, false, -1, out);
      return;
    case Open::Kind::kFold:
      if (open.pending) {
        Event lifted = open.lifted;
        lifted.latency_ns = open.last_end_ns - lifted.timestamp_ns;
        out->push_back(lifted);
      }
      return;
    case Open::Kind::kViewRelease:
      stats_->CountUnclassified(Unclassified::kViewRemapWithoutRelease, Op::kMmap,
                                open.first_index);
      return;
  }
}

void VmLift::CompleteReserve(const Open& open, bool advice, int commit_prot,
                             std::vector<Event>* out) {
  const uint64_t length = open.end - open.start;
  if (pools_.count(open.first_index) != 0) {
    stats_->CountNotLifted(NotLifted::kExecutablePool, Op::kMmap, open.first_index);
    layout_.Insert(open.start, open.end, MakeMapping(Role::kPool, open.start, length));
    pool_ranges_.emplace_back(open.start, open.end);
    return;
  }
  Lifted pattern = Lifted::kReserveWithoutAdvice;
  Owner owner = Owner::kRuntime;
  if (open.trimmed != 0) {
    const uint64_t alignment = open.trimmed + page_;
    if (alignment == kGcHeapAlignment) {
      pattern = Lifted::kGcHeapReserve;
      owner = Owner::kGcHeap;
    } else if (alignment == kHandleTableSegment && length == kHandleTableSegment) {
      pattern = Lifted::kGcHandleTableReserve;
      owner = Owner::kGcHandleTable;
    } else {
      pattern = Lifted::kAlignedReserve;
    }
  } else if (commit_prot >= 0) {
    pattern = Lifted::kReserveAndCommit;
  } else if (advice) {
    pattern = Lifted::kReserve;
  }
  const bool commit = commit_prot >= 0;
  Event lifted = VirtualAlloc(
      open.first, open.first.addr, length, win32::kMemReserve | (commit ? win32::kMemCommit : 0),
      commit ? sim::ProtectionFromPosix(commit_prot) : win32::kPageNoAccess);
  lifted.latency_ns = open.last_end_ns - lifted.timestamp_ns;
  if (!Apply(&lifted, open.start, Op::kMmap, open.first_index)) {
    layout_.Insert(open.start, open.end, MakeMapping(Role::kUnlifted, open.start, length));
    return;
  }
  stats_->CountLifted(pattern);
  layout_.Insert(open.start, open.end, MakeMapping(Role::kReservation, open.start, length, owner));
  if (owner != Owner::kRuntime) gc_reservations_.push_back({open.start, length, owner});
  out->push_back(lifted);
}

VmLift::Open* VmLift::OpenPattern(Open::Kind kind, const Event& e, uint64_t index, uint64_t start,
                                  uint64_t end) {
  Open& open = open_[e.thread];
  open = Open();
  open.kind = kind;
  open.first_index = index;
  open.first = e;
  open.start = start;
  open.end = end;
  open.last_end_ns = EndOf(e);
  return &open;
}

void VmLift::OpenFold(const Event& e, uint64_t index, const Event& lifted, int advice) {
  Open* open = OpenPattern(Open::Kind::kFold, e, index, e.addr, e.addr + PageUp(e.size));
  open->pending = true;
  open->lifted = lifted;
  open->fold_advice = advice;
}

void VmLift::Finish(std::vector<Event>* out) {
  std::vector<std::pair<uint64_t, uint64_t>> order;
  for (const auto& [thread, open] : open_) order.emplace_back(open.first_index, thread);
  std::sort(order.begin(), order.end());
  for (const auto& o : order) Complete(o.second, out);
}

// ---------------------------------------------------------------------------------- Calls

bool VmLift::Apply(Event* lifted, uint64_t recorded_address, Op recorded_op, uint64_t index) {
  sim::AddressSpace& space = model_.space();
  uint32_t error = 0;
  switch (lifted->op) {
    case Op::kVirtualAlloc: {
      const sim::AllocOutcome o = space.VirtualAlloc(lifted->addr, lifted->size, lifted->flags,
                                                     lifted->protect, recorded_address);
      error = o.error;
      const bool reserve = (lifted->flags & win32::kMemReserve) != 0;
      if (error == 0 && reserve && recorded_address != 0 && o.address != recorded_address) {
        space.VirtualFree(o.address, 0, win32::kMemRelease);  // placed elsewhere: not faithful
        error = win32::kErrorInvalidAddress;
      }
      lifted->result = error == 0 ? o.address : 0;
      break;
    }
    case Op::kVirtualFree:
      error = space.VirtualFree(lifted->addr, lifted->size, lifted->flags);
      break;
    case Op::kVirtualProtect:
      error =
          space.VirtualProtect(lifted->addr, lifted->size, lifted->protect, &lifted->old_protect);
      break;
    default:
      return true;
  }
  if (error != 0) {
    stats_->CountUnclassified(Unclassified::kRefusedByWin32Rules, recorded_op, index);
    return false;
  }
  lifted->hresult = kSOk;
  lifted->error = 0;
  return true;
}

const Mapping* VmLift::MappingOf(const Event& e, uint64_t index, uint64_t start, uint64_t end,
                                 uint64_t* mapping_start) {
  const Mapping* m = layout_.Containing(start, end, mapping_start);
  if (m == nullptr) {
    stats_->CountUnclassified(
        layout_.Overlaps(start, end) ? Unclassified::kSpansMappings : Unclassified::kUnknownMemory,
        e.op, index);
  }
  return m;
}

void VmLift::NotLiftedOn(const Mapping* m, const Event& e, uint64_t index) {
  stats_->CountNotLifted(m->role == Role::kStack    ? NotLifted::kThreadStack
                         : m->role == Role::kSystem ? NotLifted::kSystemMapping
                                                    : NotLifted::kDirectMapping,
                         e.op, index);
}

void VmLift::LiftSystemCall(const Event& e, uint64_t index) {
  stats_->CountNotLifted(NotLifted::kSystemMapping, e.op, index);
  if (e.error != 0) return;
  switch (e.op) {
    case Op::kMmap:
      layout_.Insert(e.result, e.result + PageUp(e.size),
                     MakeMapping(Role::kSystem, e.result, PageUp(e.size)));
      return;
    case Op::kMunmap:
      layout_.Erase(e.addr, e.addr + PageUp(e.size));
      return;
    case Op::kMremap:
      layout_.Erase(e.addr, e.addr + PageUp(e.size));
      layout_.Insert(e.result, e.result + PageUp(e.new_size),
                     MakeMapping(Role::kSystem, e.result, PageUp(e.new_size)));
      return;
    default:  // mprotect, madvise: the mapping stays glibc's or ld.so's
      return;
  }
}

void VmLift::Lift(const Event& e, uint64_t index, std::vector<Event>* out) {
  if (e.origin == static_cast<uint32_t>(CallOrigin::kLibc) ||
      e.origin == static_cast<uint32_t>(CallOrigin::kLoader)) {
    LiftSystemCall(e, index);
    return;
  }
  if (Continue(e, index, out)) return;
  switch (e.op) {
    case Op::kMmap:
      LiftMmap(e, index, out);
      return;
    case Op::kMunmap:
      LiftMunmap(e, index, out);
      return;
    case Op::kMprotect:
      LiftMprotect(e, index);
      return;
    case Op::kMadvise:
      LiftMadvise(e, index);
      return;
    case Op::kMremap:
      stats_->CountUnclassified(Unclassified::kMremap, e.op, index);
      if (e.error == 0) {
        layout_.Erase(e.addr, e.addr + PageUp(e.size));
        layout_.Insert(e.result, e.result + PageUp(e.new_size),
                       MakeMapping(Role::kUnlifted, e.result, PageUp(e.new_size)));
      }
      return;
    default:
      return;
  }
}

void VmLift::LiftMmap(const Event& e, uint64_t index, std::vector<Event>* out) {
  if (e.error != 0) {
    stats_->CountUnclassified(Unclassified::kSyscallFailed, e.op, index);
    return;
  }
  const int flags = static_cast<int>(e.flags);
  const bool anonymous = (flags & kMapAnonymous) != 0;
  const bool fixed = (flags & (kMapFixed | kMapFixedNoReplace)) != 0;
  const bool shared = (flags & kMapTypeMask) == kMapShared;
  const uint64_t length = PageUp(e.size);
  const uint64_t start = fixed ? e.addr : e.result;
  const uint64_t end = start + length;
  uint64_t m_start = 0;
  const Mapping* m = fixed ? layout_.Containing(start, end, &m_start) : nullptr;

  if (anonymous && !fixed) {
    if ((flags & kMapStack) != 0) {
      layout_.Insert(start, end, MakeMapping(Role::kStack, start, length));
      stats_->CountNotLifted(NotLifted::kThreadStack, e.op, index);
    } else if (e.protect != kProtNone) {
      layout_.Insert(start, end, MakeMapping(Role::kDirect, start, length));
      stats_->CountNotLifted(NotLifted::kDirectMapping, e.op, index);
    } else if (e.addr != 0 && e.result != e.addr) {
      layout_.Insert(start, end, MakeMapping(Role::kUnlifted, start, length));
      stats_->CountUnclassified(Unclassified::kHintMissed, e.op, index);
    } else {
      OpenPattern(Open::Kind::kReserve, e, index, start, end);
    }
    return;
  }

  if (anonymous) {  // MAP_FIXED over something
    if (IsLiftedReservation(m) && e.protect == kProtNone) {
      Event lifted = VirtualFree(e, start, length, win32::kMemDecommit);
      if (Apply(&lifted, 0, e.op, index)) {
        stats_->CountLifted(Lifted::kDecommit);
        OpenFold(e, index, lifted, kMadvDontDump);
      }
    } else if (m != nullptr && NotTheRuntimes(m)) {
      NotLiftedOn(m, e, index);
    } else if (m != nullptr && m->role == Role::kPool) {
      stats_->CountUnclassified(Unclassified::kPoolOutsideView, e.op, index);
    } else if (m != nullptr && m->role == Role::kUnlifted) {
      stats_->CountUnclassified(Unclassified::kUnliftedMapping, e.op, index);
    } else {
      stats_->CountUnclassified(layout_.Overlaps(start, end) ? Unclassified::kFixedOverOther
                                                             : Unclassified::kUnknownMemory,
                                e.op, index);
      layout_.Insert(start, end, MakeMapping(Role::kUnlifted, start, length));
    }
    return;
  }

  // A file.
  if (!fixed) {
    const bool writable_alias =
        shared && double_mapping_fds_.count(e.fd) != 0 && (e.protect & kProtWrite) != 0;
    const Role role = writable_alias ? Role::kWritableView : Role::kFileView;
    layout_.Insert(start, end, MakeMapping(role, start, length, Owner::kRuntime, e.fd));
    stats_->CountLifted(writable_alias ? Lifted::kWritableView : Lifted::kFileView);
    out->push_back(Acquired(e, start, length));
    return;
  }
  if (m != nullptr && m->role == Role::kPool && shared && e.protect == kProtNone) {
    Event lifted = VirtualAlloc(e, 0, length, win32::kMemReserve, win32::kPageNoAccess);
    if (!Apply(&lifted, start, e.op, index)) return;
    layout_.Insert(start, end, MakeMapping(Role::kCodeView, start, length, Owner::kRuntime, e.fd));
    double_mapping_fds_.insert(e.fd);
    stats_->CountLifted(Lifted::kCodeViewReserve);
    out->push_back(lifted);
  } else if (m != nullptr && (m->role == Role::kPool || m->role == Role::kImageSection) &&
             !shared) {
    layout_.Insert(start, end,
                   MakeMapping(Role::kImageSection, start, length, Owner::kRuntime, e.fd));
    stats_->CountLifted(Lifted::kImageSection);
    out->push_back(Acquired(e, start, length));
  } else if (m != nullptr && m->role == Role::kCodeView && m_start == start && m->end == end &&
             shared && e.protect != kProtNone) {
    OpenPattern(Open::Kind::kViewRelease, e, index, start, end);
  } else {
    stats_->CountUnclassified(
        layout_.Overlaps(start, end) ? Unclassified::kFixedOverOther : Unclassified::kUnknownMemory,
        e.op, index);
  }
}

void VmLift::LiftMunmap(const Event& e, uint64_t index, std::vector<Event>* out) {
  if (e.error != 0) {
    stats_->CountUnclassified(Unclassified::kSyscallFailed, e.op, index);
    return;
  }
  const uint64_t start = e.addr;
  const uint64_t end = start + PageUp(e.size);
  uint64_t m_start = 0;
  const Mapping* m = MappingOf(e, index, start, end, &m_start);
  if (m == nullptr) {
    layout_.Erase(start, end);
    return;
  }
  const bool whole =
      m_start == start && m->end == end && m->base == start && m->length == end - start;
  const Mapping mapping = *m;
  layout_.Erase(start, end);
  if (IsLiftedReservation(&mapping) && whole) {
    Event lifted = VirtualFree(e, start, 0, win32::kMemRelease);
    if (!Apply(&lifted, 0, e.op, index)) return;
    stats_->CountLifted(mapping.role == Role::kCodeView ? Lifted::kCodeViewRelease
                                                        : Lifted::kRelease);
    out->push_back(lifted);
  } else if (IsView(&mapping) && whole) {
    stats_->CountLifted(Lifted::kViewRelease);
    out->push_back(Released(e, start));
  } else if (NotTheRuntimes(&mapping)) {
    NotLiftedOn(&mapping, e, index);
  } else if (mapping.role == Role::kPool) {
    stats_->CountUnclassified(Unclassified::kPoolOutsideView, e.op, index);
  } else if (mapping.role == Role::kUnlifted) {
    stats_->CountUnclassified(Unclassified::kUnliftedMapping, e.op, index);
  } else {
    stats_->CountUnclassified(Unclassified::kPartialRelease, e.op, index);
  }
}

void VmLift::LiftMprotect(const Event& e, uint64_t index) {
  if (e.error != 0) {
    stats_->CountUnclassified(Unclassified::kSyscallFailed, e.op, index);
    return;
  }
  const uint64_t start = e.addr;
  const uint64_t end = start + PageUp(e.size);
  const Mapping* m = MappingOf(e, index, start, end, nullptr);
  if (m == nullptr) return;  // counted as unclassified
  if (IsLiftedReservation(m)) {
    const bool committed = model_.AllCommitted(start, end);
    const uint32_t protect = sim::ProtectionFromPosix(static_cast<int>(e.protect));
    if (e.protect == kProtNone && !committed) {
      stats_->CountUnclassified(Unclassified::kProtectUncommitted, e.op, index);
      return;
    }
    // A PAL VirtualProtect advises PAGE_NOACCESS memory out of core dumps and the rest in.
    const int advice = e.protect == kProtNone ? kMadvDontDump : kMadvDoDump;
    Event lifted = committed ? VirtualProtect(e, start, e.size, protect)
                             : VirtualAlloc(e, start, e.size, win32::kMemCommit, protect);
    if (!Apply(&lifted, 0, e.op, index)) return;
    stats_->CountLifted(committed ? Lifted::kProtect : Lifted::kCommit);
    OpenFold(e, index, lifted, advice);
  } else if (IsView(m)) {
    stats_->CountNotLifted(NotLifted::kViewProtect, e.op, index);
  } else if (NotTheRuntimes(m)) {
    NotLiftedOn(m, e, index);
  } else if (m->role == Role::kPool) {
    stats_->CountUnclassified(Unclassified::kPoolOutsideView, e.op, index);
  } else {
    stats_->CountUnclassified(Unclassified::kUnliftedMapping, e.op, index);
  }
}

void VmLift::LiftMadvise(const Event& e, uint64_t index) {
  const int advice = static_cast<int>(e.flags);
  const bool refused_reset = advice == kMadvFreeAndDontDump && e.error == kEinval;
  if (e.error != 0 && !refused_reset) {
    stats_->CountUnclassified(Unclassified::kSyscallFailed, e.op, index);
    return;
  }
  const bool reset =
      advice == kMadvFree || advice == kMadvDontNeed || advice == kMadvFreeAndDontDump;
  const bool coredump = advice == kMadvDontDump || advice == kMadvDoDump;
  const uint64_t start = e.addr;
  const uint64_t end = start + PageUp(e.size);
  const Mapping* m = MappingOf(e, index, start, end, nullptr);
  if (m == nullptr) return;  // counted as unclassified
  if (m->role == Role::kPool) {
    stats_->CountUnclassified(Unclassified::kPoolOutsideView, e.op, index);
  } else if (m->role == Role::kUnlifted) {
    stats_->CountUnclassified(Unclassified::kUnliftedMapping, e.op, index);
  } else if (coredump) {
    stats_->CountNotLifted(NotLifted::kCoredumpAdvice, e.op, index);
  } else if (reset && IsLiftedReservation(m)) {
    Event lifted = VirtualAlloc(e, start, e.size, win32::kMemReset, win32::kPageReadWrite);
    if (!Apply(&lifted, 0, e.op, index)) return;
    stats_->CountLifted(refused_reset ? Lifted::kResetRefusedByKernel : Lifted::kReset);
    OpenFold(e, index, lifted, kMadvDontDump);
  } else if (NotTheRuntimes(m)) {
    NotLiftedOn(m, e, index);
  } else {
    stats_->CountNotLifted(NotLifted::kOtherAdvice, e.op, index);
  }
}

}  // namespace vmreplay::lift
