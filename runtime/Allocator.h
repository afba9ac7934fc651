// CpuAllocator: 64-byte aligned host memory for tensors, with byte accounting.
//
// Every owning Tensor gets its buffer here. The allocator counts live and peak
// bytes (process-wide, atomic) so `dj run` and the stats can report peak tensor
// memory, and it honours an optional cap (DJ_MAX_MEMORY_MB or set_limit) so an
// oversized request becomes an OutOfMemory status instead of an abort.
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
};

}  // namespace dj
