// Runs the built `vmreplay` binary for the CLI tests of tests/gate and tests/report.
#pragma once

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/cli_runner.h"

namespace vmreplay::testing {

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
