#include "replayer/engine/block_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

namespace vmreplay::replay {
namespace {

// Random inserts, lookups and erases, key 0 included, checked against std::unordered_map while
// the table grows from its first 1024 slots past the size where its slots get pages of their
// own (huge pages where the system has them) and back down to empty.
TEST(BlockTableTest, AgreesWithAReferenceMapWhileGrowingLarge) {
  BlockTable table;
  std::unordered_map<uint64_t, HeapBlock> reference;
  std::mt19937_64 rng(7);
  std::vector<uint64_t> keys;
  auto block_for = [](uint64_t key) {
    return HeapBlock{reinterpret_cast<void*>(key ^ 0x5a5a), key % 4099};
  };
  // Heap-like keys: 16-byte aligned, clustered in a few regions.
  auto new_key = [&]() -> uint64_t {
    if (rng() % 50000 == 0) return 0;
    return (uint64_t{1 + rng() % 4} << 32) + (rng() % (uint64_t{1} << 26)) * 16;
  };
  for (int i = 0; i < 200000; ++i) {
    const uint64_t key = new_key();
    const auto [slot, inserted] = table.TryEmplace(key, block_for(key));
    const bool ref_inserted = reference.emplace(key, block_for(key)).second;
    ASSERT_EQ(inserted, ref_inserted) << "key " << key;
    ASSERT_EQ(slot->p, reference[key].p);
    if (inserted) keys.push_back(key);
    if (i % 3 == 0 && !keys.empty()) {  // erase a random live key
      const size_t at = rng() % keys.size();
      table.Erase(keys[at]);
      reference.erase(keys[at]);
      keys[at] = keys.back();
      keys.pop_back();
    }
  }
  ASSERT_EQ(table.size(), reference.size());
  EXPECT_TRUE(table.PrefetchPays());  // > 100 k live: well past the cache-sized table
  for (const auto& [key, block] : reference) {
    table.Prefetch(key);  // a hint only: must not change anything
    const HeapBlock* found = table.Find(key);
    ASSERT_NE(found, nullptr) << "key " << key;
    EXPECT_EQ(found->p, block.p);
    EXPECT_EQ(found->size, block.size);
  }
  EXPECT_EQ(table.Find(uint64_t{9} << 40), nullptr);
  size_t visited = 0;
  table.ForEach([&](uint64_t key, const HeapBlock& block) {
    ++visited;
    EXPECT_EQ(reference.at(key).p, block.p);
  });
  EXPECT_EQ(visited, reference.size());
  for (uint64_t key : keys) table.Erase(key);
  EXPECT_EQ(table.size(), 0u);
  for (uint64_t key : keys) EXPECT_EQ(table.Find(key), nullptr);
}

TEST(BlockTableTest, SmallTableDoesNotAskForPrefetching) {
  BlockTable table;
  for (uint64_t k = 1; k <= 1000; ++k) table.TryEmplace(k * 16, HeapBlock{nullptr, k});
  EXPECT_FALSE(table.PrefetchPays());
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.Find(16), nullptr);
}

}  // namespace
}  // namespace vmreplay::replay
