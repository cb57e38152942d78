#include "replayer/managers/plugin_manager.h"

#include <gtest/gtest.h>

#include "tests/managers/manager_test_util.h"

namespace vmreplay::replay {
namespace {

using namespace testing;

std::string BadPlugin(const std::string& fault) {
  return std::string(BAD_PLUGIN_DIR) + "/libbad_plugin_" + fault + ".so";
}

TEST(PluginManagerTest, TheExampleHostReplaysLikePassthroughWhenItsQuotaIsAmple) {
  for (const char* trace : {"traces/synth/server-gc.pb", "traces/windows/clr_driver.pb"}) {
    const ReplayMetrics plain = ReplayBundled(trace, "passthrough");
    const ReplayMetrics host =
        ReplayBundled(trace, std::string("plugin:") + QUOTA_HOST + ",quota=64G");
    EXPECT_EQ(host.manager, "plugin:libquota_host.so,quota=64G");
    EXPECT_EQ(host.heap, "plugin");  // its IHostMalloc served the heap calls
    EXPECT_EQ(host.divergences, 0u) << trace;
    EXPECT_EQ(host.vm.peak_committed_bytes, plain.vm.peak_committed_bytes) << trace;
    EXPECT_EQ(host.vm.peak_reserved_bytes, plain.vm.peak_reserved_bytes) << trace;
    EXPECT_EQ(host.heap_calls, plain.heap_calls) << trace;
    EXPECT_EQ(Figure(host, "plugin rule breaks"), 0) << trace;
  }
}

TEST(PluginManagerTest, TheExampleHostsQuotaRefusesAndNotifies) {
  const ReplayMetrics host = ReplayBundled("traces/synth/server-gc.pb",
                                           std::string("plugin:") + QUOTA_HOST + ",quota=160M");
  EXPECT_GT(host.divergences, 0u);
  EXPECT_LE(host.vm.peak_committed_bytes, 160 * kMiB);
  EXPECT_GE(host.notifications_low, 1u);
  EXPECT_GE(host.max_memory_load, 90u);
}

TEST(PluginManagerTest, LoadErrorsAreOneLineAndNameTheLibrary) {
  struct Case {
    std::string spec, message;
  } cases[] = {
      {"plugin:/nonexistent/libnone.so", "plugin /nonexistent/libnone.so: cannot load: "},
      {"plugin:" + BadPlugin("no_abi"),
       "not a vmreplay manager plugin (no vmreplay_plugin_abi_version)"},
      {"plugin:" + BadPlugin("wrong_abi"),
       "was built for manager plugin ABI 999; this vmreplay speaks ABI 1"},
      {"plugin:" + BadPlugin("no_create"), "no vmreplay_create_host_memory_manager"},
      {"plugin:" + BadPlugin("create_fails"),
       "vmreplay_create_host_memory_manager failed (0x8007000E)"},
  };
  for (const Case& k : cases) {
    Cell c = MakeCell(k.spec);
    ASSERT_FALSE(c.status.ok()) << k.spec;
    EXPECT_NE(c.status.message().find(k.message), std::string::npos) << c.status.message();
    EXPECT_EQ(c.status.message().find('\n'), std::string::npos);
  }
}

TEST(PluginManagerTest, APluginFailingEverythingIsCountedNotACrash) {
  const ReplayMetrics m =
      ReplayBundled("traces/windows/clr_driver.pb", "plugin:" + BadPlugin("e_fail"));
  EXPECT_GT(m.divergences, 0u);
  EXPECT_EQ(m.heap, "system");  // CreateMalloc failed: the replay's own heap
  EXPECT_EQ(m.notifications_low + m.notifications_neutral + m.notifications_high, 0u);
  bool heap_note = false;
  for (const std::string& n : m.notes) heap_note |= n.find("CreateMalloc declined") != n.npos;
  EXPECT_TRUE(heap_note);
  EXPECT_EQ(PluginManager::ErrorOf(E_FAIL), win32::kErrorInvalidFunction);
  EXPECT_EQ(PluginManager::ErrorOf(HRESULT_FROM_WIN32(487)), 487u);
  EXPECT_EQ(PluginManager::ErrorOf(E_OUTOFMEMORY), win32::kErrorOutOfMemory);
}

TEST(PluginManagerTest, AddressesOutsideWhatThePluginReservedAreRefused) {
  const ReplayMetrics m =
      ReplayBundled("traces/windows/clr_driver.pb", "plugin:" + BadPlugin("outside"));
  EXPECT_GT(m.divergences, 0u);
  EXPECT_GT(Figure(m, "plugin rule breaks"), 0);
  EXPECT_EQ(m.vm.committed_bytes, 0u);  // nothing reached the platform
  bool named = false;
  for (const std::string& n : m.notes) {
    named |= n.find("VirtualAlloc returned 0x123450000, outside memory it got from the platform") !=
             std::string::npos;
  }
  EXPECT_TRUE(named);
}

}  // namespace
}  // namespace vmreplay::replay
