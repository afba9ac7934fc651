// CpuAllocator: 64-byte aligned host memory for tensors, with byte accounting.
//
// Every owning Tensor gets its buffer here. The allocator counts live and peak
// bytes (process-wide, atomic) so `dj run` and the stats can report peak tensor
// memory, and it honours an optional cap (DJ_MAX_MEMORY_MB or set_limit) so an
// oversized request becomes an OutOfMemory status instead of an abort.
//
// Large blocks (>= 1 MiB, sizes rounded up to 64 KiB) are kept for reuse after
// release, up to DJ_ALLOC_CACHE_MB (default 256) idle bytes: glibc returns such
// blocks to the OS on free, so without this every run of a model with big
// activations pays a page fault per 4 KiB of output again. Idle cached bytes are
// not live bytes; when the system refuses an allocation the cache is emptied and
// the allocation retried.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dj {

class CpuAllocator {
 public:
  static constexpr size_t kAlignment = 64;

  // Returns nullptr when the memory cannot be had (cap reached or the system refused).
  static void* allocate(size_t bytes);
  static void release(void* ptr, size_t bytes);

  static int64_t live_bytes();
  static int64_t peak_bytes();
  static void reset_peak();
  // 0 = no cap. Initialized from DJ_MAX_MEMORY_MB on first use.
  static void set_limit(int64_t bytes);
  static int64_t limit();
  static int64_t cached_bytes();  // idle large blocks kept for reuse
  static void drop_cache();
};

}  // namespace dj
