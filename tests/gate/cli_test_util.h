// Runs the built `vmreplay` binary for the CLI tests of tests/gate and tests/report.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace vmreplay::testing {

struct CliResult {
  int code = -1;
  std::string out;  // stdout and stderr
};

inline CliResult RunVmreplay(const std::string& args) {
  const std::string cmd = "cd " + std::string(VMREPLAY_SOURCE_DIR) + " && " + VMREPLAY_BINARY_DIR +
                          "/replayer/vmreplay " + args + " 2>&1";
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WEXITSTATUS(status);
  return r;
}

// A fresh temporary directory.
inline std::string TempDir() {
  char dir[] = "/tmp/vmreplay_cli_testXXXXXX";
  return mkdtemp(dir);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

inline size_t CountOf(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace vmreplay::testing
