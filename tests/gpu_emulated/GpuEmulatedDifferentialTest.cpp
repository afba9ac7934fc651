// The GPU JIT against the interpreter, without a GPU: every bundled model runs with
// its hot regions compiled to CUDA kernels (CUDA C -> NVRTC sm_90 cubin + PTX) and
// executed by EmulatedGpuBackend (the same CUDA C, host-compiled against
// CudaEmulation.h, device memory tagged as such). Outputs are compared with the
// interpreter's on the reference inputs, on shapes never seen, across guard misses
// and on the shape-generic tier.
//
// Tolerance: |gpu - interp| <= 1e-4 + 1e-4 * |interp| for f32 (the kernels use
// expf/tanhf/erff of the host libm under emulation and reduce in a different
// order: warp-shuffle trees, tiled GEMM sums); integer and bool outputs equal.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <stdlib.h>
#include <cstdio>

#include "runtime/Interpreter.h"
#include "specializer/JitReport.h"
#include "specializer/Specializer.h"
#include "tests/gpu_emulated/EmulatedGpuBackend.h"
#include "tests/support/JitUnderTest.h"

namespace dj::specializer {
namespace {

using test::expect_close;
using test::load_bundled;
using test::random_f32;
using test::testdata_inputs;

// The JIT compiling for the emulated GPU, plus what each test checks of the GPU path.
struct GpuJitUnderTest : test::JitUnderTest {
  std::shared_ptr<EmulatedGpuBackend> gpu;

  explicit GpuJitUnderTest(const std::string& name, std::shared_ptr<EmulatedGpuBackend> backend =
                                                        std::make_shared<EmulatedGpuBackend>())
      : JitUnderTest(name, /*background=*/false, backend), gpu(std::move(backend)) {}

  // Prints what NVRTC did for each kernel this test generated (for reading, not
  // asserted: the cubin and PTX themselves are checked by EmulatedGpuBackend::load).
  ~GpuJitUnderTest() {
    std::vector<double> ms;
    for (const auto& k : gpu->compiled()) {
      std::printf("  %-28s nvrtc %7.1f ms  cubin %6zu B  ptx %6zu B\n", k.name.c_str(), k.nvrtc_ms, k.cubin_bytes,
                  k.ptx_bytes);
      ms.push_back(k.nvrtc_ms);
    }
    std::sort(ms.begin(), ms.end());
    if (!ms.empty())
      std::printf("%zu kernels compiled for sm_90 (cubin + PTX): median %.1f ms, max %.1f ms\n", ms.size(),
                  ms[ms.size() / 2], ms.back());
  }

  void expect_healthy() const {
    const SpecializerStats stats = specializer->stats();
    EXPECT_EQ(stats.failed, 0u) << specializer->recent_failures().front();
    EXPECT_GT(stats.compiled, 0u);
    EXPECT_GT(compiled_executions(), 0u);
    EXPECT_GT(gpu->counts().launches, 0u);
    EXPECT_GT(gpu->counts().uploads, 0u);  // region inputs arrive from the host
    for (const Region& r : jit->regions().regions())
      for (const auto& spec : specializer->specializations(r.id)) EXPECT_EQ(spec->info().device, "cuda sm_90");
  }
};

TEST(GpuEmulatedDifferential, DynamicMlpHotUnseenAndGeneric) {
  GpuJitUnderTest t("dynamic_mlp");
  for (int64_t batch : {1, 4, 64, 4, 1, 300})
    t.check({random_f32({batch, 16}, batch, 2.0f)}, 3, "batch " + std::to_string(batch));
  for (int64_t batch : {2, 3, 65}) t.check({random_f32({batch, 16}, 7 * batch, 2.0f)}, 1, "unseen " + std::to_string(batch));
  t.expect_healthy();
  EXPECT_EQ(t.specializer->stats().generic, 1u);  // three shapes hot: the region-level event
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  EXPECT_GE(specs[0]->info().kernels, 2u);  // GEMM+bias+ReLU, GEMM+bias, Softmax
  // Graph outputs come back from the device, counted: never a device tensor to the caller.
  EXPECT_GT(t.jit->device_to_host_copies(), 0u);
  // ... and the stats say so (dj run --stats, the REPL's `specs`).
  const std::string report = format_specializations(*t.specializer, t.jit->regions());
  EXPECT_NE(report.find("device: host emulation of CUDA sm_90"), std::string::npos) << report;
  EXPECT_NE(report.find("copies back to the host"), std::string::npos) << report;
}

TEST(GpuEmulatedDifferential, TinyEncoderVariableSequences) {
  GpuJitUnderTest t("tiny_encoder");
  for (const auto& in : testdata_inputs("tiny_encoder", 1)) t.check(in, 3, "testdata " + in[0].describe());
  for (int64_t seq : {5, 17, 64, 5}) t.check({random_f32({2, seq, 32}, seq, 1.0f)}, 3, "seq " + std::to_string(seq));
  t.expect_healthy();
  // The encoder's attention and residuals fuse on the GPU as on the CPU.
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  const std::string plan = specs[0]->info().plan_text;
  EXPECT_NE(plan.find("batched gemm: MatMul"), std::string::npos) << plan;
  EXPECT_NE(plan.find("gemm: MatMul Add Add"), std::string::npos) << plan;
  EXPECT_NE(plan.find("softmax: Div Softmax"), std::string::npos) << plan;
}

TEST(GpuEmulatedDifferential, EarlyExitBothBranches) {
  GpuJitUnderTest t("early_exit");
  for (const auto& in : testdata_inputs("early_exit", 1)) t.check(in, 3, "testdata " + in[0].describe());
  for (const auto& in : testdata_inputs("early_exit", 1)) t.check(in, 1, "again " + in[0].describe());
  t.expect_healthy();
}

TEST(GpuEmulatedDifferential, MoeRouterExperts) {
  GpuJitUnderTest t("moe_router");
  for (const auto& in : testdata_inputs("moe_router", 1)) t.check(in, 3, "testdata " + in[0].describe());
  for (int64_t tokens : {32, 32, 100}) t.check({random_f32({tokens, 16}, tokens, 3.0f)}, 3, "tokens " + std::to_string(tokens));
  t.expect_healthy();
}

TEST(GpuEmulatedDifferential, GreedyLoopBody) {
  GpuJitUnderTest t("greedy_loop");
  for (const auto& in : testdata_inputs("greedy_loop", 2))
    t.check(in, 3, "testdata steps=" + std::to_string(in[1].item<int64_t>()));
  t.expect_healthy();
}

TEST(GpuEmulatedDifferential, GenericTierServesAStreamOfShapes) {
  GpuJitUnderTest t("dynamic_mlp");
  for (int64_t batch = 1; batch <= 40; ++batch)
    t.check({random_f32({batch, 16}, batch, 1.0f)}, 1, "batch " + std::to_string(batch));
  EXPECT_EQ(t.specializer->stats().compiled, 1u);
  EXPECT_EQ(t.specializer->stats().generic, 1u);
  EXPECT_EQ(t.jit->tracer()->region_stats(0).compiled, 32u);
}

}  // namespace
}  // namespace dj::specializer

namespace dj::specializer {
namespace {

// Cubins in the code cache: a second "process" (a fresh interpreter, specializer and
// backend) with DJ_WARM_CACHE semantics installs every cached GPU specialization at
// attach, loads its cubins with no NVRTC call, and runs compiled from its first run.
TEST(GpuEmulatedCache, WarmStartLoadsCubinsWithoutNvrtc) {
  char pattern[] = "/tmp/dj_gpu_cache_XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  auto model = load_bundled("dynamic_mlp");
  const std::vector<std::vector<Tensor>> inputs = {{random_f32({4, 16}, 1, 2.0f)}, {random_f32({9, 16}, 2, 2.0f)}};
  InterpreterOptions off;
  off.trace = false;
  Interpreter reference(model, off);
  auto run_process = [&](bool warm, std::shared_ptr<EmulatedGpuBackend> gpu, Interpreter& jit) {
    SpecializerOptions so;
    so.background = false;
    so.cache_dir = dir;
    so.warm_cache = warm;
    so.gpu = std::move(gpu);
    return Specializer::attach(jit, so);
  };
  InterpreterOptions on;
  on.trace_options.hotness.min_count = 2;
  on.trace_options.hotness.min_total_ms = 1e9;
  {
    Interpreter jit(model, on);
    auto gpu = std::make_shared<EmulatedGpuBackend>();
    auto spec = run_process(false, gpu, jit);
    for (const auto& in : inputs)
      for (int k = 0; k < 3; ++k) ASSERT_TRUE(jit.run(in).ok());
    EXPECT_EQ(spec->stats().compiled, 2u);
    ASSERT_TRUE(spec->has_cache());
    spec->detach();
    for (const auto& k : gpu->compiled()) EXPECT_GT(k.nvrtc_ms, 0.0) << k.name;
  }
  Interpreter jit(model, on);
  auto gpu = std::make_shared<EmulatedGpuBackend>();
  auto spec = run_process(true, gpu, jit);
  EXPECT_EQ(spec->stats().warm_loaded, 2u);
  EXPECT_EQ(spec->stats().compiled, 0u);
  ASSERT_FALSE(gpu->compiled().empty());
  for (const auto& k : gpu->compiled()) {
    EXPECT_EQ(k.nvrtc_ms, 0.0) << k.name << " was compiled, not loaded from the cache";
    EXPECT_GT(k.cubin_bytes, 0u);
    EXPECT_GT(k.ptx_bytes, 0u);
  }
  for (const auto& in : inputs) {
    auto want = reference.run(in);
    auto got = jit.run(in);
    ASSERT_TRUE(got.ok()) << got.status().message();
    expect_close(*got, *want, "warm " + in[0].describe());
  }
  EXPECT_EQ(jit.tracer()->region_stats(0).compiled, 2u);  // the first run of each shape was compiled
  for (const auto& s : spec->specializations(0)) EXPECT_EQ(s->info().device, "cuda sm_90");
  spec->detach();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dj::specializer
