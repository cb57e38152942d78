// `vmreplay diff A.json B.json`: figures side by side with relative changes; wrong schema errors.
#include <gtest/gtest.h>

#include "tests/gate/cli_test_util.h"

namespace vmreplay::testing {
namespace {

TEST(DiffCommandTest, SideBySideWithChanges) {
  const std::string dir = TempDir();
  ASSERT_EQ(RunVmreplay("traces/synth/pressure.pb --backend sim --backend arena --json > " + dir +
                        "/a.json")
                .code,
            0);
  ASSERT_EQ(
      RunVmreplay("traces/synth/workstation-gc.pb --backend sim --json > " + dir + "/b.json").code,
      0);
  const CliResult r = RunVmreplay("diff " + dir + "/a.json " + dir + "/b.json");
  ASSERT_EQ(r.code, 0) << r.out;
  // pressure.pb peaks at 242311168 committed bytes, workstation-gc.pb at 187731968: -22.5 %.
  EXPECT_NE(r.out.find("peak_commit_bytes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("242311168"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("187731968"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-22.5%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("latency_ns.VirtualAlloc.p50"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("arena/os/system: only in A"), std::string::npos) << r.out;
}

TEST(DiffCommandTest, WrongSchemaIsAClearError) {
  const std::string dir = TempDir();
  WriteFile(dir + "/a.json", "{\"schema\":\"vmreplay.gate/1\",\"entries\":[]}");
  WriteFile(dir + "/b.json", "{\"schema\":\"vmreplay.replay/1\",\"runs\":[]}");
  CliResult r = RunVmreplay("diff " + dir + "/a.json " + dir + "/b.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("a.json: schema \"vmreplay.gate/1\" is not vmreplay.replay/2"),
            std::string::npos)
      << r.out;
  WriteFile(dir + "/c.json", "not json");
  r = RunVmreplay("diff " + dir + "/b.json " + dir + "/c.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("c.json: JSON"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vmreplay::testing
