#include "tests/wine/wine_session.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace vmreplay::wine_test {

namespace fs = std::filesystem;

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<WineSession> WineSession::Open(const std::string& wine64, const std::string& exe,
                                               const fs::path& work_dir, std::string* skip_reason) {
  if (exe.empty() || wine64.empty()) {
    *skip_reason =
        "x86_64-w64-mingw32-g++-posix or wine64 was not found at configure time, so the Windows "
        "program was not built or cannot run";
    return nullptr;
  }
  if (!fs::exists(exe) || !fs::exists(wine64)) {
    *skip_reason = "missing " + (fs::exists(exe) ? wine64 : exe);
    return nullptr;
  }
  fs::create_directories(work_dir);
  const int lock = open((work_dir / "wineprefix.lock").c_str(), O_CREAT | O_RDWR, 0644);
  if (lock >= 0) flock(lock, LOCK_EX);
  return std::unique_ptr<WineSession>(new WineSession(wine64, exe, work_dir, lock));
}

WineSession::~WineSession() {
  if (lock_ >= 0) close(lock_);
}

std::string WineSession::Run(const std::string& args, const std::string& log) const {
  // mscoree/mshtml disabled: no Mono/Gecko install prompts, and nothing else touches memory.
  const std::string cmd = "cd " + ShellQuote(work_.string()) +
                          " && WINEPREFIX=" + ShellQuote((work_ / "wineprefix").string()) +
                          " WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml=' timeout 300 " +
                          ShellQuote(wine64_) + " " + ShellQuote(exe_) + " " + args + " > " +
                          ShellQuote(log) + " 2>&1";
  const int status = std::system(cmd.c_str());
  if (status == 0) return "";
  return "`" + cmd + "` failed (status " + std::to_string(status) + "):\n" + ReadText(work_ / log) +
         "\n";
}

}  // namespace vmreplay::wine_test
