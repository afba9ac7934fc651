// CudaDeviceAllocator's policy, driven by a host-memory fake of the device: size
// classes, stream-ordered reuse, per-stream free lists, the cache cap, and
// release-then-retry on out-of-memory. No GPU needed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "runtime/cuda/CudaDeviceAllocator.h"

namespace dj {
namespace {

constexpr size_t KiB = 1024, MiB = 1024 * 1024;

// "Device" memory from the host heap, with a capacity to run out of and a log of
// calls, so the tests can check what the allocator asked for and in which order.
class HostFakeDevice final : public DeviceMemorySource {
 public:
  explicit HostFakeDevice(size_t capacity) : capacity_(capacity) {}
  ~HostFakeDevice() override {
    for (auto& [ptr, bytes] : live_) std::free(reinterpret_cast<void*>(ptr));
  }

  Expected<DevicePtr> allocate(size_t bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_use_ + bytes > capacity_) {
      log_.push_back("oom " + std::to_string(bytes));
      return make_error(StatusCode::OutOfMemory, "fake device full");
    }
    void* p = std::aligned_alloc(256, bytes);
    if (!p) return make_error(StatusCode::OutOfMemory, "host refused");
    in_use_ += bytes;
    live_[reinterpret_cast<DevicePtr>(p)] = bytes;
    log_.push_back("alloc " + std::to_string(bytes));
    return reinterpret_cast<DevicePtr>(p);
  }
  Status release(DevicePtr ptr, size_t bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(ptr);
    if (it == live_.end() || it->second != bytes) return make_error(StatusCode::Internal, "fake: bad release");
    std::free(reinterpret_cast<void*>(ptr));
    in_use_ -= bytes;
    live_.erase(it);
    log_.push_back("release " + std::to_string(bytes));
    return Status::ok_status();
  }
  Status synchronize(StreamKey stream) override {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back("sync " + std::to_string(stream));
    return Status::ok_status();
  }

  size_t in_use() const { return in_use_; }
  size_t live_blocks() const { return live_.size(); }
  std::vector<std::string> take_log() { return std::exchange(log_, {}); }

 private:
  std::mutex mu_;
  size_t capacity_;
  size_t in_use_ = 0;
  std::map<DevicePtr, size_t> live_;
  std::vector<std::string> log_;
};

constexpr StreamKey kStreamA = 0xA, kStreamB = 0xB;

TEST(CudaDeviceAllocator, SizeClasses) {
  EXPECT_EQ(CudaDeviceAllocator::size_class(0), 512u);
  EXPECT_EQ(CudaDeviceAllocator::size_class(1), 512u);
  EXPECT_EQ(CudaDeviceAllocator::size_class(512), 512u);
  EXPECT_EQ(CudaDeviceAllocator::size_class(513), 1024u);
  EXPECT_EQ(CudaDeviceAllocator::size_class(100 * KiB + 1), 100 * KiB + 512);
  EXPECT_EQ(CudaDeviceAllocator::size_class(MiB), MiB);           // the last small class
  EXPECT_EQ(CudaDeviceAllocator::size_class(MiB + 1), 2 * MiB);   // large: 2 MiB steps
  EXPECT_EQ(CudaDeviceAllocator::size_class(2 * MiB), 2 * MiB);
  EXPECT_EQ(CudaDeviceAllocator::size_class(5 * MiB + 3), 6 * MiB);
  EXPECT_EQ(CudaDeviceAllocator::size_class(SIZE_MAX), 0u);       // no class: refused
}

TEST(CudaDeviceAllocator, ReusesAFreedBlockOnTheSameStreamWithoutSync) {
  HostFakeDevice device(64 * MiB);
  CudaDeviceAllocator alloc(device, 64 * MiB);
  Expected<DeviceBlock> first = alloc.allocate(1000, kStreamA);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(first->bytes, 1024u);
  EXPECT_EQ(first->stream, kStreamA);
  // The memory is real: what is written before the free is there after the reuse.
  std::memcpy(reinterpret_cast<void*>(first->ptr), "dynajit", 8);
  ASSERT_TRUE(alloc.free(first.value()).ok());
  EXPECT_EQ(alloc.stats().cached_bytes, 1024);
  EXPECT_EQ(alloc.stats().allocated_bytes, 0);

  Expected<DeviceBlock> again = alloc.allocate(1020, kStreamA);  // same class (1024)
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ptr, first->ptr);
  EXPECT_STREQ(reinterpret_cast<const char*>(again->ptr), "dynajit");
  const DeviceAllocatorStats s = alloc.stats();
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 1);
  EXPECT_EQ(s.source_allocations, 1);
  EXPECT_EQ(s.cached_bytes, 0);
  EXPECT_EQ(s.allocated_bytes, 1024);
  // One raw allocation, no synchronization anywhere: reuse is stream-ordered.
  EXPECT_EQ(device.take_log(), (std::vector<std::string>{"alloc 1024"}));
  ASSERT_TRUE(alloc.free(again.value()).ok());
}

TEST(CudaDeviceAllocator, DoesNotReuseAcrossClassesOrStreams) {
  HostFakeDevice device(64 * MiB);
  CudaDeviceAllocator alloc(device, 64 * MiB);
  DeviceBlock a = alloc.allocate(4 * KiB, kStreamA).value();
  ASSERT_TRUE(alloc.free(a).ok());
  DeviceBlock other_class = alloc.allocate(8 * KiB, kStreamA).value();
  DeviceBlock other_stream = alloc.allocate(4 * KiB, kStreamB).value();
  EXPECT_NE(other_class.ptr, a.ptr);
  EXPECT_NE(other_stream.ptr, a.ptr);  // stream B must not get a block stream A may still use
  EXPECT_EQ(alloc.stats().hits, 0);
  EXPECT_EQ(alloc.stats().misses, 3);
  DeviceBlock same = alloc.allocate(4 * KiB, kStreamA).value();
  EXPECT_EQ(same.ptr, a.ptr);
  EXPECT_EQ(alloc.stats().hits, 1);
  for (const DeviceBlock& b : {other_class, other_stream, same}) ASSERT_TRUE(alloc.free(b).ok());
  EXPECT_EQ(alloc.stats().cached_bytes, static_cast<int64_t>(4 * KiB + 8 * KiB + 4 * KiB));
}

TEST(CudaDeviceAllocator, LargeRequestsShareTheirTwoMiBClass) {
  HostFakeDevice device(64 * MiB);
  CudaDeviceAllocator alloc(device, 64 * MiB);
  DeviceBlock a = alloc.allocate(3 * MiB + 5, kStreamA).value();
  EXPECT_EQ(a.bytes, 4 * MiB);
  ASSERT_TRUE(alloc.free(a).ok());
  DeviceBlock b = alloc.allocate(4 * MiB, kStreamA).value();  // another size, same class
  EXPECT_EQ(b.ptr, a.ptr);
  ASSERT_TRUE(alloc.free(b).ok());
}

TEST(CudaDeviceAllocator, CapEvictsLeastRecentlyFreedAfterSyncingItsStream) {
  HostFakeDevice device(64 * MiB);
  CudaDeviceAllocator alloc(device, 2 * MiB);  // cap: one large block's worth
  DeviceBlock a = alloc.allocate(2 * MiB, kStreamA).value();
  DeviceBlock b = alloc.allocate(2 * MiB, kStreamB).value();
  device.take_log();
  ASSERT_TRUE(alloc.free(a).ok());  // 2 MiB cached: at the cap, kept
  EXPECT_TRUE(device.take_log().empty());
  ASSERT_TRUE(alloc.free(b).ok());  // 4 MiB cached: a (older) goes, after its stream is synced
  EXPECT_EQ(device.take_log(), (std::vector<std::string>{"sync 10", "release 2097152"}));
  const DeviceAllocatorStats s = alloc.stats();
  EXPECT_EQ(s.cached_bytes, static_cast<int64_t>(2 * MiB));
  EXPECT_EQ(s.source_releases, 1);
  // b survived: stream B gets it back; stream A must allocate anew.
  EXPECT_EQ(alloc.allocate(2 * MiB, kStreamB).value().ptr, b.ptr);
  EXPECT_EQ(device.live_blocks(), 1u);
}

TEST(CudaDeviceAllocator, ZeroCapMeansNoCaching) {
  HostFakeDevice device(64 * MiB);
  CudaDeviceAllocator alloc(device, 0);
  DeviceBlock a = alloc.allocate(100, kStreamA).value();
  ASSERT_TRUE(alloc.free(a).ok());
  EXPECT_EQ(alloc.stats().cached_bytes, 0);
  EXPECT_EQ(device.live_blocks(), 0u);
  EXPECT_EQ(device.take_log(), (std::vector<std::string>{"alloc 512", "sync 10", "release 512"}));
}

TEST(CudaDeviceAllocator, OutOfMemoryReleasesTheCacheAndRetries) {
  HostFakeDevice device(6 * MiB);
  CudaDeviceAllocator alloc(device, 64 * MiB);
  DeviceBlock a = alloc.allocate(2 * MiB, kStreamA).value();
  DeviceBlock b = alloc.allocate(2 * MiB, kStreamB).value();
  ASSERT_TRUE(alloc.free(a).ok());
  ASSERT_TRUE(alloc.free(b).ok());  // 4 of 6 MiB now idle in the cache
  device.take_log();
  Expected<DeviceBlock> big = alloc.allocate(6 * MiB, kStreamA);
  ASSERT_TRUE(big.ok()) << big.status().to_string();
  EXPECT_EQ(big->bytes, 6 * MiB);
  EXPECT_EQ(device.take_log(), (std::vector<std::string>{"oom 6291456", "sync 10", "sync 11", "release 2097152",
                                                         "release 2097152", "alloc 6291456"}));
  const DeviceAllocatorStats s = alloc.stats();
  EXPECT_EQ(s.oom_retries, 1);
  EXPECT_EQ(s.cached_bytes, 0);
  EXPECT_EQ(s.allocated_bytes, static_cast<int64_t>(6 * MiB));
  ASSERT_TRUE(alloc.free(big.value()).ok());
}

TEST(CudaDeviceAllocator, OutOfMemoryAfterRetryNamesTheRequest) {
  HostFakeDevice device(4 * MiB);
  CudaDeviceAllocator alloc(device, 64 * MiB);
  DeviceBlock held = alloc.allocate(2 * MiB, kStreamA).value();
  DeviceBlock idle = alloc.allocate(2 * MiB, kStreamA).value();
  ASSERT_TRUE(alloc.free(idle).ok());
  Expected<DeviceBlock> r = alloc.allocate(3 * MiB, kStreamA);  // class 4 MiB: cannot fit next to `held`
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::OutOfMemory);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("3145728 bytes"), std::string::npos) << m;
  EXPECT_NE(m.find("class 4194304"), std::string::npos) << m;
  EXPECT_NE(m.find("2097152 bytes in use"), std::string::npos) << m;
  EXPECT_EQ(alloc.stats().oom_retries, 1);
  EXPECT_EQ(alloc.stats().cached_bytes, 0);  // the idle block was given back trying
  ASSERT_TRUE(alloc.free(held).ok());
}

TEST(CudaDeviceAllocator, RejectsDoubleAndForeignFrees) {
  HostFakeDevice device(64 * MiB);
  CudaDeviceAllocator alloc(device, 64 * MiB);
  DeviceBlock a = alloc.allocate(700, kStreamA).value();
  ASSERT_TRUE(alloc.free(a).ok());
  Status twice = alloc.free(a);
  EXPECT_EQ(twice.code(), StatusCode::InvalidArgument);
  EXPECT_NE(twice.message().find("not live"), std::string::npos) << twice.message();
  EXPECT_EQ(alloc.free(DeviceBlock{0x1234, 512, kStreamA}).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(alloc.stats().cached_bytes, 1024);  // the bad frees changed nothing
}

TEST(CudaDeviceAllocator, RetireStreamFreesOnlyThatStreamsCache) {
  HostFakeDevice device(64 * MiB);
  CudaDeviceAllocator alloc(device, 64 * MiB);
  DeviceBlock a1 = alloc.allocate(1 * KiB, kStreamA).value();
  DeviceBlock a2 = alloc.allocate(3 * MiB, kStreamA).value();
  DeviceBlock b1 = alloc.allocate(1 * KiB, kStreamB).value();
  for (const DeviceBlock& b : {a1, a2, b1}) ASSERT_TRUE(alloc.free(b).ok());
  device.take_log();
  ASSERT_TRUE(alloc.retire_stream(kStreamA).ok());
  EXPECT_EQ(device.take_log(), (std::vector<std::string>{"sync 10", "release 1024", "release 4194304"}));
  EXPECT_EQ(alloc.stats().cached_bytes, static_cast<int64_t>(1 * KiB));
  EXPECT_EQ(alloc.allocate(1 * KiB, kStreamB).value().ptr, b1.ptr);
  EXPECT_EQ(device.live_blocks(), 1u);
}

TEST(CudaDeviceAllocator, BlocksOfARetiredStreamAreReleasedWhenFreed) {
  HostFakeDevice device(64 * MiB);
  CudaDeviceAllocator alloc(device, 64 * MiB);
  DeviceBlock outlives = alloc.allocate(2 * KiB, kStreamA).value();  // e.g. held by an output tensor
  ASSERT_TRUE(alloc.retire_stream(kStreamA).ok());
  device.take_log();
  ASSERT_TRUE(alloc.free(outlives).ok());
  // No sync (the stream is gone and was drained) and nothing cached for a dead stream.
  EXPECT_EQ(device.take_log(), (std::vector<std::string>{"release 2048"}));
  EXPECT_EQ(alloc.stats().cached_bytes, 0);
  // The driver may hand the same handle to a new stream: it caches normally again.
  DeviceBlock fresh = alloc.allocate(2 * KiB, kStreamA).value();
  ASSERT_TRUE(alloc.free(fresh).ok());
  EXPECT_EQ(alloc.stats().cached_bytes, static_cast<int64_t>(2 * KiB));
}

TEST(CudaDeviceAllocator, DeviceBufferReturnsItsBlockToTheCache) {
  HostFakeDevice device(64 * MiB);
  CudaDeviceAllocator alloc(device, 64 * MiB);
  DevicePtr ptr = 0;
  {
    Expected<DeviceBuffer> buffer = DeviceBuffer::allocate(alloc, 5000, kStreamA);
    ASSERT_TRUE(buffer.ok());
    ptr = buffer->ptr();
    EXPECT_EQ(buffer->capacity(), 5120u);
    DeviceBuffer moved = std::move(buffer.value());
    EXPECT_TRUE(buffer->empty());
    EXPECT_EQ(moved.ptr(), ptr);
    EXPECT_EQ(alloc.stats().allocated_bytes, 5120);
  }
  EXPECT_EQ(alloc.stats().allocated_bytes, 0);
  EXPECT_EQ(alloc.stats().cached_bytes, 5120);
  EXPECT_EQ(alloc.allocate(5000, kStreamA).value().ptr, ptr);
}

TEST(CudaDeviceAllocator, ThreadsOnTheirOwnStreamsKeepTheBooksStraight) {
  HostFakeDevice device(512 * MiB);
  CudaDeviceAllocator alloc(device, 512 * MiB);
  constexpr int kThreads = 4, kRounds = 200;
  std::vector<std::thread> threads;
  std::vector<int> corrupted(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const StreamKey stream = 100 + t;
      for (int round = 0; round < kRounds; ++round) {
        const size_t bytes = (round % 7 + 1) * 3000 + (round % 3) * MiB;
        Expected<DeviceBlock> b = alloc.allocate(bytes, stream);
        if (!b.ok()) { ++corrupted[t]; continue; }
        // Nobody else may hold this block: fill it, check it, give it back.
        std::memset(reinterpret_cast<void*>(b->ptr), t + 1, bytes);
        const unsigned char* p = reinterpret_cast<const unsigned char*>(b->ptr);
        if (p[0] != t + 1 || p[bytes - 1] != t + 1) ++corrupted[t];
        if (!alloc.free(b.value()).ok()) ++corrupted[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(corrupted[t], 0) << "thread " << t;
  const DeviceAllocatorStats s = alloc.stats();
  EXPECT_EQ(s.allocated_bytes, 0);
  EXPECT_EQ(s.hits + s.misses, kThreads * kRounds);
  EXPECT_EQ(s.misses, s.source_allocations);
  EXPECT_GT(s.hits, s.misses);  // each thread cycles 200 times through 9 size classes
  EXPECT_EQ(static_cast<size_t>(s.cached_bytes), device.in_use());
  ASSERT_TRUE(alloc.release_cached().ok());
  EXPECT_EQ(device.live_blocks(), 0u);
}

TEST(CudaDeviceAllocator, CacheLimitFromEnvironment) {
  ::unsetenv("DJ_CUDA_CACHE_MB");
  EXPECT_EQ(CudaDeviceAllocator::cache_limit_from_env(), 1024 * MiB);
  ::setenv("DJ_CUDA_CACHE_MB", "64", 1);
  EXPECT_EQ(CudaDeviceAllocator::cache_limit_from_env(), 64 * MiB);
  ::setenv("DJ_CUDA_CACHE_MB", "0", 1);
  EXPECT_EQ(CudaDeviceAllocator::cache_limit_from_env(), 0u);
  for (const char* bad : {"lots", "-5", "12MB"}) {
    ::setenv("DJ_CUDA_CACHE_MB", bad, 1);
    EXPECT_EQ(CudaDeviceAllocator::cache_limit_from_env(), 1024 * MiB) << bad;
  }
  ::unsetenv("DJ_CUDA_CACHE_MB");
}

}  // namespace
}  // namespace dj
