// WeightLayout: Gemm with a constant transB weight is stored untransposed at
// load, and the model still computes what ONNX says (hand-computed here), also
// when another node reads the same weight as it is.
#include <gtest/gtest.h>

#include "frontend/OnnxLoader.h"
#include "runtime/Interpreter.h"

namespace dj {
namespace {

std::vector<float> values_of(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::vector<float>(c.data<float>(), c.data<float>() + c.numel());
}

const Node* find_op(const Graph& g, const std::string& op) {
  for (const Node& n : g.nodes)
    if (n.op_type == op) return &n;
  return nullptr;
}

TEST(WeightLayout, TransposedGemmWeightIsStoredUntransposed) {
  // y = x W^T + c, W [3, 2] (N=3, K=2).
  auto m = load_onnx_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 2] x) => (float[n, 3] y) <float[3, 2] w = {1, 2, 3, 4, 5, 6}, float[3] c = {0.5, 0, -1}> {
  y = Gemm <transB: int = 1> (x, w, c)
})");
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Node* gemm = find_op(*m->graph, "Gemm");
  ASSERT_NE(gemm, nullptr);
  EXPECT_EQ(gemm->attr_int("transB", 1), 0);
  const Tensor& w = m->graph->value(gemm->inputs[1]).constant;
  ASSERT_EQ(w.shape(), (Shape{2, 3}));
  EXPECT_EQ(w.data<float>()[1], 3.0f);  // W^T[0][1] = W[1][0]
  auto model = std::make_shared<const Model>(std::move(m).value());
  Interpreter interp(model);
  auto out = interp.run({Tensor::from_vector<float>({1, 1, 2, -1}, {2, 2})});
  ASSERT_TRUE(out.ok()) << out.status().message();
  // Row [1, 1]: 1+2+0.5, 3+4, 5+6-1; row [2, -1]: 2-2+0.5, 6-4, 10-6-1.
  EXPECT_EQ(values_of((*out)[0]), (std::vector<float>{3.5f, 7, 10, 0.5f, 2, 3}));
}

TEST(WeightLayout, AWeightOthersReadKeepsItsValue) {
  auto m = load_onnx_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2, 2] x) => (float[2, 2] y, float[2, 2] z) <float[2, 2] w = {1, 2, 3, 4}> {
  y = Gemm <transB: int = 1> (x, w)
  z = MatMul(x, w)
})");
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Node* gemm = find_op(*m->graph, "Gemm");
  const Node* matmul = find_op(*m->graph, "MatMul");
  ASSERT_NE(gemm->inputs[1], matmul->inputs[1]);
  EXPECT_EQ(m->graph->value(matmul->inputs[1]).constant.data<float>()[1], 2.0f);  // W as it was
  auto model = std::make_shared<const Model>(std::move(m).value());
  Interpreter interp(model);
  auto out = interp.run({Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2})});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(values_of((*out)[0]), (std::vector<float>{1, 3, 2, 4}));  // I * W^T
  EXPECT_EQ(values_of((*out)[1]), (std::vector<float>{1, 2, 3, 4}));  // I * W
}

}  // namespace
}  // namespace dj
