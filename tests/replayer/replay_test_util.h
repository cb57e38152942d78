// Hand-written text traces for the replayer tests.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "replayer/engine/replay_engine.h"

namespace vmreplay::replay::testing {

// Points `o` at the cell an old backend name stands for (sim, os, arena, MANAGER/PLATFORM); an
// unknown name becomes an unknown manager, so the replay reports the error.
inline void SetBackend(ReplayOptions* o, const std::string& backend) {
  if (!BackendCell(backend, &o->manager, &o->platform).ok()) o->manager = backend;
}

inline constexpr const char* kWindowsHeader =
    "header { format_major: 1 platform: PLATFORM_WINDOWS page_size: 4096 "
    "allocation_granularity: 65536 physical_memory: 1048576 }\n";
inline constexpr const char* kLinuxHeader =
    "header { format_major: 1 platform: PLATFORM_LINUX page_size: 4096 "
    "allocation_granularity: 4096 }\n";

// Writes `text` to a fresh temporary file and returns its path.
inline std::string WriteTrace(const std::string& text) {
  char path[] = "/tmp/vmreplay_replay_testXXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

inline std::string SourceDir() { return VMREPLAY_SOURCE_DIR; }

}  // namespace vmreplay::replay::testing
