#include "replayer/engine/threaded_replay.h"

#include <algorithm>
#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <limits>
#include <memory>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "replayer/engine/event_pump.h"

namespace vmreplay::replay {
namespace {

constexpr uint32_t kNoWorker = std::numeric_limits<uint32_t>::max();
// Events travel in batches, so a hand-over (and a wake-up) costs once per batch, not per event.
// A batch is about 16 KB; a queue holds 16: deep enough that the reader rarely waits, small
// enough that dozens of threads stay within a few MB per thread.
constexpr size_t kBatchEvents = 64;
constexpr size_t kQueueBatches = 16;

// "Event `index`, queued on replay thread `worker`, must have finished."
struct Dependency {
  uint32_t worker = kNoWorker;
  uint64_t index = 0;
};

struct Item {
  Event event;
  uint64_t index = 0;
  Dependency after[2];
};

struct Batch {
  uint32_t size = 0;
  Item items[kBatchEvents];
};

struct Worker {
  boost::lockfree::spsc_queue<Batch> queue{kQueueBatches};
  Batch pending;                    // reader side: events not yet handed over
  std::atomic<uint64_t> pushed{0};  // the reader bumps it after a push (wakes the worker)
  std::atomic<uint64_t> popped{0};  // the worker bumps it after a pop (wakes a waiting reader)
  std::atomic<uint64_t> done{0};    // 1 + index of the last event this worker finished
  std::atomic<bool> closed{false};
  ReplayMetrics lane;  // heap events' figures
  uint64_t waits = 0;  // dependencies that were not yet met when the event came up
  std::thread thread;
};

class Dispatcher {
 public:
  Dispatcher(ReplayEngine& engine, Platform& vm, const ReplayOptions& options,
             ReplayMetrics* metrics, ReplayObserver* observer)
      : engine_(engine),
        vm_(vm),
        options_(options),
        metrics_(metrics),
        observer_(observer),
        workers_(std::max<size_t>(1, options.max_threads)) {}

  ~Dispatcher() { Close(); }

  bool Dispatch(const Event& e, uint64_t index) {
    if (engine_.stopped()) return false;
    const uint32_t w = WorkerFor(e.thread);
    if (w == kNoWorker) return false;
    Worker& worker = *workers_[w];
    Item& item = worker.pending.items[worker.pending.size];
    item.event = e;
    item.index = index;
    item.after[0] = item.after[1] = Dependency{};
    int n = 0;
    if (ReplayEngine::IsHeapCall(e.op)) {
      // The recorded pointers the call touches: the one it frees or resizes, the one it returns.
      const bool frees = e.op == Op::kFree || e.op == Op::kHostFree || e.op == Op::kRealloc;
      if (frees && e.addr != 0) Order(&last_on_pointer_[e.addr], w, index, &item.after[n++]);
      if (e.op != Op::kFree && e.op != Op::kHostFree && e.result != 0 && e.result != e.addr) {
        Order(&last_on_pointer_[e.result], w, index, &item.after[n++]);
      }
      if (last_on_pointer_.size() > prune_at_) Prune();
    } else {
      Order(&last_vm_, w, index, &item.after[0]);
    }
    // An event this one waits for must reach its thread now, or the wait would never end.
    for (const Dependency& d : item.after) {
      if (d.worker == kNoWorker) continue;
      const Batch& other = workers_[d.worker]->pending;
      if (other.size != 0 && other.items[0].index <= d.index) Flush(*workers_[d.worker]);
    }
    if (++worker.pending.size == kBatchEvents) Flush(worker);
    return true;
  }

  // Lets the workers drain their queues and waits for them.
  void Close() {
    for (size_t i = 0; i < started_; ++i) Flush(*workers_[i]);
    for (size_t i = 0; i < started_; ++i) {
      Worker& w = *workers_[i];
      w.closed.store(true);
      w.pushed.fetch_add(1);
      w.pushed.notify_one();
    }
    for (size_t i = 0; i < started_; ++i) {
      if (workers_[i]->thread.joinable()) workers_[i]->thread.join();
    }
  }

  // After Close: the lanes and thread counts into the replay's metrics.
  void Merge() {
    metrics_->MergeLane(vm_lane_);
    for (size_t i = 0; i < started_; ++i) {
      metrics_->MergeLane(workers_[i]->lane);
      metrics_->cross_thread_waits += workers_[i]->waits;
    }
    std::sort(
        metrics_->first_divergences.begin(), metrics_->first_divergences.end(),
        [](const Divergence& a, const Divergence& b) { return a.event_index < b.event_index; });
    if (metrics_->first_divergences.size() > options_.max_divergences_kept) {
      metrics_->first_divergences.resize(options_.max_divergences_kept);
    }
    metrics_->recorded_threads = worker_of_thread_.size();
    metrics_->replay_threads = started_;
  }

  const Status& status() const { return status_; }

 private:
  // Makes event `index` on worker `w` the latest on `last`, depending on the previous latest
  // when another worker runs it.
  static void Order(Dependency* last, uint32_t w, uint64_t index, Dependency* dep) {
    if (last->worker != kNoWorker && last->worker != w) *dep = *last;
    *last = Dependency{w, index};
  }

  // Forgets pointers whose latest event has finished: nothing later needs to wait for it. Keeps
  // the table proportional to the pointers in flight, not to every pointer ever seen.
  void Prune() {
    std::erase_if(last_on_pointer_, [this](const auto& kv) {
      return workers_[kv.second.worker]->done.load(std::memory_order_acquire) > kv.second.index;
    });
    prune_at_ = std::max<size_t>(kMinPruneAt, 2 * last_on_pointer_.size());
  }

  uint32_t WorkerFor(uint64_t thread) {
    auto it = worker_of_thread_.find(thread);
    if (it != worker_of_thread_.end()) return it->second;
    uint32_t w = 0;
    if (started_ < workers_.size()) {
      w = static_cast<uint32_t>(started_);
      workers_[w] = std::make_unique<Worker>();
      try {
        workers_[w]->thread = std::thread([this, w] { Run(w); });
      } catch (const std::system_error& ex) {
        workers_[w].reset();
        status_ = Status::Error(std::string("cannot start a replay thread: ") + ex.what());
        return kNoWorker;
      }
      ++started_;
    } else {
      w = static_cast<uint32_t>(worker_of_thread_.size() % workers_.size());
    }
    worker_of_thread_.emplace(thread, w);
    return w;
  }

  // Hands the pending batch over to its thread.
  static void Flush(Worker& w) {
    if (w.pending.size == 0) return;
    for (;;) {
      const uint64_t seen = w.popped.load();
      if (w.queue.push(w.pending)) break;
      w.popped.wait(seen);  // Full: wait for the worker to take one.
    }
    w.pending.size = 0;
    w.pushed.fetch_add(1);
    w.pushed.notify_one();
  }

  void Run(uint32_t self) {
    Worker& w = *workers_[self];
    auto batch = std::make_unique<Batch>();
    for (;;) {
      const uint64_t seen = w.pushed.load();
      if (!w.queue.pop(*batch)) {
        if (w.closed.load()) {
          if (w.queue.read_available() == 0) return;
          continue;
        }
        w.pushed.wait(seen);
        continue;
      }
      w.popped.fetch_add(1);
      w.popped.notify_one();
      for (uint32_t i = 0; i < batch->size; ++i) Apply(w, batch->items[i]);
    }
  }

  void Apply(Worker& w, const Item& item) {
    for (const Dependency& d : item.after) {
      if (d.worker == kNoWorker) continue;
      std::atomic<uint64_t>& done = workers_[d.worker]->done;
      uint64_t v = done.load(std::memory_order_acquire);
      if (v > d.index) continue;
      ++w.waits;
      for (; v <= d.index; v = done.load(std::memory_order_acquire)) done.wait(v);
    }
    if (!engine_.stopped()) {
      const bool heap = ReplayEngine::IsHeapCall(item.event.op);
      engine_.Apply(item.event, item.index, heap ? &w.lane : &vm_lane_);
      if (!heap && observer_ != nullptr) {
        observer_->AfterEvent(item.event, item.index, vm_, vm_lane_);
      }
    }
    w.done.store(item.index + 1, std::memory_order_release);
    w.done.notify_all();
  }

  static constexpr size_t kMinPruneAt = 1 << 16;

  ReplayEngine& engine_;
  Platform& vm_;
  const ReplayOptions& options_;
  ReplayMetrics* metrics_;
  ReplayObserver* observer_;
  Status status_ = Status::Ok();
  // Sized once: replay threads read other workers' `done` while the reader starts new ones. An
  // entry is written before the first event queued on it, which publishes it.
  std::vector<std::unique_ptr<Worker>> workers_;
  size_t started_ = 0;
  // Reader-thread state.
  std::unordered_map<uint64_t, uint32_t> worker_of_thread_;
  std::unordered_map<uint64_t, Dependency> last_on_pointer_;
  size_t prune_at_ = kMinPruneAt;
  Dependency last_vm_;
  // VM events' figures; they run one at a time, whichever thread runs them.
  ReplayMetrics vm_lane_;
};

}  // namespace

Status ReplayThreaded(EventSource& source, ReplayEngine& engine, Platform& vm,
                      const ReplayOptions& options, ReplayMetrics* metrics,
                      ReplayObserver* observer, ProgressBar& progress) {
  Dispatcher dispatcher(engine, vm, options, metrics, observer);
  PumpEvents(
      source, progress, options.read_ahead,
      [&](const Event& e, uint64_t index) { return dispatcher.Dispatch(e, index); },
      NoReplayHints{});
  dispatcher.Close();
  dispatcher.Merge();
  return dispatcher.status();
}

}  // namespace vmreplay::replay
