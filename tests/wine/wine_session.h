// Runs cross-built Windows programs under Wine for tests. One Wine prefix per build tree is
// created on first use (~10 s) and reused; a lock held for the session keeps two test processes
// from initialising or using it at once.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace vmreplay::wine_test {

class WineSession {
 public:
  // Returns nullptr with *skip_reason set when wine64 or the program is unavailable.
  static std::unique_ptr<WineSession> Open(const std::string& wine64, const std::string& exe,
                                           const std::filesystem::path& work_dir,
                                           std::string* skip_reason);
  ~WineSession();
  WineSession(const WineSession&) = delete;
  WineSession& operator=(const WineSession&) = delete;

  // Runs `exe args` in the work directory (relative file names land there), stdout and stderr
  // to `log`. Returns "" on success, else the command, its status and the log.
  std::string Run(const std::string& args, const std::string& log) const;
  const std::filesystem::path& work_dir() const { return work_; }

 private:
  WineSession(std::string wine64, std::string exe, std::filesystem::path work, int lock_fd)
      : wine64_(std::move(wine64)), exe_(std::move(exe)), work_(std::move(work)), lock_(lock_fd) {}
  std::string wine64_, exe_;
  std::filesystem::path work_;
  int lock_;
};

std::string ShellQuote(const std::string& s);
std::string ReadText(const std::filesystem::path& p);

}  // namespace vmreplay::wine_test
