// The os platform on real memory: malicious traces cannot make the replayer touch, map or protect
// memory it did not map (checked by strace, a tool nobody here wrote), and commits past the
// machine's commit limit are refused with a one-line message.
#include "replayer/platforms/os_platform.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>

#include "tests/replayer/replay_test_util.h"
#include "tests/support/cli_runner.h"

namespace vmreplay::replay {
namespace {

using testing::kLinuxHeader;
using testing::kWindowsHeader;
using testing::WriteTrace;

// Where a PIE binary's image lies with address-space randomisation off (setarch -R): vmreplay's
// own code and data, the target of the MAP_FIXED and protection calls below.
constexpr const char* kOwnImage = "0x555555554000";

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Win32: a reservation at the replayer's image, commits / protections / frees there, commits of
// 2^62, 2^47 and 2^46 bytes, and 200,000 reservations (past vm.max_map_count).
std::string MaliciousWin32Trace() {
  std::ostringstream t;
  t << kWindowsHeader;
  int ts = 0;
  auto va = [&](const std::string& addr, uint64_t size, const char* flags, const char* result,
                const char* protect = "0x4") {
    t << "VirtualAlloc thread=1 ts=" << ts++ << " lat=0 addr=" << addr << " size=" << size
      << " flags=" << flags << " protect=" << protect << " level=0 -> result=" << result
      << " hresult=0x0 error=0\n";
  };
  va(kOwnImage, 1 << 20, "0x2000", kOwnImage, "0x1");
  va(kOwnImage, 4096, "0x1000", kOwnImage);
  t << "VirtualProtect thread=1 ts=" << ts++ << " lat=0 addr=" << kOwnImage
    << " size=4096 protect=0x40 -> old_protect=0x4 hresult=0x0 error=0\n";
  t << "VirtualFree thread=1 ts=" << ts++ << " lat=0 addr=" << kOwnImage
    << " size=4096 flags=0x4000 -> hresult=0x0 error=0\n";
  va("0x555555560000", 4096, "0x1000", "0x555555560000");  // commit into an unseen reservation
  for (const uint64_t size : {1ull << 62, 1ull << 47, 1ull << 46}) {
    va("0x0", size, "0x3000", "0x10000000000");
  }
  for (uint64_t i = 0; i < 200000; ++i)
    va("0x0", 65536, "0x2000", Hex(0x20000000000 + (i << 16)).c_str(), "0x1");
  return t.str();
}

// Linux: MAP_FIXED over the replayer's image, mprotect / madvise / munmap / mremap there, and
// mmaps and a malloc of absurd sizes.
std::string MaliciousLinuxTrace() {
  std::ostringstream t;
  t << kLinuxHeader;
  int ts = 0;
  t << "mmap thread=1 ts=" << ts++ << " lat=0 addr=" << kOwnImage
    << " size=1048576 flags=0x32 protect=0x7 fd=-1 offset=0 -> result=" << kOwnImage
    << " error=0\n";
  t << "mprotect thread=1 ts=" << ts++
    << " lat=0 addr=0x555555555000 size=8192 protect=0x7 -> "
       "error=0\n";
  t << "madvise thread=1 ts=" << ts++
    << " lat=0 addr=0x555555556000 size=8192 flags=0x4 -> "
       "error=0\n";
  t << "mremap thread=1 ts=" << ts++
    << " lat=0 addr=0x555555557000 size=4096 new_size=8192 "
       "flags=0x1 new_addr=0x0 -> result=0x555555557000 error=0\n";
  t << "munmap thread=1 ts=" << ts++ << " lat=0 addr=0x555555558000 size=4096 -> error=0\n";
  for (const uint64_t size : {1ull << 62, 1ull << 47, 1ull << 46}) {
    t << "mmap thread=1 ts=" << ts++ << " lat=0 addr=0x0 size=" << size
      << " flags=0x22 protect=0x3 fd=-1 offset=0 -> result=0x10000000000 error=0\n";
  }
  t << "malloc thread=1 ts=" << ts++ << " lat=0 size=1099511627776 -> result=0x1000 error=0\n";
  return t.str();
}

// The replayer's own mappings, from strace: what mmap, mremap and brk returned, less munmaps.
class Owned {
 public:
  void Add(uint64_t start, uint64_t end) {
    Remove(start, end);
    ranges_[start] = end;
  }
  void Remove(uint64_t start, uint64_t end) {
    auto it = ranges_.upper_bound(start);
    if (it != ranges_.begin()) --it;
    while (it != ranges_.end() && it->first < end) {
      const auto [s, e] = *it;
      it = ranges_.erase(it);
      if (s < start && e > start) ranges_[s] = start;
      if (e > end && s < end) ranges_[end] = e;
      if (e <= start) ranges_[s] = e;  // Not overlapping: put back.
    }
  }
  bool Covers(uint64_t start, uint64_t end) const {
    uint64_t cursor = start;
    auto it = ranges_.upper_bound(cursor);
    if (it == ranges_.begin()) return false;
    --it;
    while (cursor < end) {
      if (it == ranges_.end() || it->first > cursor || it->second <= cursor) return false;
      cursor = it->second;
      ++it;
    }
    return true;
  }

 private:
  std::map<uint64_t, uint64_t> ranges_;
};

uint64_t Num(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 0); }

// Every memory system call after the trace is opened targets memory the replayer mapped itself.
// Returns the offending lines (empty: none) and counts the calls checked.
std::string CheckStraceLog(const std::string& log, const std::string& trace, int* checked) {
  std::ifstream in(log);
  std::string line, bad;
  Owned owned;
  bool replaying = false;
  uint64_t brk_start = 0, brk_end = 0;
  *checked = 0;
  while (std::getline(in, line)) {
    // "PID name(args) = ret ..." (strace -f -o; no <regex>: GCC 12's trips -Wmaybe-uninitialized
    // under the sanitizers).
    const size_t name_start = line.find_first_not_of("0123456789 ");
    const size_t open = line.find('(', name_start);
    const size_t eq = line.rfind(" = ");
    const size_t close = eq == std::string::npos ? eq : line.rfind(')', eq);
    if (name_start == std::string::npos || open == std::string::npos ||
        close == std::string::npos || close < open) {
      continue;
    }
    const std::string name = line.substr(name_start, open - name_start);
    const std::string args = line.substr(open + 1, close - open - 1);
    const std::string rest = line.substr(eq + 3);
    const std::string ret = rest.substr(0, rest.find(' '));
    if (name == "openat" && args.find(trace) != std::string::npos) replaying = true;
    std::vector<std::string> a;
    {
      std::string cur;
      int depth = 0;
      for (char ch : args) {
        if (ch == ',' && depth == 0) {
          a.push_back(cur);
          cur.clear();
          continue;
        }
        if (ch == '[' || ch == '{') ++depth;
        if (ch == ']' || ch == '}') --depth;
        if (!(ch == ' ' && cur.empty())) cur += ch;
      }
      a.push_back(cur);
    }
    const bool ok = ret.rfind("-1", 0) != 0;
    auto page_up = [](uint64_t v) { return (v + 4095) & ~uint64_t{4095}; };
    auto check = [&](uint64_t start, uint64_t len) {
      if (!replaying) return;
      ++*checked;
      const bool in_brk = start >= brk_start && start + len <= brk_end;
      if (!in_brk && !owned.Covers(start, start + page_up(len))) bad += line + "\n";
    };
    if (name == "brk" && ok) {
      const uint64_t v = Num(ret);
      if (brk_start == 0) brk_start = v;
      brk_end = v > brk_end ? v : brk_end;
    } else if (name == "mmap" && a.size() >= 6) {
      const uint64_t len = Num(a[1]);
      if (a[3].find("MAP_FIXED") != std::string::npos) check(Num(a[0]), len);
      if (ok) owned.Add(Num(ret), Num(ret) + page_up(len));
    } else if ((name == "mprotect" || name == "madvise") && a.size() >= 2) {
      check(Num(a[0]), Num(a[1]));
    } else if (name == "munmap" && a.size() >= 2) {
      check(Num(a[0]), Num(a[1]));
      if (ok) owned.Remove(Num(a[0]), Num(a[0]) + page_up(Num(a[1])));
    } else if (name == "mremap" && a.size() >= 3) {
      check(Num(a[0]), Num(a[1]));
      if (ok) {
        owned.Remove(Num(a[0]), Num(a[0]) + page_up(Num(a[1])));
        owned.Add(Num(ret), Num(ret) + page_up(Num(a[2])));
      }
    }
  }
  return bad;
}

// The checker itself: it must flag a call on memory no mmap returned, and pass the same calls on
// memory one did (else the test above would prove nothing).
TEST(OsPlatformSafetyCheckerTest, FlagsCallsOnMemoryNobodyMapped) {
  const std::string log = WriteTrace(
      "100 brk(NULL)                   = 0x555555580000\n"
      "100 openat(AT_FDCWD, \"/tmp/t.pb\", O_RDONLY) = 3\n"
      "100 mmap(NULL, 131072, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
      "100 mprotect(0x7f0000001000, 4096, PROT_READ)      = 0\n"
      "100 munmap(0x7f0000010000, 65536) = 0\n"
      "100 mprotect(0x7f0000010000, 4096, PROT_READ) = 0\n"
      "100 mmap(0x555555554000, 4096, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = "
      "0x555555554000\n");
  int checked = 0;
  const std::string bad = CheckStraceLog(log, "/tmp/t.pb", &checked);
  EXPECT_EQ(checked, 4);
  EXPECT_EQ(bad,
            "100 mprotect(0x7f0000010000, 4096, PROT_READ) = 0\n"
            "100 mmap(0x555555554000, 4096, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, "
            "0) = 0x555555554000\n");
  unlink(log.c_str());
}

class OsPlatformSafetyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(OsPlatformSafetyTest, MaliciousTracesTouchOnlyMemoryTheReplayerMapped) {
  if (std::system("command -v strace >/dev/null 2>&1") != 0) GTEST_SKIP() << "strace missing";
  if (std::system("setarch x86_64 -R true >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "setarch -R (util-linux) cannot disable address-space randomisation here";
  }
  for (const bool windows : {true, false}) {
    SCOPED_TRACE(windows ? "Win32 trace" : "Linux trace");
    const std::string trace = WriteTrace(windows ? MaliciousWin32Trace() : MaliciousLinuxTrace());
    const std::string log = trace + ".strace";
    // A 1 TiB malloc is refused by glibc; AddressSanitizer's allocator (sanitizer builds) aborts
    // instead unless told to return NULL as glibc does; LeakSanitizer cannot run under ptrace.
    const std::string cmd =
        "ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 "
        "setarch x86_64 -R strace -f -qq -o " +
        log + " -e trace=memory,openat " + VMREPLAY_BINARY_DIR + "/replayer/vmreplay " + trace +
        " " + GetParam() + " --json > " + trace + ".json 2> " + trace + ".err";
    const int status = std::system(cmd.c_str());
    std::ifstream err(trace + ".err");
    const std::string stderr_text((std::istreambuf_iterator<char>(err)), {});
    ASSERT_TRUE(WIFEXITED(status)) << cmd;
    EXPECT_EQ(WEXITSTATUS(status), 0) << cmd << "\n" << stderr_text;  // never a crash
    int checked = 0;
    const std::string bad = CheckStraceLog(log, trace, &checked);
    EXPECT_EQ(bad, "") << "system calls on memory the replayer did not map";
    EXPECT_GT(checked, 0) << "the replay's own calls were seen: " << stderr_text;
    if (windows && std::string(GetParam()).find("passthrough") != std::string::npos) {
      // The commit limit and the mapping limit each said so, once, in one line.
      EXPECT_NE(stderr_text.find("a commit past the commit limit"), std::string::npos)
          << stderr_text;
      EXPECT_NE(stderr_text.find("near the kernel's per-process mapping limit"), std::string::npos)
          << stderr_text;
    }
    for (const std::string& f : {trace, log, trace + ".json", trace + ".err"}) unlink(f.c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Cells, OsPlatformSafetyTest,
                         ::testing::Values("--manager=passthrough --platform=os",
                                           "--manager=arena:size=16G --platform=os"),
                         [](const auto& info) { return info.index == 0 ? "os" : "arena_on_os"; });

TEST(OsPlatformTest, CommitsPastTheLimitAreRefusedBeforeAnyMapping) {
  PlatformOptions o;
  o.commit_limit = 1 << 20;
  OsPlatform p(o);
  const VmResult big =
      p.VirtualAlloc(0, 2 << 20, win32::kMemReserve | win32::kMemCommit, win32::kPageReadWrite, 0);
  EXPECT_EQ(big.error, win32::kErrorCommitmentLimit);
  const PlatformStats s = p.stats();
  EXPECT_EQ(s.syscalls.count("mmap"), 0u);
  EXPECT_EQ(s.commit_limit_refusals, 1u);
  ASSERT_TRUE(s.commit_limit.has_value());
  EXPECT_EQ(*s.commit_limit, 1u << 20);
  const VmResult fits =
      p.VirtualAlloc(0, 1 << 20, win32::kMemReserve | win32::kMemCommit, win32::kPageReadWrite, 0);
  EXPECT_EQ(fits.error, 0u);
  EXPECT_EQ(p.committed_bytes(), 1u << 20);
  EXPECT_EQ(p.VirtualFree(fits.address, 0, win32::kMemRelease), 0u);
}

TEST(OsPlatformTest, TheDefaultLimitIsTheMachines) {
  const uint64_t machine = MachineCommitLimit();
  ASSERT_GT(machine, 0u);
  OsPlatform p(PlatformOptions{});
  EXPECT_EQ(p.commit_limit(), machine);
  // 64 TiB read-write, as a malicious trace asks: refused.
  EXPECT_NE(p.VirtualAlloc(0, 1ull << 46, win32::kMemReserve | win32::kMemCommit,
                           win32::kPageReadWrite, 0)
                .error,
            0u);
}

}  // namespace
}  // namespace vmreplay::replay
