// The fused GEMM epilogues and batched GEMMs of FusionPlan.h, compiled, against
// the interpreter on an attention block written in ONNX text: Q/K/V projections,
// Q·Kᵀ and P·V as batched GEMMs, the output projection with its residual Add, and
// a residual + ReLU block. Shapes sweep batch and sequence length, exact
// specializations first, then (past the cap) the shape-generic tier, whose
// kernels take every shape. Tolerance: BundledModelSupport.h's.
#include <gtest/gtest.h>

#include "frontend/OnnxLoader.h"
#include "specializer/Specializer.h"
#include "tests/support/JitUnderTest.h"

namespace dj::specializer {
namespace {

using test::JitUnderTest;
using test::random_f32;

constexpr const char* kAttention = R"(<ir_version: 8, opset_import: ["" : 17]>
attention (float[b, s, 16] x) => (float[b, s, 16] y) <
    float[16, 16] wq = {%W%}, float[16, 16] wk = {%W%}, float[16, 16] wv = {%W%}, float[16, 16] wo = {%W%},
    float[16] bo = {%B%}, int64[4] split = {0, 0, 2, 8}, int64[3] merge = {0, 0, 16}, float scale = {0.35355339}> {
  q2 = MatMul(x, wq)
  k2 = MatMul(x, wk)
  v2 = MatMul(x, wv)
  q = Reshape(q2, split)
  k = Reshape(k2, split)
  v = Reshape(v2, split)
  qh = Transpose <perm: ints = [0, 2, 1, 3]> (q)
  kh = Transpose <perm: ints = [0, 2, 3, 1]> (k)
  vh = Transpose <perm: ints = [0, 2, 1, 3]> (v)
  scores = MatMul(qh, kh)
  scaled = Mul(scores, scale)
  p = Softmax(scaled)
  ctx = MatMul(p, vh)
  ct = Transpose <perm: ints = [0, 2, 1, 3]> (ctx)
  c = Reshape(ct, merge)
  o = MatMul(c, wo)
  ob = Add(o, bo)
  r = Add(ob, x)
  y = Relu(r)
})";

std::string numbers(size_t n, float step) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ",";
    s += std::to_string(std::sin(static_cast<float>(i) * step) * 0.3f);
  }
  return s;
}

std::shared_ptr<const Model> attention_model() {
  std::string text = kAttention;
  for (size_t at; (at = text.find("%W%")) != std::string::npos;) text.replace(at, 3, numbers(256, 0.37f + at * 1e-4f));
  for (size_t at; (at = text.find("%B%")) != std::string::npos;) text.replace(at, 3, numbers(16, 0.91f));
  auto m = load_onnx_text(text);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::make_shared<const Model>(std::move(m).value());
}

TEST(FusedAttention, BatchedGemmsAndResidualEpiloguesMatchTheInterpreter) {
  JitUnderTest t(attention_model());
  int seed = 0;
  for (int64_t batch : {1, 3})
    for (int64_t seq : {1, 7, 16, 33}) t.check({random_f32({batch, seq, 16}, ++seed, 1.0f)}, 3, "b" + std::to_string(batch) + " s" + std::to_string(seq));
  ASSERT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  const std::string plan = specs[0]->info().plan_text;
  EXPECT_NE(plan.find("batched gemm: MatMul"), std::string::npos) << plan;
  EXPECT_NE(plan.find("gemm: MatMul Add Add Relu"), std::string::npos) << plan;
  EXPECT_NE(plan.find("softmax: Mul Softmax"), std::string::npos) << plan;  // the scale as its prologue
  EXPECT_GT(t.compiled_executions(), 0u);
  // Shapes never seen, served by the generic tier once the cap of exact ones is reached.
  for (int64_t seq : {2, 5, 40, 64, 3}) t.check({random_f32({2, seq, 16}, 100 + seq, 1.0f)}, 2, "unseen s" + std::to_string(seq));
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
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
  EXPECT_NE(specs[0]->info().plan_text.find("batched gemm"), std::string::npos) << specs[0]->info().plan_text;
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
