// Helpers shared by the recorder's end-to-end tests: running vmrecord, reading traces back.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proto/event.h"
#include "proto/trace.pb.h"

namespace vmreplay::recorder::rectest {

// A fresh directory under $TMPDIR (or /tmp), removed by nothing: test output stays for
// inspection after a failure.
std::string MakeTempDir(const std::string& prefix);

// Starts argv[0] (PATH lookup) with the given extra environment entries; returns its pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {},
            const std::string& stdout_path = "", const std::string& stderr_path = "");
// Waits for pid; returns its exit code (128 + signal if killed).
int Wait(pid_t pid);
int RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {},
               const std::string& stdout_path = "", const std::string& stderr_path = "");

// The absolute path of an executable in PATH, or "" if absent.
std::string FindInPath(const std::string& name);

struct TraceContents {
  bool ok = false;
  std::string error;
  proto::Header header;
  std::vector<Event> events;
  proto::Footer footer;
  bool has_footer = false;
  std::map<Op, uint64_t> op_counts;         // hooked calls (origin 0): the program's own
  std::map<Op, uint64_t> system_op_counts;  // the ones glibc and ld.so made (origin != 0)
};
TraceContents ReadTrace(const std::string& path);

std::string ReadFile(const std::string& path);
// Files in `dir` whose names start with `prefix`, sorted.
std::vector<std::string> ListFiles(const std::string& dir, const std::string& prefix);

}  // namespace vmreplay::recorder::rectest
