// The normalization family's kernels and shape functions, called through the
// built-in OpRegistry: Softmax / LogSoftmax / Hardmax (single axis from opset 13,
// 2-D coercion before; rows and columns; large inputs without overflow; f16),
// LayerNormalization against the direct formula computed here in double (with its
// Mean / InvStdDev outputs), BatchNormalization (inference and training mode),
// InstanceNormalization, LpNormalization and MeanVarianceNormalization by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"

namespace dj {
namespace {

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::Int;
  a.i = v;
  return a;
}
Attribute float_attr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::Float;
  a.f = v;
  return a;
}
Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::Ints;
  a.ints = std::move(v);
  return a;
}

using Attrs = std::map<std::string, Attribute>;

// Runs one op's kernel on `inputs` (an undefined Tensor is an omitted input).
Expected<std::vector<Tensor>> run_op(const std::string& op, std::vector<Tensor> inputs, Attrs attrs = {},
                                     int64_t opset = 17, size_t num_outputs = 1) {
  const OpSchema* schema = OpRegistry::builtin().find("", op);
  if (!schema || !schema->kernel) return Status(StatusCode::Unsupported, "no kernel for " + op);
  Node node;
  node.name = "test_" + op;
  node.op_type = op;
  node.attributes = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i)
    node.inputs.push_back(inputs[i].defined() ? static_cast<ValueId>(i) : kNoValue);
  for (size_t i = 0; i < num_outputs; ++i) node.outputs.push_back(static_cast<ValueId>(100 + i));
  KernelContext ctx(node, opset, std::move(inputs), nullptr);
  Status st = schema->kernel(ctx);
  if (!st.ok()) return st;
  return ctx.outputs();
}

Tensor run1(const std::string& op, std::vector<Tensor> inputs, Attrs attrs = {}, int64_t opset = 17) {
  auto out = run_op(op, std::move(inputs), std::move(attrs), opset);
  EXPECT_TRUE(out.ok()) << op << ": " << out.status().to_string();
  return out.ok() ? out.value()[0] : Tensor();
}

void expect_near_all(const Tensor& t, const std::vector<double>& expected, double tol = 1e-6, const char* what = "") {
  ASSERT_EQ(t.dtype(), DType::F32) << what;
  ASSERT_EQ(t.numel(), static_cast<int64_t>(expected.size())) << what << " got " << t.describe();
  const float* p = t.data<float>();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(p[i], expected[i], tol * std::max(1.0, std::fabs(expected[i]))) << what << " element " << i;
}

// Softmax of one row, in double.
std::vector<double> softmax_ref(const std::vector<double>& row) {
  double m = row[0];
  for (double v : row) m = std::max(m, v);
  double s = 0;
  for (double v : row) s += std::exp(v - m);
  std::vector<double> out;
  for (double v : row) out.push_back(std::exp(v - m) / s);
  return out;
}

std::vector<float> pseudo_random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  uint32_t s = seed;
  for (auto& f : v) {
    s = s * 1664525u + 1013904223u;
    f = scale * (static_cast<float>(s >> 8) / static_cast<float>(1 << 23) - 1.0f);
  }
  return v;
}

TEST(NormalizationOps, SoftmaxRowsAndLargeValues) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 1000, 1001, 1002}, {2, 3});
  std::vector<double> ref = softmax_ref({1, 2, 3});
  std::vector<double> both = ref;
  both.insert(both.end(), ref.begin(), ref.end());  // the large row is the same shifted
  expect_near_all(run1("Softmax", {x}), both);
  Tensor y = run1("LogSoftmax", {x});
  std::vector<double> logs;
  for (int rep = 0; rep < 2; ++rep)
    for (double v : ref) logs.push_back(std::log(v));
  expect_near_all(y, logs);
  // Far apart: exp(-2000) underflows to an exact 0, the max gets 1.
  expect_near_all(run1("Softmax", {Tensor::from_vector<float>({-1000, 1000}, {2})}), {0, 1});
  expect_near_all(run1("LogSoftmax", {Tensor::from_vector<float>({-1000, 1000}, {2})}), {-2000, 0});
}

TEST(NormalizationOps, SoftmaxAlongAnInnerAxis) {
  // [2, 3, 2] along axis 1: columns of 3 with stride 2.
  std::vector<float> v = {0, 5, 1, 4, 2, 3, -1, 0, 0, 0, 1, 0};
  Tensor x = Tensor::from_vector<float>(v, {2, 3, 2});
  Tensor y = run1("Softmax", {x}, {{"axis", int_attr(1)}});
  std::vector<double> expected(12);
  for (int o = 0; o < 2; ++o)
    for (int i = 0; i < 2; ++i) {
      std::vector<double> col;
      for (int r = 0; r < 3; ++r) col.push_back(v[static_cast<size_t>((o * 3 + r) * 2 + i)]);
      std::vector<double> s = softmax_ref(col);
      for (int r = 0; r < 3; ++r) expected[static_cast<size_t>((o * 3 + r) * 2 + i)] = s[static_cast<size_t>(r)];
    }
  expect_near_all(y, expected);
  Tensor ly = run1("LogSoftmax", {x}, {{"axis", int_attr(-2)}});
  for (auto& e : expected) e = std::log(e);
  expect_near_all(ly, expected);
}

TEST(NormalizationOps, SoftmaxBeforeOpset13CoercesTo2D) {
  // axis=1 on [2, 2, 2]: each of the 2 rows has 4 elements.
  std::vector<float> v = {0, 1, 2, 3, 3, 2, 1, 0};
  Tensor x = Tensor::from_vector<float>(v, {2, 2, 2});
  std::vector<double> r0 = softmax_ref({0, 1, 2, 3}), r1 = softmax_ref({3, 2, 1, 0});
  std::vector<double> expected = r0;
  expected.insert(expected.end(), r1.begin(), r1.end());
  expect_near_all(run1("Softmax", {x}, {}, 11), expected);  // default axis 1
  // The same input at opset 13 is along the last axis only (pairs).
  std::vector<double> pairs;
  for (int i = 0; i < 4; ++i) {
    auto s = softmax_ref({v[static_cast<size_t>(2 * i)], v[static_cast<size_t>(2 * i + 1)]});
    pairs.insert(pairs.end(), s.begin(), s.end());
  }
  expect_near_all(run1("Softmax", {x}, {}, 13), pairs);
  // axis=0 before 13: one row of all 8.
  expect_near_all(run1("LogSoftmax", {x}, {{"axis", int_attr(0)}}, 11), [&] {
    std::vector<double> all = softmax_ref({0, 1, 2, 3, 3, 2, 1, 0});
    for (auto& e : all) e = std::log(e);
    return all;
  }());
}

TEST(NormalizationOps, HardmaxFirstMaxWins) {
  Tensor x = Tensor::from_vector<float>({1, 3, 3, 0, -1, -2, -1, -5}, {2, 4});
  expect_near_all(run1("Hardmax", {x}), {0, 1, 0, 0, 1, 0, 0, 0});
  // axis 0: per column.
  expect_near_all(run1("Hardmax", {x}, {{"axis", int_attr(0)}}), {1, 1, 1, 1, 0, 0, 0, 0});
  // Opset 11: 2-D coercion at axis 0: one row of 8, first 3 wins.
  expect_near_all(run1("Hardmax", {x}, {{"axis", int_attr(0)}}, 11), {0, 1, 0, 0, 0, 0, 0, 0});
}

TEST(NormalizationOps, SoftmaxLargeParallelRowsAndF16) {
  std::vector<float> v = pseudo_random(300 * 257, 11, 20.0f);
  Tensor y = run1("Softmax", {Tensor::from_vector<float>(v, {300, 257})});
  for (int r = 0; r < 300; r += 37) {
    std::vector<double> row(v.begin() + r * 257, v.begin() + (r + 1) * 257);
    std::vector<double> s = softmax_ref(row);
    for (int j = 0; j < 257; ++j)
      ASSERT_NEAR(y.data<float>()[r * 257 + j], s[static_cast<size_t>(j)], 1e-6 + 1e-5 * s[static_cast<size_t>(j)]) << r << "," << j;
  }
  std::vector<half> h = {half(1.0f), half(2.0f), half(3.0f)};
  Tensor hy = run1("Softmax", {Tensor::from_vector<half>(h, {3})});
  ASSERT_EQ(hy.dtype(), DType::F16);
  std::vector<double> s = softmax_ref({1, 2, 3});
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(static_cast<float>(hy.data<half>()[j]), s[static_cast<size_t>(j)], 1e-3);
}

TEST(NormalizationOps, SoftmaxAxisOutOfRange) {
  auto out = run_op("Softmax", {Tensor::from_vector<float>({1, 2}, {1, 2})}, {{"axis", int_attr(2)}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(out.status().message().find("axis 2"), std::string::npos) << out.status().message();
}

// Direct LayerNorm formula in double over rows of n, with scale/bias of n.
std::vector<double> layer_norm_ref(const std::vector<float>& x, int64_t n, const std::vector<float>& scale,
                                   const std::vector<float>& bias, double eps, std::vector<double>* means,
                                   std::vector<double>* inv_stds) {
  std::vector<double> y(x.size());
  for (size_t o = 0; o < x.size() / static_cast<size_t>(n); ++o) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j) mean += x[o * n + j];
    mean /= static_cast<double>(n);
    for (int64_t j = 0; j < n; ++j) var += (x[o * n + j] - mean) * (x[o * n + j] - mean);
    var /= static_cast<double>(n);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < n; ++j)
      y[o * n + j] = (x[o * n + j] - mean) * inv * scale[static_cast<size_t>(j)] + (bias.empty() ? 0.0 : bias[static_cast<size_t>(j)]);
    if (means) means->push_back(mean);
    if (inv_stds) inv_stds->push_back(inv);
  }
  return y;
}

TEST(NormalizationOps, LayerNormMatchesTheFormula) {
  std::vector<float> x = pseudo_random(4 * 3 * 5, 5, 3.0f);
  for (auto& v : x) v += 10.0f;  // an offset that a one-pass variance would lose precision on
  std::vector<float> scale = pseudo_random(15, 9), bias = pseudo_random(15, 13);
  Tensor xt = Tensor::from_vector<float>(x, {4, 3, 5});
  // axis = 1: rows of 3*5 with Scale/B of shape [3, 5].
  auto out = run_op("LayerNormalization",
                    {xt, Tensor::from_vector<float>(scale, {3, 5}), Tensor::from_vector<float>(bias, {3, 5})},
                    {{"axis", int_attr(1)}, {"epsilon", float_attr(1e-3f)}}, 17, 3);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  std::vector<double> means, invs;
  std::vector<double> ref = layer_norm_ref(x, 15, scale, bias, 1e-3, &means, &invs);
  expect_near_all(out.value()[0], ref, 2e-5, "Y");
  EXPECT_EQ(out.value()[1].shape(), (Shape{4, 1, 1}));
  expect_near_all(out.value()[1], means, 1e-6, "Mean");
  expect_near_all(out.value()[2], invs, 1e-5, "InvStdDev");

  // Default axis -1, no bias, Scale broadcast from [1] to [5].
  std::vector<float> one = {2.0f};
  Tensor y = run1("LayerNormalization", {xt, Tensor::from_vector<float>(one, {1})});
  std::vector<float> scale5(5, 2.0f);
  expect_near_all(y, layer_norm_ref(x, 5, scale5, {}, 1e-5, nullptr, nullptr), 2e-5, "axis -1");

  auto bad = run_op("LayerNormalization", {xt, Tensor::from_vector<float>(one, {1})}, {{"axis", int_attr(-4)}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("axis -4"), std::string::npos) << bad.status().message();
}

TEST(NormalizationOps, BatchNormInferenceAndTraining) {
  // X [2, 2, 2]: channel 0 = {1, 3, 5, 7}, channel 1 = {2, 4, 6, 8}.
  Tensor x = Tensor::from_vector<float>({1, 3, 2, 4, 5, 7, 6, 8}, {2, 2, 2});
  Tensor scale = Tensor::from_vector<float>({2, 1}, {2});
  Tensor bias = Tensor::from_vector<float>({0, 1}, {2});
  Tensor mean = Tensor::from_vector<float>({1, 2}, {2});
  Tensor var = Tensor::from_vector<float>({4, 1}, {2});
  Tensor y = run1("BatchNormalization", {x, scale, bias, mean, var}, {{"epsilon", float_attr(0)}}, 15);
  // c0: (x - 1) / 2 * 2 = x - 1; c1: (x - 2) / 1 * 1 + 1 = x - 1.
  expect_near_all(y, {0, 2, 1, 3, 4, 6, 5, 7});

  auto out = run_op("BatchNormalization", {x, scale, bias, mean, var},
                    {{"epsilon", float_attr(0)}, {"training_mode", int_attr(1)}, {"momentum", float_attr(0.5f)}}, 15, 3);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  // Batch stats: c0 mean 4, var 5; c1 mean 5, var 5.
  const double s5 = std::sqrt(5.0);
  expect_near_all(out.value()[0], {-3 / s5 * 2, -1 / s5 * 2, -3 / s5 + 1, -1 / s5 + 1, 1 / s5 * 2, 3 / s5 * 2,
                                   1 / s5 + 1, 3 / s5 + 1}, 1e-6, "training Y");
  expect_near_all(out.value()[1], {0.5 * 1 + 0.5 * 4, 0.5 * 2 + 0.5 * 5}, 1e-6, "running mean");
  expect_near_all(out.value()[2], {0.5 * 4 + 0.5 * 5, 0.5 * 1 + 0.5 * 5}, 1e-6, "running var");
}

TEST(NormalizationOps, InstanceNormByHand) {
  // X [1, 2, 4]: channel 0 = {1, 2, 3, 4} (mean 2.5, var 1.25), channel 1 = {0, 0, 2, 2} (mean 1, var 1).
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 0, 0, 2, 2}, {1, 2, 4});
  Tensor y = run1("InstanceNormalization",
                  {x, Tensor::from_vector<float>({1, 3}, {2}), Tensor::from_vector<float>({0, -1}, {2})},
                  {{"epsilon", float_attr(0)}});
  const double s = std::sqrt(1.25);
  expect_near_all(y, {-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, -4, -4, 2, 2});
}

TEST(NormalizationOps, LpNormalization) {
  Tensor x = Tensor::from_vector<float>({3, 4, 0, 0, -1, 1}, {3, 2});
  expect_near_all(run1("LpNormalization", {x}), {0.6, 0.8, 0, 0, -1 / std::sqrt(2.0), 1 / std::sqrt(2.0)});
  expect_near_all(run1("LpNormalization", {x}, {{"p", int_attr(1)}}), {3.0 / 7, 4.0 / 7, 0, 0, -0.5, 0.5});
  // axis 0: columns {3, 0, -1} and {4, 0, 1}.
  const double c0 = std::sqrt(10.0), c1 = std::sqrt(17.0);
  expect_near_all(run1("LpNormalization", {x}, {{"axis", int_attr(0)}}), {3 / c0, 4 / c1, 0, 0, -1 / c0, 1 / c1});
}

TEST(NormalizationOps, MeanVarianceNormalization) {
  // [2, 2, 1, 1] with default axes [0, 2, 3]: per channel over the batch.
  Tensor x = Tensor::from_vector<float>({1, 10, 3, 30}, {2, 2, 1, 1});
  // c0 = {1, 3}: mean 2, std 1 -> {-1, 1}; c1 = {10, 30}: mean 20, std 10 -> {-1, 1}.
  expect_near_all(run1("MeanVarianceNormalization", {x}), {-1, -1, 1, 1}, 1e-6);
  // axes [1]: per sample over channels: {1, 10} -> {-1, 1}, {3, 30} -> {-1, 1}.
  expect_near_all(run1("MeanVarianceNormalization", {x}, {{"axes", ints_attr({1})}}), {-1, 1, -1, 1}, 1e-6);
}

}  // namespace
}  // namespace dj
