// CudaDeviceAllocator: a stream-ordered caching allocator for device memory.
//
// Raw device allocation (cuMemAlloc/cuMemFree) is slow and cuMemFree may synchronize
// the device, so freed blocks are kept and handed out again. The policy here knows
// nothing about CUDA: it works over a DeviceMemorySource (raw allocate / release /
// synchronize-a-stream), which is cuMemAlloc in production (CudaMemorySource.h) and a
// host-memory fake in the tests.
//
// Policy and invariants:
// - Sizes are rounded to classes: requests up to 1 MiB to a multiple of 512 B, larger
//   ones to a multiple of 2 MiB; 0 bytes counts as 512 B so every block has an address.
//   A block is reused only for a request of exactly its class (no splitting), which
//   keeps the bookkeeping O(log n) and makes reuse predictable.
// - A block belongs to the stream it was allocated for. free() puts it on the free list
//   of (its stream, its class) at once, without waiting: work already queued on that
//   stream that uses the block runs before any later work on the same stream, so a
//   later allocation on the same stream may use it immediately. Blocks never move
//   between streams through the cache. Callers must therefore only use a block on its
//   own stream (or synchronize before handing it to another).
// - The idle cache is capped (DJ_CUDA_CACHE_MB, default 1024 MiB). When a free pushes
//   cached bytes over the cap, the least recently freed blocks are released for real;
//   their streams are synchronized first, since queued work may still use them.
// - When the source reports OutOfMemory, every cached block is released (after
//   synchronizing the streams that own them) and the allocation is retried once.
// - A retired (destroyed) stream caches nothing: its blocks are released when freed.
// - Thread-safe: one mutex guards the lists and counters; the source's synchronize and
//   release run under it (rare paths: cap eviction, OOM, stream retirement).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/Status.h"

namespace dj {

using DevicePtr = std::uint64_t;   // a CUdeviceptr
using StreamKey = std::uintptr_t;  // a CUstream, as an opaque key

// The raw memory under the cache.
class DeviceMemorySource {
 public:
  virtual ~DeviceMemorySource() = default;
  // A new block of exactly `bytes`; StatusCode::OutOfMemory when the device is full.
  virtual Expected<DevicePtr> allocate(size_t bytes) = 0;
  virtual Status release(DevicePtr ptr, size_t bytes) = 0;
  // Waits until all work queued on `stream` has finished.
  virtual Status synchronize(StreamKey stream) = 0;
};

struct DeviceBlock {
  DevicePtr ptr = 0;
  size_t bytes = 0;  // the size class, >= the requested size
  StreamKey stream = 0;
};

struct DeviceAllocatorStats {
  int64_t allocated_bytes = 0;       // in blocks handed out and not yet freed (class sizes)
  int64_t peak_allocated_bytes = 0;
  int64_t cached_bytes = 0;          // in idle blocks on the free lists
  int64_t hits = 0;                  // allocations served from the cache
  int64_t misses = 0;                // allocations that went to the source
  int64_t source_allocations = 0;    // successful source allocate() calls
  int64_t source_releases = 0;       // source release() calls
  int64_t oom_retries = 0;           // allocations retried after emptying the cache
};

class CudaDeviceAllocator {
 public:
  static constexpr size_t kSmallGranularity = 512;
  static constexpr size_t kSmallLimit = size_t{1} << 20;  // classes up to here are 512 B apart
  static constexpr size_t kLargeGranularity = size_t{2} << 20;

  // The class a request of `bytes` is served from.
  static size_t size_class(size_t bytes);
  // DJ_CUDA_CACHE_MB in bytes (default 1024 MiB; 0 disables caching).
  static size_t cache_limit_from_env();

  CudaDeviceAllocator(DeviceMemorySource& source, size_t cache_limit_bytes);
  ~CudaDeviceAllocator();  // releases cached blocks (best effort; live blocks are the owners' job)
  CudaDeviceAllocator(const CudaDeviceAllocator&) = delete;
  CudaDeviceAllocator& operator=(const CudaDeviceAllocator&) = delete;

  // A block of at least `bytes` for use on `stream`. OutOfMemory names the request and
  // the allocator's state when the device is full even after emptying the cache.
  Expected<DeviceBlock> allocate(size_t bytes, StreamKey stream);
  // Returns a block from allocate() to its stream's free list (stream-ordered reuse).
  Status free(const DeviceBlock& block);
  // Releases every cached block (synchronizing their streams first).
  Status release_cached();
  // Releases the cached blocks of a stream that is being destroyed (after its work has
  // finished). Blocks of it still live elsewhere go straight back to the source when
  // freed, since no work can follow on a destroyed stream; allocating for the same
  // key again (the driver may reuse the handle) makes it a live stream once more.
  Status retire_stream(StreamKey stream);

  DeviceAllocatorStats stats() const;
  size_t cache_limit() const { return cache_limit_; }

 private:
  struct CachedBlock {
    DevicePtr ptr;
    uint64_t freed_order;  // position in lru_
  };
  using ListKey = std::pair<StreamKey, size_t>;  // (stream, size class)

  Status release_where(bool (*select)(StreamKey, StreamKey), StreamKey stream);
  Status evict_until_under_limit();
  Status release_blocks(std::vector<std::pair<ListKey, DevicePtr>> blocks);

  DeviceMemorySource& source_;
  const size_t cache_limit_;
  mutable std::mutex mu_;
  std::map<ListKey, std::vector<CachedBlock>> free_lists_;  // LIFO per list: warmest block first
  std::map<uint64_t, std::pair<ListKey, DevicePtr>> lru_;   // freed_order -> block, oldest first
  std::unordered_map<DevicePtr, size_t> live_;              // handed-out block -> class size
  std::set<StreamKey> retired_;                              // destroyed streams
  uint64_t next_freed_order_ = 0;
  DeviceAllocatorStats stats_;
};

// Owns one block and frees it to its allocator (stream-ordered) when destroyed.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(CudaDeviceAllocator* allocator, DeviceBlock block) : allocator_(allocator), block_(block) {}
  DeviceBuffer(DeviceBuffer&& other) noexcept { *this = std::move(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { reset(); }

  static Expected<DeviceBuffer> allocate(CudaDeviceAllocator& allocator, size_t bytes, StreamKey stream);

  DevicePtr ptr() const { return block_.ptr; }
  size_t capacity() const { return block_.bytes; }
  StreamKey stream() const { return block_.stream; }
  bool empty() const { return allocator_ == nullptr; }
  void reset();  // frees now; an error is logged, since destructors cannot return it

 private:
  CudaDeviceAllocator* allocator_ = nullptr;
  DeviceBlock block_;
};

}  // namespace dj
