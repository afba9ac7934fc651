// Shared pieces of the code cache tests: a private temporary directory per test,
// and entries whose contents are a known function of their number, so any reader
// can tell a correct entry from a damaged or swapped one.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "codecache/CacheKey.h"
#include "codecache/CodeCache.h"

namespace dj::codecache::testing {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/dj_codecache_test_XXXXXX";
    char* made = ::mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    path_ = made ? made : "/tmp/dj_codecache_test_failed";
  }
  ~TempDir() {
    std::error_code ec;
    // Read-only tests leave 0500 directories: make them removable for non-root runs.
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      if (it->is_directory(ec)) ::chmod(it->path().c_str(), 0700);
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string cache_dir() const { return path_ + "/cache"; }

 private:
  std::string path_;
};

inline CodeCacheOptions options_for(const std::string& dir, uint64_t max_bytes = uint64_t{64} << 20) {
  CodeCacheOptions o;
  o.dir = dir;
  o.max_bytes = max_bytes;
  o.target = "x86-64-linux-avx2-test";
  o.versions = "dynajit test; llvm 14; halide 14";
  return o;
}

inline std::shared_ptr<CodeCache> open_cache(const std::string& dir, uint64_t max_bytes = uint64_t{64} << 20) {
  auto c = CodeCache::open(options_for(dir, max_bytes));
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? c.value() : nullptr;
}

inline Digest256 key_of(int n) {
  CacheKeyParts p;
  p.region = Sha256::of("region " + std::to_string(n % 7));
  p.signature = {(0 << 8) | 2, n, 16};
  p.specialization = "exact";
  p.target = "x86-64-linux-avx2-test";
  p.versions = "dynajit test; llvm 14; halide 14";
  return compute_cache_key(p);
}

inline std::vector<uint8_t> object_bytes(int n, size_t size) {
  std::vector<uint8_t> b(size);
  uint32_t x = 2654435761u * static_cast<uint32_t>(n + 1);
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b[i] = static_cast<uint8_t>(x);
  }
  return b;
}

inline std::string model_of(int n) { return Sha256::of("model " + std::to_string(n)).hex(); }

// Entry number n: two kernels whose bytes depend only on n.
inline CacheEntry make_entry(int n, size_t object_size = 3000) {
  CacheEntry e;
  e.key = key_of(n);
  e.model = model_of(n % 3);
  e.description = "R" + std::to_string(n % 7) + " " + std::to_string(n) + "x16:f32 exact";
  e.metadata = "{\"entry\":" + std::to_string(n) + "}";
  e.compile_ms = 100.0 + n;
  for (int k = 0; k < 2; ++k) {
    CacheObject o;
    o.name = "kernel_" + std::to_string(n) + "_" + std::to_string(k);
    o.entry_symbol = o.name + "_argv";
    o.metadata = "sig " + std::to_string(k);
    o.bytes = object_bytes(n * 2 + k, object_size + static_cast<size_t>(k) * 17);
    e.objects.push_back(std::move(o));
  }
  return e;
}

// Whether `e` is exactly entry n as make_entry(n, object_size) built it.
inline bool is_entry(const CacheEntry& e, int n, size_t object_size = 3000) {
  CacheEntry want = make_entry(n, object_size);
  if (e.key != want.key || e.model != want.model || e.description != want.description ||
      e.metadata != want.metadata || e.compile_ms != want.compile_ms || e.objects.size() != want.objects.size())
    return false;
  for (size_t k = 0; k < e.objects.size(); ++k) {
    const CacheObject &a = e.objects[k], &b = want.objects[k];
    if (a.name != b.name || a.entry_symbol != b.entry_symbol || a.metadata != b.metadata || a.bytes != b.bytes)
      return false;
  }
  return true;
}

inline mode_t mode_of(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

}  // namespace dj::codecache::testing
