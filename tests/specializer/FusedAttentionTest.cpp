// The fused GEMM epilogues and batched GEMMs of FusionPlan.h, compiled, against
// the interpreter on an attention block written in ONNX text: Q/K/V projections,
// Q·Kᵀ and P·V as batched GEMMs, the output projection with its residual Add, and
// a residual + ReLU block. Shapes sweep batch and sequence length, exact
// specializations first, then (past the cap) the shape-generic tier, whose
// kernels take every shape. Tolerance: BundledModelSupport.h's.
#include <gtest/gtest.h>

#include "frontend/OnnxLoader.h"
#include "specializer/Specializer.h"
#include "tests/support/AttentionBlockModel.h"
#include "tests/support/JitUnderTest.h"

namespace dj::specializer {
namespace {

using test::JitUnderTest;
using test::random_f32;

std::shared_ptr<const Model> attention_model() { return test::attention_block_model(); }

TEST(FusedAttention, BatchedGemmsAndResidualEpiloguesMatchTheInterpreter) {
  JitUnderTest t(attention_model());
  int seed = 0;
  for (int64_t batch : {1, 3})
    for (int64_t seq : {1, 7, 16, 33}) t.check({random_f32({batch, seq, 16}, ++seed, 1.0f)}, 3, "b" + std::to_string(batch) + " s" + std::to_string(seq));
  ASSERT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  const std::string plan = specs[0]->info().plan_text;
  // Short sequences: products below the register-tiled size read dense operands.
  EXPECT_NE(plan.find("batched gemm: MatMul -> scores"), std::string::npos) << plan;
  EXPECT_NE(plan.find("batched gemm: MatMul -> ctx"), std::string::npos) << plan;
  EXPECT_NE(plan.find("gemm: MatMul Add Add Relu"), std::string::npos) << plan;
  EXPECT_NE(plan.find("softmax: Mul Softmax"), std::string::npos) << plan;  // the scale as its prologue
  EXPECT_GT(t.compiled_executions(), 0u);
  // Shapes never seen, served by the generic tier once the cap of exact ones is reached.
  for (int64_t seq : {2, 5, 40, 64, 3}) t.check({random_f32({2, seq, 16}, 100 + seq, 1.0f)}, 2, "unseen s" + std::to_string(seq));
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
}

TEST(FusedAttention, LongSequencesTakeRegisterTiledBatchedGemms) {
  // Q*K^T with N = seq >= 48 runs the register-tiled batched schedule, whose last
  // tiles shift inwards (50 and 97 are not multiples of 48, nor 97 of 8).
  JitUnderTest t(attention_model());
  for (int64_t seq : {50, 97, 50}) t.check({random_f32({2, seq, 16}, 400 + seq, 1.0f)}, 3, "s" + std::to_string(seq));
  ASSERT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  EXPECT_EQ(t.specializer->stats().compiled, 2u);
  EXPECT_GT(t.compiled_executions(), 2u);
  // Q's head transpose is read by the tiled Q·Kᵀ through its perm; Kᵀ moves K's
  // contiguous axis and P·V (N = 8) is below the tiled size, so theirs stay ops.
  const std::string plan = t.specializer->specializations(0)[0]->info().plan_text;
  EXPECT_NE(plan.find("batched gemm: Transpose MatMul -> scores"), std::string::npos) << plan;
  EXPECT_NE(plan.find("batched gemm: MatMul -> ctx"), std::string::npos) << plan;
}

TEST(FusedAttention, GenericTierRunsEveryShape) {
  // DJ_JIT_MAX_SPECS=0: no exact specialization; the first hot shape gets the generic tier.
  JitUnderTest t(attention_model());
  t.specializer->detach();
  SpecializerOptions so;
  so.background = false;
  so.use_cache = false;
  so.max_per_region = 0;
  t.specializer = Specializer::attach(*t.jit, so);
  for (int64_t seq : {4, 4, 4, 9, 1, 31, 17}) t.check({random_f32({2, seq, 16}, 200 + seq, 1.0f)}, 2, "s" + std::to_string(seq));
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  EXPECT_EQ(t.specializer->stats().generic, 1u);
  auto specs = t.specializer->specializations(0);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_TRUE(specs[0]->is_generic());
  // The CPU's generic tier leaves MatMuls to the reference kernel (PlanFeatures::generic_gemm).
  EXPECT_EQ(specs[0]->info().plan_text.find("gemm"), std::string::npos) << specs[0]->info().plan_text;
  EXPECT_NE(specs[0]->info().plan_text.find("softmax"), std::string::npos) << specs[0]->info().plan_text;
  EXPECT_GE(specs[0]->hits(), 5u);
}

TEST(FusedAttention, ReductionProloguesMatchTheInterpreter) {
  // Softmax over (x*s + b): a scalar and a row operand; LayerNorm over x + y: the whole block.
  auto m = load_onnx_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 24] x) => (float[n, 24] y, float[n, 24] z)
<float[24] b = {1,2,3,4,5,6,7,8,9,10,11,12,1,2,3,4,5,6,7,8,9,10,11,12}, float s = {0.25},
 float[24] g = {1,1,1,1,2,2,2,2,1,1,1,1,2,2,2,2,1,1,1,1,2,2,2,2}> {
  u = Mul(x, s)
  v = Add(u, b)
  y = Softmax(v)
  w = Add(x, y)
  z = LayerNormalization <epsilon: float = 0.001> (w, g, b)
})");
  ASSERT_TRUE(m.ok()) << m.status().message();
  JitUnderTest t(std::make_shared<const Model>(std::move(m).value()));
  for (int64_t rows : {1, 5, 64, 5}) t.check({random_f32({rows, 24}, 300 + rows, 3.0f)}, 3, "rows " + std::to_string(rows));
  ASSERT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  EXPECT_NE(specs[0]->info().plan_text.find("softmax: Mul Add Softmax"), std::string::npos) << specs[0]->info().plan_text;
  EXPECT_NE(specs[0]->info().plan_text.find("layernorm: Add LayerNormalization"), std::string::npos)
      << specs[0]->info().plan_text;
  EXPECT_GT(t.compiled_executions(), 0u);
}

}  // namespace
}  // namespace dj::specializer
