// Four processes hammer one cache directory at once: lookups, stores, evictions
// (a tight cap), damage done in place to entries others may be reading, verify
// and clear runs. Each child checks every hit byte for byte against the entry's
// known contents and reports its own counts; the parent checks that no process
// crashed or saw a wrong entry, that the counts persisted in the directory are
// exactly the sum of what the processes did (no lost updates), and that the
// directory is consistent afterwards.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "tests/codecache/CacheTestSupport.h"

namespace dj::codecache {
namespace {

using namespace testing;

constexpr int kProcesses = 4;
constexpr int kIterations = 300;
constexpr int kKeys = 24;
constexpr uint64_t kCap = 60000;  // about nine entries: evictions all the time

// Flips one byte in the middle of the file in place (not atomically: a reader may
// see the file before, during or after).
bool damage_in_place(const std::string& path, uint32_t salt) {
  int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) return false;
  off_t size = ::lseek(fd, 0, SEEK_END);
  bool done = false;
  if (size > 64) {
    off_t at = 32 + static_cast<off_t>(salt % static_cast<uint32_t>(size - 64));
    uint8_t b = 0;
    if (::pread(fd, &b, 1, at) == 1) {
      b ^= 0x5a;
      done = ::pwrite(fd, &b, 1, at) == 1;
    }
  }
  ::close(fd);
  return done;
}

// The child's work; returns an exit code (0 ok) and writes its counts to `report`.
int hammer(const std::string& dir, int child, const std::string& report) {
  auto opened = CodeCache::open(options_for(dir, kCap));
  if (!opened.ok()) return 1;
  CodeCache& cache = *opened.value();
  std::mt19937 rng(1234u + static_cast<uint32_t>(child));
  uint64_t lookups = 0, damaged = 0, wrong = 0, failed_stores = 0;
  for (int i = 0; i < kIterations; ++i) {
    const int n = static_cast<int>(rng() % kKeys);
    const uint32_t action = rng() % 100;
    if (action < 6) {
      if (damage_in_place(cache.entry_path(key_of(n)), rng())) ++damaged;
      continue;
    }
    if (action == 6 && child == 0) {
      (void)cache.verify();
      continue;
    }
    if (action == 7 && child == 1 && i % 3 == 0) {
      if (!cache.clear().ok()) return 2;
      continue;
    }
    if (action < 12) {  // a model's index: every listed key must be one of that model's
      for (const Digest256& k : cache.model_entries(model_of(n % 3))) {
        bool known = false;
        for (int m = n % 3; m < kKeys; m += 3) known |= k == key_of(m);
        if (!known) ++wrong;
      }
      continue;
    }
    ++lookups;
    LookupResult r = cache.lookup(key_of(n));
    if (r.hit()) {
      if (!is_entry(r.entry, n)) ++wrong;  // a damaged or foreign entry returned as a hit
    } else if (!cache.store(make_entry(n)).ok()) {
      ++failed_stores;
    }
  }
  CacheStats s = cache.stats();
  std::ofstream out(report);
  out << lookups << " " << damaged << " " << wrong << " " << failed_stores << " " << s.this_cache.hits << " "
      << s.this_cache.misses << " " << s.this_cache.corrupt << " " << s.this_cache.stores << " "
      << s.this_cache.evictions << " " << s.this_cache.foreign << "\n";
  return out.good() ? 0 : 3;
}

TEST(CodeCacheConcurrency, FourProcessesHammeringOneDirectoryStayConsistent) {
  TempDir tmp;
  const std::string dir = tmp.cache_dir();
  std::vector<pid_t> children;
  for (int c = 0; c < kProcesses; ++c) {
    pid_t pid = ::fork();
    if (pid == 0) _exit(hammer(dir, c, tmp.path() + "/report" + std::to_string(c)));
    ASSERT_GT(pid, 0);
    children.push_back(pid);
  }
  for (int c = 0; c < kProcesses; ++c) {
    int status = 0;
    ASSERT_EQ(::waitpid(children[static_cast<size_t>(c)], &status, 0), children[static_cast<size_t>(c)]);
    ASSERT_TRUE(WIFEXITED(status)) << "child " << c << " crashed (signal " << WTERMSIG(status) << ")";
    ASSERT_EQ(WEXITSTATUS(status), 0) << "child " << c;
  }

  uint64_t lookups = 0, damaged = 0, wrong = 0, failed = 0;
  CacheCounters sum;
  for (int c = 0; c < kProcesses; ++c) {
    std::ifstream in(tmp.path() + "/report" + std::to_string(c));
    uint64_t l, d, w, f;
    CacheCounters k;
    ASSERT_TRUE(in >> l >> d >> w >> f >> k.hits >> k.misses >> k.corrupt >> k.stores >> k.evictions >> k.foreign)
        << "child " << c;
    lookups += l, damaged += d, wrong += w, failed += f;
    sum += k;
  }
  std::printf("%d processes: %llu lookups, %llu hits, %llu misses, %llu damaged in place, %llu corrupt seen, "
              "%llu stores, %llu evictions\n",
              kProcesses, (unsigned long long)lookups, (unsigned long long)sum.hits, (unsigned long long)sum.misses,
              (unsigned long long)damaged, (unsigned long long)sum.corrupt, (unsigned long long)sum.stores,
              (unsigned long long)sum.evictions);
  EXPECT_EQ(wrong, 0u) << "a process got a wrong entry as a hit";
  EXPECT_EQ(failed, 0u) << "stores failed";
  EXPECT_EQ(sum.hits + sum.misses, lookups);
  EXPECT_GT(sum.hits, 0u);
  EXPECT_GT(sum.evictions, 0u);
  EXPECT_GT(damaged, 0u);

  // The directory's counters: exactly the sum of every process's, except what a
  // clear() reset (child 1 clears now and then, so the persisted counts are only
  // bounded by the sum then).
  auto cache = open_cache(dir, kCap);
  CacheStats s = cache->stats();
  EXPECT_LE(s.all_processes.hits, sum.hits);
  EXPECT_LE(s.all_processes.corrupt, sum.corrupt);
  EXPECT_LE(s.bytes, kCap);
  // Afterwards: every entry left is either intact or detected by verify (damage
  // that no lookup happened to read), and a second verify finds nothing.
  VerifyReport v = cache->verify();
  EXPECT_EQ(v.ok + v.corrupt + v.foreign, v.checked);
  EXPECT_EQ(v.foreign, 0u);
  VerifyReport again = cache->verify();
  EXPECT_EQ(again.corrupt, 0u);
  EXPECT_EQ(again.ok, again.checked);
  for (const CacheListing& l : cache->list()) EXPECT_TRUE(l.valid) << l.key_hex << ": " << l.problem;
}

TEST(CodeCacheConcurrency, CountersLoseNoUpdatesAcrossProcesses) {
  TempDir tmp;
  const std::string dir = tmp.cache_dir();
  ASSERT_TRUE(open_cache(dir)->store(make_entry(0)).ok());
  std::vector<pid_t> children;
  for (int c = 0; c < kProcesses; ++c) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto cache = CodeCache::open(options_for(dir));
      if (!cache.ok()) _exit(1);
      for (int i = 0; i < 200; ++i) {
        if (!cache.value()->lookup(key_of(0)).hit()) _exit(2);
        if (cache.value()->lookup(key_of(1000 + c)).hit()) _exit(3);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  CacheStats s = open_cache(dir)->stats();
  EXPECT_EQ(s.all_processes.hits, 800u);
  EXPECT_EQ(s.all_processes.misses, 800u);
  EXPECT_EQ(s.all_processes.stores, 1u);
}

}  // namespace
}  // namespace dj::codecache
