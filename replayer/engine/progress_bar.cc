#include "replayer/engine/progress_bar.h"

#include <cstdio>

namespace vmreplay::replay {

ProgressBar::ProgressBar(bool enabled, std::string label)
    : enabled_(enabled), label_(std::move(label)), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::Update(uint64_t events, double fraction) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double s = std::chrono::duration<double>(now - start_).count();
  const double rate = s > 0 ? events / s : 0;
  const double eta = fraction > 0 ? s * (1 - fraction) / fraction : 0;
  std::fprintf(stderr, "\r[%s] %5.1f%% %llu events %.2f M ev/s ETA %.0fs   ", label_.c_str(),
               fraction * 100, static_cast<unsigned long long>(events), rate / 1e6, eta);
  shown_ = true;
}

ProgressBar::~ProgressBar() {
  if (shown_) std::fprintf(stderr, "\r%80s\r", "");
}

}  // namespace vmreplay::replay
