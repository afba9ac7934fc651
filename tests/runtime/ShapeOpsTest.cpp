// Kernels of the shape ops and the generators: Shape, Size, Reshape, Flatten,
// Squeeze, Unsqueeze, Identity, Constant, ConstantOfShape, Range, EyeLike,
// OneHot. Expected values are computed by hand; errors must be InvalidArgument
// statuses naming the cause.
#include "tests/runtime/ShapeOpsTestSupport.h"

namespace dj {
namespace {

using namespace shape_test;

TEST(ShapeOpsTest, ShapeWithStartAndEnd) {
  Tensor x = Tensor::zeros(DType::F32, {2, 3, 4, 5});
  EXPECT_EQ(values<int64_t>(run_ok("Shape", {x})), (I{2, 3, 4, 5}));
  EXPECT_EQ(values<int64_t>(run_ok("Shape", {x}, {{"start", int_attr(1)}})), (I{3, 4, 5}));
  EXPECT_EQ(values<int64_t>(run_ok("Shape", {x}, {{"start", int_attr(-3)}, {"end", int_attr(-1)}})), (I{3, 4}));
  // Out-of-range start/end clamp; start past end gives an empty shape.
  EXPECT_EQ(values<int64_t>(run_ok("Shape", {x}, {{"start", int_attr(-10)}, {"end", int_attr(10)}})),
            (I{2, 3, 4, 5}));
  Tensor empty = run_ok("Shape", {x}, {{"start", int_attr(3)}, {"end", int_attr(1)}});
  EXPECT_EQ(empty.shape(), (Shape{0}));
}

TEST(ShapeOpsTest, SizeCountsElementsIncludingEmpty) {
  Tensor y = run_ok("Size", {Tensor::zeros(DType::F16, {3, 0, 2})});
  EXPECT_EQ(y.rank(), 0);
  EXPECT_EQ(values<int64_t>(y), (I{0}));
  EXPECT_EQ(values<int64_t>(run_ok("Size", {Tensor::zeros(DType::Bool, {3, 4})})), (I{12}));
}

TEST(ShapeOpsTest, ReshapeZeroCopiesAndMinusOneInfers) {
  Tensor x = iota_f32({2, 3, 4});
  Tensor y = run_ok("Reshape", {x, i64s({0, -1})});
  EXPECT_EQ(y.shape(), (Shape{2, 12}));
  EXPECT_EQ(values<float>(y), values<float>(x));
  EXPECT_EQ(run_ok("Reshape", {x, i64s({-1, 2, 0})}).shape(), (Shape{3, 2, 4}));
  // allowzero=1: a 0 is a real zero-sized dim.
  Tensor e = Tensor::zeros(DType::F32, {0, 3});
  EXPECT_EQ(run_ok("Reshape", {e, i64s({3, 0})}, {{"allowzero", int_attr(1)}}).shape(), (Shape{3, 0}));
}

TEST(ShapeOpsTest, ReshapeErrorsAreInvalidArgument) {
  Tensor x = iota_f32({2, 3});
  Status st = run_error("Reshape", {x, i64s({4, -1})});
  EXPECT_EQ(st.code(), StatusCode::InvalidArgument);
  EXPECT_NE(st.message().find("cannot reshape [2,3]"), std::string::npos) << st.message();
  EXPECT_EQ(run_error("Reshape", {x, i64s({-1, -1})}).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(run_error("Reshape", {x, i64s({5})}).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(run_error("Reshape", {x, i64s({1, 1, 0})}).code(), StatusCode::InvalidArgument);
}

TEST(ShapeOpsTest, FlattenWithNegativeAndEdgeAxes) {
  Tensor x = iota_f32({2, 3, 4});
  EXPECT_EQ(run_ok("Flatten", {x}).shape(), (Shape{2, 12}));
  EXPECT_EQ(run_ok("Flatten", {x}, {{"axis", int_attr(0)}}).shape(), (Shape{1, 24}));
  EXPECT_EQ(run_ok("Flatten", {x}, {{"axis", int_attr(3)}}).shape(), (Shape{24, 1}));
  EXPECT_EQ(run_ok("Flatten", {x}, {{"axis", int_attr(-1)}}).shape(), (Shape{6, 4}));
  EXPECT_EQ(run_ok("Flatten", {Tensor::zeros(DType::F32, {0, 5})}).shape(), (Shape{0, 5}));
  EXPECT_EQ(run_error("Flatten", {x}, {{"axis", int_attr(4)}}).code(), StatusCode::InvalidArgument);
}

TEST(ShapeOpsTest, SqueezeAndUnsqueezeBothOpsetForms) {
  Tensor x = iota_f32({1, 3, 1, 2});
  EXPECT_EQ(run_ok("Squeeze", {x}).shape(), (Shape{3, 2}));
  EXPECT_EQ(run_ok("Squeeze", {x, i64s({-2})}).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(run_ok("Squeeze", {x}, {{"axes", ints_attr({0})}}, 11).shape(), (Shape{3, 1, 2}));
  Status st = run_error("Squeeze", {x, i64s({1})});
  EXPECT_EQ(st.code(), StatusCode::InvalidArgument);
  EXPECT_NE(st.message().find("size 3"), std::string::npos) << st.message();

  Tensor v = halfs({1, 2, 3}, {3});
  Tensor u = run_ok("Unsqueeze", {v, i64s({0, -1})});
  EXPECT_EQ(u.shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(half_values(u), (F{1, 2, 3}));
  EXPECT_EQ(run_ok("Unsqueeze", {v}, {{"axes", ints_attr({1})}}, 11).shape(), (Shape{3, 1}));
  EXPECT_EQ(run_ok("Unsqueeze", {Tensor::scalar<int64_t>(7), i64s({0})}).shape(), (Shape{1}));
  EXPECT_EQ(run_error("Unsqueeze", {v, i64s({0, 0})}).code(), StatusCode::InvalidArgument);
}

TEST(ShapeOpsTest, IdentityCopiesBools) {
  Tensor b = bools({1, 0, 1}, {3});
  Tensor y = run_ok("Identity", {b});
  EXPECT_EQ(bool_values(y), (std::vector<int>{1, 0, 1}));
  EXPECT_NE(y.raw_data(), b.raw_data());  // a fresh tensor
}

TEST(ShapeOpsTest, ConstantFromEachAttributeKind) {
  EXPECT_EQ(values<float>(run_ok("Constant", {}, {{"value", tensor_attr(f32({1.5f, 2}, {2}))}})), (F{1.5f, 2}));
  Tensor s = run_ok("Constant", {}, {{"value_float", float_attr(0.25f)}});
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(values<float>(s), (F{0.25f}));
  EXPECT_EQ(values<float>(run_ok("Constant", {}, {{"value_floats", floats_attr({1, 2, 3})}})), (F{1, 2, 3}));
  EXPECT_EQ(values<int64_t>(run_ok("Constant", {}, {{"value_int", int_attr(-4)}})), (I{-4}));
  EXPECT_EQ(values<int64_t>(run_ok("Constant", {}, {{"value_ints", ints_attr({5, 6})}})), (I{5, 6}));
}

TEST(ShapeOpsTest, ConstantOfShapeFillsValueOrZero) {
  Tensor y = run_ok("ConstantOfShape", {i64s({2, 3})});
  EXPECT_EQ(y.dtype(), DType::F32);
  EXPECT_EQ(values<float>(y), F(6, 0.0f));
  Tensor z = run_ok("ConstantOfShape", {i64s({4})}, {{"value", tensor_attr(i64({7}, {1}))}});
  EXPECT_EQ(values<int64_t>(z), (I{7, 7, 7, 7}));
  Tensor h = run_ok("ConstantOfShape", {i64s({2})}, {{"value", tensor_attr(halfs({1.5f}, {1}))}});
  EXPECT_EQ(half_values(h), (F{1.5f, 1.5f}));
  EXPECT_EQ(run_ok("ConstantOfShape", {i64s({3, 0})}).numel(), 0);
  EXPECT_EQ(run_error("ConstantOfShape", {i64s({-1})}).code(), StatusCode::InvalidArgument);
}

TEST(ShapeOpsTest, RangeIntFloatAndEmpty) {
  auto i32 = [](int32_t v) { return Tensor::scalar<int32_t>(v); };
  Tensor a = run_ok("Range", {i32(10), i32(4), i32(-3)});
  EXPECT_EQ(values<int32_t>(a), (std::vector<int32_t>{10, 7}));
  Tensor f = run_ok("Range", {Tensor::scalar<float>(1), Tensor::scalar<float>(2), Tensor::scalar<float>(0.25f)});
  EXPECT_EQ(values<float>(f), (F{1, 1.25f, 1.5f, 1.75f}));
  EXPECT_EQ(run_ok("Range", {i32(5), i32(1), i32(1)}).numel(), 0);
  EXPECT_EQ(run_error("Range", {i32(0), i32(3), i32(0)}).code(), StatusCode::InvalidArgument);
}

TEST(ShapeOpsTest, EyeLikeWithOffsetAndDtype) {
  Tensor x = Tensor::zeros(DType::I32, {3, 4});
  Tensor y = run_ok("EyeLike", {x}, {{"k", int_attr(1)}});
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  Tensor b = run_ok("EyeLike", {x}, {{"k", int_attr(-1)}, {"dtype", int_attr(9)}});  // 9 = BOOL
  EXPECT_EQ(bool_values(b), (std::vector<int>{0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(ShapeOpsTest, OneHotAxisNegativeAndOutOfRangeIndices) {
  Tensor idx = i64({0, -1, 5, 2}, {4});  // -1 wraps to 2; 5 is out of range: all "off"
  Tensor vals = f32({0, 1}, {2});
  Tensor y = run_ok("OneHot", {idx, Tensor::scalar<int64_t>(3), vals});
  EXPECT_EQ(y.shape(), (Shape{4, 3}));
  EXPECT_EQ(values<float>(y), (F{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}));
  Tensor t = run_ok("OneHot", {i64({1, 0}, {2}), Tensor::scalar<float>(2), f32({-1, 5}, {2})}, {{"axis", int_attr(0)}});
  EXPECT_EQ(t.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<float>(t), (F{-1, 5, 5, -1}));  // out[d][i] = idx[i] == d
}

}  // namespace
}  // namespace dj
