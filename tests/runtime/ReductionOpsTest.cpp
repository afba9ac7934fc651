// The reduction family's kernels and shape functions, called through the built-in
// OpRegistry: every Reduce* op on hand-computed values (keepdims on/off, negative
// axes, several axes in one block and not, empty axes, noop_with_empty_axes, the
// attribute and input forms of axes), the parallel and chunked paths against a
// plain double loop written here, ArgMax/ArgMin ties, CumSum modes, TopK ties and
// k == dim, the error statuses, and the shape functions (symbolic dims, TopK's k).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ReductionExpRows.h"
#include "runtime/ops/ReductionVectorMath.h"

namespace dj {
namespace {

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::Int;
  a.i = v;
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

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  const T* p = t.data<T>();
  return std::vector<T>(p, p + t.numel());
}

void expect_near_all(const Tensor& t, const std::vector<float>& expected, float rtol = 1e-5f, const char* what = "") {
  ASSERT_EQ(t.dtype(), DType::F32) << what;
  ASSERT_EQ(t.numel(), static_cast<int64_t>(expected.size())) << what << " got " << t.describe();
  const float* p = t.data<float>();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(p[i], expected[i], rtol * std::max(1.0f, std::fabs(expected[i]))) << what << " element " << i;
}

Tensor axes_tensor(std::vector<int64_t> axes) {
  return Tensor::from_vector<int64_t>(axes, {static_cast<int64_t>(axes.size())});
}

// [2, 3, 2]: x[i][j][k] = 1 + i*6 + j*2 + k, i.e. 1..12.
Tensor x232() {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  return Tensor::from_vector<float>(v, {2, 3, 2});
}

TEST(ReductionOps, ReduceSumKeepdimsAndNot) {
  Tensor y = run1("ReduceSum", {x232(), axes_tensor({1})}, {{"keepdims", int_attr(1)}});
  EXPECT_EQ(y.shape(), (Shape{2, 1, 2}));
  expect_near_all(y, {9, 12, 27, 30});
  y = run1("ReduceSum", {x232(), axes_tensor({1})}, {{"keepdims", int_attr(0)}});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  expect_near_all(y, {9, 12, 27, 30});
}

TEST(ReductionOps, ReduceSumNegativeAndMultipleAxes) {
  // axes [-1] == [2]: pairs summed.
  Tensor y = run1("ReduceSum", {x232(), axes_tensor({-1})}, {{"keepdims", int_attr(0)}});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  expect_near_all(y, {3, 7, 11, 15, 19, 23});
  // axes [1, 2]: one block at the end (row path): 1..6 and 7..12.
  y = run1("ReduceSum", {x232(), axes_tensor({2, -2})}, {{"keepdims", int_attr(1)}});
  EXPECT_EQ(y.shape(), (Shape{2, 1, 1}));
  expect_near_all(y, {21, 57});
  // axes [0, 2]: not one block (general path): j=0: 1+2+7+8, j=1: 3+4+9+10, j=2: 5+6+11+12.
  y = run1("ReduceSum", {x232(), axes_tensor({0, 2})}, {{"keepdims", int_attr(0)}});
  EXPECT_EQ(y.shape(), (Shape{3}));
  expect_near_all(y, {18, 26, 34});
  // axes [0]: leading block (column path).
  y = run1("ReduceSum", {x232(), axes_tensor({0})}, {{"keepdims", int_attr(0)}});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  expect_near_all(y, {8, 10, 12, 14, 16, 18});
}

TEST(ReductionOps, ReduceSumEmptyAxes) {
  // No axes input: all axes.
  Tensor y = run1("ReduceSum", {x232()}, {{"keepdims", int_attr(1)}});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 1}));
  expect_near_all(y, {78});
  // An empty axes tensor, keepdims=0: a scalar.
  y = run1("ReduceSum", {x232(), axes_tensor({})}, {{"keepdims", int_attr(0)}});
  EXPECT_EQ(y.shape(), (Shape{}));
  expect_near_all(y, {78});
  // noop_with_empty_axes: the input unchanged.
  y = run1("ReduceSum", {x232(), axes_tensor({})}, {{"noop_with_empty_axes", int_attr(1)}});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  expect_near_all(y, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
}

TEST(ReductionOps, AxesAttributeFormOfOlderOpsets) {
  Tensor y = run1("ReduceSum", {x232()}, {{"axes", ints_attr({1})}, {"keepdims", int_attr(0)}}, 11);
  expect_near_all(y, {9, 12, 27, 30});
  y = run1("ReduceMean", {x232()}, {{"axes", ints_attr({0, 1})}, {"keepdims", int_attr(0)}}, 13);
  EXPECT_EQ(y.shape(), (Shape{2}));
  expect_near_all(y, {6, 7});  // (1+3+5+7+9+11)/6, (2+..+12)/6
}

TEST(ReductionOps, EveryReduceKindByHand) {
  Tensor x = Tensor::from_vector<float>({1, -2, 3, 4, 0.5f, -1}, {2, 3});
  Attrs last = {{"axes", ints_attr({1})}, {"keepdims", int_attr(0)}};
  expect_near_all(run1("ReduceMean", {x}, last, 13), {2.0f / 3, 3.5f / 3}, 1e-6f, "mean");
  expect_near_all(run1("ReduceMax", {x}, last, 13), {3, 4}, 1e-6f, "max");
  expect_near_all(run1("ReduceMin", {x}, last, 13), {-2, -1}, 1e-6f, "min");
  expect_near_all(run1("ReduceProd", {x}, last, 13), {-6, -2}, 1e-6f, "prod");
  expect_near_all(run1("ReduceL1", {x}, last, 13), {6, 5.5f}, 1e-6f, "l1");
  expect_near_all(run1("ReduceL2", {x}, last, 13), {std::sqrt(14.0f), std::sqrt(17.25f)}, 1e-6f, "l2");
  expect_near_all(run1("ReduceSumSquare", {x}, last, 13), {14, 17.25f}, 1e-6f, "sumsquare");
  expect_near_all(run1("ReduceLogSum", {x}, last, 13), {std::log(2.0f), std::log(3.5f)}, 1e-6f, "logsum");
  const double lse0 = std::log(std::exp(1.0) + std::exp(-2.0) + std::exp(3.0));
  const double lse1 = std::log(std::exp(4.0) + std::exp(0.5) + std::exp(-1.0));
  expect_near_all(run1("ReduceLogSumExp", {x}, last, 13), {float(lse0), float(lse1)}, 1e-6f, "logsumexp");
  // Over axis 0 (column path) for the same kinds.
  Attrs first = {{"axes", ints_attr({0})}, {"keepdims", int_attr(1)}};
  Tensor y = run1("ReduceMax", {x}, first, 13);
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
  expect_near_all(y, {4, 0.5f, 3}, 1e-6f, "max axis 0");
  expect_near_all(run1("ReduceProd", {x}, first, 13), {4, -1, -3}, 1e-6f, "prod axis 0");
  expect_near_all(run1("ReduceLogSumExp", {x}, first, 13),
                  {float(std::log(std::exp(1.0) + std::exp(4.0))), float(std::log(std::exp(-2.0) + std::exp(0.5))),
                   float(std::log(std::exp(3.0) + std::exp(-1.0)))},
                  1e-6f, "logsumexp axis 0");
}

TEST(ReductionOps, LogSumExpOfLargeValuesDoesNotOverflow) {
  Tensor x = Tensor::from_vector<float>({1000, 1000, -1000, -1000}, {2, 2});
  Tensor y = run1("ReduceLogSumExp", {x}, {{"axes", ints_attr({1})}, {"keepdims", int_attr(0)}}, 13);
  expect_near_all(y, {1000 + std::log(2.0f), -1000 + std::log(2.0f)}, 1e-6f);
  // All -inf: the sum is empty of mass, log(0) = -inf, not NaN.
  const float inf = std::numeric_limits<float>::infinity();
  y = run1("ReduceLogSumExp", {Tensor::from_vector<float>({-inf, -inf}, {2})}, {{"keepdims", int_attr(0)}}, 13);
  EXPECT_EQ(y.data<float>()[0], -inf);
}

TEST(ReductionOps, NoopOverNoAxesAppliesTheElementMap) {
  // Opset 18 form (axes as input for every Reduce op): each output reduces one element.
  Tensor x = Tensor::from_vector<float>({-3, 2}, {2});
  Attrs noop = {{"noop_with_empty_axes", int_attr(1)}};
  expect_near_all(run1("ReduceSumSquare", {x, axes_tensor({})}, noop, 18), {9, 4});
  expect_near_all(run1("ReduceL1", {x, axes_tensor({})}, noop, 18), {3, 2});
  expect_near_all(run1("ReduceMax", {x, axes_tensor({})}, noop, 18), {-3, 2});
}

TEST(ReductionOps, IntegerDtypes) {
  Tensor x = Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = run1("ReduceSum", {x, axes_tensor({1})}, {{"keepdims", int_attr(0)}});
  ASSERT_EQ(y.dtype(), DType::I32);
  EXPECT_EQ(values_of<int32_t>(y), (std::vector<int32_t>{6, 15}));
  y = run1("ReduceMean", {x}, {{"axes", ints_attr({0})}, {"keepdims", int_attr(0)}}, 13);
  EXPECT_EQ(values_of<int32_t>(y), (std::vector<int32_t>{2, 3, 4}));  // 2.5 -> 2, 3.5 -> 3, 4.5 -> 4
  Tensor b = Tensor::from_vector<int8_t>({-5, 7, 3, -128}, {4});
  y = run1("ReduceMax", {b}, {{"keepdims", int_attr(0)}}, 13);
  EXPECT_EQ(y.data<int8_t>()[0], 7);
  y = run1("ReduceMin", {b}, {{"keepdims", int_attr(0)}}, 13);
  EXPECT_EQ(y.data<int8_t>()[0], -128);
  y = run1("ReduceProd", {Tensor::from_vector<int64_t>({3, -4, 5}, {3})}, {{"keepdims", int_attr(0)}}, 13);
  EXPECT_EQ(y.data<int64_t>()[0], -60);
}

TEST(ReductionOps, Float16ComputesInFloat) {
  std::vector<half> v;
  for (float f : {0.5f, 1.5f, 2.0f, -1.0f}) v.push_back(half(f));
  Tensor y = run1("ReduceSum", {Tensor::from_vector<half>(v, {2, 2}), axes_tensor({1})}, {{"keepdims", int_attr(0)}});
  ASSERT_EQ(y.dtype(), DType::F16);
  EXPECT_EQ(static_cast<float>(y.data<half>()[0]), 2.0f);
  EXPECT_EQ(static_cast<float>(y.data<half>()[1]), 1.0f);
}

// A deterministic pseudo-random fill in [-1, 1).
std::vector<float> pseudo_random(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed;
  for (auto& f : v) {
    s = s * 1664525u + 1013904223u;
    f = static_cast<float>(s >> 8) / static_cast<float>(1 << 23) - 1.0f;
  }
  return v;
}

// Plain double reference of a sum over `axis` of a 3-D [a, b, c] tensor.
std::vector<double> reference_sum(const std::vector<float>& v, int64_t a, int64_t b, int64_t c, int axis) {
  std::vector<double> out;
  if (axis == 1) {
    out.assign(static_cast<size_t>(a * c), 0.0);
    for (int64_t i = 0; i < a; ++i)
      for (int64_t j = 0; j < b; ++j)
        for (int64_t k = 0; k < c; ++k) out[static_cast<size_t>(i * c + k)] += v[static_cast<size_t>((i * b + j) * c + k)];
  }
  return out;
}

TEST(ReductionOps, LargeReductionsMatchAPlainLoop) {
  struct Case { int64_t a, b, c; };
  // Long rows (chunked partials), many short rows, long columns, wide columns.
  for (Case cs : {Case{3, 100000, 1}, Case{5000, 17, 1}, Case{1, 70000, 3}, Case{4, 50, 5000}, Case{2, 3, 40000}}) {
    std::vector<float> v = pseudo_random(static_cast<size_t>(cs.a * cs.b * cs.c), 7);
    Tensor x = Tensor::from_vector<float>(v, {cs.a, cs.b, cs.c});
    Tensor y = run1("ReduceSum", {x, axes_tensor({1})}, {{"keepdims", int_attr(0)}});
    std::vector<double> ref = reference_sum(v, cs.a, cs.b, cs.c, 1);
    ASSERT_EQ(y.numel(), static_cast<int64_t>(ref.size()));
    for (size_t i = 0; i < ref.size(); ++i)
      ASSERT_NEAR(y.data<float>()[i], ref[i], 1e-5 * cs.b) << "case [" << cs.a << "," << cs.b << "," << cs.c << "] i=" << i;
    // Max over the same axis, checked against a plain loop.
    Tensor m = run1("ReduceMax", {x}, {{"axes", ints_attr({1})}, {"keepdims", int_attr(0)}}, 13);
    for (int64_t i = 0; i < cs.a; ++i)
      for (int64_t k = 0; k < cs.c; ++k) {
        float best = -2;
        for (int64_t j = 0; j < cs.b; ++j) best = std::max(best, v[static_cast<size_t>((i * cs.b + j) * cs.c + k)]);
        ASSERT_EQ(m.data<float>()[i * cs.c + k], best) << "max case [" << cs.a << "," << cs.b << "," << cs.c << "]";
      }
  }
}

TEST(ReductionOps, AxisOutOfRangeNamesTheAxis) {
  auto out = run_op("ReduceSum", {x232(), axes_tensor({3})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(out.status().message().find("axis 3"), std::string::npos) << out.status().message();
  out = run_op("ReduceMax", {x232()}, {{"axes", ints_attr({-4})}}, 13);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("axis -4"), std::string::npos) << out.status().message();
  out = run_op("ArgMax", {x232()}, {{"axis", int_attr(7)}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(out.status().message().find("axis 7"), std::string::npos) << out.status().message();
  out = run_op("ReduceSum", {x232(), axes_tensor({1, -2})});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("repeated"), std::string::npos) << out.status().message();
}

TEST(ReductionOps, ArgMaxArgMinTiesAndOptions) {
  Tensor x = Tensor::from_vector<float>({2, 5, 5, 1, 1, 0, 3, 3}, {2, 4});
  Tensor y = run1("ArgMax", {x}, {{"axis", int_attr(1)}});
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{1, 2}));
  y = run1("ArgMax", {x}, {{"axis", int_attr(-1)}, {"select_last_index", int_attr(1)}, {"keepdims", int_attr(0)}});
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{2, 3}));
  y = run1("ArgMin", {x}, {{"axis", int_attr(1)}, {"keepdims", int_attr(0)}});
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{3, 1}));
  y = run1("ArgMin", {x}, {{"axis", int_attr(1)}, {"keepdims", int_attr(0)}, {"select_last_index", int_attr(1)}});
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{3, 1}));
  // Default axis 0 (column path): column-wise argmax over 2 rows, ties -> row 0.
  y = run1("ArgMax", {x});
  EXPECT_EQ(y.shape(), (Shape{1, 4}));
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{0, 0, 0, 1}));
  y = run1("ArgMax", {x}, {{"select_last_index", int_attr(1)}});
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{0, 0, 0, 1}));
  y = run1("ArgMin", {Tensor::from_vector<int32_t>({4, 4, 4}, {3})}, {{"select_last_index", int_attr(1)}});
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{2}));
}

TEST(ReductionOps, ArgMaxNaNIsTheExtremeLikeNumpy) {
  const float nan = std::nanf("");
  Tensor x = Tensor::from_vector<float>({1, nan, 3, nan, 2, 5, 5, 0}, {2, 4});
  EXPECT_EQ(values_of<int64_t>(run1("ArgMax", {x}, {{"axis", int_attr(1)}})), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(values_of<int64_t>(run1("ArgMax", {x}, {{"axis", int_attr(1)}, {"select_last_index", int_attr(1)}})),
            (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(values_of<int64_t>(run1("ArgMin", {x}, {{"axis", int_attr(1)}})), (std::vector<int64_t>{1, 3}));
  // A long row (vector body plus tail) with the max near the end.
  std::vector<double> d(1001, -1.0);
  d[997] = 4.0;
  d[999] = 4.0;
  Tensor xd = Tensor::from_vector<double>(d, {1001});
  EXPECT_EQ(values_of<int64_t>(run1("ArgMax", {xd})), (std::vector<int64_t>{997}));
  EXPECT_EQ(values_of<int64_t>(run1("ArgMax", {xd}, {{"select_last_index", int_attr(1)}})), (std::vector<int64_t>{999}));
}

TEST(ReductionOps, CumSumModes) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5}, {5});
  Tensor axis0 = Tensor::from_vector<int32_t>({0}, {});
  expect_near_all(run1("CumSum", {x, axis0}), {1, 3, 6, 10, 15});
  expect_near_all(run1("CumSum", {x, axis0}, {{"exclusive", int_attr(1)}}), {0, 1, 3, 6, 10});
  expect_near_all(run1("CumSum", {x, axis0}, {{"reverse", int_attr(1)}}), {15, 14, 12, 9, 5});
  expect_near_all(run1("CumSum", {x, axis0}, {{"reverse", int_attr(1)}, {"exclusive", int_attr(1)}}), {14, 12, 9, 5, 0});
  Tensor m = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  expect_near_all(run1("CumSum", {m, Tensor::from_vector<int64_t>({0}, {1})}), {1, 2, 3, 5, 7, 9});
  expect_near_all(run1("CumSum", {m, Tensor::from_vector<int64_t>({-1}, {1})}), {1, 3, 6, 4, 9, 15});
  Tensor i = Tensor::from_vector<int64_t>({5, -1, 2}, {3});
  EXPECT_EQ(values_of<int64_t>(run1("CumSum", {i, axis0}, {{"reverse", int_attr(1)}})), (std::vector<int64_t>{6, 1, 2}));
  auto bad = run_op("CumSum", {m, Tensor::from_vector<int64_t>({2}, {1})});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("axis 2"), std::string::npos) << bad.status().message();
}

TEST(ReductionOps, TopKTiesKEqualsDimAndSmallest) {
  Tensor x = Tensor::from_vector<float>({1, 3, 3, 2, 0, 9, 9, 9}, {2, 4});
  auto out = run_op("TopK", {x, Tensor::from_vector<int64_t>({2}, {1})}, {}, 11, 2);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out.value()[0].shape(), (Shape{2, 2}));
  expect_near_all(out.value()[0], {3, 3, 9, 9});
  EXPECT_EQ(values_of<int64_t>(out.value()[1]), (std::vector<int64_t>{1, 2, 1, 2}));  // ties: lower index first
  // k == dim, smallest: the whole row sorted ascending, ties by index.
  out = run_op("TopK", {x, Tensor::from_vector<int64_t>({4}, {1})}, {{"largest", int_attr(0)}}, 11, 2);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  expect_near_all(out.value()[0], {1, 2, 3, 3, 0, 9, 9, 9});
  EXPECT_EQ(values_of<int64_t>(out.value()[1]), (std::vector<int64_t>{0, 3, 1, 2, 0, 1, 2, 3}));
  // Along axis 0 (strided lines).
  out = run_op("TopK", {x, Tensor::from_vector<int64_t>({1}, {1})}, {{"axis", int_attr(0)}}, 11, 2);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out.value()[0].shape(), (Shape{1, 4}));
  expect_near_all(out.value()[0], {1, 9, 9, 9});
  EXPECT_EQ(values_of<int64_t>(out.value()[1]), (std::vector<int64_t>{0, 1, 1, 1}));
  // Opset 1: k as an attribute.
  out = run_op("TopK", {x}, {{"k", int_attr(1)}}, 1, 2);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  expect_near_all(out.value()[0], {3, 9});
  // k larger than the axis.
  out = run_op("TopK", {x, Tensor::from_vector<int64_t>({5}, {1})}, {}, 11, 2);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(out.status().message().find("k = 5"), std::string::npos) << out.status().message();
}

TEST(ReductionOps, TopKOnALargeInputMatchesAFullSort) {
  std::vector<float> v = pseudo_random(64 * 1000, 3);
  Tensor x = Tensor::from_vector<float>(v, {64, 1000});
  // k = 10 takes the one-pass small-k path, k = 100 the selection + sort path.
  for (int64_t k : {int64_t{10}, int64_t{100}}) {
    auto out = run_op("TopK", {x, Tensor::from_vector<int64_t>({k}, {1})}, {}, 11, 2);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    for (int64_t r = 0; r < 64; ++r) {
      std::vector<float> row(v.begin() + r * 1000, v.begin() + (r + 1) * 1000);
      std::sort(row.begin(), row.end(), std::greater<float>());
      for (int64_t j = 0; j < k; ++j) {
        const float got = out.value()[0].data<float>()[r * k + j];
        ASSERT_EQ(got, row[static_cast<size_t>(j)]) << "k " << k << " row " << r << " rank " << j;
        const int64_t at = out.value()[1].data<int64_t>()[r * k + j];
        ASSERT_EQ(v[static_cast<size_t>(r * 1000 + at)], got);
      }
    }
  }
}

TEST(ReductionOps, TopKTiesOnBothPaths) {
  // 40 equal values then a larger one: the larger first, then the ties by index.
  std::vector<float> v(40, 1.0f);
  v.push_back(2.0f);
  Tensor x = Tensor::from_vector<float>(v, {41});
  for (int64_t k : {int64_t{5}, int64_t{36}}) {
    auto out = run_op("TopK", {x, Tensor::from_vector<int64_t>({k}, {1})}, {}, 11, 2);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    const int64_t* idx = out.value()[1].data<int64_t>();
    EXPECT_EQ(idx[0], 40) << "k " << k;
    for (int64_t j = 1; j < k; ++j) ASSERT_EQ(idx[j], j - 1) << "k " << k << " rank " << j;
    // Smallest: the ties in index order, the larger value never.
    out = run_op("TopK", {x, Tensor::from_vector<int64_t>({k}, {1})}, {{"largest", int_attr(0)}}, 11, 2);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    idx = out.value()[1].data<int64_t>();
    for (int64_t j = 0; j < k; ++j) ASSERT_EQ(idx[j], j) << "smallest k " << k << " rank " << j;
  }
}

TEST(ReductionOps, ExpApproximationIsAccurate) {
  double worst = 0;
  for (double d = -85.0; d <= 88.5; d += 0.001) {
    const float x = static_cast<float>(d);
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(exp_f32(x) - want) / want);
  }
  EXPECT_LT(worst, 3e-7);
  EXPECT_EQ(exp_f32(0.0f), 1.0f);
  EXPECT_EQ(exp_f32(-1000.0f), 0.0f);
  EXPECT_TRUE(std::isinf(exp_f32(1000.0f)));
  EXPECT_TRUE(std::isnan(exp_f32(std::nanf(""))));
}

TEST(ReductionOps, ExpRowKernelsMatchStdExp) {
  // Both ISA builds (where the CPU has AVX2), on a length that leaves a tail.
  const int64_t n = 1003;
  std::vector<float> p(static_cast<size_t>(n)), q(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) p[static_cast<size_t>(j)] = -20.0f + 25.0f * static_cast<float>(j) / n;
  for (const ExpRowKernels* k : {exp_row_kernels_generic(), exp_row_kernels_avx2()}) {
    if (!k) continue;
    double want_sum = 0;
    const float sum = k->exp_store_sum(p.data(), q.data(), n, 1.5f);
    for (int64_t j = 0; j < n; ++j) {
      const double want = std::exp(static_cast<double>(p[static_cast<size_t>(j)] - 1.5f));
      want_sum += want;
      ASSERT_NEAR(q[static_cast<size_t>(j)], want, 1e-6 * want) << k->name << " j=" << j;
    }
    EXPECT_NEAR(sum, want_sum, 1e-6 * want_sum) << k->name;
    EXPECT_NEAR(k->exp_sum(p.data(), n, 1.5f), want_sum, 1e-6 * want_sum) << k->name;
  }
  EXPECT_NE(exp_row_kernels().exp_sum, nullptr);
}

// --- shape functions ---

struct ShapeRun {
  Node node;
  std::vector<ValueInfo> in;
  std::vector<ValueInfo> out;
  int counter = 0;

  Status infer(const std::string& op, int64_t opset = 17) {
    node.op_type = op;
    node.name = "shape_" + op;
    node.inputs.clear();
    for (size_t i = 0; i < in.size(); ++i) node.inputs.push_back(static_cast<ValueId>(i));
    node.outputs.clear();
    for (size_t i = 0; i < out.size(); ++i) node.outputs.push_back(static_cast<ValueId>(100 + i));
    std::vector<const ValueInfo*> ins;
    for (auto& v : in) ins.push_back(&v);
    std::vector<ValueInfo*> outs;
    for (auto& v : out) outs.push_back(&v);
    ShapeContext ctx(node, opset, ins, outs, &counter);
    return OpRegistry::builtin().find("", op)->infer(ctx);
  }
};

ValueInfo sym_input(DType t, SymShape s) {
  ValueInfo v;
  v.dtype = t;
  v.shape = std::move(s);
  return v;
}

TEST(ReductionOps, ShapeFunctions) {
  const SymExpr batch = SymExpr::symbol("batch"), seq = SymExpr::symbol("seq");
  ShapeRun r;
  r.in = {sym_input(DType::F32, {batch, seq, SymExpr(64)})};
  r.in.push_back(ValueInfo{});
  r.in[1].constant = axes_tensor({-1});
  r.out.resize(1);
  r.node.attributes = {{"keepdims", int_attr(0)}};
  ASSERT_TRUE(r.infer("ReduceSum").ok());
  ASSERT_TRUE(r.out[0].shape.has_value());
  EXPECT_EQ(sym_shape_to_string(*r.out[0].shape), "[batch,seq]");
  EXPECT_EQ(r.out[0].dtype, DType::F32);

  // Runtime axes: dtype known, shape not.
  ShapeRun rt;
  rt.in = {sym_input(DType::F32, {batch, SymExpr(3)}), sym_input(DType::I64, {SymExpr(1)})};
  rt.out.resize(1);
  ASSERT_TRUE(rt.infer("ReduceSum").ok());
  EXPECT_FALSE(rt.out[0].shape.has_value());

  // Attribute axes, keepdims default 1.
  ShapeRun m;
  m.in = {sym_input(DType::F32, {batch, seq, SymExpr(64)})};
  m.out.resize(1);
  m.node.attributes = {{"axes", ints_attr({1})}};
  ASSERT_TRUE(m.infer("ReduceMean", 13).ok());
  EXPECT_EQ(sym_shape_to_string(*m.out[0].shape), "[batch,1,64]");

  ShapeRun a;
  a.in = {sym_input(DType::F16, {batch, seq})};
  a.out.resize(1);
  a.node.attributes = {{"axis", int_attr(-1)}, {"keepdims", int_attr(0)}};
  ASSERT_TRUE(a.infer("ArgMax").ok());
  EXPECT_EQ(a.out[0].dtype, DType::I64);
  EXPECT_EQ(sym_shape_to_string(*a.out[0].shape), "[batch]");

  // TopK: constant k gives the constant; runtime k a fresh data-dependent dim.
  ShapeRun k;
  k.in = {sym_input(DType::F32, {batch, SymExpr(100)}), ValueInfo{}};
  k.in[1].constant = Tensor::from_vector<int64_t>({5}, {1});
  k.out.resize(2);
  ASSERT_TRUE(k.infer("TopK", 11).ok());
  EXPECT_EQ(sym_shape_to_string(*k.out[0].shape), "[batch,5]");
  EXPECT_EQ(k.out[1].dtype, DType::I64);
  ShapeRun kr;
  kr.in = {sym_input(DType::F32, {batch, SymExpr(100)}), sym_input(DType::I64, {SymExpr(1)})};
  kr.out.resize(2);
  ASSERT_TRUE(kr.infer("TopK", 11).ok());
  ASSERT_TRUE(kr.out[0].shape.has_value());
  const SymExpr kdim = (*kr.out[0].shape)[1];
  EXPECT_TRUE(kdim.is_data_dependent());
  EXPECT_TRUE(kdim.equals((*kr.out[1].shape)[1]));
}

}  // namespace
}  // namespace dj
