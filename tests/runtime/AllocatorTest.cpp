// CpuAllocator: alignment, live/peak accounting, the cap, and the reuse of large
// blocks (a released large block comes back for the next request of its size,
// without counting as live memory meanwhile).
#include <gtest/gtest.h>

#include <cstdint>

#include "runtime/Allocator.h"

namespace dj {
namespace {

TEST(Allocator, AlignedAndCounted) {
  int64_t before = CpuAllocator::live_bytes();
  void* p = CpuAllocator::allocate(1000);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % CpuAllocator::kAlignment, 0u);
  EXPECT_EQ(CpuAllocator::live_bytes(), before + 1000);
  CpuAllocator::release(p, 1000);
  EXPECT_EQ(CpuAllocator::live_bytes(), before);
}

TEST(Allocator, LargeBlocksAreReused) {
  CpuAllocator::drop_cache();
  const size_t big = (size_t{8} << 20) + 123;
  int64_t live = CpuAllocator::live_bytes();
  void* a = CpuAllocator::allocate(big);
  ASSERT_NE(a, nullptr);
  static_cast<char*>(a)[big - 1] = 1;  // the whole request is usable
  CpuAllocator::release(a, big);
  EXPECT_EQ(CpuAllocator::live_bytes(), live);
  EXPECT_GE(CpuAllocator::cached_bytes(), static_cast<int64_t>(big));
  void* b = CpuAllocator::allocate(big - 100);  // same 64 KiB size class
  EXPECT_EQ(a, b);
  EXPECT_EQ(CpuAllocator::cached_bytes(), 0);
  CpuAllocator::release(b, big - 100);
  CpuAllocator::drop_cache();
  EXPECT_EQ(CpuAllocator::cached_bytes(), 0);
}

TEST(Allocator, CapStillRefusesWithBlocksCached) {
  CpuAllocator::drop_cache();
  const int64_t old_limit = CpuAllocator::limit();
  void* warm = CpuAllocator::allocate(size_t{4} << 20);
  CpuAllocator::release(warm, size_t{4} << 20);  // now cached, not live
  CpuAllocator::set_limit(CpuAllocator::live_bytes() + (int64_t{2} << 20));
  EXPECT_EQ(CpuAllocator::allocate(size_t{4} << 20), nullptr);
  void* small = CpuAllocator::allocate(size_t{1} << 20);
  EXPECT_NE(small, nullptr);
  CpuAllocator::release(small, size_t{1} << 20);
  CpuAllocator::set_limit(old_limit);
  CpuAllocator::drop_cache();
}

}  // namespace
}  // namespace dj
