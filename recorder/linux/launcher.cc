#include "recorder/linux/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "recorder/linux/wire_protocol.h"

namespace vmreplay::recorder {

Status Launch(const LaunchSpec& spec, pid_t* child) {
  if (spec.command.empty()) return Status::Error("vmrecord: no command to run");
  // Everything the child needs is built before fork: after fork only async-signal-safe calls.
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    if (strncmp(*e, "LD_PRELOAD=", 11) == 0 || strncmp(*e, "VMRECORD_RING=", 14) == 0 ||
        strncmp(*e, "VMRECORD_TRACER=", 16) == 0) {
      continue;
    }
    env_storage.emplace_back(*e);
  }
  std::string preload = spec.preload_path;
  if (const char* old = getenv("LD_PRELOAD"); old != nullptr && old[0] != '\0') {
    preload += ":";
    preload += old;
  }
  env_storage.push_back("LD_PRELOAD=" + preload);
  env_storage.push_back(std::string(kRingEnvVar) + "=" + spec.ring_name);
  std::vector<char*> envp;
  for (auto& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  // The same with the tracer's variable, for a child the tracer attached to.
  std::string traced_var = std::string(kTracerEnvVar) + "=1";
  std::vector<char*> traced_envp = envp;
  traced_envp.insert(traced_envp.end() - 1, traced_var.data());
  std::vector<std::string> argv_storage = spec.command;
  std::vector<char*> argv;
  for (auto& s : argv_storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  // The child reports a failed exec through a close-on-exec pipe: EOF means exec succeeded.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    return Status::Error(std::string("vmrecord: pipe: ") + strerror(errno));
  }
  // And the parent tells the child through another whether the tracer attached (one byte).
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) {
    close(report[0]);
    close(report[1]);
    return Status::Error(std::string("vmrecord: pipe: ") + strerror(errno));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {report[0], report[1], go[0], go[1]}) close(fd);
    return Status::Error(std::string("vmrecord: fork: ") + strerror(errno));
  }
  if (pid == 0) {
    close(report[0]);
    close(go[1]);
    char traced = 0;
    ssize_t got;
    do {
      got = read(go[0], &traced, 1);
    } while (got < 0 && errno == EINTR);
    close(go[0]);
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvpe(argv[0], argv.data(), got == 1 && traced == 1 ? traced_envp.data() : envp.data());
    const int err = errno;
    ssize_t ignored = write(report[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  close(report[1]);
  close(go[0]);
  const char traced = spec.attach_tracer && spec.attach_tracer(pid) ? 1 : 0;
  ssize_t sent;
  do {
    sent = write(go[1], &traced, 1);
  } while (sent < 0 && errno == EINTR);
  close(go[1]);
  int err = 0;
  ssize_t n;
  do {
    n = read(report[0], &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == sizeof err) {
    waitpid(pid, nullptr, 0);
    return Status::Error("vmrecord: cannot run '" + spec.command[0] + "': " + strerror(err));
  }
  *child = pid;
  return Status::Ok();
}

std::string PreloadNextToExecutable() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "libvmrecord_preload.so";
  std::string path(buf, static_cast<size_t>(n));
  const std::string dir = path.substr(0, path.rfind('/') + 1);
  // A build tree keeps the preload next to vmrecord; an installed tree keeps it in the
  // library directory, at the same place relative to the binary wherever the prefix is.
  const std::string beside = dir + "libvmrecord_preload.so";
#ifdef VMRECORD_PRELOAD_FROM_BINDIR
  const std::string installed = dir + VMRECORD_PRELOAD_FROM_BINDIR "/libvmrecord_preload.so";
  if (access(beside.c_str(), R_OK) != 0 && access(installed.c_str(), R_OK) == 0) return installed;
#endif
  return beside;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace vmreplay::recorder
