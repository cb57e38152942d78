// The replay's progress bar: one line on stderr, redrawn at most every 200 ms, with the share of
// the trace read, events/s and an ETA; erased when the replay ends. Disabled, it prints nothing
// (the caller enables it only when stderr is a terminal and the output is not JSON or CSV).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace vmreplay::replay {

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string label);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `fraction`: share of the trace read so far, 0 when unknown.
  void Update(uint64_t events, double fraction);

 private:
  bool enabled_;
  bool shown_ = false;
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace vmreplay::replay
