// The elementwise op family's kernels and shape functions, called through the
// built-in OpRegistry: broadcasting (same shape, scalar, general), dtypes (f32,
// f16, i64, bool, ...), integer semantics (Div by zero, Mod signs, Pow), the
// parallel path on large tensors, Cast round trips, and the error statuses.
// Expected values are computed by hand (or by a plain scalar loop written here).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ErfRows.h"

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
Attribute string_attr(const std::string& v) {
  Attribute a;
  a.kind = Attribute::Kind::String;
  a.s = v;
  return a;
}

// Runs one op's kernel on `inputs` (an undefined Tensor is an omitted input).
Expected<std::vector<Tensor>> run_op(const std::string& op, std::vector<Tensor> inputs,
                                     std::map<std::string, Attribute> attrs = {}, int64_t opset = 17,
                                     size_t num_outputs = 1) {
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

Tensor run_ok(const std::string& op, std::vector<Tensor> inputs, std::map<std::string, Attribute> attrs = {},
              int64_t opset = 17) {
  auto out = run_op(op, std::move(inputs), std::move(attrs), opset);
  EXPECT_TRUE(out.ok()) << op << ": " << out.status().to_string();
  return out.ok() ? out.value()[0] : Tensor();
}

template <typename T>
std::vector<T> values(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DTypeOf<T>::value) << t.describe();
  if (t.dtype() != DTypeOf<T>::value) return {};
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

std::vector<float> half_values(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::F16);
  std::vector<float> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(static_cast<float>(t.data<half>()[i]));
  return out;
}

Tensor halfs(const std::vector<float>& v, const Shape& shape) {
  std::vector<half> h;
  for (float f : v) h.emplace_back(f);
  return Tensor::from_vector<half>(h, shape);
}

Tensor bools(const std::vector<int>& v, const Shape& shape) {
  Tensor t = Tensor::empty(DType::Bool, shape);
  for (size_t i = 0; i < v.size(); ++i) t.data<bool>()[i] = v[i] != 0;
  return t;
}

std::vector<int> bool_values(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::Bool);
  std::vector<int> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.data<bool>()[i] ? 1 : 0);
  return out;
}

using F = std::vector<float>;
using I = std::vector<int64_t>;

void expect_near(const std::vector<float>& actual, const std::vector<float>& expected, float tol = 1e-6f) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << "element " << i;
}

// ---- broadcasting -----------------------------------------------------------

TEST(ElementwiseOpsTest, AddBroadcastsRowVector) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<float>({10, 20, 30}, {3});
  Tensor y = run_ok("Add", {a, b});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (F{11, 22, 33, 14, 25, 36}));
}

TEST(ElementwiseOpsTest, SubBroadcastsColumnAgainstRow) {
  Tensor a = Tensor::from_vector<float>({1, 2}, {2, 1});
  Tensor b = Tensor::from_vector<float>({10, 20, 30}, {1, 3});
  Tensor y = run_ok("Sub", {a, b});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (F{-9, -19, -29, -8, -18, -28}));
}

TEST(ElementwiseOpsTest, MulBroadcastsMiddleDimension) {
  // [2,3,2] * [3,1]: the general path with a broadcast innermost dim.
  std::vector<float> av;
  for (int i = 0; i < 12; ++i) av.push_back(static_cast<float>(i));
  Tensor a = Tensor::from_vector<float>(av, {2, 3, 2});
  Tensor b = Tensor::from_vector<float>({1, 10, 100}, {3, 1});
  Tensor y = run_ok("Mul", {a, b});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(values<float>(y), (F{0, 1, 20, 30, 400, 500, 6, 7, 80, 90, 1000, 1100}));
}

TEST(ElementwiseOpsTest, ScalarOperandOnEitherSide) {
  Tensor a = Tensor::from_vector<int64_t>({5, 7, 9}, {3});
  Tensor s = Tensor::scalar<int64_t>(2);
  EXPECT_EQ(values<int64_t>(run_ok("Sub", {a, s})), (I{3, 5, 7}));
  EXPECT_EQ(values<int64_t>(run_ok("Sub", {s, a})), (I{-3, -5, -7}));
  Tensor y = run_ok("Mul", {s, Tensor::scalar<int64_t>(21)});
  EXPECT_EQ(y.rank(), 0);
  EXPECT_EQ(values<int64_t>(y), (I{42}));
}

TEST(ElementwiseOpsTest, EmptyTensorBroadcastsToEmpty) {
  Tensor a = Tensor::empty(DType::F32, {0, 3});
  Tensor y = run_ok("Add", {a, Tensor::from_vector<float>({1, 2, 3}, {3})});
  EXPECT_EQ(y.shape(), (Shape{0, 3}));
}

TEST(ElementwiseOpsTest, NonBroadcastableShapesAreInvalidArgument) {
  Tensor a = Tensor::zeros(DType::F32, {2, 3});
  Tensor b = Tensor::zeros(DType::F32, {4});
  auto out = run_op("Add", {a, b});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(out.status().message().find("Add"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("[2,3]"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("[4]"), std::string::npos) << out.status().message();
}

TEST(ElementwiseOpsTest, MismatchedDtypesAreInvalidArgument) {
  auto out = run_op("Add", {Tensor::scalar<float>(1), Tensor::scalar<int64_t>(1)});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
}

// ---- dtypes and integer semantics ------------------------------------------------

TEST(ElementwiseOpsTest, Float16ComputesInFloatAndRounds) {
  Tensor a = halfs({1.5f, -2.0f, 1024.0f}, {3});
  Tensor b = halfs({0.25f, 0.5f, 1.0f}, {3});
  EXPECT_EQ(half_values(run_ok("Add", {a, b})), (F{1.75f, -1.5f, 1025.0f}));
  EXPECT_EQ(half_values(run_ok("Mul", {a, b})), (F{0.375f, -1.0f, 1024.0f}));
  // 2049 is not representable in f16: it rounds to even (2048).
  EXPECT_EQ(half_values(run_ok("Add", {halfs({2048.0f}, {1}), halfs({1.0f}, {1})})), (F{2048.0f}));
}

TEST(ElementwiseOpsTest, Uint8AddWraps) {
  Tensor a = Tensor::from_vector<uint8_t>({250, 3}, {2});
  Tensor b = Tensor::from_vector<uint8_t>({10, 4}, {2});
  EXPECT_EQ(values<uint8_t>(run_ok("Add", {a, b})), (std::vector<uint8_t>{4, 7}));
}

TEST(ElementwiseOpsTest, IntegerDivTruncatesAndZeroDivisorIsAnError) {
  Tensor a = Tensor::from_vector<int64_t>({7, -7, 7, std::numeric_limits<int64_t>::min()}, {4});
  Tensor b = Tensor::from_vector<int64_t>({2, 2, -2, -1}, {4});
  EXPECT_EQ(values<int64_t>(run_ok("Div", {a, b})), (I{3, -3, -3, std::numeric_limits<int64_t>::min()}));
  auto out = run_op("Div", {a, Tensor::from_vector<int64_t>({1, 0, 1, 1}, {4})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(out.status().message().find("Div"), std::string::npos);
  EXPECT_NE(out.status().message().find("zero"), std::string::npos);
  // Float division by zero is IEEE, not an error.
  Tensor y = run_ok("Div", {Tensor::scalar<float>(1), Tensor::scalar<float>(0)});
  EXPECT_TRUE(std::isinf(values<float>(y)[0]));
}

TEST(ElementwiseOpsTest, ModSignRules) {
  Tensor a = Tensor::from_vector<int64_t>({-4, 7, 5, -5, 6}, {5});
  Tensor b = Tensor::from_vector<int64_t>({3, -3, -2, 2, 3}, {5});
  // fmod=0: the result takes the divisor's sign (Python's %).
  EXPECT_EQ(values<int64_t>(run_ok("Mod", {a, b})), (I{2, -2, -1, 1, 0}));
  // fmod=1: the dividend's sign (C's fmod / %).
  EXPECT_EQ(values<int64_t>(run_ok("Mod", {a, b}, {{"fmod", int_attr(1)}})), (I{-1, 1, 1, -1, 0}));
  Tensor fa = Tensor::from_vector<float>({-4.5f, 4.5f}, {2});
  Tensor fb = Tensor::from_vector<float>({2.0f, -2.0f}, {2});
  EXPECT_EQ(values<float>(run_ok("Mod", {fa, fb}, {{"fmod", int_attr(1)}})), (F{-0.5f, 0.5f}));
  auto out = run_op("Mod", {a, Tensor::scalar<int64_t>(0)});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("Mod"), std::string::npos);
}

TEST(ElementwiseOpsTest, PowIntegerAndMixedTypes) {
  Tensor base = Tensor::from_vector<int64_t>({2, 3, -2, 2, -1, 5}, {6});
  Tensor exp = Tensor::from_vector<int64_t>({10, 0, 3, -1, -3, 1}, {6});
  EXPECT_EQ(values<int64_t>(run_ok("Pow", {base, exp})), (I{1024, 1, -8, 0, -1, 5}));
  // Float base, integer exponent: the output keeps the base's dtype.
  Tensor fy = run_ok("Pow", {Tensor::from_vector<float>({2, 4}, {2}), Tensor::from_vector<int64_t>({3, -1}, {2})});
  EXPECT_EQ(values<float>(fy), (F{8.0f, 0.25f}));
  // Integer base, float exponent: computed in double, truncated back.
  Tensor iy = run_ok("Pow", {Tensor::from_vector<int32_t>({4, 3}, {2}), Tensor::from_vector<float>({0.5f, 2.0f}, {2})});
  EXPECT_EQ(values<int32_t>(iy), (std::vector<int32_t>{2, 9}));
  Tensor sy = run_ok("Pow", {Tensor::from_vector<float>({3, 9}, {2}), Tensor::scalar<float>(2)});
  EXPECT_EQ(values<float>(sy), (F{9, 81}));
}

TEST(ElementwiseOpsTest, BitShift) {
  Tensor a = Tensor::from_vector<uint8_t>({1, 16, 255}, {3});
  Tensor s = Tensor::from_vector<uint8_t>({3, 2, 9}, {3});
  EXPECT_EQ(values<uint8_t>(run_ok("BitShift", {a, s}, {{"direction", string_attr("LEFT")}})),
            (std::vector<uint8_t>{8, 64, 0}));
  EXPECT_EQ(values<uint8_t>(run_ok("BitShift", {a, s}, {{"direction", string_attr("RIGHT")}})),
            (std::vector<uint8_t>{0, 4, 0}));
}

// ---- variadic ---------------------------------------------------------------

TEST(ElementwiseOpsTest, VariadicMinMaxSumMeanBroadcast) {
  Tensor a = Tensor::from_vector<float>({1, 5, 3}, {3});
  Tensor b = Tensor::from_vector<float>({4, 2}, {2, 1});
  Tensor c = Tensor::scalar<float>(3);
  EXPECT_EQ(values<float>(run_ok("Max", {a, b, c})), (F{4, 5, 4, 3, 5, 3}));
  EXPECT_EQ(values<float>(run_ok("Min", {a, b, c})), (F{1, 3, 3, 1, 2, 2}));
  Tensor sum = run_ok("Sum", {a, b, c});
  EXPECT_EQ(sum.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(sum), (F{8, 12, 10, 6, 10, 8}));
  EXPECT_EQ(values<float>(run_ok("Mean", {a, b})), (F{2.5f, 4.5f, 3.5f, 1.5f, 3.5f, 2.5f}));
  EXPECT_EQ(values<float>(run_ok("Sum", {a})), (F{1, 5, 3}));
  // NaN propagates through Max, like numpy.maximum.
  Tensor n = Tensor::from_vector<float>({std::nanf(""), 1}, {2});
  auto m = values<float>(run_ok("Max", {n, Tensor::from_vector<float>({0, std::nanf("")}, {2})}));
  EXPECT_TRUE(std::isnan(m[0]) && std::isnan(m[1]));
  EXPECT_EQ(values<int64_t>(run_ok("Max", {Tensor::from_vector<int64_t>({-3, 8}, {2}), Tensor::scalar<int64_t>(0)})),
            (I{0, 8}));
}

// ---- comparisons, logic, Where ---------------------------------------------------------------

TEST(ElementwiseOpsTest, ComparisonsBroadcastToBool) {
  Tensor a = Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<int64_t>({2, 5}, {2, 1});
  EXPECT_EQ(bool_values(run_ok("Less", {a, b})), (std::vector<int>{1, 0, 0, 1, 0, 0}));
  EXPECT_EQ(bool_values(run_ok("LessOrEqual", {a, b})), (std::vector<int>{1, 1, 0, 1, 1, 0}));
  EXPECT_EQ(bool_values(run_ok("Greater", {a, b})), (std::vector<int>{0, 0, 1, 0, 0, 1}));
  EXPECT_EQ(bool_values(run_ok("GreaterOrEqual", {a, b})), (std::vector<int>{0, 1, 1, 0, 1, 1}));
  EXPECT_EQ(bool_values(run_ok("Equal", {a, b})), (std::vector<int>{0, 1, 0, 0, 1, 0}));
  EXPECT_EQ(bool_values(run_ok("Equal", {bools({1, 0}, {2}), bools({1, 1}, {2})})), (std::vector<int>{1, 0}));
  // f16 compares in float; NaN is unordered.
  Tensor h = halfs({1.0f, std::nanf(""), -2.0f}, {3});
  EXPECT_EQ(bool_values(run_ok("Greater", {h, halfs({0.0f}, {1})})), (std::vector<int>{1, 0, 0}));
}

TEST(ElementwiseOpsTest, LogicOps) {
  Tensor a = bools({1, 1, 0, 0}, {2, 2});
  Tensor b = bools({1, 0}, {2});
  EXPECT_EQ(bool_values(run_ok("And", {a, b})), (std::vector<int>{1, 0, 0, 0}));
  EXPECT_EQ(bool_values(run_ok("Or", {a, b})), (std::vector<int>{1, 1, 1, 0}));
  EXPECT_EQ(bool_values(run_ok("Xor", {a, b})), (std::vector<int>{0, 1, 1, 0}));
  EXPECT_EQ(bool_values(run_ok("Not", {a})), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_FALSE(run_op("And", {Tensor::scalar<float>(1), Tensor::scalar<float>(1)}).ok());
}

TEST(ElementwiseOpsTest, WhereBroadcastsThreeWays) {
  Tensor cond = bools({1, 0}, {2, 1});
  Tensor x = Tensor::from_vector<int64_t>({1, 2, 3}, {1, 3});
  Tensor y = Tensor::scalar<int64_t>(-1);
  Tensor out = run_ok("Where", {cond, x, y});
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<int64_t>(out), (I{1, 2, 3, -1, -1, -1}));
  Tensor hx = halfs({0.5f, 1.5f}, {2});
  Tensor hy = halfs({-0.5f, -1.5f}, {2});
  EXPECT_EQ(half_values(run_ok("Where", {bools({0, 1}, {2}), hx, hy})), (F{-0.5f, 1.5f}));
}

// ---- unary math and activations ---------------------------------------------------------------

TEST(ElementwiseOpsTest, UnaryMath) {
  Tensor x = Tensor::from_vector<float>({0.0f, 1.0f, 4.0f}, {3});
  EXPECT_EQ(values<float>(run_ok("Sqrt", {x})), (F{0, 1, 2}));
  auto erf = values<float>(run_ok("Erf", {x}));
  EXPECT_NEAR(erf[1], 0.8427007929f, 1e-6);
  EXPECT_NEAR(values<float>(run_ok("Exp", {x}))[1], 2.718281828f, 1e-6);
  Tensor r = Tensor::from_vector<float>({0.5f, 1.5f, 2.5f, -0.5f, -1.7f}, {5});
  EXPECT_EQ(values<float>(run_ok("Round", {r})), (F{0, 2, 2, -0.0f, -2}));
  EXPECT_EQ(values<float>(run_ok("Floor", {r})), (F{0, 1, 2, -1, -2}));
  EXPECT_EQ(values<float>(run_ok("Ceil", {r})), (F{1, 2, 3, -0.0f, -1}));
  EXPECT_EQ(values<float>(run_ok("Reciprocal", {Tensor::from_vector<float>({2, -4}, {2})})), (F{0.5f, -0.25f}));
  Tensor i = Tensor::from_vector<int64_t>({-3, 0, 5}, {3});
  EXPECT_EQ(values<int64_t>(run_ok("Abs", {i})), (I{3, 0, 5}));
  EXPECT_EQ(values<int64_t>(run_ok("Neg", {i})), (I{3, 0, -5}));
  EXPECT_EQ(values<int64_t>(run_ok("Sign", {i})), (I{-1, 0, 1}));
  auto st = run_op("Sqrt", {i});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::Unsupported);
  EXPECT_NE(st.status().message().find("i64"), std::string::npos);
}

TEST(ElementwiseOpsTest, ErfMatchesStdErfOnEveryPathAndIsa) {
  // Large enough for the parallel path, with a tail; against std::erf in double.
  const int64_t n = 100003;
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) v[static_cast<size_t>(k)] = -6.0f + 12.0f * static_cast<float>(k) / (n - 1);
  v[0] = std::nanf("");
  v[1] = std::numeric_limits<float>::infinity();
  v[2] = -std::numeric_limits<float>::infinity();
  v[3] = 0.0f;
  v[4] = 1e-30f;
  auto check = [&](const std::vector<float>& got, const char* what) {
    ASSERT_EQ(got.size(), v.size());
    EXPECT_TRUE(std::isnan(got[0])) << what;
    EXPECT_EQ(got[1], 1.0f) << what;
    EXPECT_EQ(got[2], -1.0f) << what;
    EXPECT_EQ(got[3], 0.0f) << what;
    double worst = 0;
    for (size_t k = 1; k < v.size(); ++k) worst = std::max(worst, std::fabs(got[k] - std::erf(double(v[k]))));
    EXPECT_LT(worst, 5e-7) << what;
  };
  check(values<float>(run_ok("Erf", {Tensor::from_vector<float>(v, {n})})), "Erf op");
  for (const ErfRowKernels* k : {erf_row_kernels_generic(), erf_row_kernels_avx2()}) {
    if (!k) continue;
    std::vector<float> out(v.size());
    k->erf(v.data(), out.data(), n);
    check(out, k->name);
  }
  // Other float dtypes keep std::erf.
  EXPECT_NEAR(values<double>(run_ok("Erf", {Tensor::from_vector<double>({0.5}, {1})}))[0], std::erf(0.5), 1e-15);
}

TEST(ElementwiseOpsTest, IsNaNAndIsInf) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = Tensor::from_vector<float>({1.0f, std::nanf(""), inf, -inf}, {4});
  EXPECT_EQ(bool_values(run_ok("IsNaN", {x})), (std::vector<int>{0, 1, 0, 0}));
  EXPECT_EQ(bool_values(run_ok("IsInf", {x})), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(bool_values(run_ok("IsInf", {x}, {{"detect_positive", int_attr(0)}})), (std::vector<int>{0, 0, 0, 1}));
}

TEST(ElementwiseOpsTest, Activations) {
  Tensor x = Tensor::from_vector<float>({-2.0f, 0.0f, 3.0f}, {3});
  EXPECT_EQ(values<float>(run_ok("Relu", {x})), (F{0, 0, 3}));
  EXPECT_EQ(values<int64_t>(run_ok("Relu", {Tensor::from_vector<int64_t>({-2, 7}, {2})})), (I{0, 7}));
  EXPECT_EQ(values<float>(run_ok("LeakyRelu", {x}, {{"alpha", float_attr(0.5f)}})), (F{-1, 0, 3}));
  EXPECT_EQ(values<float>(run_ok("ThresholdedRelu", {x}, {{"alpha", float_attr(2.5f)}})), (F{0, 0, 3}));
  auto sig = values<float>(run_ok("Sigmoid", {x}));
  EXPECT_NEAR(sig[0], 1.0f / (1.0f + std::exp(2.0f)), 1e-7);
  EXPECT_EQ(sig[1], 0.5f);
  auto elu = values<float>(run_ok("Elu", {x}, {{"alpha", float_attr(2.0f)}}));
  EXPECT_NEAR(elu[0], 2.0f * (std::exp(-2.0f) - 1.0f), 1e-6);
  EXPECT_EQ(elu[2], 3.0f);
  auto selu = values<float>(run_ok("Selu", {x}));
  EXPECT_NEAR(selu[2], 3.0f * 1.0507009873554805f, 1e-5);
  EXPECT_NEAR(selu[0], 1.0507009873554805f * 1.6732632423543772f * (std::exp(-2.0f) - 1.0f), 1e-5);
  expect_near(values<float>(run_ok("HardSigmoid", {x})), F{0.1f, 0.5f, 1.0f});
  expect_near(values<float>(run_ok("HardSwish", {x})), F{-1.0f / 3.0f, 0.0f, 3.0f});
  EXPECT_EQ(values<float>(run_ok("Softsign", {x})), (F{-2.0f / 3.0f, 0.0f, 0.75f}));
  // Softplus must not overflow for large inputs.
  auto sp = values<float>(run_ok("Softplus", {Tensor::from_vector<float>({100.0f, 0.0f, -100.0f}, {3})}));
  EXPECT_EQ(sp[0], 100.0f);
  EXPECT_NEAR(sp[1], std::log(2.0f), 1e-6);
  EXPECT_NEAR(sp[2], 0.0f, 1e-30);
  auto celu = values<float>(run_ok("Celu", {x}, {{"alpha", float_attr(2.0f)}}));
  EXPECT_NEAR(celu[0], 2.0f * (std::exp(-1.0f) - 1.0f), 1e-6);
  EXPECT_EQ(values<float>(run_ok("Shrink", {x}, {{"lambd", float_attr(1.5f)}, {"bias", float_attr(1.0f)}})),
            (F{-1, 0, 2}));
  auto mish = values<float>(run_ok("Mish", {x}));
  EXPECT_NEAR(mish[2], 3.0f * std::tanh(std::log1p(std::exp(3.0f))), 1e-6);
}

TEST(ElementwiseOpsTest, PReluBroadcastsSlope) {
  Tensor x = Tensor::from_vector<float>({-1, 2, -3, 4, -5, 6}, {2, 3});
  Tensor slope = Tensor::from_vector<float>({0.5f, 1.0f, 2.0f}, {3});
  EXPECT_EQ(values<float>(run_ok("PRelu", {x, slope})), (F{-0.5f, 2, -6, 4, -5, 6}));
  // Opset 6: a 1-D slope is per channel (axis 1): [1,2,2] with slope [2].
  Tensor xc = Tensor::from_vector<float>({-1, -2, -3, 4}, {1, 2, 2});
  Tensor sc = Tensor::from_vector<float>({0.5f, 2.0f}, {2});
  EXPECT_EQ(values<float>(run_ok("PRelu", {xc, sc}, {}, 6)), (F{-0.5f, -1, -6, 4}));
  auto out = run_op("PRelu", {Tensor::zeros(DType::F32, {3}), Tensor::zeros(DType::F32, {2, 3})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
}

TEST(ElementwiseOpsTest, ClipAttributesAndInputs) {
  Tensor x = Tensor::from_vector<float>({-5, 0.5f, 5}, {3});
  // opset 6: bounds are attributes.
  EXPECT_EQ(values<float>(run_ok("Clip", {x}, {{"min", float_attr(-1)}, {"max", float_attr(1)}}, 6)),
            (F{-1, 0.5f, 1}));
  // opset 13: optional scalar inputs; an omitted min leaves the low side open.
  EXPECT_EQ(values<float>(run_ok("Clip", {x, Tensor(), Tensor::scalar<float>(2)}, {}, 13)), (F{-5, 0.5f, 2}));
  Tensor i8 = Tensor::from_vector<int8_t>({-128, 0, 127}, {3});
  EXPECT_EQ(values<int8_t>(run_ok("Clip", {i8, Tensor::scalar<int8_t>(-10), Tensor::scalar<int8_t>(10)}, {}, 13)),
            (std::vector<int8_t>{-10, 0, 10}));
  EXPECT_EQ(values<int8_t>(run_ok("Clip", {i8}, {}, 13)), (std::vector<int8_t>{-128, 0, 127}));
  EXPECT_FALSE(run_op("Clip", {x, Tensor::scalar<double>(0)}, {}, 13).ok());
}

TEST(ElementwiseOpsTest, DropoutInferenceIsIdentityWithTrueMask) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, {3});
  auto out = run_op("Dropout", {x, Tensor::scalar<float>(0.3f)}, {}, 13, 2);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values<float>(out.value()[0]), (F{1, 2, 3}));
  EXPECT_EQ(bool_values(out.value()[1]), (std::vector<int>{1, 1, 1}));
  EXPECT_NE(out.value()[0].raw_data(), x.raw_data());  // a fresh output
  auto training = run_op("Dropout", {x, Tensor::scalar<float>(0.3f), bools({1}, {})}, {}, 13, 2);
  ASSERT_FALSE(training.ok());
  EXPECT_EQ(training.status().code(), StatusCode::Unsupported);
}

// ---- Cast ---------------------------------------------------------------

Attribute to(int onnx_type) { return int_attr(onnx_type); }
constexpr int kFloat = 1, kUint8 = 2, kInt32 = 6, kInt64 = 7, kBool = 9, kFloat16 = 10, kDouble = 11,
              kBFloat16 = 16, kString = 8;

TEST(ElementwiseOpsTest, CastFloatToIntTruncatesAndNaNRules) {
  Tensor x = Tensor::from_vector<float>({-1.7f, 2.9f, 0.0f, std::nanf("")}, {4});
  EXPECT_EQ(values<int32_t>(run_ok("Cast", {x}, {{"to", to(kInt32)}})), (std::vector<int32_t>{-1, 2, 0, 0}));
  // To bool: non-zero (NaN included) is true.
  EXPECT_EQ(bool_values(run_ok("Cast", {x}, {{"to", to(kBool)}})), (std::vector<int>{1, 1, 0, 1}));
  EXPECT_EQ(values<float>(run_ok("Cast", {bools({1, 0}, {2})}, {{"to", to(kFloat)}})), (F{1, 0}));
  // Beyond the target's range: wraps through int64 (numpy on x86).
  EXPECT_EQ(values<uint8_t>(run_ok("Cast", {Tensor::from_vector<float>({300.0f}, {1})}, {{"to", to(kUint8)}})),
            (std::vector<uint8_t>{44}));
  EXPECT_EQ(values<int64_t>(run_ok("Cast", {Tensor::from_vector<double>({1e30}, {1})}, {{"to", to(kInt64)}})),
            (I{std::numeric_limits<int64_t>::max()}));
}

TEST(ElementwiseOpsTest, CastRoundTrips) {
  Tensor f = Tensor::from_vector<float>({0.5f, -3.25f, 65504.0f, 1e-3f}, {4});
  Tensor h = run_ok("Cast", {f}, {{"to", to(kFloat16)}});
  EXPECT_EQ(h.dtype(), DType::F16);
  auto back = values<float>(run_ok("Cast", {h}, {{"to", to(kFloat)}}));
  EXPECT_EQ(back[0], 0.5f);
  EXPECT_EQ(back[1], -3.25f);
  EXPECT_EQ(back[2], 65504.0f);
  EXPECT_NEAR(back[3], 1e-3f, 1e-6f);  // nearest f16 is 0.0010004
  Tensor bf = run_ok("Cast", {f}, {{"to", to(kBFloat16)}});
  auto bback = values<float>(run_ok("Cast", {bf}, {{"to", to(kFloat)}}));
  EXPECT_EQ(bback[0], 0.5f);
  EXPECT_EQ(bback[1], -3.25f);
  Tensor i = Tensor::from_vector<int64_t>({-(int64_t{1} << 40), 7}, {2});
  Tensor d = run_ok("Cast", {i}, {{"to", to(kDouble)}});
  EXPECT_EQ(values<int64_t>(run_ok("Cast", {d}, {{"to", to(kInt64)}})), (I{-(int64_t{1} << 40), 7}));
  // CastLike takes the target dtype from its second input.
  Tensor like = run_ok("CastLike", {Tensor::from_vector<int32_t>({3, -4}, {2}), halfs({0}, {1})});
  EXPECT_EQ(half_values(like), (F{3, -4}));
  auto str = run_op("Cast", {f}, {{"to", to(kString)}});
  ASSERT_FALSE(str.ok());
  EXPECT_EQ(str.status().code(), StatusCode::Unsupported);
}

// ---- the parallel path ----------------------------------------------------------

TEST(ElementwiseOpsTest, LargeTensorsMatchAScalarLoop) {
  const int64_t rows = 700, cols = 1001;  // 700K elements: many TBB chunks, runs split mid-row
  std::vector<float> av(rows * cols), bv(cols), cv(rows);
  for (int64_t i = 0; i < rows * cols; ++i) av[i] = static_cast<float>(i % 977) * 0.5f;
  for (int64_t j = 0; j < cols; ++j) bv[j] = static_cast<float>(j) - 500.0f;
  for (int64_t r = 0; r < rows; ++r) cv[r] = static_cast<float>(r);
  Tensor a = Tensor::from_vector<float>(av, {rows, cols});
  Tensor b = Tensor::from_vector<float>(bv, {cols});
  Tensor c = Tensor::from_vector<float>(cv, {rows, 1});

  auto same = values<float>(run_ok("Add", {a, a}));
  auto row = values<float>(run_ok("Sub", {a, b}));
  auto col = values<float>(run_ok("Mul", {c, b}));  // [rows,1] x [cols] -> [rows,cols]
  auto scalar = values<float>(run_ok("Mul", {a, Tensor::scalar<float>(3.0f)}));
  auto relu = values<float>(run_ok("Relu", {run_ok("Sub", {a, b})}));
  ASSERT_EQ(col.size(), static_cast<size_t>(rows * cols));
  int64_t bad = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      bad += same[i] != av[i] + av[i];
      bad += row[i] != av[i] - bv[j];
      bad += col[i] != cv[r] * bv[j];
      bad += scalar[i] != av[i] * 3.0f;
      bad += relu[i] != std::max(av[i] - bv[j], 0.0f);
    }
  }
  EXPECT_EQ(bad, 0);

  // Three-way broadcast on the parallel path.
  std::vector<int> cond_v(rows);
  for (int64_t r = 0; r < rows; ++r) cond_v[r] = r % 3 == 0;
  auto where = values<float>(run_ok("Where", {bools(cond_v, {rows, 1}), a, b}));
  bad = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) bad += where[r * cols + j] != (cond_v[r] ? av[r * cols + j] : bv[j]);
  EXPECT_EQ(bad, 0);
}

// ---- shape functions ----------------------------------------------------------

TEST(ElementwiseOpsTest, ShapeFunctionBroadcastsSymbolicDims) {
  const OpSchema* add = OpRegistry::builtin().find("", "Add");
  ASSERT_NE(add, nullptr);
  Node node;
  node.op_type = "Add";
  ValueInfo a, b, out;
  a.dtype = DType::F32;
  a.shape = SymShape{SymExpr::symbol("batch"), 1, 3};
  b.dtype = DType::F32;
  b.shape = SymShape{SymExpr::symbol("seq"), 1};
  int counter = 0;
  ShapeContext ctx(node, 17, {&a, &b}, {&out}, &counter);
  ASSERT_TRUE(add->infer(ctx).ok());
  ASSERT_TRUE(out.shape.has_value());
  EXPECT_EQ(sym_shape_to_string(*out.shape), "[batch,seq,3]");
  EXPECT_EQ(out.dtype, DType::F32);

  ValueInfo cmp_out;
  ShapeContext cmp(node, 17, {&a, &b}, {&cmp_out}, &counter);
  ASSERT_TRUE(OpRegistry::builtin().find("", "Less")->infer(cmp).ok());
  EXPECT_EQ(cmp_out.dtype, DType::Bool);
}

TEST(ElementwiseOpsTest, ShapeFunctionCarriesSymbolicValues) {
  // Shape-like [batch, 4] * 2 -> [batch*2, 8]: a later Reshape still knows its dims.
  Node node;
  node.op_type = "Mul";
  ValueInfo dims, two, out;
  dims.dtype = DType::I64;
  dims.shape = SymShape{2};
  dims.sym_values = std::vector<SymExpr>{SymExpr::symbol("batch"), 4};
  two.dtype = DType::I64;
  two.shape = SymShape{};
  two.constant = Tensor::scalar<int64_t>(2);
  int counter = 0;
  ShapeContext ctx(node, 17, {&dims, &two}, {&out}, &counter);
  ASSERT_TRUE(OpRegistry::builtin().find("", "Mul")->infer(ctx).ok());
  ASSERT_TRUE(out.sym_values.has_value());
  ASSERT_EQ(out.sym_values->size(), 2u);
  EXPECT_EQ((*out.sym_values)[0].to_string(), (SymExpr::symbol("batch") * 2).to_string());
  EXPECT_EQ((*out.sym_values)[1].const_value(), 8);

  Node cast;
  cast.op_type = "Cast";
  cast.attributes["to"] = to(kFloat16);
  ValueInfo cast_out;
  ShapeContext cctx(cast, 17, {&dims}, {&cast_out}, &counter);
  ASSERT_TRUE(OpRegistry::builtin().find("", "Cast")->infer(cctx).ok());
  EXPECT_EQ(cast_out.dtype, DType::F16);
  EXPECT_FALSE(cast_out.sym_values.has_value());  // floats are not dims
}

}  // namespace
}  // namespace dj
