// CudaDeviceAllocator: size classes, per-(stream, class) free lists, the cache cap,
// and release-then-retry on out-of-memory. No CUDA here (see the header).
#include "runtime/cuda/CudaDeviceAllocator.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <set>

#include "runtime/Log.h"

namespace dj {
namespace {
constexpr size_t kDefaultCacheMiB = 1024;

size_t round_up(size_t bytes, size_t granularity) { return (bytes + granularity - 1) / granularity * granularity; }
}  // namespace

size_t CudaDeviceAllocator::size_class(size_t bytes) {
  if (bytes <= kSmallLimit) return std::max(kSmallGranularity, round_up(bytes, kSmallGranularity));
  if (bytes > std::numeric_limits<size_t>::max() - kLargeGranularity) return 0;  // no such class
  return round_up(bytes, kLargeGranularity);
}

size_t CudaDeviceAllocator::cache_limit_from_env() {
  const char* env = std::getenv("DJ_CUDA_CACHE_MB");
  if (!env || !*env) return kDefaultCacheMiB << 20;
  char* end = nullptr;
  errno = 0;
  const long long mib = std::strtoll(env, &end, 10);
  if (errno != 0 || *end != '\0' || mib < 0 || mib > (1LL << 30)) {
    DJ_LOG_WARN("DJ_CUDA_CACHE_MB='" << env << "' is not a whole number of MiB in [0, 2^30]; using "
                                      << kDefaultCacheMiB);
    return kDefaultCacheMiB << 20;
  }
  return static_cast<size_t>(mib) << 20;
}

CudaDeviceAllocator::CudaDeviceAllocator(DeviceMemorySource& source, size_t cache_limit_bytes)
    : source_(source), cache_limit_(cache_limit_bytes) {}

CudaDeviceAllocator::~CudaDeviceAllocator() {
  Status s = release_cached();
  if (!s.ok()) DJ_LOG_WARN("releasing cached device memory: " << s.message());
}

Expected<DeviceBlock> CudaDeviceAllocator::allocate(size_t bytes, StreamKey stream) {
  const size_t cls = size_class(bytes);
  if (cls == 0) return make_error(StatusCode::OutOfMemory, "device allocation of ", bytes, " bytes is too large");
  std::lock_guard<std::mutex> lock(mu_);
  retired_.erase(stream);  // a new stream that got a retired stream's handle
  auto list = free_lists_.find({stream, cls});
  if (list != free_lists_.end() && !list->second.empty()) {
    const CachedBlock cached = list->second.back();
    list->second.pop_back();
    if (list->second.empty()) free_lists_.erase(list);
    lru_.erase(cached.freed_order);
    stats_.cached_bytes -= static_cast<int64_t>(cls);
    stats_.allocated_bytes += static_cast<int64_t>(cls);
    stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
    ++stats_.hits;
    live_.emplace(cached.ptr, cls);
    return DeviceBlock{cached.ptr, cls, stream};
  }
  ++stats_.misses;
  Expected<DevicePtr> fresh = source_.allocate(cls);
  if (!fresh.ok() && fresh.status().code() == StatusCode::OutOfMemory && stats_.cached_bytes > 0) {
    // Idle blocks of other classes or streams may be what fills the device.
    ++stats_.oom_retries;
    DJ_LOG_INFO("device out of memory for " << cls << " bytes; releasing " << stats_.cached_bytes
                                            << " cached bytes and retrying");
    DJ_RETURN_IF_ERROR(release_where([](StreamKey, StreamKey) { return true; }, 0));
    fresh = source_.allocate(cls);
  }
  if (!fresh.ok()) {
    return Status(fresh.status().code(),
                  "device allocation of " + std::to_string(bytes) + " bytes (class " + std::to_string(cls) +
                      ") failed with " + std::to_string(stats_.allocated_bytes) + " bytes in use and " +
                      std::to_string(stats_.cached_bytes) + " cached: " + fresh.status().message());
  }
  ++stats_.source_allocations;
  stats_.allocated_bytes += static_cast<int64_t>(cls);
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  live_.emplace(fresh.value(), cls);
  return DeviceBlock{fresh.value(), cls, stream};
}

Status CudaDeviceAllocator::free(const DeviceBlock& block) {
  std::lock_guard<std::mutex> lock(mu_);
  auto live = live_.find(block.ptr);
  DJ_CHECK(live != live_.end() && live->second == block.bytes, InvalidArgument,
           "free of device block ", block.ptr, " (", block.bytes,
           " bytes) that is not live in this allocator (freed twice, or not from allocate())");
  live_.erase(live);
  stats_.allocated_bytes -= static_cast<int64_t>(block.bytes);
  if (retired_.count(block.stream)) {
    // Its stream was synchronized and destroyed: nothing can still be using the block.
    ++stats_.source_releases;
    return source_.release(block.ptr, block.bytes);
  }
  const ListKey key{block.stream, block.bytes};
  const uint64_t order = next_freed_order_++;
  free_lists_[key].push_back(CachedBlock{block.ptr, order});
  lru_.emplace(order, std::make_pair(key, block.ptr));
  stats_.cached_bytes += static_cast<int64_t>(block.bytes);
  if (static_cast<size_t>(stats_.cached_bytes) > cache_limit_) return evict_until_under_limit();
  return Status::ok_status();
}

Status CudaDeviceAllocator::evict_until_under_limit() {
  std::vector<std::pair<ListKey, DevicePtr>> victims;
  while (static_cast<size_t>(stats_.cached_bytes) > cache_limit_ && !lru_.empty()) {
    auto oldest = lru_.begin();
    const auto [key, ptr] = oldest->second;
    auto list = free_lists_.find(key);
    auto& blocks = list->second;
    blocks.erase(std::find_if(blocks.begin(), blocks.end(),
                              [&](const CachedBlock& b) { return b.freed_order == oldest->first; }));
    if (blocks.empty()) free_lists_.erase(list);
    lru_.erase(oldest);
    stats_.cached_bytes -= static_cast<int64_t>(key.second);
    victims.emplace_back(key, ptr);
  }
  return release_blocks(std::move(victims));
}

Status CudaDeviceAllocator::release_where(bool (*select)(StreamKey, StreamKey), StreamKey stream) {
  std::vector<std::pair<ListKey, DevicePtr>> victims;
  for (auto it = free_lists_.begin(); it != free_lists_.end();) {
    if (!select(it->first.first, stream)) {
      ++it;
      continue;
    }
    for (const CachedBlock& b : it->second) {
      lru_.erase(b.freed_order);
      stats_.cached_bytes -= static_cast<int64_t>(it->first.second);
      victims.emplace_back(it->first, b.ptr);
    }
    it = free_lists_.erase(it);
  }
  return release_blocks(std::move(victims));
}

// Called with mu_ held and the blocks already off the lists. Each owning stream is
// synchronized once before its blocks go back: queued work may still read or write them.
Status CudaDeviceAllocator::release_blocks(std::vector<std::pair<ListKey, DevicePtr>> blocks) {
  Status first_error;
  std::set<StreamKey> synced;
  for (const auto& [key, ptr] : blocks) {
    if (synced.insert(key.first).second) {
      Status s = source_.synchronize(key.first);
      if (!s.ok() && first_error.ok()) first_error = s;
    }
  }
  for (const auto& [key, ptr] : blocks) {
    Status s = source_.release(ptr, key.second);
    ++stats_.source_releases;
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

Status CudaDeviceAllocator::release_cached() {
  std::lock_guard<std::mutex> lock(mu_);
  return release_where([](StreamKey, StreamKey) { return true; }, 0);
}

Status CudaDeviceAllocator::retire_stream(StreamKey stream) {
  std::lock_guard<std::mutex> lock(mu_);
  retired_.insert(stream);
  return release_where([](StreamKey owner, StreamKey wanted) { return owner == wanted; }, stream);
}

DeviceAllocatorStats CudaDeviceAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    reset();
    allocator_ = other.allocator_;
    block_ = other.block_;
    other.allocator_ = nullptr;
    other.block_ = DeviceBlock{};
  }
  return *this;
}

Expected<DeviceBuffer> DeviceBuffer::allocate(CudaDeviceAllocator& allocator, size_t bytes, StreamKey stream) {
  DJ_ASSIGN_OR_RETURN(DeviceBlock block, allocator.allocate(bytes, stream));
  return DeviceBuffer(&allocator, block);
}

void DeviceBuffer::reset() {
  if (!allocator_) return;
  Status s = allocator_->free(block_);
  if (!s.ok()) DJ_LOG_WARN("freeing a device buffer: " << s.message());
  allocator_ = nullptr;
  block_ = DeviceBlock{};
}

}  // namespace dj
