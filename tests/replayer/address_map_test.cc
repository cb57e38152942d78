#include "replayer/address_map.h"

#include <gtest/gtest.h>

namespace vmreplay::replay {
namespace {

TEST(AddressMapTest, TranslatesOffsetsInsideRanges) {
  AddressMap m;
  m.Insert(RecordedAddr{0x10000}, 0x20000, ReplayedAddr{0x7f0000000000});
  auto hit = m.Lookup(RecordedAddr{0x10000 + 0x1234});
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->address.value, 0x7f0000001234u);
  EXPECT_EQ(hit->range_end, 0x30000u);
  EXPECT_FALSE(m.Lookup(RecordedAddr{0x30000}));
  EXPECT_FALSE(m.Lookup(RecordedAddr{0xffff}));
}

TEST(AddressMapTest, PartialRemoveSplits) {
  AddressMap m;
  m.Insert(RecordedAddr{0x100000}, 0x10000, ReplayedAddr{0x500000});
  m.Remove(RecordedAddr{0x104000}, 0x4000);  // Hole in the middle.
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.Lookup(RecordedAddr{0x103fff})->address.value, 0x503fffu);
  EXPECT_FALSE(m.Lookup(RecordedAddr{0x104000}));
  EXPECT_EQ(m.Lookup(RecordedAddr{0x108000})->address.value, 0x508000u);
}

TEST(AddressMapTest, PiecesAcrossRangesAndGaps) {
  AddressMap m;
  m.Insert(RecordedAddr{0x1000}, 0x1000, ReplayedAddr{0xa000});
  m.Insert(RecordedAddr{0x3000}, 0x1000, ReplayedAddr{0xc000}, /*dead=*/true);
  const auto pieces = m.Pieces(RecordedAddr{0x1800}, 0x2800);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_TRUE(pieces[0].mapped);
  EXPECT_EQ(pieces[0].replayed.value, 0xa800u);
  EXPECT_EQ(pieces[0].size, 0x800u);
  EXPECT_FALSE(pieces[1].mapped);
  EXPECT_EQ(pieces[1].size, 0x1000u);
  EXPECT_TRUE(pieces[2].dead);
  EXPECT_EQ(pieces[2].size, 0x1000u);
}

TEST(AddressMapTest, InsertReplacesOverlapAndMarkDead) {
  AddressMap m;
  m.Insert(RecordedAddr{0x1000}, 0x4000, ReplayedAddr{0x10000});
  m.Insert(RecordedAddr{0x2000}, 0x1000, ReplayedAddr{0x90000});  // MAP_FIXED over the middle.
  EXPECT_EQ(m.Lookup(RecordedAddr{0x1000})->address.value, 0x10000u);
  EXPECT_EQ(m.Lookup(RecordedAddr{0x2010})->address.value, 0x90010u);
  EXPECT_EQ(m.Lookup(RecordedAddr{0x3000})->address.value, 0x12000u);
  m.MarkDead(RecordedAddr{0x2000});
  EXPECT_TRUE(m.Lookup(RecordedAddr{0x2000})->dead);
  EXPECT_FALSE(m.Lookup(RecordedAddr{0x1000})->dead);
}

}  // namespace
}  // namespace vmreplay::replay
