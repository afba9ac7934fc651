// FusionPlan: what becomes one kernel — elementwise DAGs with one escaping value,
// GEMM with its bias/ReLU epilogue, Softmax — and what is cut where a value
// escapes the group.
#include <gtest/gtest.h>

#include "frontend/OnnxLoader.h"
#include "runtime/Region.h"
#include "specializer/FusionPlan.h"

namespace dj::specializer {
namespace {

FusionPlan plan_text(const char* text, const Shape& input, std::shared_ptr<const Model>& keep,
                     std::shared_ptr<const RegionPlan>& regions) {
  auto m = load_onnx_text(text);
  EXPECT_TRUE(m.ok()) << m.status().message();
  keep = std::make_shared<const Model>(std::move(m).value());
  regions = RegionPlan::build(*keep);
  SignatureWords sig;
  append_signature(sig, Tensor::borrow(nullptr, DType::F32, input));
  auto plan = plan_fusion(regions->region(0), sig);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  return std::move(plan).value();
}

std::string kinds(const FusionPlan& p) {
  std::string s;
  for (const auto& g : p.groups) s += std::string(s.empty() ? "" : " ") + group_kind_name(g.kind) + ":" + std::to_string(g.nodes.size());
  return s;
}

TEST(FusionPlan, SwishPlusBiasIsOneKernel) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y) <float[8] b = {1,2,3,4,5,6,7,8}> {
  s = Sigmoid(x)
  t = Mul(x, s)
  y = Add(t, b)
})", {4, 8}, m, r);
  EXPECT_EQ(kinds(p), "elementwise:3");
  EXPECT_EQ(p.groups[0].inputs.size(), 2u);  // x and b
}

TEST(FusionPlan, GeluDagIsOneKernel) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y) <float[8] b = {1,2,3,4,5,6,7,8}, float r2 = {1.4142135}, float one = {1.0}, float half = {0.5}> {
  u = Add(x, b)
  v = Div(u, r2)
  e = Erf(v)
  w = Add(e, one)
  z = Mul(u, w)
  y = Mul(z, half)
})", {4, 8}, m, r);
  EXPECT_EQ(kinds(p), "elementwise:6");
}

TEST(FusionPlan, AValueReadOutsideCutsTheGroup) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y, float[n, 8] s) {
  s = Sigmoid(x)
  t = Mul(x, s)
  y = Relu(t)
})", {4, 8}, m, r);
  // s is a graph output: the run stops at Sigmoid, then Mul+Relu fuse.
  EXPECT_EQ(kinds(p), "elementwise:1 elementwise:2");
}

TEST(FusionPlan, GemmTakesItsEpilogue) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 4] x) => (float[n, 3] y) <float[4, 3] w = {1,2,3,4,5,6,7,8,9,10,11,12}, float[3] b = {1,2,3}> {
  h = MatMul(x, w)
  z = Add(h, b)
  a = Relu(z)
  y = Softmax(a)
})", {5, 4}, m, r);
  EXPECT_EQ(kinds(p), "gemm:3 softmax:1");
  EXPECT_TRUE(p.groups[0].gemm_relu);
  EXPECT_EQ(p.groups[0].m, 5);
}

}  // namespace
}  // namespace dj::specializer

namespace dj::specializer {
namespace {

TEST(FusionPlan, LayerNormOverTheLastAxisIsAKernel) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 4] x) => (float[n, 4] y) <float[4] s = {1,2,3,4}, float[4] b = {0,1,0,1}> {
  h = LayerNormalization <epsilon: float = 0.001> (x, s, b)
  y = Relu(h)
})", {6, 4}, m, r);
  EXPECT_EQ(kinds(p), "layernorm:1 elementwise:1");
  EXPECT_EQ(p.groups[0].m, 6);
  EXPECT_EQ(p.groups[0].n, 4);
}

}  // namespace
}  // namespace dj::specializer

namespace dj::specializer {
namespace {

TEST(FusionPlan, GeluAsTorchExportsItIsOneKernel) {
  // x*0.5 starts again from x: it joins because x is already read by the run.
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y) <float r2 = {1.4142135}, float one = {1.0}, float half = {0.5}> {
  v = Div(x, r2)
  e = Erf(v)
  h = Mul(x, half)
  w = Add(e, one)
  y = Mul(h, w)
})", {4, 8}, m, r);
  EXPECT_EQ(kinds(p), "elementwise:5");
}

TEST(FusionPlan, ConstantNodesInsideAGeluDoNotCutIt) {
  // torch.onnx exports GELU's constants as Constant nodes between the ops. They are
  // stepped over (one kernel) and kept as groups of their own after the run, which
  // run nowhere: SpecializedRegion fills load-time constants itself.
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y) {
  r2 = Constant <value = float {1.4142135}> ()
  v = Div(x, r2)
  e = Erf(v)
  one = Constant <value = float {1.0}> ()
  w = Add(e, one)
  z = Mul(x, w)
  half = Constant <value = float {0.5}> ()
  y = Mul(z, half)
})", {4, 8}, m, r);
  EXPECT_EQ(kinds(p), "interpreted:1 elementwise:5 interpreted:1 interpreted:1");
  EXPECT_EQ(p.kernel_count(), 1u);
}

TEST(FusionPlan, AnIdentityOfAWeightIsAConstantNotAKernel) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y) <float[8] b = {1,2,3,4,5,6,7,8}> {
  c = Identity(b)
  s = Sigmoid(x)
  t = Mul(x, s)
  y = Add(t, c)
})", {4, 8}, m, r);
  const Graph& g = *m->graph;
  ASSERT_TRUE(g.value(g.find_value("c")).constant.defined());  // shape inference passed b through
  EXPECT_EQ(kinds(p), "interpreted:1 elementwise:3");
}

TEST(FusionPlan, GemmTakesAResidualAddThenRelu) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 4] x) => (float[n, 4] y) <float[4, 4] w = {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}, float[4] b = {1,2,3,4}> {
  h = MatMul(x, w)
  z = Add(h, b)
  s = Add(z, x)
  y = Relu(s)
})", {5, 4}, m, r);
  EXPECT_EQ(kinds(p), "gemm:4");
  const FusionGroup& g = p.groups[0];
  EXPECT_FALSE(g.gemm_relu);
  EXPECT_TRUE(g.gemm_relu_after_residual);
  EXPECT_NE(g.gemm_residual, kNoValue);
  // Without the feature (the GPU's planner) the residual Add and Relu stay apart.
  FusionPlan gpu = plan_fusion(r->region(0), p.signature, false, PlanFeatures{false, false}).value();
  EXPECT_EQ(kinds(gpu), "gemm:2 elementwise:2");
}

TEST(FusionPlan, BatchedMatMulWithEqualBatchDimsIsAKernel) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[b, h, s, 8] q) => (float[b, h, s, s] y) {
  kt = Transpose <perm: ints = [0, 1, 3, 2]> (q)
  y = MatMul(q, kt)
})", {2, 3, 5, 8}, m, r);
  EXPECT_EQ(kinds(p), "interpreted:1 batched gemm:1");
  const FusionGroup& g = p.groups[1];
  EXPECT_EQ(g.batch, 6);
  EXPECT_EQ(g.m, 5);
  EXPECT_EQ(g.n, 5);
  EXPECT_EQ(g.k, 8);
}

TEST(FusionPlan, HeadTransposesFoldIntoTheBatchedGemmThatReadsThem) {
  // qt keeps the last axis last and feeds a register-tiled product (N = 64 >= 48):
  // folded. kt moves the last axis (Kᵀ): stays an interpreted op. vt is also read by
  // Relu (and its product has N = 8): stays.
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[b, s, 2, 8] q) => (float[b, 2, s, 8] y, float[b, 2, s, 8] w) {
  qt = Transpose <perm: ints = [0, 2, 1, 3]> (q)
  kt = Transpose <perm: ints = [0, 2, 3, 1]> (q)
  scores = MatMul(qt, kt)
  vt = Transpose <perm: ints = [0, 2, 1, 3]> (q)
  y = MatMul(scores, vt)
  w = Relu(vt)
})", {3, 64, 2, 8}, m, r);
  EXPECT_EQ(kinds(p), "interpreted:1 batched gemm:2 interpreted:1 batched gemm:1 elementwise:1");
  const FusionGroup& qk = p.groups[1];
  EXPECT_EQ(qk.a_perm, (std::vector<int64_t>{0, 2, 1, 3}));
  EXPECT_TRUE(qk.b_perm.empty());
  EXPECT_EQ(qk.gemm_a, m->graph->find_value("q"));
  EXPECT_TRUE(p.groups[3].a_perm.empty() && p.groups[3].b_perm.empty());
  // Generic plans and the GPU's features do not fold.
  PlanFeatures gpu;
  gpu.fold_transposes = false;
  SignatureWords sig;
  append_signature(sig, Tensor::borrow(nullptr, DType::F32, {3, 64, 2, 8}));
  auto unfolded = plan_fusion(r->region(0), sig, false, gpu);
  ASSERT_TRUE(unfolded.ok()) << unfolded.status().message();
  EXPECT_EQ(kinds(*unfolded), "interpreted:1 interpreted:1 batched gemm:1 interpreted:1 batched gemm:1 elementwise:1");
  // Nor does a product below the register-tiled size.
  FusionPlan small = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[b, s, 2, 8] q) => (float[b, 2, s, s] y) {
  qt = Transpose <perm: ints = [0, 2, 1, 3]> (q)
  kt = Transpose <perm: ints = [0, 2, 3, 1]> (q)
  y = MatMul(qt, kt)
})", {3, 5, 2, 8}, m, r);
  EXPECT_EQ(kinds(small), "interpreted:1 interpreted:1 batched gemm:1");
}

TEST(FusionPlan, BatchedMatMulWithBroadcastBatchStaysInterpreted) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[b, 5, 8] a) => (float[b, 5, 3] y) <float[1, 8, 3] w = {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24}> {
  y = MatMul(a, w)
})", {4, 5, 8}, m, r);
  EXPECT_EQ(kinds(p), "interpreted:1");
}

}  // namespace
}  // namespace dj::specializer

namespace dj::specializer {
namespace {

TEST(FusionPlan, SoftmaxAndLayerNormTakeTheirElementwiseProducer) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y, float[n, 8] z) <float[8] b = {1,2,3,4,5,6,7,8}, float s = {0.5}, float[8] g = {1,1,1,1,2,2,2,2}> {
  u = Mul(x, s)
  v = Add(u, b)
  y = Softmax(v)
  w = Add(x, y)
  z = LayerNormalization(w, g, b)
})", {3, 8}, m, r);
  EXPECT_EQ(kinds(p), "softmax:3 layernorm:2");
  EXPECT_EQ(p.groups[0].prologue, 2);
  EXPECT_EQ(p.groups[1].prologue, 1);
  // Without the feature (GPU) the producers stay their own kernels.
  FusionPlan gpu = plan_fusion(r->region(0), p.signature, false, PlanFeatures{true, true, false}).value();
  EXPECT_EQ(kinds(gpu), "elementwise:2 softmax:1 elementwise:1 layernorm:1");
}

TEST(FusionPlan, AProducerWithAnOperandOfAnotherShapeStaysApart) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  // c is [n, 1]: one value per row, neither the block, a row nor a scalar.
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[3, 8] x) => (float[3, 8] y) <float[3, 1] c = {1, 2, 3}> {
  v = Sub(x, c)
  y = Softmax(v)
})", {3, 8}, m, r);
  EXPECT_EQ(kinds(p), "elementwise:1 softmax:1");
}

}  // namespace
}  // namespace dj::specializer

namespace dj::specializer {
namespace {

TEST(FusionPlan, OnnxGemmIsAGemmWithItsBias) {
  // torch's nn.Linear: Gemm(x, W, b, transB=1); the loader stores W untransposed.
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  FusionPlan p = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 2] x) => (float[n, 3] y) <float[3, 2] w = {1, 2, 3, 4, 5, 6}, float[3] c = {0.5, 0, -1}> {
  h = Gemm <transB: int = 1> (x, w, c)
  y = Relu(h)
})", {4, 2}, m, r);
  EXPECT_EQ(kinds(p), "gemm:2");
  EXPECT_NE(p.groups[0].gemm_bias, kNoValue);
  EXPECT_TRUE(p.groups[0].gemm_relu);
  // alpha != 1 is left to the reference kernel.
  FusionPlan scaled = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 2] x) => (float[n, 3] y) <float[3, 2] w = {1, 2, 3, 4, 5, 6}> {
  y = Gemm <transB: int = 1, alpha: float = 2.0> (x, w)
})", {4, 2}, m, r);
  EXPECT_EQ(kinds(scaled), "interpreted:1");
}

TEST(FusionPlan, LoneElementwiseOpsFuseNothingWhileChainsAndGemmsDo) {
  std::shared_ptr<const Model> m;
  std::shared_ptr<const RegionPlan> r;
  // Relu, then a value that escapes, then Mul: two one-op kernels, nothing fused.
  FusionPlan lone = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y, float[n, 8] a) {
  a = Relu(x)
  y = Mul(a, x)
})", {4, 8}, m, r);
  EXPECT_EQ(kinds(lone), "elementwise:1 elementwise:1");
  EXPECT_EQ(lone.kernel_count(), 2u);
  EXPECT_FALSE(lone.fuses_anything());

  FusionPlan chain = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y) {
  a = Relu(x)
  y = Mul(a, x)
})", {4, 8}, m, r);
  EXPECT_EQ(kinds(chain), "elementwise:2");
  EXPECT_TRUE(chain.fuses_anything());

  FusionPlan gemm = plan_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 4] x) => (float[n, 3] y) <float[4, 3] w = {1,2,3,4,5,6,7,8,9,10,11,12}> {
  y = MatMul(x, w)
})", {4, 4}, m, r);
  EXPECT_TRUE(gemm.fuses_anything()) << kinds(gemm);
}

}  // namespace
}  // namespace dj::specializer
