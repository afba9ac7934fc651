// `dj cache ...` on a real cache directory: ls (all, and one model's entries found
// through its index by content), stats (text and JSON counts), verify (finds and
// removes a damaged entry, exit 1, then 0), clear, warm (usage errors; with the JIT, real precompiles),
// usage errors, and refusing a group-writable directory.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>

#include "codecache/RegionFingerprint.h"
#include "frontend/OnnxLoader.h"
#include "tests/codecache/CacheTestSupport.h"

namespace dj {
int cache_command(const std::vector<std::string>& args);
}

namespace dj::codecache {
namespace {

using namespace testing;

struct CommandResult {
  int code;
  std::string out;
  std::string err;
};

CommandResult run_cache(std::vector<std::string> args) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int code = dj::cache_command(args);
  std::fflush(stdout);
  CommandResult r{code, ::testing::internal::GetCapturedStdout(), ::testing::internal::GetCapturedStderr()};
  return r;
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

TEST(CacheCommand, LsStatsVerifyClear) {
  TempDir tmp;
  const std::string dir = tmp.cache_dir();
  auto cache = open_cache(dir);
  for (int n = 0; n < 3; ++n) ASSERT_TRUE(cache->store(make_entry(n)).ok());
  ASSERT_TRUE(cache->lookup(key_of(0)).hit());
  ASSERT_FALSE(cache->lookup(key_of(9)).hit());

  CommandResult ls = run_cache({"ls", "--dir", dir});
  EXPECT_EQ(ls.code, 0) << ls.err;
  for (int n = 0; n < 3; ++n) {
    EXPECT_TRUE(contains(ls.out, key_of(n).short_hex())) << ls.out;
    EXPECT_TRUE(contains(ls.out, make_entry(n).description)) << ls.out;
  }
  EXPECT_TRUE(contains(ls.out, "3 entries in " + dir)) << ls.out;

  CommandResult stats = run_cache({"stats", "--dir=" + dir});
  EXPECT_EQ(stats.code, 0) << stats.err;
  EXPECT_TRUE(contains(stats.out, "entries:         3")) << stats.out;
  EXPECT_TRUE(contains(stats.out, "hits            1")) << stats.out;
  EXPECT_TRUE(contains(stats.out, "misses          1")) << stats.out;
  EXPECT_TRUE(contains(stats.out, "stores          3")) << stats.out;
  CommandResult json = run_cache({"stats", "--json", "--dir", dir});
  EXPECT_TRUE(contains(json.out, "\"entries\":3")) << json.out;
  EXPECT_TRUE(contains(json.out, "\"hits\":1")) << json.out;

  // Damage one entry: verify reports and removes it, exits 1; a second run is clean.
  {
    FILE* f = std::fopen(cache->entry_path(key_of(1)).c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 100, SEEK_SET);
    std::fputc(0xee, f);
    std::fclose(f);
  }
  CommandResult ls_damaged = run_cache({"ls", "--dir", dir});
  EXPECT_TRUE(contains(ls_damaged.out, "DAMAGED: checksum mismatch")) << ls_damaged.out;
  CommandResult verify = run_cache({"verify", "--dir", dir});
  EXPECT_EQ(verify.code, 1);
  EXPECT_TRUE(contains(verify.out, "checked 3 entries: 2 ok, 1 corrupt")) << verify.out;
  EXPECT_TRUE(contains(verify.out, key_of(1).short_hex() + ": checksum mismatch")) << verify.out;
  EXPECT_EQ(run_cache({"verify", "--dir", dir}).code, 0);
  EXPECT_TRUE(contains(run_cache({"stats", "--dir", dir}).out, "corrupt entries 1"));

  CommandResult clear = run_cache({"clear", "--dir", dir});
  EXPECT_EQ(clear.code, 0) << clear.err;
  EXPECT_TRUE(contains(clear.out, "removed 2 entries")) << clear.out;
  EXPECT_TRUE(contains(run_cache({"ls", "--dir", dir}).out, "0 entries")) << "after clear";
}

TEST(CacheCommand, LsModelShowsOnlyThatModelsEntries) {
  TempDir tmp;
  const std::string dir = tmp.cache_dir();
  const std::string model_path = std::string(DJ_SOURCE_DIR) + "/models/dynamic_mlp.onnx";
  auto model = load_model_file(model_path);
  ASSERT_TRUE(model.ok());
  const std::string model_hex = fingerprint_model(model.value(), *RegionPlan::build(model.value())).hex();
  auto cache = open_cache(dir);
  CacheEntry mine = make_entry(1);
  mine.model = model_hex;
  mine.description = "R0 dynamic_mlp 4x16:f32";
  ASSERT_TRUE(cache->store(mine).ok());
  ASSERT_TRUE(cache->store(make_entry(2)).ok());  // another model's
  CommandResult r = run_cache({"ls", model_path, "--dir", dir});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "1 cached entries")) << r.out;
  EXPECT_TRUE(contains(r.out, "R0 dynamic_mlp 4x16:f32")) << r.out;
  EXPECT_FALSE(contains(r.out, make_entry(2).description)) << r.out;
}

TEST(CacheCommand, WarmUsageAndRefusal) {
  TempDir tmp;
  CommandResult warm = run_cache({"warm", "model.onnx", "--shapes", "x=1x4", "--dir", tmp.cache_dir()});
  EXPECT_EQ(warm.code, 2);  // the option is --shape
  EXPECT_TRUE(contains(warm.err, "unknown option '--shapes'")) << warm.err;
  CommandResult no_shape = run_cache({"warm", "model.onnx", "--dir", tmp.cache_dir()});
  EXPECT_EQ(no_shape.code, 2);
  EXPECT_TRUE(contains(no_shape.err, "no --shape given")) << no_shape.err;
  EXPECT_EQ(run_cache({"--help"}).code, 0);
  EXPECT_TRUE(contains(run_cache({"--help"}).out, "usage: dj cache"));
  EXPECT_EQ(run_cache({}).code, 2);
  EXPECT_EQ(run_cache({"frobnicate"}).code, 2);
  EXPECT_EQ(run_cache({"ls", "--bogus"}).code, 2);
  EXPECT_EQ(run_cache({"ls", "--json"}).code, 2);
  const std::string open_dir = tmp.path() + "/shared";
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0777), 0);
  CommandResult refused = run_cache({"stats", "--dir", open_dir});
  EXPECT_EQ(refused.code, 1);
  EXPECT_TRUE(contains(refused.err, "group- or world-writable")) << refused.err;
}

}  // namespace
}  // namespace dj::codecache

#ifdef DJ_HAVE_JIT
namespace dj::codecache {
namespace {

TEST(CacheCommand, WarmPrecompilesShapesIntoTheCache) {
  TempDir tmp;
  const std::string model = std::string(DJ_SOURCE_DIR) + "/models/dynamic_mlp.onnx";
  CommandResult warm = run_cache({"warm", model, "--shape", "x=4x16", "--shape", "x=32x16", "--dir", tmp.cache_dir()});
  ASSERT_EQ(warm.code, 0) << warm.err << warm.out;
  EXPECT_TRUE(contains(warm.out, "2 specializations")) << warm.out;
  CommandResult ls = run_cache({"ls", model, "--dir", tmp.cache_dir()});
  EXPECT_TRUE(contains(ls.out, "2 cached entries")) << ls.out;
  EXPECT_TRUE(contains(ls.out, "R0 4x16:f32 exact")) << ls.out;
  EXPECT_TRUE(contains(ls.out, "R0 32x16:f32 exact")) << ls.out;
  // Again: now loaded from the cache, nothing compiled.
  CommandResult again = run_cache({"warm", model, "--shape", "x=4x16", "--dir", tmp.cache_dir()});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(contains(again.out, "0 compiled")) << again.out;
  EXPECT_TRUE(contains(again.out, "1 loaded instead of compiled")) << again.out;
  CommandResult bad = run_cache({"warm", model, "--shape", "x=4x15", "--dir", tmp.cache_dir()});
  EXPECT_EQ(bad.code, 1);  // a shape the model refuses: named, no crash
  EXPECT_TRUE(contains(bad.err, "x")) << bad.err;
}

}  // namespace
}  // namespace dj::codecache
#endif
