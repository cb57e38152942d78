#include "replayer/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

#include "replayer/report/replay_report.h"

namespace vmreplay::replay {
namespace {

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                   "#9467bd", "#8c564b", "#e377c2", "#17becf"};
constexpr int kColorCount = sizeof kColors / sizeof kColors[0];
// Later runs are drawn dashed and thinner so identical series (sim and arena share the
// simulator's accounting) stay visible on top of each other.
constexpr const char* kDash[] = {"", "8 4", "2 3", "12 3 2 3"};

constexpr double kWidth = 1100, kHeight = 280;
constexpr double kLeft = 90, kRight = 20, kTop = 16, kBottom = 40;

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string F(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Bytes(double v) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string Count(double v) {
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  } else if (v >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.0fk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  }
  return buf;
}

std::string Nanos(double v) {
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1f ms", v / 1e6);
  } else if (v >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1f µs", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f ns", v);
  }
  return buf;
}

// A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten (of 1024 for bytes).
double NiceMax(double v, bool bytes) {
  if (v <= 0) return 1;
  const double base = bytes ? 1024 : 10;
  double p = 1;
  while (p * base <= v) p *= base;
  for (double k : {1.0, 2.0, 4.0, 5.0, 8.0, 10.0, 16.0, 20.0, 32.0, 50.0, 64.0, 100.0, 128.0, 256.0,
                   512.0, 1024.0}) {
    if (k * p >= v) return k * p;
  }
  return v;
}

void Legend(const std::vector<ReplayMetrics>& runs, std::ostream& out) {
  double x = kLeft;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string c = kColors[i % kColorCount];
    out << "<line x1=\"" << F(x) << "\" y1=\"" << F(kHeight - 8) << "\" x2=\"" << F(x + 24)
        << "\" y2=\"" << F(kHeight - 8) << "\" stroke=\"" << c << "\" stroke-width=\"3\"/>"
        << "<text class=\"legend\" x=\"" << F(x + 30) << "\" y=\"" << F(kHeight - 4) << "\">"
        << Escape(runs[i].label()) << "</text>";
    x += 40 + 8.0 * static_cast<double>(runs[i].label().size());
  }
}

// One line chart of `value(sample)` over the event index, one path per run that has the series.
void LineChart(const std::string& id, const std::string& title,
               const std::vector<ReplayMetrics>& runs,
               const std::function<double(const ReplayTimeline::Sample&)>& value, bool bytes,
               bool fraction, std::ostream& out) {
  double max_x = 1, max_y = 0;
  for (const auto& m : runs) {
    max_x = std::max(max_x, static_cast<double>(m.events));
    for (const auto& s : m.timeline.samples()) max_y = std::max(max_y, value(s));
  }
  if (fraction) {
    // Fragmentation is often a few percent: scale to the data, not to 100 %.
    double top = 1.0;
    for (double c : {0.01, 0.02, 0.05, 0.1, 0.2, 0.5}) {
      if (max_y <= c) {
        top = c;
        break;
      }
    }
    max_y = top;
  } else {
    max_y = NiceMax(max_y, bytes);
  }
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom - 14;
  auto px = [&](double x) { return kLeft + pw * x / max_x; };
  auto py = [&](double y) { return kTop + ph - ph * y / max_y; };
  out << "<h2>" << Escape(title) << "</h2>\n<svg class=\"chart\" id=\"chart-" << id
      << "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << F(kWidth) << "\" height=\""
      << F(kHeight) << "\" viewBox=\"0 0 " << F(kWidth) << " " << F(kHeight) << "\">";
  // Grid and axis labels.
  for (int i = 0; i <= 4; ++i) {
    const double y = max_y * i / 4;
    out << "<line class=\"grid\" x1=\"" << F(kLeft) << "\" x2=\"" << F(kLeft + pw) << "\" y1=\""
        << F(py(y)) << "\" y2=\"" << F(py(y)) << "\"/><text class=\"axis\" x=\"" << F(kLeft - 6)
        << "\" y=\"" << F(py(y) + 4) << "\" text-anchor=\"end\">"
        << (fraction ? F(y * 100) + " %"
            : bytes  ? Bytes(y)
                     : Count(y))
        << "</text>";
  }
  for (int i = 0; i <= 5; ++i) {
    const double x = max_x * i / 5;
    out << "<text class=\"axis\" x=\"" << F(px(x)) << "\" y=\"" << F(kTop + ph + 16)
        << "\" text-anchor=\"middle\">" << Count(x) << "</text>";
  }
  out << "<text class=\"axis\" x=\"" << F(kLeft + pw) << "\" y=\"" << F(kTop + ph + 30)
      << "\" text-anchor=\"end\">event index</text>";
  size_t drawn = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    std::ostringstream d;
    bool any = false;
    for (const auto& s : runs[i].timeline.samples()) {
      const double v = value(s);
      if (v < 0) continue;  // series unknown for this backend
      d << (any ? " L" : "M") << F(px(static_cast<double>(s.first_event))) << " " << F(py(v));
      any = true;
    }
    if (!any) continue;
    ++drawn;
    out << "<path class=\"series\" data-run=\"" << Escape(runs[i].label()) << "\" d=\"" << d.str()
        << "\" fill=\"none\" stroke=\"" << kColors[i % kColorCount] << "\" stroke-width=\""
        << (i == 0 ? "2.5" : "1.5") << "\" stroke-dasharray=\"" << kDash[i % 4] << "\"/>";
  }
  if (drawn == 0) {
    out << "<text class=\"axis\" x=\"" << F(kWidth / 2) << "\" y=\"" << F(kHeight / 2)
        << "\" text-anchor=\"middle\">no backend reports this series</text>";
  }
  Legend(runs, out);
  out << "</svg>\n";
}

// One bar chart per operation kind: p50, p90, p99, p99.9 and max per run, log scale.
void LatencyChart(Op op, const std::vector<ReplayMetrics>& runs, std::ostream& out) {
  const int o = static_cast<int>(op);
  const std::pair<const char*, double> quantiles[] = {
      {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}, {"max", -1}};
  double max_v = 1;
  for (const auto& m : runs) max_v = std::max(max_v, static_cast<double>(m.latency[o].max()));
  max_v = NiceMax(max_v, false);
  const double lo = 1, hi = std::log10(max_v);
  const double w = 540, h = 230, left = 70, top = 12, bottom = 60;
  const double pw = w - left - 10, ph = h - top - bottom;
  auto py = [&](double v) { return top + ph - ph * std::log10(std::max(v, lo)) / hi; };
  const std::string name(OpName(op));
  out << "<figure><figcaption>" << Escape(name) << " latency (ns, log scale)</figcaption>"
      << "<svg class=\"chart latency\" id=\"chart-latency-" << Escape(name)
      << "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << F(w) << "\" height=\"" << F(h)
      << "\">";
  for (double v = 1; v <= max_v; v *= 10) {
    out << "<line class=\"grid\" x1=\"" << F(left) << "\" x2=\"" << F(left + pw) << "\" y1=\""
        << F(py(v)) << "\" y2=\"" << F(py(v)) << "\"/><text class=\"axis\" x=\"" << F(left - 6)
        << "\" y=\"" << F(py(v) + 4) << "\" text-anchor=\"end\">" << Nanos(v) << "</text>";
  }
  const double group = pw / 5, bar = std::min(24.0, (group - 10) / runs.size());
  for (int q = 0; q < 5; ++q) {
    const double gx = left + group * q + (group - bar * runs.size()) / 2;
    for (size_t i = 0; i < runs.size(); ++i) {
      const LogHistogram& hist = runs[i].latency[o];
      if (hist.count() == 0) continue;
      const double v = quantiles[q].second < 0
                           ? static_cast<double>(hist.max())
                           : static_cast<double>(hist.Percentile(quantiles[q].second));
      const double y = py(v);
      out << "<rect class=\"bar\" x=\"" << F(gx + bar * i) << "\" y=\"" << F(y) << "\" width=\""
          << F(bar - 2) << "\" height=\"" << F(top + ph - y) << "\" fill=\""
          << kColors[i % kColorCount] << "\"><title>" << Escape(runs[i].label()) << " "
          << quantiles[q].first << ": " << Nanos(v) << "</title></rect>";
    }
    out << "<text class=\"axis\" x=\"" << F(left + group * q + group / 2) << "\" y=\""
        << F(top + ph + 16) << "\" text-anchor=\"middle\">" << quantiles[q].first << "</text>";
  }
  double x = left;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string text =
        runs[i].label() + " (" + std::to_string(runs[i].latency[o].count()) + " calls)";
    out << "<rect x=\"" << F(x) << "\" y=\"" << F(h - 22) << "\" width=\"12\" height=\"12\" fill=\""
        << kColors[i % kColorCount] << "\"/><text class=\"legend\" x=\"" << F(x + 16) << "\" y=\""
        << F(h - 12) << "\">" << Escape(text) << "</text>";
    x += 36 + 7.0 * static_cast<double>(text.size());
  }
  out << "</svg></figure>\n";
}

}  // namespace

void WriteHtmlReport(const std::string& trace, const std::vector<ReplayMetrics>& runs,
                     std::ostream& out) {
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<title>vmreplay report: "
      << Escape(trace)
      << "</title>\n<style>\n"
         "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;"
         "max-width:1180px}\n"
         "h1{font-size:22px}h2{font-size:17px;margin:28px 0 6px}\n"
         "svg.chart{background:#fff;border:1px solid #ddd;border-radius:4px}\n"
         ".grid{stroke:#e6e6e6;stroke-width:1}.axis{font-size:11px;fill:#555}"
         ".legend{font-size:12px;fill:#222}\n"
         "figure{display:inline-block;margin:6px 8px 6px 0}figcaption{font-size:13px;"
         "font-weight:600;margin-bottom:2px}\n"
         "table{border-collapse:collapse;font-size:13px;margin-top:6px}td,th{border:1px solid "
         "#ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child,"
         "th:first-child{text-align:left}tr:nth-child(even) td{background:#fafafa}\n"
         ".note{color:#666;font-size:12px}\n</style></head><body>\n";
  out << "<h1>vmreplay report</h1>\n<p>Trace <code>" << Escape(trace) << "</code>, " << runs.size()
      << " run(s): ";
  for (size_t i = 0; i < runs.size(); ++i) {
    out << (i ? ", " : "") << "<b style=\"color:" << kColors[i % kColorCount] << "\">"
        << Escape(runs[i].label()) << "</b>";
  }
  out << ".</p>\n<p class=\"note\">Time axis: event index. Each point is the maximum over a "
         "bucket of events (at most "
      << ReplayTimeline::kDefaultMaxSamples << " buckets), so peaks are kept.</p>\n";
  LineChart(
      "commit", "Committed bytes over time", runs,
      [](const ReplayTimeline::Sample& s) { return static_cast<double>(s.commit_max); }, true,
      false, out);
  LineChart(
      "reserve", "Reserved address space over time", runs,
      [](const ReplayTimeline::Sample& s) { return static_cast<double>(s.reserved_max); }, true,
      false, out);
  LineChart(
      "fragmentation", "Address-space fragmentation over time (1 - largest free / total free)",
      runs, [](const ReplayTimeline::Sample& s) { return s.fragmentation_max; }, false, true, out);
  out << "<h2>Latency per operation</h2>\n";
  for (int op = 0; op < kOpCount; ++op) {
    bool used = false;
    for (const auto& m : runs) used |= m.latency[op].count() > 0;
    if (used) LatencyChart(static_cast<Op>(op), runs, out);
  }
  out << "<h2>Summary</h2>\n<table id=\"summary\"><thead><tr><th>figure</th>";
  for (const auto& m : runs) out << "<th>" << Escape(m.label()) << "</th>";
  out << "</tr></thead><tbody>\n";
  for (const TableRow& r : TableRows(runs)) {
    out << "<tr><td>" << Escape(r.label) << "</td>";
    for (const std::string& c : r.cells) out << "<td>" << Escape(c) << "</td>";
    out << "</tr>\n";
  }
  out << "</tbody></table>\n";
  for (const auto& m : runs) {
    if (m.first_divergences.empty()) continue;
    out << "<h2>First divergences on " << Escape(m.label()) << "</h2><ul>";
    for (const auto& d : m.first_divergences) {
      out << "<li>#" << d.event_index << " " << Escape(std::string(OpName(d.op))) << ": "
          << Escape(d.what) << "</li>";
    }
    out << "</ul>\n";
  }
  out << "</body></html>\n";
}

}  // namespace vmreplay::replay
