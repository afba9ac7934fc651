// The code cache's normal life: keys, store/lookup round trips, the per-model
// index, the runtime object, LRU eviction under the cap, counters shared by
// every process through the directory, listing, verify and clear.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "tests/codecache/CacheTestSupport.h"

namespace dj::codecache {
namespace {

using namespace testing;

TEST(CacheKey, EveryPartChangesTheKey) {
  CacheKeyParts base;
  base.region = Sha256::of("r");
  base.signature = {2, 4, 16};
  base.specialization = "exact";
  base.target = "t";
  base.versions = "v";
  const Digest256 k = compute_cache_key(base);
  EXPECT_EQ(compute_cache_key(base), k);
  auto changed = [&](auto edit) {
    CacheKeyParts p = base;
    edit(p);
    return compute_cache_key(p);
  };
  EXPECT_NE(changed([](CacheKeyParts& p) { p.region = Sha256::of("r2"); }), k);
  EXPECT_NE(changed([](CacheKeyParts& p) { p.signature = {2, 4, 17}; }), k);
  EXPECT_NE(changed([](CacheKeyParts& p) { p.signature = {2, 4, 16, 0}; }), k);
  EXPECT_NE(changed([](CacheKeyParts& p) { p.specialization = "generic"; }), k);
  EXPECT_NE(changed([](CacheKeyParts& p) { p.target = "t2"; }), k);
  EXPECT_NE(changed([](CacheKeyParts& p) { p.versions = "v2"; }), k);
  // Length prefixes: moving a character from one field to the next changes the key.
  EXPECT_NE(changed([](CacheKeyParts& p) { p.target = "tv"; p.versions = ""; }), k);
  EXPECT_NE(runtime_object_key("t", "v"), runtime_object_key("t", "v2"));
}

TEST(CodeCache, CreatesAPrivateLayoutAndRoundTripsAnEntry) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  ASSERT_TRUE(cache);
  EXPECT_EQ(mode_of(tmp.cache_dir()), 0700u);
  for (const char* sub : {"/entries", "/models", "/tmp"}) EXPECT_EQ(mode_of(tmp.cache_dir() + sub), 0700u) << sub;

  EXPECT_EQ(cache->lookup(key_of(1)).outcome, LookupOutcome::Miss);
  ASSERT_TRUE(cache->store(make_entry(1)).ok());
  EXPECT_EQ(mode_of(cache->entry_path(key_of(1))), 0600u);
  LookupResult r = cache->lookup(key_of(1));
  ASSERT_EQ(r.outcome, LookupOutcome::Hit) << r.problem;
  EXPECT_TRUE(is_entry(r.entry, 1));
  EXPECT_EQ(r.entry.target, "x86-64-linux-avx2-test");  // filled from the options
  EXPECT_EQ(r.entry.versions, "dynajit test; llvm 14; halide 14");
  EXPECT_GT(r.entry.created_unix_ms, 1600000000000);

  // Another process (another CodeCache on the directory) sees it too.
  auto other = open_cache(tmp.cache_dir());
  EXPECT_TRUE(is_entry(other->lookup(key_of(1)).entry, 1));

  // Storing again under the same key replaces it.
  CacheEntry e = make_entry(1);
  e.description = "replaced";
  ASSERT_TRUE(cache->store(e).ok());
  EXPECT_EQ(cache->lookup(key_of(1)).entry.description, "replaced");
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.cache_dir() + "/tmp"),
                          std::filesystem::directory_iterator()),
            0);
}

TEST(CodeCache, EmptyObjectsAndLargeObjectsRoundTrip) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  CacheEntry empty;
  empty.key = key_of(50);
  ASSERT_TRUE(cache->store(empty).ok());
  LookupResult r = cache->lookup(key_of(50));
  ASSERT_TRUE(r.hit()) << r.problem;
  EXPECT_TRUE(r.entry.objects.empty());
  ASSERT_TRUE(cache->store(make_entry(51, 3 << 20)).ok());
  EXPECT_TRUE(is_entry(cache->lookup(key_of(51)).entry, 51, 3 << 20));
}

TEST(CodeCache, ModelIndexListsAModelsEntriesOnly) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  for (int n = 0; n < 9; ++n) ASSERT_TRUE(cache->store(make_entry(n)).ok());
  ASSERT_TRUE(cache->store(make_entry(3)).ok());  // stored twice: listed once
  std::vector<Digest256> keys = cache->model_entries(model_of(0));  // entries 0, 3, 6
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0], key_of(0));
  EXPECT_EQ(keys[1], key_of(3));
  EXPECT_EQ(keys[2], key_of(6));
  EXPECT_TRUE(cache->model_entries(model_of(7)).empty());
  EXPECT_TRUE(cache->model_entries("not a fingerprint").empty());
  // An entry removed behind the index's back is not listed.
  ASSERT_EQ(::unlink(cache->entry_path(key_of(3)).c_str()), 0);
  EXPECT_EQ(cache->model_entries(model_of(0)).size(), 2u);
  // A model fingerprint that is not 64 hex digits cannot name an index file.
  CacheEntry bad = make_entry(20);
  bad.model = "../../escape";
  EXPECT_FALSE(cache->store(bad).ok());
}

TEST(CodeCache, RuntimeObjectIsKeyedByTargetAndVersions) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  EXPECT_EQ(cache->lookup_runtime_object().outcome, LookupOutcome::Miss);
  std::vector<uint8_t> runtime = object_bytes(99, 200000);
  ASSERT_TRUE(cache->store_runtime_object(runtime, 850.0).ok());
  LookupResult r = cache->lookup_runtime_object();
  ASSERT_TRUE(r.hit()) << r.problem;
  ASSERT_EQ(r.entry.objects.size(), 1u);
  EXPECT_EQ(r.entry.objects[0].bytes, runtime);
  EXPECT_EQ(r.entry.compile_ms, 850.0);
  // Another toolchain version has its own runtime key: a miss, not a foreign hit.
  CodeCacheOptions o = options_for(tmp.cache_dir());
  o.versions = "dynajit test; llvm 15; halide 15";
  auto other = CodeCache::open(o);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other.value()->lookup_runtime_object().outcome, LookupOutcome::Miss);
}

TEST(CodeCache, EvictsLeastRecentlyUsedEntriesPastTheCap) {
  TempDir tmp;
  // Entries are ~6.1 KB each: a 20 KB cap holds three.
  auto cache = open_cache(tmp.cache_dir(), 20000);
  for (int n = 0; n < 3; ++n) {
    ASSERT_TRUE(cache->store(make_entry(n)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // distinct mtimes
  }
  ASSERT_TRUE(cache->lookup(key_of(0)).hit());  // 0 is now the most recently used
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(cache->store(make_entry(3)).ok());  // evicts 1, the least recently used
  EXPECT_EQ(cache->lookup(key_of(1)).outcome, LookupOutcome::Miss);
  EXPECT_TRUE(cache->lookup(key_of(0)).hit());
  EXPECT_TRUE(cache->lookup(key_of(2)).hit());
  EXPECT_TRUE(cache->lookup(key_of(3)).hit());
  CacheStats s = cache->stats();
  EXPECT_EQ(s.entries, 3u);
  EXPECT_LE(s.bytes, 20000u);
  EXPECT_EQ(s.all_processes.evictions, 1u);
}

TEST(CodeCache, CountersArePersistedForAllProcesses) {
  TempDir tmp;
  auto a = open_cache(tmp.cache_dir());
  auto b = open_cache(tmp.cache_dir());
  ASSERT_TRUE(a->store(make_entry(1)).ok());
  EXPECT_TRUE(a->lookup(key_of(1)).hit());
  EXPECT_TRUE(b->lookup(key_of(1)).hit());
  EXPECT_FALSE(b->lookup(key_of(2)).hit());
  CacheStats s = open_cache(tmp.cache_dir())->stats();  // a third process: sees everyone's counts
  EXPECT_EQ(s.all_processes.hits, 2u);
  EXPECT_EQ(s.all_processes.misses, 1u);
  EXPECT_EQ(s.all_processes.stores, 1u);
  EXPECT_EQ(s.this_cache.hits, 0u);
  EXPECT_EQ(b->stats().this_cache.hits, 1u);
  EXPECT_EQ(b->stats().this_cache.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.models, 1u);
  EXPECT_EQ(s.bytes, static_cast<uint64_t>(std::filesystem::file_size(a->entry_path(key_of(1)))));
}

TEST(CodeCache, ListVerifyAndClear) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  for (int n = 0; n < 4; ++n) ASSERT_TRUE(cache->store(make_entry(n)).ok());
  std::vector<CacheListing> listing = cache->list();
  ASSERT_EQ(listing.size(), 4u);
  for (const CacheListing& l : listing) {
    EXPECT_TRUE(l.valid) << l.problem;
    EXPECT_EQ(l.entry.objects.size(), 2u);
    EXPECT_TRUE(l.entry.objects[0].bytes.empty()) << "listings carry no code";
  }
  VerifyReport v = cache->verify();
  EXPECT_EQ(v.checked, 4u);
  EXPECT_EQ(v.ok, 4u);
  EXPECT_EQ(v.corrupt, 0u);
  // An index line of an entry that is gone is compacted away.
  ASSERT_EQ(::unlink(cache->entry_path(key_of(0)).c_str()), 0);
  v = cache->verify();
  EXPECT_EQ(v.index_lines_dropped, 1u);

  ASSERT_TRUE(cache->clear().ok());
  CacheStats s = cache->stats();
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.models, 0u);
  EXPECT_EQ(s.all_processes.stores, 0u);
  EXPECT_EQ(mode_of(tmp.cache_dir() + "/entries"), 0700u);
  ASSERT_TRUE(cache->store(make_entry(5)).ok());  // usable after clear
  EXPECT_TRUE(cache->lookup(key_of(5)).hit());
}

TEST(CodeCache, DefaultDirectoryFollowsTheEnvironment) {
  const char* saved_dir = std::getenv("DJ_CACHE_DIR");
  const char* saved_xdg = std::getenv("XDG_CACHE_HOME");
  const char* saved_home = std::getenv("HOME");
  std::string s_dir = saved_dir ? saved_dir : "", s_xdg = saved_xdg ? saved_xdg : "", s_home = saved_home ? saved_home : "";
  ::setenv("DJ_CACHE_DIR", "/x/cache", 1);
  EXPECT_EQ(default_cache_dir(), "/x/cache");
  ::unsetenv("DJ_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/x/xdg", 1);
  EXPECT_EQ(default_cache_dir(), "/x/xdg/dynajit");
  ::setenv("XDG_CACHE_HOME", "relative", 1);  // invalid per the XDG spec
  ::setenv("HOME", "/x/home", 1);
  EXPECT_EQ(default_cache_dir(), "/x/home/.cache/dynajit");
  ::setenv("DJ_CACHE_MAX_MB", "3", 1);
  EXPECT_EQ(CodeCacheOptions::from_environment().max_bytes, 3u << 20);
  ::unsetenv("DJ_CACHE_MAX_MB");
  if (saved_dir) ::setenv("DJ_CACHE_DIR", s_dir.c_str(), 1);
  if (saved_xdg) ::setenv("XDG_CACHE_HOME", s_xdg.c_str(), 1); else ::unsetenv("XDG_CACHE_HOME");
  if (saved_home) ::setenv("HOME", s_home.c_str(), 1); else ::unsetenv("HOME");
}

TEST(CodeCache, ThreadsOfOneProcessShareACache) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir(), 60000);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        int n = (i * 7 + t * 3) % 20;
        LookupResult r = cache->lookup(key_of(n));
        if (r.hit() && !is_entry(r.entry, n)) ++wrong;
        if (!r.hit() && !cache->store(make_entry(n)).ok()) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  CacheStats s = cache->stats();
  EXPECT_EQ(s.all_processes.hits + s.all_processes.misses, 240u);
  EXPECT_EQ(s.this_cache.hits, s.all_processes.hits);
  EXPECT_LE(s.bytes, 60000u);
  EXPECT_EQ(cache->verify().corrupt, 0u);
}

}  // namespace
}  // namespace dj::codecache
