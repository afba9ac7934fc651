// The code cache across processes: a first process compiles a model's hot shapes
// and stores them; a second one, with DJ_WARM_CACHE=1, installs them at load and
// runs the same shapes with zero compiles, its very first request already
// compiled, and bit-identical outputs. Then the fault cases: a damaged entry is
// counted, not loaded, and recompiled. Each process is this test binary run again
// with DJ_WARM_TEST_ROLE set (no fork: the parent has threads).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "frontend/OnnxLoader.h"
#include "runtime/Interpreter.h"
#include "specializer/Specializer.h"

namespace dj::specializer {
namespace {

namespace fs = std::filesystem;

const char* role() { return std::getenv("DJ_WARM_TEST_ROLE"); }

std::vector<Shape> shapes() { return {{1, 7, 32}, {2, 33, 32}, {4, 16, 32}}; }

Tensor input_for(const Shape& s) {
  Tensor t = Tensor::empty(DType::F32, s);
  std::mt19937_64 rng(static_cast<uint64_t>(s[0] * 1000 + s[1]));
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// One process's work: run each shape `runs` times; write the last outputs to DIR.
struct ProcessResult {
  SpecializerStats stats;
  uint64_t compiled_first_run = 0;  // compiled region executions in the very first run
};

ProcessResult run_model(const fs::path& dir, bool warm, int runs) {
  auto m = load_model_file(std::string(DJ_SOURCE_DIR) + "/models/tiny_encoder.onnx");
  EXPECT_TRUE(m.ok());
  auto model = std::make_shared<const Model>(std::move(m).value());
  InterpreterOptions io;
  io.trace_options.hotness.min_count = 2;
  Interpreter interp(model, io);
  SpecializerOptions so;
  so.background = false;
  so.warm_cache = warm;
  auto jit = Specializer::attach(interp, so);
  EXPECT_TRUE(jit->has_cache());
  ProcessResult result;
  bool first = true;
  for (const Shape& s : shapes()) {
    std::vector<Tensor> out;
    for (int k = 0; k < runs; ++k) {
      auto r = interp.run({input_for(s)});
      EXPECT_TRUE(r.ok()) << r.status().message();
      if (!r.ok()) break;
      out = *r;
      if (first) {
        for (const RegionStats& st : interp.tracer()->all_region_stats()) result.compiled_first_run += st.compiled;
        first = false;
      }
    }
    std::ofstream f(dir / ("out_" + std::to_string(s[0]) + "x" + std::to_string(s[1]) + (warm ? ".warm" : ".cold")),
                    std::ios::binary);
    f.write(static_cast<const char*>(out[0].raw_data()), static_cast<std::streamsize>(out[0].nbytes()));
  }
  result.stats = jit->stats();
  jit->detach();
  return result;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The child side: runs only when the parent asked for it.
TEST(WarmCacheChild, Role) {
  if (!role()) GTEST_SKIP() << "runs as a child process of WarmCache tests";
  fs::path dir = std::getenv("DJ_WARM_TEST_DIR");
  std::string r = role();
  if (r == "cold") {
    ProcessResult p = run_model(dir, false, 3);
    EXPECT_GT(p.stats.compiled, 0u);
    EXPECT_EQ(p.stats.cache_hits, 0u);
    EXPECT_EQ(p.compiled_first_run, 0u);
  } else if (r == "warm") {
    ProcessResult p = run_model(dir, true, 3);
    EXPECT_EQ(p.stats.compiled, 0u) << "a warm process must not compile";
    EXPECT_GT(p.stats.warm_loaded, 0u);
    EXPECT_GT(p.compiled_first_run, 0u) << "the first request should already run compiled code";
  } else if (r == "recover") {  // after damage: no crash, the damaged entry recompiled
    ProcessResult p = run_model(dir, true, 3);
    EXPECT_GT(p.stats.compiled, 0u);
  }
}

class WarmCache : public ::testing::Test {
 protected:
  void SetUp() override {
    if (role()) GTEST_SKIP() << "child process";
    dir_ = fs::temp_directory_path() / ("dj_warm_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "cache");
    fs::permissions(dir_ / "cache", fs::perms::owner_all, fs::perm_options::replace);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  int child(const std::string& r) {
    std::string cmd = "DJ_WARM_TEST_ROLE=" + r + " DJ_WARM_TEST_DIR=" + dir_.string() + " DJ_CACHE_DIR=" +
                      (dir_ / "cache").string() + " " + fs::read_symlink("/proc/self/exe").string() +
                      " --gtest_filter=WarmCacheChild.Role --gtest_brief=1 > " + (dir_ / (r + ".log")).string() +
                      " 2>&1";
    int status = std::system(cmd.c_str());
    if (status != 0) ADD_FAILURE() << "child '" << r << "' failed:\n" << read_file(dir_ / (r + ".log"));
    return status;
  }
  fs::path dir_;
};

TEST_F(WarmCache, SecondProcessStartsCompiledWithIdenticalOutputs) {
  ASSERT_EQ(child("cold"), 0);
  ASSERT_EQ(child("warm"), 0);
  for (const Shape& s : shapes()) {
    std::string stem = "out_" + std::to_string(s[0]) + "x" + std::to_string(s[1]);
    std::string cold = read_file(dir_ / (stem + ".cold")), warm = read_file(dir_ / (stem + ".warm"));
    ASSERT_FALSE(cold.empty());
    EXPECT_EQ(cold, warm) << stem << ": cached code must give the very same bits";
  }
}

TEST_F(WarmCache, DamagedEntriesAreCountedAndRecompiled) {
  ASSERT_EQ(child("cold"), 0);
  // Flip a byte in every entry file (the Halide runtime object included).
  int damaged = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "cache" / "entries")) {
    if (!e.is_regular_file()) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(e.file_size() / 2));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(e.file_size() / 2));
    f.put(static_cast<char>(c ^ 0x5a));
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  ASSERT_EQ(child("recover"), 0);
  // The recovering process recompiled and stored again: a warm start works again.
  ASSERT_EQ(child("warm"), 0);
}

}  // namespace
}  // namespace dj::specializer
