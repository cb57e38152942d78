#include "replayer/report/perfetto_trace.h"

#include <cstdio>

#include "replayer/report/json_value.h"

namespace vmreplay::replay {
namespace {

bool HasTimestamps(const std::vector<ReplayMetrics>& runs) {
  bool nonzero = false;
  for (const auto& m : runs) {
    uint64_t last = 0;
    for (const auto& s : m.timeline.samples()) {
      if (s.timestamp_ns < last) return false;
      last = s.timestamp_ns;
      nonzero |= s.timestamp_ns != 0;
    }
  }
  return nonzero;
}

std::string Micros(uint64_t event, uint64_t ts_ns, bool timestamps) {
  char buf[40];
  if (timestamps) {
    std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(ts_ns / 1000),
                  static_cast<unsigned long long>(ts_ns % 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(event));
  }
  return buf;
}

}  // namespace

void WritePerfettoTrace(const std::string& trace, const std::vector<ReplayMetrics>& runs,
                        std::ostream& out) {
  const bool timestamps = HasTimestamps(runs);
  out << "{\"displayTimeUnit\":\"ms\",\"vmreplay\":{\"trace\":" << json::Quote(trace)
      << ",\"ts\":\"" << (timestamps ? "trace timestamps" : "event index") << "\"},"
      << "\"traceEvents\":[\n";
  bool first = true;
  auto sep = [&] {
    if (!first) out << ",\n";
    first = false;
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    const ReplayMetrics& m = runs[i];
    const size_t pid = i + 1;
    sep();
    out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << pid
        << ",\"tid\":0,\"args\":{\"name\":" << json::Quote(m.label()) << "}}";
    for (const auto& s : m.timeline.samples()) {
      const std::string ts = Micros(s.first_event, s.timestamp_ns, timestamps);
      sep();
      out << "{\"name\":\"committed\",\"ph\":\"C\",\"ts\":" << ts << ",\"pid\":" << pid
          << ",\"tid\":0,\"args\":{\"bytes\":" << s.commit_max << "}},\n"
          << "{\"name\":\"reserved\",\"ph\":\"C\",\"ts\":" << ts << ",\"pid\":" << pid
          << ",\"tid\":0,\"args\":{\"bytes\":" << s.reserved_max << "}}";
      if (s.fragmentation_max >= 0) {
        char f[32];
        std::snprintf(f, sizeof f, "%.6f", s.fragmentation_max);
        out << ",\n{\"name\":\"fragmentation\",\"ph\":\"C\",\"ts\":" << ts << ",\"pid\":" << pid
            << ",\"tid\":0,\"args\":{\"value\":" << f << "}}";
      }
    }
    for (const auto& n : m.timeline.notifications()) {
      sep();
      out << "{\"name\":\"notification " << n.level
          << "\",\"ph\":\"i\",\"s\":\"p\",\"ts\":" << Micros(n.event, n.timestamp_ns, timestamps)
          << ",\"pid\":" << pid << ",\"tid\":0,\"args\":{\"event\":" << n.event << ",\"source\":\""
          << (n.recorded ? "recorded" : "model") << "\"}}";
    }
  }
  out << "\n]}\n";
}

}  // namespace vmreplay::replay
