#include "proto/string_table.h"

#include <gtest/gtest.h>

namespace vmreplay {
namespace {

TEST(StringTableTest, FindsStringsAcrossRunsLeftByJumpingIds) {
  StringTable t;
  std::vector<std::string> a = {"a", "b"}, b = {"c"}, c = {"d"};
  ASSERT_TRUE(t.Add(1, &a).ok());
  ASSERT_TRUE(t.Add(3, &b).ok());         // continues the run
  ASSERT_TRUE(t.Add(1u << 30, &c).ok());  // a jump past lost chunks: a run of its own
  EXPECT_EQ(t.last_id(), 1u << 30);
  EXPECT_EQ(t.Find(0), "");
  EXPECT_EQ(t.Find(1), "a");
  EXPECT_EQ(t.Find(2), "b");
  EXPECT_EQ(t.Find(3), "c");
  EXPECT_EQ(t.Find(4), "");  // defined, if at all, in a lost chunk
  EXPECT_EQ(t.Find((1u << 30) - 1), "");
  EXPECT_EQ(t.Find(1u << 30), "d");
  EXPECT_EQ(t.Find(UINT32_MAX), "");
  // Memory follows the strings, not the ids.
  EXPECT_EQ(t.bytes(), 4 * (1 + StringTable::kOverheadPerString));
}

TEST(StringTableTest, RefusesStringsPastItsCap) {
  StringTable t;
  std::vector<std::string> big(1, std::string(StringTable::kMaxBytes, 'x'));
  Status s = t.Add(1, &big);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exceed 64 MiB"), std::string::npos) << s.message();
  EXPECT_EQ(t.last_id(), 0u);
}

}  // namespace
}  // namespace vmreplay
