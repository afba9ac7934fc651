// The CPU JIT against the interpreter: on every bundled model, runs inputs until
// their regions are hot and compiled, then checks that compiled runs give the
// interpreter's outputs (and ONNX Runtime's reference outputs), on the hot shapes,
// on shapes never seen (guard misses), and mid-stream switches between them.
//
// Tolerance: |jit - interp| <= 1e-4 + 1e-4 * |interp| (f32; the compiled kernels
// use polynomial tanh/erf/exp accurate to ~1e-6 and a different summation order
// in GEMMs); integer and bool outputs must be equal.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "frontend/OnnxLoader.h"
#include "runtime/Interpreter.h"
#include "specializer/SharedKernels.h"
#include "specializer/Specializer.h"
#include "tests/support/JitUnderTest.h"

namespace dj::specializer {
namespace {

using test::expect_close;
using test::JitUnderTest;
using test::load_bundled;
using test::random_f32;
using test::testdata_inputs;

TEST(JitDifferential, DynamicMlpHotAndUnseenBatches) {
  JitUnderTest t("dynamic_mlp");
  for (int64_t batch : {1, 4, 64, 4, 1, 300}) t.check({random_f32({batch, 16}, batch, 2.0f)}, 3, "batch " + std::to_string(batch));
  // 1, 4, 64, 300, and the generic tier once three shapes had run 8 times in all.
  EXPECT_EQ(t.specializer->stats().compiled, 5u);
  EXPECT_EQ(t.specializer->stats().generic, 1u);
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  EXPECT_GE(t.compiled_executions(), 4u);
  // Unseen shapes after compilation: guard misses, interpreted, still right.
  for (int64_t batch : {2, 3, 65}) t.check({random_f32({batch, 16}, 7 * batch, 2.0f)}, 1, "unseen " + std::to_string(batch));
  auto specs = t.specializer->specializations(0);
  ASSERT_EQ(specs.size(), 5u);
  EXPECT_GE(specs[0]->info().kernels, 2u);  // GEMM+bias+ReLU, GEMM+bias, Softmax
}

TEST(JitDifferential, TinyEncoderVariableSequences) {
  JitUnderTest t("tiny_encoder");
  for (const auto& in : testdata_inputs("tiny_encoder", 1)) t.check(in, 3, "testdata " + in[0].describe());
  for (int64_t seq : {5, 17, 64, 5}) t.check({random_f32({2, seq, 32}, seq, 1.0f)}, 3, "seq " + std::to_string(seq));
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  EXPECT_GT(t.specializer->stats().compiled, 0u);
  EXPECT_GT(t.compiled_executions(), 0u);
}

TEST(JitDifferential, LoadTimeConstantsInsideRunsAndAsOutputs) {
  // Constant nodes inside a fused GELU and an Identity of a weight run nowhere in the
  // compiled region; a Constant that is itself an output still reaches the caller.
  auto loaded = load_onnx_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y, float[2] k) <float[8] b = {1,2,3,4,5,6,7,8}> {
  bb = Identity(b)
  r2 = Constant <value = float {1.4142135}> ()
  v = Div(x, r2)
  e = Erf(v)
  one = Constant <value = float {1.0}> ()
  w = Add(e, one)
  z = Mul(x, w)
  half = Constant <value = float {0.5}> ()
  u = Mul(z, half)
  y = Add(u, bb)
  k = Constant <value = float[2] {3, 4}> ()
})");
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  JitUnderTest t(std::make_shared<const Model>(std::move(loaded).value()));
  for (int64_t n : {3, 5, 3, 17, 3}) t.check({random_f32({n, 8}, n, 2.0f)}, 3, "n " + std::to_string(n));
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  EXPECT_GT(t.compiled_executions(), 0u);
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  EXPECT_EQ(specs[0]->info().kernels, 1u);        // Div Erf Add Mul Mul Add
  EXPECT_EQ(specs[0]->info().interpreted_ops, 1u);  // only the Constant that is an output
}

TEST(JitDifferential, RepeatedKernelsAreCompiledOnce) {
  SharedKernels::process().clear();
  JitUnderTest first("tiny_encoder");
  Tensor x = random_f32({2, 17, 32}, 5, 1.0f);
  first.check({x}, 3, "first model");
  auto specs = first.specializer->specializations(0);
  ASSERT_EQ(specs.size(), 1u);
  // The Q, K and V projections are one GEMM (the output projection carries the
  // residual Add); the two LayerNorms one kernel: compiled once each, reused by the rest.
  EXPECT_GE(specs[0]->info().shared_kernels, 3u) << specs[0]->describe();
  EXPECT_LT(specs[0]->info().shared_kernels, specs[0]->info().kernels);
  // A second model in the process compiles nothing new for the same shape.
  JitUnderTest second("tiny_encoder");
  second.check({x}, 3, "second model");
  auto again = second.specializer->specializations(0);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]->info().shared_kernels, again[0]->info().kernels) << again[0]->describe();
  // Another shape is other kernels: nothing wrongly reused (check() compares outputs).
  second.check({random_f32({3, 9, 32}, 6, 1.0f)}, 3, "other shape");
  auto both = second.specializer->specializations(0);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_LT(both[1]->info().shared_kernels, both[1]->info().kernels);
}

TEST(JitDifferential, EarlyExitBothBranchesAndGuardMisses) {
  JitUnderTest t("early_exit");
  // The reference data sets take both branches; each branch's region gets compiled.
  for (const auto& in : testdata_inputs("early_exit", 1)) t.check(in, 3, "testdata " + in[0].describe());
  for (const auto& in : testdata_inputs("early_exit", 1)) t.check(in, 1, "again " + in[0].describe());
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  EXPECT_GT(t.compiled_executions(), 0u);
}

TEST(JitDifferential, MoeRouterExpertsCompileAroundTheDataDependentCuts) {
  JitUnderTest t("moe_router");
  for (const auto& in : testdata_inputs("moe_router", 1)) t.check(in, 3, "testdata " + in[0].describe());
  for (int64_t tokens : {32, 32, 100}) t.check({random_f32({tokens, 16}, tokens, 3.0f)}, 3, "tokens " + std::to_string(tokens));
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  EXPECT_GT(t.compiled_executions(), 0u);
}

TEST(JitDifferential, GreedyLoopBodyCompiled) {
  JitUnderTest t("greedy_loop");
  for (const auto& in : testdata_inputs("greedy_loop", 2)) t.check(in, 3, "testdata steps=" + std::to_string(in[1].item<int64_t>()));
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  EXPECT_GT(t.compiled_executions(), 0u);
}

TEST(JitDifferential, BackgroundCompileKeepsServingThenSwitches) {
  JitUnderTest t("dynamic_mlp", /*background=*/true);
  Tensor x = random_f32({16, 16}, 3, 2.0f);
  t.check({x}, 4, "before the compile lands");
  t.specializer->wait_idle();
  t.check({x}, 2, "after");
  EXPECT_EQ(t.specializer->stats().compiled, 1u);
  EXPECT_GT(t.compiled_executions(), 0u);
}

TEST(JitDifferential, CapBoundsSpecializationsPerRegion) {
  JitUnderTest t("dynamic_mlp");
  // Default cap 8: 12 hot batch sizes give 8 shape-specialized versions, then the
  // 9th compiles the generic tier, which serves the rest.
  for (int64_t batch = 1; batch <= 12; ++batch) t.check({random_f32({batch, 16}, batch, 1.0f)}, 2, "batch " + std::to_string(batch));
  auto specs = t.specializer->specializations(0);
  ASSERT_EQ(specs.size(), 9u);
  EXPECT_TRUE(specs.back()->is_generic());  // exact guards are tried first
  EXPECT_EQ(t.specializer->stats().generic, 1u);
  EXPECT_EQ(t.specializer->stats().capped, 4u);
}

TEST(JitDifferential, GenericTierTakesOverUnderAThousandShapes) {
  JitUnderTest t("dynamic_mlp");
  // 1,000 distinct batch sizes, each run twice (hot at 2): at most 8 + 1 compiles,
  // and once the generic tier is in, new shapes run compiled from their first run.
  for (int64_t batch = 1; batch <= 1000; ++batch)
    t.check({random_f32({batch, 16}, batch, 1.0f)}, 2, "batch " + std::to_string(batch));
  SpecializerStats stats = t.specializer->stats();
  EXPECT_EQ(stats.compiled, 9u);
  EXPECT_EQ(stats.generic, 1u);
  EXPECT_EQ(stats.failed, 0u);
  RegionStats region = t.jit->tracer()->region_stats(0);
  EXPECT_EQ(region.count, 2000u);
  EXPECT_GT(region.compiled, 1900u) << "the generic tier should serve nearly every run";
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  EXPECT_GT(specs.back()->hits(), 1900u);
  // Shapes it declines (zero rows) stay interpreted and right.
  t.check({random_f32({0, 16}, 5, 1.0f)}, 1, "batch 0");
}

TEST(JitDifferential, ShapesThatNeverRepeatGetTheGenericTier) {
  JitUnderTest t("dynamic_mlp");
  // Every run a new batch size: no signature gets hot, the region does.
  for (int64_t batch = 1; batch <= 40; ++batch) t.check({random_f32({batch, 16}, batch, 1.0f)}, 1, "batch " + std::to_string(batch));
  SpecializerStats stats = t.specializer->stats();
  EXPECT_EQ(stats.compiled, 1u);
  EXPECT_EQ(stats.generic, 1u);
  // Hot at 4 x 2 = 8 runs (min_count 2): the remaining 32 runs are compiled.
  EXPECT_EQ(t.jit->tracer()->region_stats(0).compiled, 32u);
}

TEST(JitDifferential, GenericTierOnSequencesAndExperts) {
  for (const char* name : {"tiny_encoder", "moe_router"}) {
    SCOPED_TRACE(name);
    JitUnderTest t(name);
    std::mt19937_64 rng(11);
    for (int i = 0; i < 60; ++i) {
      std::vector<Tensor> in;
      if (std::string(name) == "tiny_encoder")
        in = {random_f32({1 + int64_t(rng() % 3), 1 + int64_t(rng() % 70), 32}, i, 1.0f)};
      else
        in = {random_f32({1 + int64_t(rng() % 200), 16}, i, 3.0f)};
      t.check(in, 2, std::string(name) + " #" + std::to_string(i) + " " + in[0].describe());
    }
    SpecializerStats stats = t.specializer->stats();
    EXPECT_EQ(stats.failed, 0u) << t.specializer->recent_failures().front();
    EXPECT_GE(stats.generic, 1u);
    for (const Region& r : t.jit->regions().regions())
      EXPECT_LE(t.specializer->specializations(r.id).size(), 9u) << r.label();
  }
}

}  // namespace
}  // namespace dj::specializer

namespace dj::specializer {
namespace {

TEST(JitBadInput, ACompileFailureLeavesTheRegionInterpreted) {
  JitUnderTest t("dynamic_mlp");
  // A signature that contradicts the model (x is declared [batch, 16]): planning fails,
  // is counted and reported, and nothing is installed.
  SignatureWords bogus;
  append_signature(bogus, Tensor::borrow(nullptr, DType::F32, {4, 15}));
  auto result = t.specializer->compile_now(0, bogus);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("x"), std::string::npos) << result.status().message();
  EXPECT_EQ(t.specializer->stats().failed, 1u);
  ASSERT_EQ(t.specializer->recent_failures().size(), 1u);
  EXPECT_TRUE(t.specializer->specializations(0).empty());
  t.check({random_f32({4, 16}, 1, 1.0f)}, 1, "after a failed compile");
  // Regions the JIT does not take are refused with a reason, not compiled wrongly.
  JitUnderTest loop("greedy_loop");
  SignatureWords any;
  auto control = loop.specializer->compile_now(0, any);  // R0 is the Loop
  ASSERT_FALSE(control.ok());
  EXPECT_NE(control.status().message().find("control"), std::string::npos) << control.status().message();
}

TEST(JitBadInput, AKernelReadingAValueNothingProducedIsRejected) {
  // What a cache entry made for another plan would look like: its kernel reads a
  // value this plan computes inside a fused group (never materialized).
  JitUnderTest t("tiny_encoder");
  const Region& r = t.jit->regions().region(0);
  SignatureWords sig;
  append_signature(sig, DType::F32, {2, 8, 32});
  auto plan = plan_fusion(r, sig);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const FusionGroup* fused = nullptr;
  for (const FusionGroup& g : plan->groups)
    if (g.kind == GroupKind::Gemm && g.gemm_bias != kNoValue) fused = &g;
  ASSERT_NE(fused, nullptr);
  const ValueId internal = plan->graph->nodes[static_cast<size_t>(fused->nodes[0])].outputs[0];  // MatMul before its bias
  auto built = SpecializedRegion::build(*plan, 17, [&](const FusionGroup& group, size_t) -> Expected<LoweredGroup> {
    LoweredGroup g = group_views(*plan, group);
    if (&group == fused) g.inputs[0] = internal;
    return g;
  });
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.status().message().find("which nothing before it produces"), std::string::npos)
      << built.status().message();
}

TEST(JitBadInput, WrongInputsAreStillRefusedWithTheJitOn) {
  JitUnderTest t("dynamic_mlp");
  Tensor x = random_f32({4, 16}, 2, 1.0f);
  t.check({x}, 3, "hot");  // compiled now
  ASSERT_EQ(t.specializer->specializations(0).size(), 1u);
  auto wrong_dtype = t.jit->run({Tensor::zeros(DType::F64, {4, 16})});
  EXPECT_FALSE(wrong_dtype.ok());  // the guard misses; the interpreter's kernels name the problem
  auto wrong_width = t.jit->run({Tensor::zeros(DType::F32, {4, 15})});
  EXPECT_FALSE(wrong_width.ok());
  t.check({x}, 1, "still fine after the errors");
}

}  // namespace
}  // namespace dj::specializer
