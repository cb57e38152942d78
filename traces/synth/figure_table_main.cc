// vmreplay_figure_table: the fitting figures (trace_figures.h) of traces side by side.
//   vmreplay_figure_table [--real=N] NAME=TRACE ...
// With --real=N, every other column gets its distance to column N: |log2(synthetic / real)|.
#include <cstdio>
#include <string>
#include <vector>

#include "traces/synth/trace_figures.h"

int main(int argc, char** argv) {
  using namespace vmreplay::synth;
  int real = -1;
  std::vector<std::string> names;
  std::vector<TraceFigures> figures;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--real=", 0) == 0) {
      real = std::stoi(arg.substr(7));
      continue;
    }
    const size_t eq = arg.find('=');
    names.push_back(eq == std::string::npos ? arg : arg.substr(0, eq));
    TraceFigures f;
    if (vmreplay::Status s = MeasureTrace(eq == std::string::npos ? arg : arg.substr(eq + 1), &f);
        !s.ok()) {
      std::fprintf(stderr, "vmreplay_figure_table: %s\n", s.message().c_str());
      return 1;
    }
    figures.push_back(f);
  }
  if (names.empty() || real >= static_cast<int>(names.size())) {
    std::fprintf(stderr, "usage: vmreplay_figure_table [--real=N] NAME=TRACE ...\n");
    return 2;
  }
  std::fputs(FormatFigureTable(names, figures, real).c_str(), stdout);
  return 0;
}
