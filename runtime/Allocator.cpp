// CpuAllocator: aligned allocation with live/peak accounting and an optional cap.
#include "runtime/Allocator.h"

#include <cstdlib>
#include <new>

namespace dj {
namespace {
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};

int64_t initial_limit() {
  const char* env = std::getenv("DJ_MAX_MEMORY_MB");
  if (!env || !*env) return 0;
  return std::atoll(env) * 1024 * 1024;
}
std::atomic<int64_t>& limit_ref() {
  static std::atomic<int64_t> limit{initial_limit()};
  return limit;
}
}  // namespace

void* CpuAllocator::allocate(size_t bytes) {
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  int64_t cap = limit_ref().load(std::memory_order_relaxed);
  int64_t now = g_live.fetch_add(static_cast<int64_t>(bytes)) + static_cast<int64_t>(bytes);
  if (cap > 0 && now > cap) {
    g_live.fetch_sub(static_cast<int64_t>(bytes));
    return nullptr;
  }
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (!p) {
    g_live.fetch_sub(static_cast<int64_t>(bytes));
    return nullptr;
  }
  int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
  return p;
}

void CpuAllocator::release(void* ptr, size_t bytes) {
  if (!ptr) return;
  std::free(ptr);
  g_live.fetch_sub(static_cast<int64_t>(bytes));
}

int64_t CpuAllocator::live_bytes() { return g_live.load(); }
int64_t CpuAllocator::peak_bytes() { return g_peak.load(); }
void CpuAllocator::reset_peak() { g_peak.store(g_live.load()); }
void CpuAllocator::set_limit(int64_t bytes) { limit_ref().store(bytes); }
int64_t CpuAllocator::limit() { return limit_ref().load(); }

}  // namespace dj
