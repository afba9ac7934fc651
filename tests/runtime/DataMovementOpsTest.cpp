// Kernels of the data-movement ops: Transpose, Concat, Split, Slice, Pad,
// Expand, Tile, DepthToSpace, SpaceToDepth, Trilu, ReverseSequence, Compress,
// NonZero. Small cases are computed by hand; the large (parallel, tiled) cases
// are checked against a plain index-arithmetic loop written here.
#include "tests/runtime/ShapeOpsTestSupport.h"

namespace dj {
namespace {

using namespace shape_test;

// out[j...] = in[perm...] by explicit index arithmetic: the reference.
std::vector<float> naive_transpose(const std::vector<float>& in, const Shape& shape, const std::vector<int64_t>& perm) {
  const size_t r = shape.size();
  Strides is = contiguous_strides(shape);
  Shape out_shape;
  for (int64_t p : perm) out_shape.push_back(shape[p]);
  std::vector<float> out(in.size());
  std::vector<int64_t> idx(r, 0);
  for (size_t o = 0; o < out.size(); ++o) {
    int64_t off = 0;
    for (size_t j = 0; j < r; ++j) off += idx[j] * is[perm[j]];
    out[o] = in[off];
    for (size_t j = r; j-- > 0;) {
      if (++idx[j] < out_shape[j]) break;
      idx[j] = 0;
    }
  }
  return out;
}

TEST(DataMovementOpsTest, Transpose2DAndDefaultPerm) {
  Tensor x = iota_f32({2, 3});
  Tensor y = run_ok("Transpose", {x});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<float>(y), (F{0, 3, 1, 4, 2, 5}));
}

TEST(DataMovementOpsTest, TransposeAllPermsOfRank4MatchReference) {
  const Shape shape{2, 3, 1, 5};
  Tensor x = iota_f32(shape);
  std::vector<int64_t> perm{0, 1, 2, 3};
  do {
    Tensor y = run_ok("Transpose", {x}, {{"perm", ints_attr(perm)}});
    EXPECT_EQ(values<float>(y), naive_transpose(values<float>(x), shape, perm)) << "perm " << shape_to_string(perm);
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(DataMovementOpsTest, TransposeLargeLastTwoSwapIsTiledAndParallel) {
  const Shape shape{3, 130, 257};  // > 32K elements, not a multiple of the tile
  Tensor x = iota_f32(shape);
  Tensor y = run_ok("Transpose", {x}, {{"perm", ints_attr({0, 2, 1})}});
  EXPECT_EQ(values<float>(y), naive_transpose(values<float>(x), shape, {0, 2, 1}));
  Tensor z = run_ok("Transpose", {x}, {{"perm", ints_attr({2, 0, 1})}});
  EXPECT_EQ(values<float>(z), naive_transpose(values<float>(x), shape, {2, 0, 1}));
}

TEST(DataMovementOpsTest, TransposeHalfAndBoolByElementSize) {
  Tensor h = halfs({1, 2, 3, 4, 5, 6}, {3, 2});
  EXPECT_EQ(half_values(run_ok("Transpose", {h})), (F{1, 3, 5, 2, 4, 6}));
  Tensor b = bools({1, 0, 0, 1, 1, 0}, {2, 3});
  EXPECT_EQ(bool_values(run_ok("Transpose", {b})), (std::vector<int>{1, 1, 0, 1, 0, 0}));
  EXPECT_EQ(run_ok("Transpose", {Tensor::zeros(DType::F32, {0, 4})}).shape(), (Shape{4, 0}));
  EXPECT_EQ(run_error("Transpose", {h}, {{"perm", ints_attr({0, 0})}}).code(), StatusCode::InvalidArgument);
}

TEST(DataMovementOpsTest, ConcatNegativeAxisWithEmptyInput) {
  Tensor a = f32({1, 2, 3, 4}, {2, 2});
  Tensor b = f32({5, 6}, {2, 1});
  Tensor e = Tensor::zeros(DType::F32, {2, 0});
  Tensor y = run_ok("Concat", {a, e, b}, {{"axis", int_attr(-1)}});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (F{1, 2, 5, 3, 4, 6}));
  Tensor z = run_ok("Concat", {a, f32({9, 9}, {1, 2})}, {{"axis", int_attr(0)}});
  EXPECT_EQ(values<float>(z), (F{1, 2, 3, 4, 9, 9}));
  EXPECT_EQ(run_error("Concat", {a, b}, {{"axis", int_attr(0)}}).code(), StatusCode::InvalidArgument);
}

TEST(DataMovementOpsTest, SplitBySizesAttributeInputAndEqual) {
  Tensor x = iota_f32({2, 5});
  auto parts = run_op("Split", {x, i64s({2, 3})}, {{"axis", int_attr(1)}}, 13, 2);
  ASSERT_TRUE(parts.ok()) << parts.status().to_string();
  EXPECT_EQ(values<float>(parts.value()[0]), (F{0, 1, 5, 6}));
  EXPECT_EQ(values<float>(parts.value()[1]), (F{2, 3, 4, 7, 8, 9}));
  auto old = run_op("Split", {x}, {{"axis", int_attr(-1)}, {"split", ints_attr({4, 1})}}, 11, 2);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(values<float>(old.value()[1]), (F{4, 9}));
  auto equal = run_op("Split", {x}, {}, 13, 2);
  ASSERT_TRUE(equal.ok());
  EXPECT_EQ(values<float>(equal.value()[1]), (F{5, 6, 7, 8, 9}));
  auto zero = run_op("Split", {x, i64s({0, 5})}, {{"axis", int_attr(1)}}, 13, 2);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero.value()[0].shape(), (Shape{2, 0}));
  EXPECT_FALSE(run_op("Split", {x, i64s({2, 2})}, {{"axis", int_attr(1)}}, 13, 2).ok());
}

TEST(DataMovementOpsTest, SliceStepsNegativeAxesAndClamping) {
  Tensor x = iota_f32({3, 4});
  // Rows 0..2 step 2, columns 3 down to 1 (negative step), axes given negative.
  Tensor y = run_ok("Slice", {x, i64s({0, -1}), i64s({100, 0}), i64s({-2, 1}), i64s({2, -1})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (F{3, 2, 1, 11, 10, 9}));
  // Full reversal with the INT64 extremes exporters use.
  Tensor r = run_ok("Slice", {f32({1, 2, 3}, {3}), i64s({-1}), i64s({INT64_MIN}), i64s({0}), i64s({-1})});
  EXPECT_EQ(values<float>(r), (F{3, 2, 1}));
  // Start beyond the end: empty.
  EXPECT_EQ(run_ok("Slice", {x, i64s({10}), i64s({20}), i64s({1})}).shape(), (Shape{3, 0}));
  // Opset 9 attribute form.
  Tensor a = run_ok("Slice", {x}, {{"starts", ints_attr({1})}, {"ends", ints_attr({3})}, {"axes", ints_attr({1})}}, 9);
  EXPECT_EQ(values<float>(a), (F{1, 2, 5, 6, 9, 10}));
  EXPECT_EQ(run_error("Slice", {x, i64s({0}), i64s({1}), i64s({0}), i64s({0})}).code(), StatusCode::InvalidArgument);
}

TEST(DataMovementOpsTest, SliceLeadingAxisCopiesWholeTrailingBlocks) {
  // Trailing axes taken whole fold into one block per index of the leading axis.
  Tensor x = iota_f32({4, 2, 3});
  Tensor y = run_ok("Slice", {x, i64s({1}), i64s({3}), i64s({0})});
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(values<float>(y), (F{6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}));
  Tensor r = run_ok("Slice", {x, i64s({-1}), i64s({INT64_MIN}), i64s({0}), i64s({-2})});
  EXPECT_EQ(values<float>(r), (F{18, 19, 20, 21, 22, 23, 6, 7, 8, 9, 10, 11}));
  Tensor p = run_ok("Pad", {iota_f32({1, 2, 2}), i64s({1, 0, 0, 0, 0, 0})});
  EXPECT_EQ(values<float>(p), (F{0, 0, 0, 0, 0, 1, 2, 3}));
}

TEST(DataMovementOpsTest, SliceLargeRowsParallel) {
  Tensor x = iota_f32({300, 200});
  Tensor y = run_ok("Slice", {x, i64s({5}), i64s({-5}), i64s({1})});
  ASSERT_EQ(y.shape(), (Shape{300, 190}));
  const float* d = y.data<float>();
  EXPECT_EQ(d[0], 5.0f);
  EXPECT_EQ(d[189], 194.0f);
  EXPECT_EQ(d[190 * 299 + 7], 299.0f * 200 + 12);
}

TEST(DataMovementOpsTest, PadConstantReflectEdgeAndOldForm) {
  Tensor x = f32({1, 2, 3}, {1, 3});
  Tensor c = run_ok("Pad", {x, i64s({0, 2, 0, 1}), Tensor::scalar<float>(9)});
  EXPECT_EQ(values<float>(c), (F{9, 9, 1, 2, 3, 9}));
  Tensor r = run_ok("Pad", {x, i64s({0, 2, 0, 2})}, {{"mode", string_attr("reflect")}});
  EXPECT_EQ(values<float>(r), (F{3, 2, 1, 2, 3, 2, 1}));
  Tensor e = run_ok("Pad", {x, i64s({1, 1, 0, 1})}, {{"mode", string_attr("edge")}});
  EXPECT_EQ(e.shape(), (Shape{2, 5}));
  EXPECT_EQ(values<float>(e), (F{1, 1, 2, 3, 3, 1, 1, 2, 3, 3}));
  // Negative pads crop.
  EXPECT_EQ(values<float>(run_ok("Pad", {x, i64s({0, -1, 0, 0})})), (F{2, 3}));
  Tensor old = run_ok("Pad", {x}, {{"pads", ints_attr({0, 1, 0, 0})}, {"value", float_attr(-1)}}, 2);
  EXPECT_EQ(values<float>(old), (F{-1, 1, 2, 3}));
  Tensor b = run_ok("Pad", {bools({1, 1}, {2}), i64s({1, 0})});
  EXPECT_EQ(bool_values(b), (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(run_error("Pad", {x, i64s({0, 1})}).code(), StatusCode::InvalidArgument);
}

TEST(DataMovementOpsTest, ExpandAndTile) {
  Tensor x = f32({1, 2, 3}, {3, 1});
  Tensor y = run_ok("Expand", {x, i64s({2, 1, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(values<float>(y), (F{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(run_error("Expand", {x, i64s({3, 4, 5})}).code(), StatusCode::InvalidArgument);
  Tensor h = halfs({1, 2}, {1, 2});
  Tensor t = run_ok("Tile", {h, i64s({2, 2})});
  EXPECT_EQ(t.shape(), (Shape{2, 4}));
  EXPECT_EQ(half_values(t), (F{1, 2, 1, 2, 1, 2, 1, 2}));
  EXPECT_EQ(run_ok("Tile", {h, i64s({0, 3})}).shape(), (Shape{0, 6}));
}

TEST(DataMovementOpsTest, DepthToSpaceModesAndInverse) {
  Tensor x = iota_f32({1, 4, 1, 2});
  Tensor dcr = run_ok("DepthToSpace", {x}, {{"blocksize", int_attr(2)}});
  EXPECT_EQ(dcr.shape(), (Shape{1, 1, 2, 4}));
  // DCR: channel = (bh*2 + bw); out[h*2+bh][w*2+bw] = x[bh*2+bw][h][w].
  EXPECT_EQ(values<float>(dcr), (F{0, 2, 1, 3, 4, 6, 5, 7}));
  Tensor crd = run_ok("DepthToSpace", {x}, {{"blocksize", int_attr(2)}, {"mode", string_attr("CRD")}});
  EXPECT_EQ(values<float>(crd), (F{0, 2, 1, 3, 4, 6, 5, 7}));  // one output channel: CRD == DCR
  Tensor back = run_ok("SpaceToDepth", {dcr}, {{"blocksize", int_attr(2)}});
  EXPECT_EQ(values<float>(back), values<float>(x));
}

TEST(DataMovementOpsTest, TriluUpperLowerWithK) {
  Tensor x = iota_f32({3, 3});
  EXPECT_EQ(values<float>(run_ok("Trilu", {x})), (F{0, 1, 2, 0, 4, 5, 0, 0, 8}));
  EXPECT_EQ(values<float>(run_ok("Trilu", {x, Tensor::scalar<int64_t>(-1)}, {{"upper", int_attr(0)}})),
            (F{0, 0, 0, 3, 0, 0, 6, 7, 0}));
  EXPECT_EQ(values<float>(run_ok("Trilu", {x, Tensor::scalar<int64_t>(5)})), F(9, 0.0f));
}

TEST(DataMovementOpsTest, ReverseSequenceTimeMajor) {
  Tensor x = iota_f32({3, 2});  // [time, batch]
  Tensor y = run_ok("ReverseSequence", {x, i64s({3, 2})});
  EXPECT_EQ(values<float>(y), (F{4, 3, 2, 1, 0, 5}));
  EXPECT_EQ(run_error("ReverseSequence", {x, i64s({4, 1})}).code(), StatusCode::InvalidArgument);
}

TEST(DataMovementOpsTest, CompressWithAndWithoutAxis) {
  Tensor x = iota_f32({2, 3});
  EXPECT_EQ(values<float>(run_ok("Compress", {x, bools({0, 1, 1}, {3})}, {{"axis", int_attr(-1)}})), (F{1, 2, 4, 5}));
  EXPECT_EQ(values<float>(run_ok("Compress", {x, bools({1, 0, 0, 0, 0, 1}, {6})})), (F{0, 5}));
  EXPECT_EQ(run_ok("Compress", {x, bools({0, 0}, {2})}, {{"axis", int_attr(0)}}).shape(), (Shape{0, 3}));
}

TEST(DataMovementOpsTest, NonZeroRowMajorOrder) {
  Tensor x = halfs({0, 1.5f, 0, -2, 0, 3}, {2, 3});
  Tensor y = run_ok("NonZero", {x});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<int64_t>(y), (I{0, 1, 1, 1, 0, 2}));
  EXPECT_EQ(run_ok("NonZero", {bools({0, 0}, {2})}).shape(), (Shape{1, 0}));
}

}  // namespace
}  // namespace dj
