#include "replayer/importers/strace_importer.h"

#include <string.h>

#include <unordered_map>

#include "replayer/importers/parse_util.h"
#include "simulator/posix_constants.h"

namespace vmreplay::importers {
namespace {

struct Name {
  std::string_view name;
  uint32_t value;
};
constexpr Name kProt[] = {{"PROT_NONE", 0},
                          {"PROT_READ", 0x1},
                          {"PROT_WRITE", 0x2},
                          {"PROT_EXEC", 0x4},
                          {"PROT_SEM", 0x8},
                          {"PROT_GROWSDOWN", 0x01000000},
                          {"PROT_GROWSUP", 0x02000000}};
constexpr Name kMap[] = {{"MAP_SHARED", 0x01},
                         {"MAP_PRIVATE", 0x02},
                         {"MAP_SHARED_VALIDATE", 0x03},
                         {"MAP_FIXED", 0x10},
                         {"MAP_ANONYMOUS", 0x20},
                         {"MAP_32BIT", 0x40},
                         {"MAP_GROWSDOWN", 0x100},
                         {"MAP_DENYWRITE", 0x800},
                         {"MAP_EXECUTABLE", 0x1000},
                         {"MAP_LOCKED", 0x2000},
                         {"MAP_NORESERVE", 0x4000},
                         {"MAP_POPULATE", 0x8000},
                         {"MAP_NONBLOCK", 0x10000},
                         {"MAP_STACK", 0x20000},
                         {"MAP_HUGETLB", 0x40000},
                         {"MAP_SYNC", 0x80000},
                         {"MAP_FIXED_NOREPLACE", 0x100000},
                         {"MAP_UNINITIALIZED", 0x4000000}};
constexpr Name kMremap[] = {{"MREMAP_MAYMOVE", 1}, {"MREMAP_FIXED", 2}, {"MREMAP_DONTUNMAP", 4}};
constexpr Name kMadv[] = {
    {"MADV_NORMAL", 0},           {"MADV_RANDOM", 1},         {"MADV_SEQUENTIAL", 2},
    {"MADV_WILLNEED", 3},         {"MADV_DONTNEED", 4},       {"MADV_FREE", 8},
    {"MADV_REMOVE", 9},           {"MADV_DONTFORK", 10},      {"MADV_DOFORK", 11},
    {"MADV_MERGEABLE", 12},       {"MADV_UNMERGEABLE", 13},   {"MADV_HUGEPAGE", 14},
    {"MADV_NOHUGEPAGE", 15},      {"MADV_DONTDUMP", 16},      {"MADV_DODUMP", 17},
    {"MADV_WIPEONFORK", 18},      {"MADV_KEEPONFORK", 19},    {"MADV_COLD", 20},
    {"MADV_PAGEOUT", 21},         {"MADV_POPULATE_READ", 22}, {"MADV_POPULATE_WRITE", 23},
    {"MADV_DONTNEED_LOCKED", 24}, {"MADV_COLLAPSE", 25},      {"MADV_HWPOISON", 100},
    {"MADV_SOFT_OFFLINE", 101}};

constexpr uint64_t kMapFailed = ~uint64_t{0};
constexpr uint64_t kDayNs = 86'400'000'000'000ull;

// "A|B|0x40" with names from `table`; MAP_HUGE_2MB style size encodings accepted for mmap.
template <size_t N>
bool ParseFlags(std::string_view s, const Name (&table)[N], uint32_t* out) {
  uint32_t v = 0;
  while (!s.empty()) {
    const size_t bar = s.find('|');
    const std::string_view part = s.substr(0, bar);
    bool found = false;
    for (const Name& n : table) {
      if (part == n.name) {
        v |= n.value;
        found = true;
        break;
      }
    }
    if (!found) {
      uint64_t num;
      if (part.starts_with("MAP_HUGE_") && part.size() > 11) {
        // MAP_HUGE_<n>KB|MB|GB: log2 of the page size in bits 26..31.
        std::string_view unit = part.substr(part.size() - 2);
        if (!ParseU64(part.substr(9, part.size() - 11), &num) || num == 0) return false;
        const int shift = unit == "KB" ? 10 : unit == "MB" ? 20 : unit == "GB" ? 30 : -1;
        if (shift < 0) return false;
        int log = shift;
        while (num > 1) {
          num >>= 1;
          ++log;
        }
        v |= static_cast<uint32_t>(log) << 26;
      } else if (ParseU64(part, &num) && num <= UINT32_MAX) {
        v |= static_cast<uint32_t>(num);
      } else {
        return false;
      }
    }
    if (bar == std::string_view::npos) break;
    s.remove_prefix(bar + 1);
  }
  *out = v;
  return true;
}

bool ParseAddr(std::string_view s, uint64_t* out) {
  if (s == "NULL") {
    *out = 0;
    return true;
  }
  return ParseU64(s, out);
}

// errno from its name ("ENOMEM"), through glibc's own table.
bool ErrnoByName(std::string_view name, uint32_t* out) {
  for (int e = 1; e < 200; ++e) {
    const char* n = strerrorname_np(e);
    if (n != nullptr && name == n) {
      *out = static_cast<uint32_t>(e);
      return true;
    }
  }
  return false;
}

struct Pending {
  std::string text;  // "NAME(ARGS" up to the unfinished marker
  uint64_t time_ns;
  bool has_time;
  uint64_t line;
};

class StraceParser : public LineParser {
 public:
  explicit StraceParser(std::string name) : name_(std::move(name)) {}

  Status Line(std::string_view line, uint64_t n, EventSink* sink, ImportStats* stats) override {
    std::string_view s = Trim(line);
    if (s.empty()) {
      ++stats->ignored;
      return Status::Ok();
    }
    uint64_t pid = 0;
    if (s.starts_with("[pid")) {
      const size_t close = s.find(']');
      if (close == std::string_view::npos || !ParseU64(Trim(s.substr(4, close - 4)), &pid)) {
        return Error(n, "bad '[pid N]' prefix");
      }
      s = Trim(s.substr(close + 1));
    } else if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
      // Either the PID column (-f) or a timestamp; a PID has only digits.
      const size_t sp = s.find(' ');
      const std::string_view first = s.substr(0, sp);
      if (first.find_first_not_of("0123456789") == std::string_view::npos) {
        if (!ParseU64(first, &pid)) return Error(n, "bad pid");
        s = sp == std::string_view::npos ? std::string_view() : Trim(s.substr(sp));
      }
    }
    uint64_t time_ns = 0;
    bool has_time = false;
    if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
      const size_t sp = s.find(' ');
      if (!ParseTime(s.substr(0, sp), &time_ns)) {
        return Error(n,
                     "bad timestamp '" + std::string(s.substr(0, std::min(sp, size_t{32}))) + "'");
      }
      has_time = true;
      s = sp == std::string_view::npos ? std::string_view() : Trim(s.substr(sp));
    }
    if (s.starts_with("+++") || s.starts_with("---")) {
      ++stats->ignored;
      return Status::Ok();
    }
    if (s.starts_with("<...")) {
      const size_t mark = s.find(" resumed>");
      if (mark == std::string_view::npos) return Error(n, "'<...' without 'resumed>'");
      const std::string_view call = Trim(s.substr(4, mark - 4));
      auto it = pending_.find(pid);
      if (it == pending_.end()) {
        return Error(n, "'" + std::string(call) + " resumed' of pid " + std::to_string(pid) +
                            " that has no unfinished call");
      }
      if (!std::string_view(it->second.text).starts_with(std::string(call) + "(")) {
        return Error(n, "'" + std::string(call) + " resumed' but the unfinished call of pid " +
                            std::to_string(pid) + " (line " + std::to_string(it->second.line) +
                            ") is another");
      }
      Pending p = std::move(it->second);
      pending_.erase(it);
      std::string full = p.text;
      full += s.substr(mark + 9);
      return Call(full, n, pid, p.has_time, p.time_ns, sink, stats);
    }
    const size_t unfinished = s.find(" <unfinished ...>");
    if (unfinished != std::string_view::npos) {
      if (pending_.count(pid) != 0) {
        return Error(n, "pid " + std::to_string(pid) + " starts a call while one is unfinished");
      }
      if (pending_.size() >= 65536) return Error(n, "more than 65536 unfinished calls");
      pending_[pid] = Pending{std::string(s.substr(0, unfinished)), time_ns, has_time, n};
      return Status::Ok();
    }
    return Call(s, n, pid, has_time, time_ns, sink, stats);
  }

  Status Finish(uint64_t, EventSink*, ImportStats* stats) override {
    // Calls still unfinished at the end (the process was killed inside them) have no outcome.
    stats->ignored += pending_.size();
    pending_.clear();
    return Status::Ok();
  }

 private:
  // "HH:MM:SS[.frac]" (-t, -tt) or "SECONDS[.frac]" (-ttt, -r).
  bool ParseTime(std::string_view s, uint64_t* out) {
    if (s.find(':') == std::string_view::npos) return ParseSecondsNs(s, out);
    if (s.size() < 8 || s[2] != ':' || s[5] != ':') return false;
    uint64_t h, m, sec_ns;
    if (!ParseU64(s.substr(0, 2), &h) || !ParseU64(s.substr(3, 2), &m) ||
        !ParseSecondsNs(s.substr(6), &sec_ns) || h > 23 || m > 59) {
      return false;
    }
    uint64_t t = (h * 3600 + m * 60) * 1'000'000'000ull + sec_ns + day_offset_;
    // Time of day going back by more than 12 h: the trace crossed midnight.
    if (have_last_ && t + kDayNs / 2 < last_time_) {
      day_offset_ += kDayNs;
      t += kDayNs;
    }
    have_last_ = true;
    last_time_ = t;
    *out = t;
    return true;
  }

  Status Call(std::string_view s, uint64_t n, uint64_t pid, bool has_time, uint64_t time_ns,
              EventSink* sink, ImportStats* stats) {
    const size_t open = s.find('(');
    // The ')' that closes the arguments is the last one followed by (padding and) "= "; the
    // result text itself may hold parentheses ("-1 ENOMEM (Cannot allocate memory)").
    size_t eq = std::string_view::npos;
    for (size_t at = s.rfind(')'); at != std::string_view::npos && at > open;
         at = s.rfind(')', at - 1)) {
      const size_t next = s.find_first_not_of(' ', at + 1);
      if (next != std::string_view::npos && s.substr(next).starts_with("= ")) {
        eq = at;
        break;
      }
    }
    if (open == std::string_view::npos || eq == std::string_view::npos) {
      return Error(n, "expected 'NAME(ARGS) = RESULT'");
    }
    const std::string_view name = s.substr(0, open);
    std::vector<std::string_view> args;
    std::string_view a = s.substr(open + 1, eq - open - 1);
    while (!a.empty()) {
      const size_t comma = a.find(',');
      args.push_back(Trim(a.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      a.remove_prefix(comma + 1);
    }
    std::string_view ret = Trim(s.substr(s.find('=', eq) + 1));
    uint64_t latency = 0;
    if (const size_t lt = ret.rfind(" <"); lt != std::string_view::npos && ret.back() == '>') {
      if (!ParseSecondsNs(ret.substr(lt + 2, ret.size() - lt - 3), &latency)) {
        return Error(n, "bad call duration '" + std::string(ret.substr(lt)) + "'");
      }
      ret = ret.substr(0, lt);
    }
    std::vector<std::string_view> rw = SplitWords(ret);
    if (rw.empty()) return Error(n, "missing result after '='");
    if (rw[0] == "?") {  // the process exited during the call
      ++stats->ignored;
      return Status::Ok();
    }
    Event e;
    e.thread = pid;
    uint64_t result = 0;
    if (rw[0] == "-1" && rw.size() >= 2) {
      if (!ErrnoByName(rw[1], &e.error)) {
        return Error(n, "unknown errno name '" + std::string(rw[1].substr(0, 24)) + "'");
      }
    } else if (!ParseU64(rw[0], &result)) {
      return Error(n, "bad result '" + std::string(rw[0].substr(0, 32)) + "'");
    }
    auto want = [&](size_t k) -> Status {
      if (args.size() == k) return Status::Ok();
      return Error(n, std::string(name) + " wants " + std::to_string(k) + " arguments, got " +
                          std::to_string(args.size()));
    };
    bool ok = true;
    if (name == "mmap") {
      VMREPLAY_RETURN_IF_ERROR(want(6));
      e.op = Op::kMmap;
      int64_t fd = 0;
      ok = ParseAddr(args[0], &e.addr) && ParseU64(args[1], &e.size) &&
           ParseFlags(args[2], kProt, &e.protect) && ParseFlags(args[3], kMap, &e.flags) &&
           ParseI64(args[4], &fd) && ParseU64(args[5], &e.offset);
      // A descriptor is an int: a wider number is a bad line, not one to truncate silently.
      if (ok && (fd < INT32_MIN || fd > INT32_MAX)) {
        return Error(n, "mmap fd " + std::to_string(fd) + " is out of range");
      }
      e.fd = static_cast<int32_t>(fd);
      e.result = e.error != 0 ? kMapFailed : result;
    } else if (name == "munmap") {
      VMREPLAY_RETURN_IF_ERROR(want(2));
      e.op = Op::kMunmap;
      ok = ParseAddr(args[0], &e.addr) && ParseU64(args[1], &e.size);
    } else if (name == "mremap") {
      if (args.size() != 4 && args.size() != 5) VMREPLAY_RETURN_IF_ERROR(want(4));
      e.op = Op::kMremap;
      ok = ParseAddr(args[0], &e.addr) && ParseU64(args[1], &e.size) &&
           ParseU64(args[2], &e.new_size) && ParseFlags(args[3], kMremap, &e.flags) &&
           (args.size() == 4 || ParseAddr(args[4], &e.new_addr));
      e.result = e.error != 0 ? kMapFailed : result;
    } else if (name == "mprotect") {
      VMREPLAY_RETURN_IF_ERROR(want(3));
      e.op = Op::kMprotect;
      ok = ParseAddr(args[0], &e.addr) && ParseU64(args[1], &e.size) &&
           ParseFlags(args[2], kProt, &e.protect);
    } else if (name == "madvise") {
      VMREPLAY_RETURN_IF_ERROR(want(3));
      e.op = Op::kMadvise;
      ok = ParseAddr(args[0], &e.addr) && ParseU64(args[1], &e.size) &&
           ParseFlags(args[2], kMadv, &e.flags);
    } else {
      ++stats->ignored;  // brk and the other memory calls
      return Status::Ok();
    }
    if (!ok) return Error(n, "bad argument in " + std::string(name) + " call");
    if (has_time) {
      if (!have_base_) {
        base_ = time_ns;
        have_base_ = true;
      }
      e.timestamp_ns = time_ns > base_ ? time_ns - base_ : 0;
    } else {
      e.timestamp_ns = stats->events;
    }
    e.latency_ns = latency;
    ++stats->events;
    return sink->Append(e);
  }

  Status Error(uint64_t n, const std::string& what) const {
    return Status::Error(name_ + ":" + std::to_string(n) + ": " + what);
  }

  std::string name_;
  std::unordered_map<uint64_t, Pending> pending_;
  bool have_base_ = false;
  uint64_t base_ = 0;
  bool have_last_ = false;
  uint64_t last_time_ = 0;
  uint64_t day_offset_ = 0;
};

}  // namespace

std::unique_ptr<LineParser> MakeStraceParser(const std::string& name) {
  return std::make_unique<StraceParser>(name);
}

}  // namespace vmreplay::importers
