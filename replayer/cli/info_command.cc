// vmreplay info: what a trace holds.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <numeric>
#include <string>

#include "proto/trace_summary.h"
#include "replayer/cli/command.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunInfo(const std::vector<std::string>& args) {
  std::string path;
  po::options_description options("info options");
  options.add_options()("trace", po::value(&path)->required(), "trace file (binary or text)");
  po::positional_options_description positional;
  positional.add("trace", 1);
  po::variables_map vm;
  if (int rc = ParseArgs(args, "vmreplay info TRACE", options, positional, &vm); rc >= 0) {
    return rc;
  }
  TraceSummary s;
  Status status = Summarize(path, &s);
  if (!status.ok()) {
    PrintError(status.message());
    return kExitFailure;
  }
  const proto::Header& h = s.header;
  std::printf("trace          %s (%" PRIu64 " bytes)\n", path.c_str(), s.file_size);
  std::printf("format         %u.%u, %s, %s\n", h.format_major(), h.format_minor(),
              proto::Platform_Name(h.platform()).c_str(),
              proto::SourceKind_Name(h.source()).c_str());
  std::printf("address space  page %" PRIu64 ", granularity %" PRIu64 ", user 0x%" PRIx64
              "..0x%" PRIx64 ", %u-bit\n",
              h.page_size(), h.allocation_granularity(), h.min_user_address(), h.max_user_address(),
              h.pointer_bits());
  auto mib = [](uint64_t bytes) {
    if (bytes == 0) return std::string("unknown");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    return std::string(buf);
  };
  std::printf("memory         physical %s, commit limit %s\n", mib(h.physical_memory()).c_str(),
              mib(h.commit_limit()).c_str());
  if (h.command_line_size() > 0) {
    std::string cmd;
    for (const std::string& a : h.command_line()) cmd += (cmd.empty() ? "" : " ") + a;
    std::printf("command        %s\n", cmd.c_str());
  }
  for (const auto& [key, value] :
       std::map<std::string, std::string>(h.metadata().begin(), h.metadata().end())) {
    std::printf("metadata       %s = %s\n", key.c_str(), value.c_str());
  }
  if (h.initial_mappings_size() > 0) {
    uint64_t bytes = 0;
    for (const proto::Mapping& m : h.initial_mappings()) bytes += m.size();
    std::printf("address space  %d mappings (%s) before the first event\n",
                h.initial_mappings_size(), mib(bytes).c_str());
  }
  const double span_s =
      s.events == 0 ? 0.0 : static_cast<double>(s.last_end_ns - s.first_timestamp_ns) / 1e9;
  std::printf("events         %" PRIu64 " in %zu threads over %.6f s; %" PRIu64
              " recorded failures\n",
              s.events, s.per_thread.size(), span_s, s.failed_calls);
  std::printf(
      "size           %.2f bytes/event\n",
      s.events == 0 ? 0.0 : static_cast<double>(s.file_size) / static_cast<double>(s.events));
  std::printf("footer         %s", s.has_footer ? "present" : "absent");
  if (s.dropped_events != 0) {
    std::printf(", %" PRIu64
                " calls dropped by the recorder (in progress when their thread or process died)",
                s.dropped_events);
  }
  switch (s.end.how()) {
    case proto::ProcessEnd::HOW_EXITED:
      std::printf("; the process exited with %d", s.end.exit_code());
      break;
    case proto::ProcessEnd::HOW_KILLED:
      std::printf("; the process was killed by signal %d (%s)", s.end.signal(),
                  strsignal(s.end.signal()));
      break;
    case proto::ProcessEnd::HOW_EXECED:
      std::printf("; the image ended in an exec");
      break;
    default:
      break;
  }
  std::printf("\n\nper operation\n");
  for (int op = 1; op < kOpCount; ++op) {
    if (s.per_op[op] == 0) continue;
    std::printf("  %-36s %12" PRIu64 "  %5.1f%%\n", std::string(kOpInfo[op].name).c_str(),
                s.per_op[op],
                100.0 * static_cast<double>(s.per_op[op]) / static_cast<double>(s.events));
  }
  if (s.per_origin[0] != std::accumulate(s.per_origin.begin(), s.per_origin.end(), uint64_t{0})) {
    std::printf("\nmmap family by origin (who made the call)\n");
    for (int o = 0; o < kCallOriginCount; ++o) {
      std::printf("  %-36s %12" PRIu64 "\n", std::string(kCallOriginNames[o]).c_str(),
                  s.per_origin[o]);
    }
  }
  std::printf("\nper thread\n");
  size_t shown = 0;
  for (const auto& [tid, count] : s.per_thread) {
    if (++shown > 16) {
      std::printf("  ... %zu more\n", s.per_thread.size() - 16);
      break;
    }
    auto name = s.thread_names.find(tid);
    std::printf("  %-12" PRIu64 " %12" PRIu64 " events%s%s\n", tid, count,
                name != s.thread_names.end() ? "  " : "",
                name != s.thread_names.end() ? name->second.c_str() : "");
  }
  return kExitOk;
}

}  // namespace vmreplay::cli
