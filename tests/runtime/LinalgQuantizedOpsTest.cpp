// The integer and quantized products: MatMulInteger, QLinearMatMul, ConvInteger and
// QLinearConv, against hand-computed values (zero points per tensor, per row and per
// channel; rounding and saturation on requantize).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"

namespace dj {
namespace {

Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::Ints;
  a.ints = std::move(v);
  return a;
}

Expected<Tensor> run_op(const std::string& op, std::vector<Tensor> inputs,
                        std::map<std::string, Attribute> attrs = {}) {
  Node node;
  node.name = "test_" + op;
  node.op_type = op;
  node.attributes = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i].defined() ? static_cast<ValueId>(i) : kNoValue);
  node.outputs = {static_cast<ValueId>(inputs.size())};
  const OpSchema* schema = OpRegistry::builtin().find("", op);
  if (!schema) return Status(StatusCode::Unsupported, op + " is not registered");
  KernelContext ctx(node, 17, std::move(inputs), nullptr);
  Status s = schema->kernel(ctx);
  if (!s.ok()) return s;
  return ctx.outputs()[0];
}

template <typename T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

TEST(LinalgQuantizedTest, MatMulIntegerZeroPoints) {
  Tensor a = Tensor::from_vector<uint8_t>({11, 7, 3, 10, 6, 2}, {2, 3});
  Tensor b = Tensor::from_vector<uint8_t>({1, 4, 2, 5, 3, 6}, {3, 2});
  auto y = run_op("MatMulInteger", {a, b, Tensor::scalar<uint8_t>(12)});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ(y->dtype(), DType::I32);
  EXPECT_EQ(values<int32_t>(*y), (std::vector<int32_t>{-38, -83, -44, -98}));

  // Per-row zero point of A ([M]) and per-column zero point of B ([N]).
  Tensor a_zp = Tensor::from_vector<uint8_t>({12, 10}, {2});
  Tensor b_zp = Tensor::from_vector<uint8_t>({1, 2}, {2});
  auto yr = run_op("MatMulInteger", {a, b, a_zp, b_zp});
  ASSERT_TRUE(yr.ok()) << yr.status().to_string();
  // A - zp = [[-1,-5,-9],[0,-4,-8]], B - zp = [[0,2],[1,3],[2,4]].
  EXPECT_EQ(values<int32_t>(*yr), (std::vector<int32_t>{-23, -53, -20, -44}));

  // Signed operands, no zero points.
  Tensor ai = Tensor::from_vector<int8_t>({-128, 127}, {1, 2});
  Tensor bi = Tensor::from_vector<int8_t>({-128, 127}, {2, 1});
  auto yi = run_op("MatMulInteger", {ai, bi});
  ASSERT_TRUE(yi.ok());
  EXPECT_EQ(values<int32_t>(*yi), (std::vector<int32_t>{128 * 128 + 127 * 127}));
}

TEST(LinalgQuantizedTest, QLinearMatMulRequantizes) {
  Tensor a = Tensor::from_vector<uint8_t>({2, 4}, {1, 2});     // real [1, 2]
  Tensor b = Tensor::from_vector<uint8_t>({6, 8}, {2, 1});     // real [0.5, 1]
  auto run = [&](const Tensor& b_q, float y_scale) {
    return run_op("QLinearMatMul", {a, Tensor::scalar<float>(0.5f), Tensor::scalar<uint8_t>(0), b_q,
                                    Tensor::scalar<float>(0.25f), Tensor::scalar<uint8_t>(4),
                                    Tensor::scalar<float>(y_scale), Tensor::scalar<uint8_t>(10)});
  };
  auto y = run(b, 0.5f);  // real 2.5 -> 5 steps of 0.5 -> 15
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ(y->dtype(), DType::U8);
  EXPECT_EQ(values<uint8_t>(*y), (std::vector<uint8_t>{15}));
  auto sat = run(b, 0.01f);  // 250 + 10 saturates
  ASSERT_TRUE(sat.ok());
  EXPECT_EQ(values<uint8_t>(*sat), (std::vector<uint8_t>{255}));
  // Exact halves round to even: acc 10 * 0.25 = 2.5 -> 2; acc 14 * 0.25 = 3.5 -> 4.
  auto down = run(Tensor::from_vector<uint8_t>({5, 6}, {2, 1}), 0.5f);
  auto up = run(Tensor::from_vector<uint8_t>({5, 7}, {2, 1}), 0.5f);
  ASSERT_TRUE(down.ok() && up.ok());
  EXPECT_EQ(values<uint8_t>(*down), (std::vector<uint8_t>{12}));
  EXPECT_EQ(values<uint8_t>(*up), (std::vector<uint8_t>{14}));
}

TEST(LinalgQuantizedTest, ConvIntegerSubtractsZeroPointBeforePadding) {
  Tensor x = Tensor::from_vector<uint8_t>({2, 3, 4, 5, 6, 7, 8, 9, 10}, {1, 1, 3, 3});
  Tensor w = Tensor::from_vector<uint8_t>({1, 1, 1, 1}, {1, 1, 2, 2});
  auto y = run_op("ConvInteger", {x, w, Tensor::scalar<uint8_t>(1)});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ(y->shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values<int32_t>(*y), (std::vector<int32_t>{12, 16, 24, 28}));
  auto yp = run_op("ConvInteger", {x, w, Tensor::scalar<uint8_t>(1)}, {{"pads", ints_attr({1, 1, 1, 1})}});
  ASSERT_TRUE(yp.ok());
  EXPECT_EQ(yp->shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(yp->data<int32_t>()[0], 1);  // the pad holds the zero point, i.e. 0 after subtraction
  EXPECT_EQ(yp->data<int32_t>()[15], 9);
}

TEST(LinalgQuantizedTest, QLinearConvPerChannel) {
  Tensor x = Tensor::from_vector<uint8_t>({10, 20, 30, 40}, {1, 1, 2, 2});  // real [0, 1, 2, 3]
  Tensor w = Tensor::from_vector<int8_t>({2, -3}, {2, 1, 1, 1});            // real [1, -3]
  Tensor w_scale = Tensor::from_vector<float>({0.5f, 1.0f}, {2});
  Tensor w_zp = Tensor::from_vector<int8_t>({0, 0}, {2});
  Tensor bias = Tensor::from_vector<int32_t>({10, 0}, {2});
  auto y = run_op("QLinearConv", {x, Tensor::scalar<float>(0.1f), Tensor::scalar<uint8_t>(10), w, w_scale, w_zp,
                                  Tensor::scalar<float>(0.25f), Tensor::scalar<uint8_t>(100), bias});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ(y->shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(values<uint8_t>(*y), (std::vector<uint8_t>{102, 106, 110, 114, 100, 88, 76, 64}));
}

}  // namespace
}  // namespace dj
