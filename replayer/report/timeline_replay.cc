#include "replayer/report/timeline_replay.h"

#include <memory>

namespace vmreplay::replay {
namespace {

// Adds a timeline notification for every pressure-model notification the engine counted since
// the previous call (the engine exposes them only as counters).
class NotificationWatch {
 public:
  void Check(const ReplayMetrics& m, uint64_t index, uint64_t ts, ReplayTimeline* t) {
    Emit(m.notifications_low, &low_, "low", index, ts, t);
    Emit(m.notifications_neutral, &neutral_, "neutral", index, ts, t);
    Emit(m.notifications_high, &high_, "high", index, ts, t);
  }

 private:
  static void Emit(uint64_t now, uint64_t* seen, const char* level, uint64_t index, uint64_t ts,
                   ReplayTimeline* t) {
    for (; *seen < now; ++*seen) t->AddNotification({index, ts, level, false});
  }
  uint64_t low_ = 0, neutral_ = 0, high_ = 0;
};

const char* RecordedLevel(uint32_t level) {
  switch (level) {
    case 1:
      return "low";
    case 2:
      return "neutral";
    case 3:
      return "high";
    default:
      return "unknown";
  }
}

// Samples the backend after every event into ReplayMetrics::timeline.
class TimelineObserver final : public ReplayObserver {
 public:
  explicit TimelineObserver(size_t max_samples) : max_samples_(max_samples) {}

  void OnStart(ReplayMetrics* metrics) override {
    metrics->timeline = ReplayTimeline(max_samples_);
    timeline_ = &metrics->timeline;
  }

  void AfterEvent(const Event& e, uint64_t index, Platform& vm,
                  const ReplayMetrics& metrics) override {
    ReplayTimeline& t = *timeline_;
    // stats() may read /proc on real backends: once per timeline bucket, not per event.
    if (index >= next_reserved_) {
      t.RecordReserved(vm.stats().reserved_bytes);
      next_reserved_ = index + t.stride();
    }
    t.Record(index, e.timestamp_ns, vm.committed_bytes(), vm.fragmentation());
    if (e.op == Op::kMemoryNotification) {
      t.AddNotification({index, e.timestamp_ns, RecordedLevel(e.level), true});
    }
    watch_.Check(metrics, index, e.timestamp_ns, &t);
  }

  void OnFinish(ReplayMetrics* metrics) override {
    ReplayTimeline& t = metrics->timeline;
    t.RecordReserved(metrics->vm.reserved_bytes);
    t.NotePeakReserved(metrics->vm.peak_reserved_event, metrics->vm.peak_reserved_bytes);
  }

 private:
  size_t max_samples_;
  ReplayTimeline* timeline_ = nullptr;
  uint64_t next_reserved_ = 0;
  NotificationWatch watch_;
};

}  // namespace

Status ReplayTraceWithTimeline(const std::string& path, const ReplayOptions& options,
                               size_t max_samples, ReplayMetrics* out) {
  TimelineObserver observer(max_samples);
  return ReplayTrace(path, options, out, &observer);
}

}  // namespace vmreplay::replay
