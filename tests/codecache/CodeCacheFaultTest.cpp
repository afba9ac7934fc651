// The code cache under damage: entries truncated, bit-flipped, swapped for another
// model's entry, from another toolchain, target or format, planted as symlinks;
// the directory read-only, tiny (cap), deleted while in use, or not private.
// Every case: no crash, nothing damaged returned, the damage counted, and the
// entry rebuildable (store again, then a hit).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>

#include "codecache/CacheEntry.h"
#include "tests/codecache/CacheTestSupport.h"

namespace dj::codecache {
namespace {

using namespace testing;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// After damage: the lookup reports `outcome`, the entry is gone, and a rebuild hits.
void expect_detected_and_rebuildable(CodeCache& cache, int n, LookupOutcome outcome, const std::string& what) {
  LookupResult r = cache.lookup(key_of(n));
  EXPECT_EQ(r.outcome, outcome) << what << ": " << r.problem;
  EXPECT_FALSE(r.problem.empty()) << what;
  EXPECT_FALSE(std::filesystem::exists(cache.entry_path(key_of(n)))) << what << ": damaged entry not removed";
  ASSERT_TRUE(cache.store(make_entry(n)).ok()) << what;
  LookupResult again = cache.lookup(key_of(n));
  ASSERT_TRUE(again.hit()) << what << ": " << again.problem;
  EXPECT_TRUE(is_entry(again.entry, n)) << what;
}

TEST(CodeCacheFaults, TruncatedEntriesAreDetectedAtEveryLength) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  ASSERT_TRUE(cache->store(make_entry(1)).ok());
  const std::string path = cache->entry_path(key_of(1));
  const std::vector<uint8_t> good = read_bytes(path);
  int cases = 0;
  for (size_t len : {size_t{0}, size_t{7}, size_t{23}, size_t{24}, size_t{100}, good.size() / 2, good.size() - 32,
                     good.size() - 1}) {
    write_bytes(path, std::vector<uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)));
    expect_detected_and_rebuildable(*cache, 1, LookupOutcome::Corrupt, "truncated to " + std::to_string(len));
    ++cases;
  }
  // Trailing garbage is damage too.
  std::vector<uint8_t> padded = good;
  padded.push_back(0);
  write_bytes(path, padded);
  expect_detected_and_rebuildable(*cache, 1, LookupOutcome::Corrupt, "one byte appended");
  EXPECT_EQ(cache->stats().all_processes.corrupt, static_cast<uint64_t>(cases + 1));
}

TEST(CodeCacheFaults, EveryFlippedBitIsDetected) {
  // Each bit of a small entry, flipped in turn, through the decoder; then a few
  // through the whole store.
  CacheEntry e = make_entry(2, 40);
  e.target = "t";
  e.versions = "v";
  const std::vector<uint8_t> good = encode_entry(e);
  ASSERT_EQ(decode_entry(good).problem, DecodeProblem::None);
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::vector<uint8_t> bad = good;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    DecodedEntry d = decode_entry(bad);
    // Bits of the format-version field read as another format (foreign); all others as damage.
    EXPECT_NE(d.problem, DecodeProblem::None) << "bit " << bit << " flipped went unnoticed";
    if (bit / 8 < 8 || bit / 8 >= 12) {
      EXPECT_EQ(d.problem, DecodeProblem::Corrupt) << "bit " << bit;
    }
  }

  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  ASSERT_TRUE(cache->store(make_entry(2)).ok());
  const std::string path = cache->entry_path(key_of(2));
  const std::vector<uint8_t> file = read_bytes(path);
  for (size_t offset : {size_t{30}, size_t{200}, file.size() / 2, file.size() - 40, file.size() - 1}) {
    std::vector<uint8_t> bad = read_bytes(path);
    bad[offset] ^= 0x10;
    write_bytes(path, bad);
    expect_detected_and_rebuildable(*cache, 2, LookupOutcome::Corrupt, "bit flipped at " + std::to_string(offset));
  }
  EXPECT_EQ(cache->stats().all_processes.corrupt, 5u);
  EXPECT_EQ(cache->stats().all_processes.hits, 5u);
}

TEST(CodeCacheFaults, AnotherModelsEntryInPlaceIsRejected) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  ASSERT_TRUE(cache->store(make_entry(1)).ok());
  ASSERT_TRUE(cache->store(make_entry(2)).ok());
  // A valid, checksummed file — but the one stored for key 2 (another model's code).
  std::filesystem::copy_file(cache->entry_path(key_of(2)), cache->entry_path(key_of(1)),
                             std::filesystem::copy_options::overwrite_existing);
  expect_detected_and_rebuildable(*cache, 1, LookupOutcome::Corrupt, "entry of key 2 under key 1");
  EXPECT_TRUE(is_entry(cache->lookup(key_of(2)).entry, 2));
}

TEST(CodeCacheFaults, ForeignVersionTargetAndFormatAreIgnored) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  // Another toolchain wrote key 1 (only possible by tampering or a key-derivation
  // bug, since versions are in the key): this process must not load it.
  CodeCacheOptions newer = options_for(tmp.cache_dir());
  newer.versions = "dynajit next; llvm 17; halide 17";
  ASSERT_TRUE(CodeCache::open(newer).value()->store(make_entry(1)).ok());
  expect_detected_and_rebuildable(*cache, 1, LookupOutcome::Foreign, "another version");

  CodeCacheOptions arm = options_for(tmp.cache_dir());
  arm.target = "arm-64-linux-sve";
  ASSERT_TRUE(CodeCache::open(arm).value()->store(make_entry(1)).ok());
  expect_detected_and_rebuildable(*cache, 1, LookupOutcome::Foreign, "another target");

  // A future entry format, with a correct checksum over it.
  CacheEntry e = make_entry(1);
  e.target = options_for("").target;
  e.versions = options_for("").versions;
  std::vector<uint8_t> file = encode_entry(e);
  file[8] = 2;  // format version 2
  Digest256 sum = Sha256::of(file.data(), file.size() - 32);
  std::copy(sum.bytes.begin(), sum.bytes.end(), file.end() - 32);
  write_bytes(cache->entry_path(key_of(1)), file);
  expect_detected_and_rebuildable(*cache, 1, LookupOutcome::Foreign, "another format");
  EXPECT_EQ(cache->stats().all_processes.foreign, 3u);

  // verify reports a foreign entry but keeps it (another build may load it); it
  // removes a damaged one.
  ASSERT_TRUE(CodeCache::open(newer).value()->store(make_entry(4)).ok());
  ASSERT_TRUE(cache->store(make_entry(5)).ok());
  write_bytes(cache->entry_path(key_of(5)), {1, 2, 3});
  VerifyReport v = cache->verify();
  EXPECT_EQ(v.foreign, 1u);
  EXPECT_EQ(v.corrupt, 1u);
  EXPECT_EQ(v.removed, 1u);
  EXPECT_TRUE(std::filesystem::exists(cache->entry_path(key_of(4))));
  EXPECT_FALSE(std::filesystem::exists(cache->entry_path(key_of(5))));
}

TEST(CodeCacheFaults, PlantedSymlinkIsNeverFollowed) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  ASSERT_TRUE(cache->store(make_entry(1)).ok());
  // A link at key 3's path to a perfectly valid entry file elsewhere.
  const std::string outside = tmp.path() + "/elsewhere.djc";
  std::filesystem::copy_file(cache->entry_path(key_of(1)), outside);
  std::filesystem::create_directories(std::filesystem::path(cache->entry_path(key_of(3))).parent_path());
  std::filesystem::create_symlink(outside, cache->entry_path(key_of(3)));
  LookupResult r = cache->lookup(key_of(3));
  EXPECT_EQ(r.outcome, LookupOutcome::Corrupt) << r.problem;
  EXPECT_EQ(cache->stats().all_processes.corrupt, 1u);
}

TEST(CodeCacheFaults, TinyCapKeepsTheTotalUnderItAndRefusesOversizedEntries) {
  TempDir tmp;
  const uint64_t cap = 15000;  // two ~6.1 KB entries
  auto cache = open_cache(tmp.cache_dir(), cap);
  for (int n = 0; n < 10; ++n) {
    ASSERT_TRUE(cache->store(make_entry(n)).ok()) << n;
    EXPECT_LE(cache->stats().bytes, cap) << "after storing " << n;
    EXPECT_TRUE(is_entry(cache->lookup(key_of(n)).entry, n)) << "the entry just stored must survive its own eviction";
  }
  EXPECT_EQ(cache->stats().entries, 2u);
  EXPECT_EQ(cache->stats().all_processes.evictions, 8u);
  Status big = cache->store(make_entry(11, 20000));
  EXPECT_FALSE(big.ok());
  EXPECT_NE(big.message().find("cap"), std::string::npos) << big.message();
  EXPECT_EQ(cache->stats().all_processes.store_failures, 1u);
  EXPECT_EQ(cache->stats().entries, 2u) << "a refused entry must not evict the others";
}

TEST(CodeCacheFaults, DirectoryDeletedWhileInUseIsRecreated) {
  TempDir tmp;
  auto cache = open_cache(tmp.cache_dir());
  ASSERT_TRUE(cache->store(make_entry(1)).ok());
  std::filesystem::remove_all(tmp.cache_dir());
  EXPECT_EQ(cache->lookup(key_of(1)).outcome, LookupOutcome::Miss);
  EXPECT_TRUE(cache->model_entries(model_of(1)).empty());
  EXPECT_EQ(cache->stats().entries, 0u);
  ASSERT_TRUE(cache->store(make_entry(2)).ok());
  EXPECT_EQ(mode_of(tmp.cache_dir()), 0700u);
  EXPECT_TRUE(is_entry(cache->lookup(key_of(2)).entry, 2));
  EXPECT_EQ(cache->model_entries(model_of(2)).size(), 1u);
  // The directory replaced by a group-writable one meanwhile: stores refuse it.
  std::filesystem::remove_all(tmp.cache_dir());
  ASSERT_EQ(::mkdir(tmp.cache_dir().c_str(), 0770), 0);
  ASSERT_EQ(::chmod(tmp.cache_dir().c_str(), 0770), 0);
  Status st = cache->store(make_entry(3));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("writable"), std::string::npos) << st.message();
}

TEST(CodeCacheFaults, NonPrivateDirectoriesAreRefused) {
  TempDir tmp;
  for (mode_t mode : {0770u, 0707u, 0777u, 0720u}) {
    const std::string dir = tmp.path() + "/open" + std::to_string(mode);
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    ASSERT_EQ(::chmod(dir.c_str(), mode), 0);
    auto c = CodeCache::open(options_for(dir));
    ASSERT_FALSE(c.ok()) << "mode " << std::oct << mode;
    EXPECT_NE(c.status().message().find("group- or world-writable"), std::string::npos) << c.status().message();
    EXPECT_FALSE(std::filesystem::exists(dir + "/entries")) << "nothing is written into a refused directory";
  }
  // open_from_environment: disabled (nullptr) with a warning, never an error or a crash.
  const std::string dir = tmp.path() + "/open" + std::to_string(0777u);
  ::setenv("DJ_CACHE_DIR", dir.c_str(), 1);
  EXPECT_EQ(CodeCache::open_from_environment("t", "v"), nullptr);
  ::setenv("DJ_CACHE_DIR", (tmp.path() + "/fine").c_str(), 1);
  EXPECT_NE(CodeCache::open_from_environment("t", "v"), nullptr);
  ::setenv("DJ_CACHE", "off", 1);
  EXPECT_EQ(CodeCache::open_from_environment("t", "v"), nullptr);
  ::unsetenv("DJ_CACHE");
  ::unsetenv("DJ_CACHE_DIR");
  // A file where the directory should be.
  write_bytes(tmp.path() + "/afile", {1, 2, 3});
  EXPECT_FALSE(CodeCache::open(options_for(tmp.path() + "/afile")).ok());
}

// Runs `body` as user nobody in a child process (when we are root, so that
// permissions apply), or in a child as ourselves otherwise; returns its exit code.
int run_as_unprivileged(const std::string& dir_to_give, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0) {
      if (::chown(dir_to_give.c_str(), 65534, 65534) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(90);
    }
    _exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(CodeCacheFaults, DirectoryOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away (run by CI as root)";
  TempDir tmp;
  const std::string dir = tmp.path() + "/theirs";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  auto c = CodeCache::open(options_for(dir));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("owned by uid 65534"), std::string::npos) << c.status().message();
}

TEST(CodeCacheFaults, ReadOnlyDirectoryServesHitsAndFailsStoresCleanly) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/ro";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0711), 0);  // so that user nobody can reach `dir`
  const int code = run_as_unprivileged(dir, [&]() -> int {
    auto c = CodeCache::open(options_for(dir));
    if (!c.ok()) return 1;
    CodeCache& cache = *c.value();
    if (!cache.store(make_entry(1)).ok()) return 2;
    // Read-only: the directory and its subdirectories lose their write bit.
    for (const char* sub : {"", "/entries", "/models", "/tmp"})
      if (::chmod((dir + sub).c_str(), 0500) != 0) return 3;
    const std::string shard = std::filesystem::path(cache.entry_path(key_of(1))).parent_path();
    if (::chmod(shard.c_str(), 0500) != 0) return 3;
    if (::access((dir + "/tmp").c_str(), W_OK) == 0) return 4;  // permissions do not apply to us: test is void
    Status st = cache.store(make_entry(2));
    if (st.ok()) return 5;
    if (st.message().find("Permission denied") == std::string::npos) return 6;
    LookupResult hit = cache.lookup(key_of(1));
    if (!hit.hit() || !is_entry(hit.entry, 1)) return 7;
    if (cache.lookup(key_of(2)).outcome != LookupOutcome::Miss) return 8;
    if (cache.stats().this_cache.store_failures != 1) return 9;
    if (!cache.verify().problems.empty()) return 10;
    return 0;
  });
  EXPECT_EQ(code, 0) << "child step " << code << " failed (see the returns in the test body)";
}

}  // namespace
}  // namespace dj::codecache
