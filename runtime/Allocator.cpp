// CpuAllocator: aligned allocation with live/peak accounting and an optional cap.
#include "runtime/Allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>
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

constexpr size_t kLargeBlock = size_t{1} << 20;
constexpr size_t kLargeGranule = size_t{64} << 10;

// Idle large blocks by (rounded) size. Leaked on purpose at exit (no destructor
// ordering issues with tensors that outlive statics).
struct BlockCache {
  std::mutex mutex;
  std::multimap<size_t, void*> idle;
  size_t idle_bytes = 0;
  size_t capacity = 0;
};
BlockCache& block_cache() {
  static BlockCache* cache = [] {
    auto* c = new BlockCache;
    const char* env = std::getenv("DJ_ALLOC_CACHE_MB");
    c->capacity = (env && *env ? static_cast<size_t>(std::atoll(env)) : size_t{256}) << 20;
    return c;
  }();
  return *cache;
}

size_t rounded_size(size_t bytes) {
  size_t r = (bytes + CpuAllocator::kAlignment - 1) / CpuAllocator::kAlignment * CpuAllocator::kAlignment;
  if (r == 0) r = CpuAllocator::kAlignment;
  if (r >= kLargeBlock) r = (r + kLargeGranule - 1) / kLargeGranule * kLargeGranule;
  return r;
}

void* take_cached(size_t rounded) {
  if (rounded < kLargeBlock) return nullptr;
  BlockCache& c = block_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.idle.find(rounded);
  if (it == c.idle.end()) return nullptr;
  void* p = it->second;
  c.idle.erase(it);
  c.idle_bytes -= rounded;
  return p;
}

bool keep_cached(void* p, size_t rounded) {
  if (rounded < kLargeBlock) return false;
  BlockCache& c = block_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.idle_bytes + rounded > c.capacity) return false;
  c.idle.emplace(rounded, p);
  c.idle_bytes += rounded;
  return true;
}
}  // namespace

void* CpuAllocator::allocate(size_t bytes) {
  const size_t rounded = rounded_size(bytes);
  int64_t cap = limit_ref().load(std::memory_order_relaxed);
  int64_t now = g_live.fetch_add(static_cast<int64_t>(bytes)) + static_cast<int64_t>(bytes);
  if (cap > 0 && now > cap) {
    g_live.fetch_sub(static_cast<int64_t>(bytes));
    return nullptr;
  }
  void* p = take_cached(rounded);
  if (!p) p = std::aligned_alloc(kAlignment, rounded);
  if (!p) {  // give the idle blocks back and try again
    drop_cache();
    p = std::aligned_alloc(kAlignment, rounded);
  }
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
  if (!keep_cached(ptr, rounded_size(bytes))) std::free(ptr);
  g_live.fetch_sub(static_cast<int64_t>(bytes));
}

int64_t CpuAllocator::live_bytes() { return g_live.load(); }
int64_t CpuAllocator::peak_bytes() { return g_peak.load(); }
void CpuAllocator::reset_peak() { g_peak.store(g_live.load()); }
void CpuAllocator::set_limit(int64_t bytes) { limit_ref().store(bytes); }
int64_t CpuAllocator::limit() { return limit_ref().load(); }

int64_t CpuAllocator::cached_bytes() {
  BlockCache& c = block_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return static_cast<int64_t>(c.idle_bytes);
}

void CpuAllocator::drop_cache() {
  BlockCache& c = block_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& [size, p] : c.idle) std::free(p);
  c.idle.clear();
  c.idle_bytes = 0;
}

}  // namespace dj
