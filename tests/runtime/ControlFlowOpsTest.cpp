// Tests of If, Loop and Scan: small models in ONNX's text syntax, loaded with
// the frontend and run by the interpreter, checked against hand-computed values;
// plus the load-time shapes their shape functions give.
#include <gtest/gtest.h>

#include <vector>

#include "frontend/OnnxLoader.h"
#include "runtime/Interpreter.h"

namespace dj {
namespace {

std::shared_ptr<const Model> load_text(const char* text) {
  auto m = load_onnx_text(text);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  if (!m.ok()) return nullptr;
  return std::make_shared<const Model>(std::move(m).value());
}

// ONNX's text syntax (1.12) cannot write an omitted input, so a test writes a
// placeholder and then drops input `index` of the first `op_type` node.
std::shared_ptr<const Model> load_text_dropping_input(const char* text, const std::string& op_type, size_t index) {
  auto m = load_onnx_text(text);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  if (!m.ok()) return nullptr;
  Model model = std::move(m).value();
  for (Node& node : model.graph->nodes) {
    if (node.op_type != op_type) continue;
    node.inputs[index] = kNoValue;
    break;
  }
  model.graph->finalize();
  return std::make_shared<const Model>(std::move(model));
}

template <typename T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// The load-time shape of the main graph's output i, e.g. "[loop0,2]".
std::string output_shape(const Model& m, size_t i) {
  const ValueInfo& v = m.graph->value(m.graph->outputs[i]);
  return v.shape ? sym_shape_to_string(*v.shape) : "unknown";
}

// sum = 0 + 1 + ... + (n-1), and the iteration numbers as a scan output.
constexpr const char* kLoopSum = R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (int64 n) => (int64 s, int64[k] iters) {
  go = Constant <value = bool {1}> ()
  zero = Constant <value = int64 {0}> ()
  s, iters = Loop(n, go, zero) <body = sum_body (int64 i, bool c, int64 acc) => (bool c_out, int64 acc_out, int64 i_out) {
    c_out = Identity(c)
    acc_out = Add(acc, i)
    i_out = Identity(i)
  }>
}
)";

TEST(ControlFlowOps, LoopSumsToNGivenAtRunTime) {
  auto model = load_text(kLoopSum);
  ASSERT_TRUE(model);
  Interpreter interp(model);
  auto out = interp.run({Tensor::scalar<int64_t>(5)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values<int64_t>((*out)[0]), (std::vector<int64_t>{10}));
  EXPECT_EQ((*out)[1].shape(), (Shape{5}));
  EXPECT_EQ(values<int64_t>((*out)[1]), (std::vector<int64_t>{0, 1, 2, 3, 4}));

  // Zero iterations: the carried input passes through, the scan output is empty.
  auto none = interp.run({Tensor::scalar<int64_t>(0)});
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_EQ(values<int64_t>((*none)[0]), (std::vector<int64_t>{0}));
  EXPECT_EQ((*none)[1].shape(), (Shape{0}));
  EXPECT_EQ((*none)[1].dtype(), DType::I64);
}

TEST(ControlFlowOps, LoopShapeFunctionGivesTripCountDim) {
  auto model = load_text(kLoopSum);
  ASSERT_TRUE(model);
  EXPECT_EQ(output_shape(*model, 0), "[]");
  const ValueInfo& iters = model->graph->value(model->graph->outputs[1]);
  ASSERT_TRUE(iters.shape.has_value());
  ASSERT_EQ(iters.shape->size(), 1u);
  EXPECT_TRUE((*iters.shape)[0].is_data_dependent()) << output_shape(*model, 1);
}

TEST(ControlFlowOps, WhileLoopWithoutTripCountStopsOnCond) {
  // Doubles x until it reaches `limit` (an outer value the body captures).
  auto model = load_text_dropping_input(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float x, float limit) => (float y, float[k] seen) {
  go = Less(x, limit)
  unused = Constant <value = int64 {1}> ()
  y, seen = Loop(unused, go, x) <body = double_body (int64 i, bool c, float v) => (bool c_out, float v_out, float v_seen) {
    two = Constant <value = float {2.0}> ()
    v_out = Mul(v, two)
    c_out = Less(v_out, limit)
    v_seen = Identity(v)
  }>
}
)", "Loop", 0);
  ASSERT_TRUE(model);
  Interpreter interp(model);
  auto out = interp.run({Tensor::scalar<float>(3.f), Tensor::scalar<float>(40.f)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{48.f}));
  EXPECT_EQ(values<float>((*out)[1]), (std::vector<float>{3.f, 6.f, 12.f, 24.f}));
  // cond false from the start: no iteration.
  auto none = interp.run({Tensor::scalar<float>(50.f), Tensor::scalar<float>(40.f)});
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_EQ(values<float>((*none)[0]), (std::vector<float>{50.f}));
  EXPECT_EQ((*none)[1].numel(), 0);
}

TEST(ControlFlowOps, LoopWithTripCountOnlyAndGrowingCarriedTensor) {
  // Appends float(i) to the carried tensor each iteration: its shape changes
  // between iterations. No cond input: M alone bounds the loop.
  auto model = load_text_dropping_input(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (int64 n, float[m] start) => (float[r] grown) {
  stop = Constant <value = bool {0}> ()
  grown = Loop(n, stop, start) <body = grow_body (int64 i, bool c, float[q] v) => (bool c_out, float[p] v_out) {
    c_out = Identity(c)
    zero_axis = Constant <value = int64[1] {0}> ()
    fi = Cast <to = 1> (i)
    fi1 = Unsqueeze(fi, zero_axis)
    v_out = Concat <axis = 0> (v, fi1)
  }>
}
)", "Loop", 1);
  ASSERT_TRUE(model);
  Interpreter interp(model);
  auto out = interp.run({Tensor::scalar<int64_t>(4), Tensor::from_vector<float>({7.f, 8.f}, {2})});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].shape(), (Shape{6}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{7.f, 8.f, 0.f, 1.f, 2.f, 3.f}));
  // The carried value's shape is not the input's: the shape function gives a rank-1 fresh dim.
  const ValueInfo& grown = model->graph->value(model->graph->outputs[0]);
  ASSERT_TRUE(grown.shape.has_value());
  ASSERT_EQ(grown.shape->size(), 1u);
  EXPECT_FALSE((*grown.shape)[0].equals(SymExpr::symbol("m")));
}

TEST(ControlFlowOps, LoopScanOutputsKeepDeclaredShapeWhenEmpty) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (int64 n, float[2] x) => (float[k, 2] rows) {
  go = Constant <value = bool {1}> ()
  rows = Loop(n, go) <body = rows_body (int64 i, bool c) => (bool c_out, float[2] row) {
    c_out = Identity(c)
    fi = Cast <to = 1> (i)
    row = Mul(x, fi)
  }>
}
)");
  ASSERT_TRUE(model);
  Interpreter interp(model);
  Tensor x = Tensor::from_vector<float>({1.f, -1.f}, {2});
  auto out = interp.run({Tensor::scalar<int64_t>(3), x});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{0.f, -0.f, 1.f, -1.f, 2.f, -2.f}));
  auto none = interp.run({Tensor::scalar<int64_t>(0), x});
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_EQ((*none)[0].shape(), (Shape{0, 2}));
  EXPECT_EQ((*none)[0].dtype(), DType::F32);
}

TEST(ControlFlowOps, LoopScanOutputWithChangingShapeIsAnError) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (int64 n) => (float[k, r] rows) {
  go = Constant <value = bool {1}> ()
  rows = Loop(n, go) <body = bad_body (int64 i, bool c) => (bool c_out, float[q] row) {
    c_out = Identity(c)
    i1 = Constant <value = int64 {1}> ()
    len = Add(i, i1)
    len1 = Reshape(len, i1)
    row = ConstantOfShape <value = float {1.0}> (len1)
  }>
}
)");
  ASSERT_TRUE(model);
  Interpreter interp(model);
  auto out = interp.run({Tensor::scalar<int64_t>(3)});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(out.status().message().find("scan output 0 of iteration 1 is f32[2]"), std::string::npos)
      << out.status().message();
}

TEST(ControlFlowOps, IfBranchesWithDifferentShapesCaptureOuterValues) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (bool c, float[n] x) => (float[m] y) {
  y = If(c) <
    then_branch = g1 () => (float[n] t) { t = Neg(x) },
    else_branch = g2 () => (float[e] e) { e = Concat <axis = 0> (x, x) }
  >
}
)");
  ASSERT_TRUE(model);
  Interpreter interp(model);
  Tensor x = Tensor::from_vector<float>({1.f, 2.f}, {2});
  auto taken = interp.run({Tensor::scalar<bool>(true), x});
  ASSERT_TRUE(taken.ok()) << taken.status().to_string();
  EXPECT_EQ(values<float>((*taken)[0]), (std::vector<float>{-1.f, -2.f}));
  auto other = interp.run({Tensor::scalar<bool>(false), x});
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  EXPECT_EQ(values<float>((*other)[0]), (std::vector<float>{1.f, 2.f, 1.f, 2.f}));
  // The branches disagree on the dim: a fresh data-dependent dim of rank 1.
  const ValueInfo& y = model->graph->value(model->graph->outputs[0]);
  ASSERT_TRUE(y.shape.has_value());
  ASSERT_EQ(y.shape->size(), 1u);
  EXPECT_TRUE((*y.shape)[0].is_data_dependent()) << output_shape(*model, 0);
}

TEST(ControlFlowOps, IfShapeFunctionKeepsAgreeingDims) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (bool c, float[n, 3] x) => (float[a, b] y) {
  y = If(c) <
    then_branch = g1 () => (float[n, 3] t) { t = Neg(x) },
    else_branch = g2 () => (float[n, 3] e) { e = Abs(x) }
  >
}
)");
  ASSERT_TRUE(model);
  EXPECT_EQ(output_shape(*model, 0), "[n,3]");
}

TEST(ControlFlowOps, NestedIfInsideLoop) {
  // acc += x on even iterations and -= x on odd ones; x is captured two levels up.
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (int64 n, float[2] x) => (float[2] acc) {
  go = Constant <value = bool {1}> ()
  zeros = Sub(x, x)
  acc = Loop(n, go, zeros) <body = alt_body (int64 i, bool c, float[2] a) => (bool c_out, float[2] a_out) {
    c_out = Identity(c)
    two = Constant <value = int64 {2}> ()
    zero = Constant <value = int64 {0}> ()
    r = Mod(i, two)
    even = Equal(r, zero)
    a_out = If(even) <
      then_branch = add_x () => (float[2] p) { p = Add(a, x) },
      else_branch = sub_x () => (float[2] q) { q = Sub(a, x) }
    >
  }>
}
)");
  ASSERT_TRUE(model);
  Interpreter interp(model);
  Tensor x = Tensor::from_vector<float>({1.5f, -2.f}, {2});
  auto odd = interp.run({Tensor::scalar<int64_t>(5), x});  // + - + - + = one x
  ASSERT_TRUE(odd.ok()) << odd.status().to_string();
  EXPECT_EQ(values<float>((*odd)[0]), (std::vector<float>{1.5f, -2.f}));
  auto even = interp.run({Tensor::scalar<int64_t>(4), x});
  ASSERT_TRUE(even.ok()) << even.status().to_string();
  EXPECT_EQ(values<float>((*even)[0]), (std::vector<float>{0.f, 0.f}));
  EXPECT_EQ(output_shape(*model, 0), "[2]");
}

TEST(ControlFlowOps, LoopCarriedShapeKeptWhenBodyKeepsIt) {
  // The body maps float[n] to float[n]: the output keeps the outer symbolic shape.
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (int64 trips, float[n] x) => (float[m] y) {
  go = Constant <value = bool {1}> ()
  y = Loop(trips, go, x) <body = keep_body (int64 i, bool c, float[n] a) => (bool c_out, float[n] a_out) {
    c_out = Identity(c)
    a_out = Add(a, x)
  }>
}
)");
  ASSERT_TRUE(model);
  EXPECT_EQ(output_shape(*model, 0), "[n]");
  Interpreter interp(model);
  auto out = interp.run({Tensor::scalar<int64_t>(3), Tensor::from_vector<float>({1.f, 2.f, 3.f}, {3})});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{4.f, 8.f, 12.f}));
}

TEST(ControlFlowOps, ScanReverseInputAndOutputAxis) {
  // Running sums of x's rows walked from the last row; outputs stacked along axis 1.
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float[2] init, float[3, 2] x) => (float[2] total, float[2, 3] sums) {
  total, sums = Scan(init, x) <num_scan_inputs = 1, scan_input_directions = [1], scan_output_axes = [1],
    body = scan_body (float[2] s, float[2] row) => (float[2] s_out, float[2] s_seen) {
      s_out = Add(s, row)
      s_seen = Identity(s_out)
    }>
}
)");
  ASSERT_TRUE(model);
  EXPECT_EQ(output_shape(*model, 1), "[2,3]");
  Interpreter interp(model);
  auto out = interp.run({Tensor::from_vector<float>({0.f, 100.f}, {2}),
                         Tensor::from_vector<float>({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {3, 2})});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{9.f, 112.f}));
  // Step sums (rows 2, 1, 0): [5,106], [8,110], [9,112]; laid out [2, 3].
  EXPECT_EQ((*out)[1].shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>((*out)[1]), (std::vector<float>{5.f, 8.f, 9.f, 106.f, 110.f, 112.f}));
}

TEST(ControlFlowOps, ScanReverseOutputDirection) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float[1] init, float[3, 1] x) => (float[1] total, float[3, 1] sums) {
  total, sums = Scan(init, x) <num_scan_inputs = 1, scan_output_directions = [1],
    body = scan_body (float[1] s, float[1] row) => (float[1] s_out, float[1] s_seen) {
      s_out = Add(s, row)
      s_seen = Identity(s_out)
    }>
}
)");
  ASSERT_TRUE(model);
  Interpreter interp(model);
  auto out = interp.run({Tensor::from_vector<float>({0.f}, {1}), Tensor::from_vector<float>({1.f, 2.f, 3.f}, {3, 1})});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values<float>((*out)[1]), (std::vector<float>{6.f, 3.f, 1.f}));
}

TEST(ControlFlowOps, Scan8WithSequenceLengths) {
  // Opset 8: batch-major, each batch entry scanned over its own length; scan
  // outputs are zero past the length.
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 8]>
agraph (int32[2] lens, float[2, 1] init, float[2, 3, 1] x) => (float[2, 1] total, float[2, 3, 1] sums) {
  total, sums = Scan(lens, init, x) <num_scan_inputs = 1,
    body = scan_body (float[1] s, float[1] row) => (float[1] s_out, float[1] s_seen) {
      s_out = Add(s, row)
      s_seen = Identity(s_out)
    }>
}
)");
  ASSERT_TRUE(model);
  Interpreter interp(model);
  auto out = interp.run({Tensor::from_vector<int32_t>({3, 1}, {2}), Tensor::from_vector<float>({0.f, 10.f}, {2, 1}),
                         Tensor::from_vector<float>({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3, 1})});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values<float>((*out)[0]), (std::vector<float>{6.f, 14.f}));
  EXPECT_EQ(values<float>((*out)[1]), (std::vector<float>{1.f, 3.f, 6.f, 14.f, 0.f, 0.f}));
}

}  // namespace
}  // namespace dj
