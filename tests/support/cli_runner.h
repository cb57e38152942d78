// Runs the built `vmreplay` binary for end-to-end CLI tests. Test targets made with
// vmreplay_test() get VMREPLAY_SOURCE_DIR and VMREPLAY_BINARY_DIR compiled in.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace vmreplay::testing {

struct CliResult {
  int code = -1;    // exit code, or -1 if the program did not exit normally
  std::string out;  // stdout and stderr
};

// Runs `vmreplay ARGS` from the source directory (so bundled traces can be named relatively).
inline CliResult RunVmreplay(const std::string& args) {
  const std::string cmd = "cd " + std::string(VMREPLAY_SOURCE_DIR) + " && " + VMREPLAY_BINARY_DIR +
                          "/replayer/vmreplay " + args + " 2>&1";
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace vmreplay::testing
