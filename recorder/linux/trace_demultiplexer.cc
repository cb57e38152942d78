#include "recorder/linux/trace_demultiplexer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <sstream>
#include <vector>

#include "recorder/linux/system_info.h"

namespace vmreplay::recorder {
namespace {

uint64_t ThreadKey(uint32_t instance, uint64_t tid) { return uint64_t{instance} << 32 | tid; }

// Events per thread in the chunk in progress, for the footer: a small table indexed by a hash
// of the thread id (the records of several threads interleave finely once merged by key).
class ChunkThreadCounts {
 public:
  // Counts one event of `tid`; true if it is the thread's first in this chunk.
  bool Count(uint64_t tid) {
    unsigned h = (static_cast<uint32_t>(tid) * 0x9E3779B1u) >> 26;
    for (unsigned probe = 0; probe < kSlots; ++probe, h = (h + 1) % kSlots) {
      const unsigned k = slot_of_[h];
      if (k != 0 && threads_[k - 1].thread == tid) {
        ++threads_[k - 1].events;
        return false;
      }
      if (k == 0) {
        threads_.push_back({tid, 1});
        if (threads_.size() < 256) slot_of_[h] = static_cast<uint8_t>(threads_.size());
        return true;
      }
    }
    // More threads in one chunk than the table holds.
    for (auto& t : threads_) {
      if (t.thread == tid) {
        ++t.events;
        return false;
      }
    }
    threads_.push_back({tid, 1});
    return true;
  }
  std::span<const TraceWriter::ThreadEvents> threads() const { return threads_; }
  void Clear() {
    std::memset(slot_of_, 0, sizeof slot_of_);
    threads_.clear();
  }

 private:
  static constexpr unsigned kSlots = 64;
  uint8_t slot_of_[kSlots] = {};  // index into threads_ + 1; 0 = empty
  std::vector<TraceWriter::ThreadEvents> threads_;
};

// Every field some Linux call records: the columns a Linux trace's chunks can have.
constexpr FieldMask LinuxCallFields() {
  FieldMask fields = 0;
  for (int op = kWireMmap; op <= kWirePvalloc; ++op) fields |= kOpInfo[op].fields;
  return fields;
}

}  // namespace

// One process image's trace. The writer is created at the image's first call (or at the
// end): by then the command line that follows the process-start record has arrived, and the
// header, which the writer writes first, is complete.
struct TraceDemultiplexer::ProcessTrace {
  uint32_t pid = 0;
  uint32_t instance = 0;
  std::string path;
  proto::Header header;
  std::string command_line;  // NUL-separated, as sent by the image itself
  bool writer_failed = false;
  std::unique_ptr<TraceWriter> writer;
  uint64_t dropped = 0;
  // The chunk in progress, encoded record by record, and its events per thread.
  ColumnEncoder chunk;
  ChunkThreadCounts chunk_threads;
  // Call records that arrived before the clock was calibrated (see SetClock), and how many of
  // them are encoded already.
  std::vector<CallRecord> early;
  size_t early_done = 0;
  std::set<uint64_t> threads;  // every thread seen, for the footer's names
  bool finished = false;
  bool mapping_dropped = false;  // the last kWireMapping was not kept: skip its name too
};

TraceDemultiplexer::TraceDemultiplexer(const CollectorOptions& options, uint32_t root_pid,
                                       uint64_t start_wall_ns)
    : options_(options), root_pid_(root_pid), start_wall_ns_(start_wall_ns) {
  stem_ = options.output_path;
  if (stem_.size() > 3 && stem_.compare(stem_.size() - 3, 3, ".pb") == 0) {
    stem_.resize(stem_.size() - 3);
  }
}

TraceDemultiplexer::~TraceDemultiplexer() = default;

void TraceDemultiplexer::SetClock(const ClockConversion& clock) {
  access_.emplace(clock, options_.time_precision_ns);
}

size_t TraceDemultiplexer::EncodeHeld(size_t max_records) {
  for (auto& [instance, trace] : instances_) {
    if (held_ == 0 || max_records == 0) break;
    max_records -= EncodeHeld(*trace, max_records);
  }
  return held_;
}

size_t TraceDemultiplexer::EncodeHeld(ProcessTrace& trace, size_t max_records) {
  std::vector<CallRecord>& early = trace.early;
  const size_t n = std::min(max_records, early.size() - trace.early_done);
  for (size_t i = 0; i < n; ++i) Add(trace, early[trace.early_done + i]);
  trace.early_done += n;
  held_ -= n;
  if (trace.early_done == early.size()) {
    std::vector<CallRecord>().swap(early);
    trace.early_done = 0;
  }
  return n;
}

void TraceDemultiplexer::Handle(const CallRecord& record) {
  if (__builtin_expect(record.op == kWireWriter, 0)) {
    NoteThread(record);  // named at its first record, while it (probably) still exists
    return;
  }
  ProcessTrace& trace = TraceFor(record);
  if (__builtin_expect(!IsCallRecord(record), 0)) {
    if (record.op == kWireCommandLine || record.op == kWireMappingName) {
      char chunk[kCommandLineChunkBytes];
      memcpy(chunk, &record.arg, 8);
      memcpy(chunk + 8, &record.new_addr, 8);
      memcpy(chunk + 16, &record.result, 8);
      const size_t bytes = std::min<size_t>(record.size, sizeof chunk);
      if (record.op == kWireCommandLine) {
        trace.command_line.append(chunk, bytes);
      } else if (trace.writer == nullptr && !trace.mapping_dropped &&
                 trace.header.initial_mappings_size() > 0) {
        trace.header.mutable_initial_mappings()->rbegin()->mutable_path()->append(chunk, bytes);
      }
    } else if (record.op == kWireMapping) {
      // Sent before the image's first call, so before its header is written.
      // One that arrives after another thread's first call opened the trace (the header is
      // written) is counted and left out, with its name.
      trace.mapping_dropped = trace.writer != nullptr || record.new_addr <= record.addr;
      if (trace.mapping_dropped) {
        late_mappings_ += trace.writer != nullptr;
        return;
      }
      proto::Mapping* m = trace.header.add_initial_mappings();
      m->set_start(record.addr);
      m->set_size(record.new_addr - record.addr);
      m->set_protect(record.protect);
      m->set_shared(record.flags != 0);
      m->set_offset(record.arg);
      m->set_inode(record.result);
    }
    return;
  }
  if (__builtin_expect(trace.writer == nullptr, 0)) {
    if (trace.finished) {  // cannot happen: see collector.cc, where traces are finished early
      Fail(Status::Error("vmrecord: a record of " + trace.path + " arrived after it was finished"));
      return;
    }
    if (!OpenWriter(trace)) return;
  }
  ++events_;
  // Held while there is no clock, and after it while earlier records are still held.
  if (__builtin_expect(!access_.has_value() || !trace.early.empty(), 0)) {
    trace.early.push_back(record);
    ++held_;
    return;
  }
  Add(trace, record);
}

void TraceDemultiplexer::Add(ProcessTrace& trace, const CallRecord& record) {
  if (trace.chunk.rows() == 0) trace.chunk.Begin(kRecordsPerChunk, LinuxCallFields());
  trace.chunk.Add(record, *access_);
  if (trace.chunk_threads.Count(record.tid)) trace.threads.insert(record.tid);
  if (trace.chunk.rows() == kRecordsPerChunk) Flush(trace);
}

void TraceDemultiplexer::Flush(ProcessTrace& trace) {
  if (trace.chunk.rows() == 0) return;
  const auto rows = static_cast<uint32_t>(trace.chunk.rows());
  trace.chunk.Finish(0, {}, &columns_);
  Status s = trace.writer->AppendColumns(columns_, rows, trace.chunk_threads.threads());
  if (!s.ok()) Fail(s);
  trace.chunk_threads.Clear();
}

void TraceDemultiplexer::FinishProcess(uint32_t pid) {
  for (auto& [instance, trace] : instances_) {
    if (trace->pid == pid && !trace->finished) FinishTrace(*trace);
  }
  exit_status_.erase(pid);  // a later process may get the same pid
}

std::vector<uint32_t> TraceDemultiplexer::UnfinishedPids() const {
  std::set<uint32_t> pids;
  for (const auto& [instance, trace] : instances_) {
    if (!trace->finished) pids.insert(trace->pid);
  }
  return {pids.begin(), pids.end()};
}

void TraceDemultiplexer::FinishTrace(ProcessTrace& trace) {
  trace.finished = true;
  if (!OpenWriter(trace)) return;  // already reported
  proto::Footer footer;
  footer.set_dropped_events(trace.dropped);
  footer.set_end_time_unix_ns(WallNs());
  proto::ProcessEnd* end = footer.mutable_end();
  if (auto latest = latest_by_pid_.find(trace.pid);
      latest != latest_by_pid_.end() && latest->second != trace.instance) {
    end->set_how(proto::ProcessEnd::HOW_EXECED);
  } else if (auto status = exit_status_.find(trace.pid); status != exit_status_.end()) {
    if (WIFEXITED(status->second)) {
      end->set_how(proto::ProcessEnd::HOW_EXITED);
      end->set_exit_code(WEXITSTATUS(status->second));
    } else if (WIFSIGNALED(status->second)) {
      end->set_how(proto::ProcessEnd::HOW_KILLED);
      end->set_signal(WTERMSIG(status->second));
    }
  }
  for (uint64_t tid : trace.threads) {
    auto name = thread_names_.find(ThreadKey(trace.instance, tid));
    if (name == thread_names_.end()) continue;
    proto::ThreadInfo* info = footer.add_threads();
    info->set_thread_id(tid);
    info->set_name(name->second);
  }
  EncodeHeld(trace, SIZE_MAX);
  Flush(trace);
  Status s = trace.writer->Finish(footer);
  if (!s.ok()) Fail(s);
  trace.writer.reset();           // its file, buffers and compression context
  trace.chunk = ColumnEncoder();  // its buffers
  if (trace.path == options_.output_path) {
    finished_paths_.insert(finished_paths_.begin(), trace.path);
  } else {
    finished_paths_.push_back(trace.path);
  }
}

void TraceDemultiplexer::NoteExit(uint32_t pid, int wait_status) {
  exit_status_[pid] = wait_status;
}

void TraceDemultiplexer::CountDropped(uint32_t pid) {
  ++dropped_;
  auto it = latest_by_pid_.find(pid);
  if (it == latest_by_pid_.end()) it = latest_by_pid_.find(root_pid_);
  if (it != latest_by_pid_.end()) ++instances_[it->second]->dropped;
}

void TraceDemultiplexer::NoteThread(const CallRecord& record) {
  // By image: a thread that execs keeps its id and gets its new image's name.
  const uint64_t key = ThreadKey(record.instance, record.tid);
  if (thread_names_.count(key) != 0) return;
  std::string name = ReadSmallFile("/proc/" + std::to_string(record.pid) + "/task/" +
                                   std::to_string(record.tid) + "/comm");
  while (!name.empty() && name.back() == '\n') name.pop_back();
  thread_names_[key] = name;
}

Status TraceDemultiplexer::Finish(RecordingResult* result) {
  // The command's trace exists even if it recorded nothing (e.g. a static binary).
  if (latest_by_pid_.count(root_pid_) == 0) {
    CallRecord none{};
    none.pid = root_pid_;
    none.instance = 0;  // never handed out to a process image
    TraceFor(none);
  }
  for (auto& [instance, trace] : instances_) {
    if (!trace->finished) FinishTrace(*trace);
  }
  result->trace_paths = finished_paths_;
  result->events = events_;
  result->dropped_events = dropped_;
  result->late_mappings = late_mappings_;
  return status_;
}

void TraceDemultiplexer::Fail(const Status& s) {
  if (status_.ok()) status_ = s;
}

bool TraceDemultiplexer::OpenWriter(ProcessTrace& trace) {
  if (trace.writer != nullptr) return true;
  if (trace.writer_failed) return false;
  if (announced_) {
    auto& meta = *trace.header.mutable_metadata();
    const auto instance = static_cast<uint32_t>(std::stoul(meta["instance"]));
    if (!announced_(instance)) {
      meta["syscall_tracer"] = "off: this image installed no filter (seccomp refused it)";
    }
  }
  if (trace.header.command_line_size() == 0) {
    std::vector<std::string> args;
    if (!trace.command_line.empty()) {
      args = SplitNul(trace.command_line);
    } else {
      args = CommandLineOf(trace.pid);  // a fork child: its parent's command line
    }
    for (const auto& a : args) trace.header.add_command_line(a);
  }
  // The collector must keep pace with the recorded program: see CollectorOptions.
  WriterOptions writer_options;
  writer_options.compress = options_.compress;
  writer_options.zstd_level = options_.zstd_level;
  Status s = TraceWriter::Create(trace.path, trace.header, writer_options, &trace.writer);
  if (!s.ok()) {
    trace.writer_failed = true;
    Fail(s);
    return false;
  }
  return true;
}

TraceDemultiplexer::ProcessTrace& TraceDemultiplexer::TraceFor(const CallRecord& record) {
  // Runs of records mostly come from one process image: skip the map lookup for those.
  if (last_trace_ != nullptr && record.instance == last_instance_) return *last_trace_;
  auto it = instances_.find(record.instance);
  if (it != instances_.end()) {
    last_instance_ = record.instance;
    last_trace_ = it->second.get();
    return *last_trace_;
  }
  // First record of an image: normally its kWireProcessStart.
  auto trace = std::make_unique<ProcessTrace>();
  trace->pid = record.pid;
  trace->instance = record.instance;
  const int images_of_pid = images_per_pid_[record.pid]++;
  const bool is_root = record.pid == root_pid_ && images_of_pid == 0;
  if (is_root) {
    trace->path = options_.output_path;
  } else if (images_of_pid == 0) {
    trace->path = stem_ + "." + std::to_string(record.pid) + ".pb";
  } else {
    trace->path =
        stem_ + "." + std::to_string(record.pid) + "." + std::to_string(images_of_pid) + ".pb";
  }
  proto::Header& header = trace->header;
  header.set_platform(proto::PLATFORM_LINUX);
  header.set_source(proto::SOURCE_LINUX_PRELOAD);
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  header.set_page_size(page);
  header.set_allocation_granularity(page);
  header.set_physical_memory(static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * page);
  header.set_commit_limit(CommitLimitBytes());
  header.set_pointer_bits(64);
  uint64_t min_addr = 0;
  std::istringstream(ReadSmallFile("/proc/sys/vm/mmap_min_addr")) >> min_addr;
  header.set_min_user_address(min_addr != 0 ? min_addr : page);
  // x86-64 / aarch64 with 4-level page tables: user space ends one page below 2^47.
  header.set_max_user_address((uint64_t{1} << 47) - page - 1);
  header.set_start_time_unix_ns(start_wall_ns_);
  if (is_root) {
    for (const auto& a : options_.command) header.add_command_line(a);
  }
  auto& meta = *header.mutable_metadata();
  meta["pid"] = std::to_string(record.pid);
  meta["instance"] = std::to_string(record.instance);
  if (record.op == kWireProcessStart) {
    meta["ppid"] = std::to_string(record.addr);
    meta["parent_instance"] = std::to_string(record.arg);
    meta["started_by"] = record.arg != 0 ? "fork" : "exec";
  }
  meta["recorder"] = "vmrecord (LD_PRELOAD)";
  meta["syscall_tracer"] = syscall_tracer_;
  meta["timing"] = options_.time_precision_ns > 1
                       ? "compact (one clock read per call, no latency; timestamps in " +
                             std::to_string(options_.time_precision_ns) + " ns steps)"
                   : options_.coarse_timing ? "coarse (no latency; keys not ordered by lfence)"
                                            : "full";
  latest_by_pid_[record.pid] = record.instance;
  ProcessTrace& ref = *trace;
  instances_[record.instance] = std::move(trace);
  return ref;
}

}  // namespace vmreplay::recorder
