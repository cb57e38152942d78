#include "replayer/managers/manager_options.h"

#include <gtest/gtest.h>

namespace vmreplay::replay {
namespace {

TEST(ManagerOptionsTest, ByteCounts) {
  uint64_t v = 0;
  ASSERT_TRUE(ParseBytes("4096", &v).ok());
  EXPECT_EQ(v, 4096u);
  ASSERT_TRUE(ParseBytes("2M", &v).ok());
  EXPECT_EQ(v, 2u << 20);
  ASSERT_TRUE(ParseBytes("64G", &v).ok());
  EXPECT_EQ(v, 64ull << 30);
  ASSERT_TRUE(ParseBytes("1t", &v).ok());
  EXPECT_EQ(v, 1ull << 40);
  ASSERT_TRUE(ParseBytes("512KiB", &v).ok());
  EXPECT_EQ(v, 512u << 10);
  for (const char* bad : {"", "M", "12Q", "-1", "1.5G", "99999999999999999999", "16777216T"}) {
    EXPECT_FALSE(ParseBytes(bad, &v).ok()) << bad;
  }
}

TEST(ManagerOptionsTest, DefaultsFromTheTable) {
  ManagerSpec s;
  ASSERT_TRUE(ManagerSpec::Parse("arena", &s).ok());
  EXPECT_EQ(s.name(), "arena");
  EXPECT_EQ(s.label(), "arena");
  EXPECT_EQ(s.Bytes("size"), 64ull << 30);
  EXPECT_EQ(s.Choice("placement"), "first-fit");
  ASSERT_TRUE(ManagerSpec::Parse("budget", &s).ok());
  EXPECT_EQ(s.Bytes("limit"), 256ull << 20);
  EXPECT_EQ(s.Bytes("process-reserve"), 0u);
  // Every knob's default parses as its kind says.
  for (const KnobInfo& k : ManagerKnobs()) {
    ASSERT_TRUE(ManagerSpec::Parse(std::string(k.manager), &s).ok()) << k.manager;
    if (k.kind == KnobKind::kBytes) {
      uint64_t v = 0;
      EXPECT_TRUE(ParseBytes(k.default_value, &v).ok()) << k.manager << ":" << k.name;
    } else {
      EXPECT_NE(std::string(k.choices).find(k.default_value), std::string::npos) << k.name;
    }
  }
}

TEST(ManagerOptionsTest, KnobsGivenNameTheRunInTableOrder) {
  ManagerSpec s;
  ASSERT_TRUE(ManagerSpec::Parse("arena:placement=best-fit,size=16G", &s).ok());
  EXPECT_EQ(s.label(), "arena:size=16G,placement=best-fit");
  EXPECT_EQ(s.Bytes("size"), 16ull << 30);
  EXPECT_EQ(s.Choice("placement"), "best-fit");
}

TEST(ManagerOptionsTest, ClearErrors) {
  ManagerSpec s;
  Status st = ManagerSpec::Parse("slab", &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("unknown manager 'slab' (passthrough, arena,"), std::string::npos)
      << st.message();
  st = ManagerSpec::Parse("arena:colour=red", &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("manager arena has no knob 'colour' (size, placement)"),
            std::string::npos)
      << st.message();
  st = ManagerSpec::Parse("passthrough:size=1M", &s);
  EXPECT_NE(st.message().find("(it has none)"), std::string::npos) << st.message();
  st = ManagerSpec::Parse("arena:placement=worst-fit", &s);
  EXPECT_NE(st.message().find("is not one of first-fit|best-fit|next-fit"), std::string::npos)
      << st.message();
  st = ManagerSpec::Parse("arena:size=lots", &s);
  EXPECT_NE(st.message().find("arena:size: 'lots' is not a byte count"), std::string::npos)
      << st.message();
  st = ManagerSpec::Parse("arena:size", &s);
  EXPECT_NE(st.message().find("is not KNOB=VALUE"), std::string::npos) << st.message();
  st = ManagerSpec::Parse("plugin:", &s);
  EXPECT_NE(st.message().find("needs a shared library"), std::string::npos) << st.message();
}

TEST(ManagerOptionsTest, PluginPathAndOptions) {
  ManagerSpec s;
  ASSERT_TRUE(ManagerSpec::Parse("plugin:/opt/hosts/libquota.so,quota=1M,x=y", &s).ok());
  EXPECT_EQ(s.plugin_path(), "/opt/hosts/libquota.so");
  EXPECT_EQ(s.plugin_options(), "quota=1M,x=y");
  EXPECT_EQ(s.label(), "plugin:libquota.so,quota=1M,x=y");
}

}  // namespace
}  // namespace vmreplay::replay
