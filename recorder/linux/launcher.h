// Starting the recorded command: a child process with the preload library and the ring name in
// its environment.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "proto/status.h"

namespace vmreplay::recorder {

struct LaunchSpec {
  std::vector<std::string> command;  // argv; command[0] is looked up in PATH
  std::string preload_path;          // prepended to LD_PRELOAD
  std::string ring_name;             // exported as VMRECORD_RING
  // Called with the child's pid after fork and before it execs (it waits meanwhile): attaches
  // the system-call tracer. Returns whether it did; then kTracerEnvVar=1 is exported.
  std::function<bool(pid_t)> attach_tracer;
};

// Forks and execs the command. Returns once the exec has succeeded (or failed: then an error
// naming the command and errno, and the child has already been reaped). Signal dispositions
// the recorder changed are reset in the child.
Status Launch(const LaunchSpec& spec, pid_t* child);

// The absolute path of libvmrecord_preload.so next to the running executable.
std::string PreloadNextToExecutable();

// The shell's convention: the exit code, or 128 + the signal that killed the process.
int ExitCodeOf(int wait_status);

}  // namespace vmreplay::recorder
