// `vmreplay TRACE --report=out.html`: the file is self-contained, and headless Chromium renders
// it into the expected charts, legends and table (skipped when chromium is not installed).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/gate/cli_test_util.h"

namespace vmreplay::testing {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

std::string MakeReport(const std::string& dir) {
  const std::string html = dir + "/report.html";
  const CliResult r = RunVmreplay(
      "traces/synth/server-gc.pb --manager passthrough --manager arena "
      "--report " +
      html);
  EXPECT_EQ(r.code, 0) << r.out;
  return html;
}

std::string Chromium(const std::string& dir, const std::string& what) {
  return std::string(kChromium) +
         " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync "
         "--user-data-dir=" +
         dir + "/profile " + what;
}

TEST(HtmlReportTest, SelfContained) {
  const std::string html = ReadFile(MakeReport(TempDir()));
  EXPECT_EQ(CountOf(html, "<script"), 0u);
  EXPECT_EQ(CountOf(html, "http://"), CountOf(html, "http://www.w3.org/2000/svg"));
  EXPECT_EQ(CountOf(html, "https://"), 0u);
  EXPECT_EQ(CountOf(html, "<link"), 0u);
}

TEST(HtmlReportTest, ChromiumRendersChartsAndTable) {
  if (!std::filesystem::exists(kChromium)) {
    GTEST_SKIP() << kChromium << " not installed (scripts/install-deps.sh installs chromium)";
  }
  const std::string dir = TempDir();
  const std::string html = MakeReport(dir);
  const std::string dom_path = dir + "/dom.html";
  const std::string cmd =
      Chromium(dir, "--dump-dom file://" + html) + " > " + dom_path + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string dom = ReadFile(dom_path);
  // Three line charts (commit, reservation, fragmentation), each one path per run.
  for (const char* id : {"chart-commit", "chart-reserve", "chart-fragmentation"}) {
    EXPECT_NE(dom.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  }
  EXPECT_EQ(CountOf(dom, "class=\"series\""), 6u);
  EXPECT_EQ(CountOf(dom, "data-run=\"passthrough/sim/system\""), 3u);
  EXPECT_EQ(CountOf(dom, "data-run=\"arena/sim/system\""), 3u);
  // Latency charts: one per operation the trace uses, bars for both runs.
  EXPECT_GE(CountOf(dom, "class=\"chart latency\""), 4u);
  EXPECT_NE(dom.find("id=\"chart-latency-VirtualAlloc\""), std::string::npos);
  EXPECT_GE(CountOf(dom, "class=\"bar\""), 4u * 5 * 2);
  // Legends name both runs; the summary table has the figures.
  EXPECT_GE(CountOf(dom, ">passthrough/sim/system</text>"), 3u);
  EXPECT_GE(CountOf(dom, ">arena/sim/system</text>"), 3u);
  EXPECT_NE(dom.find("id=\"summary\""), std::string::npos);
  EXPECT_NE(dom.find("<td>peak commit</td>"), std::string::npos);
  EXPECT_NE(dom.find("<th>arena/sim/system</th>"), std::string::npos);
  // And it paints: a screenshot of the page is written.
  const std::string png = dir + "/report.png";
  const std::string shot =
      Chromium(dir, "--screenshot=" + png + " --window-size=1280,2000 file://" + html) +
      " >/dev/null 2>&1";
  ASSERT_EQ(std::system(shot.c_str()), 0);
  EXPECT_GT(std::filesystem::file_size(png), 20000u);
}

}  // namespace
}  // namespace vmreplay::testing
