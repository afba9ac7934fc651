// Kernels of the index-driven ops: Gather, GatherElements, GatherND (reads) and
// ScatterND, ScatterElements, Scatter (writes). Negative indices wrap; an index
// out of range must be an InvalidArgument naming it, never a bad read/write.
#include "tests/runtime/ShapeOpsTestSupport.h"

namespace dj {
namespace {

using namespace shape_test;

TEST(GatherOpsTest, GatherAxis0And1WithNegativeIndices) {
  Tensor x = iota_f32({3, 2});
  Tensor y = run_ok("Gather", {x, i64({2, -3, -1}, {3})});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<float>(y), (F{4, 5, 0, 1, 4, 5}));
  Tensor z = run_ok("Gather", {x, Tensor::from_vector<int32_t>({1, 0, 1, 1}, {2, 2})}, {{"axis", int_attr(-1)}});
  EXPECT_EQ(z.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(values<float>(z), (F{1, 0, 1, 1, 3, 2, 3, 3, 5, 4, 5, 5}));
  // A scalar index drops the axis.
  Tensor s = run_ok("Gather", {x, Tensor::scalar<int64_t>(1)});
  EXPECT_EQ(s.shape(), (Shape{2}));
  EXPECT_EQ(values<float>(s), (F{2, 3}));
}

TEST(GatherOpsTest, GatherOutOfRangeNamesTheIndex) {
  Tensor x = iota_f32({5});
  Status st = run_error("Gather", {x, i64({1, 7}, {2})});
  EXPECT_EQ(st.code(), StatusCode::InvalidArgument);
  EXPECT_NE(st.message().find("index 7 out of range for axis 0 of size 5"), std::string::npos) << st.message();
  EXPECT_EQ(run_error("Gather", {x, i64({-6}, {1})}).code(), StatusCode::InvalidArgument);
}

TEST(GatherOpsTest, GatherBoolHalfAndEmpty) {
  EXPECT_EQ(bool_values(run_ok("Gather", {bools({1, 0, 1}, {3}), i64({1, 2}, {2})})), (std::vector<int>{0, 1}));
  EXPECT_EQ(half_values(run_ok("Gather", {halfs({1, 2, 3, 4}, {2, 2}), i64({1}, {1})})), (F{3, 4}));
  EXPECT_EQ(run_ok("Gather", {iota_f32({3, 2}), i64({}, {0})}).shape(), (Shape{0, 2}));
  EXPECT_EQ(run_ok("Gather", {iota_f32({3, 0}), i64({2}, {1})}).shape(), (Shape{1, 0}));
}

TEST(GatherOpsTest, GatherLargeParallelMatchesLoop) {
  Tensor x = iota_f32({64, 1000});
  std::vector<int64_t> idx;
  for (int i = 0; i < 100; ++i) idx.push_back((i * 37) % 64 - 32);
  Tensor y = run_ok("Gather", {x, i64s(idx)});
  ASSERT_EQ(y.shape(), (Shape{100, 1000}));
  for (int i = 0; i < 100; i += 13) {
    const int64_t row = idx[i] < 0 ? idx[i] + 64 : idx[i];
    EXPECT_EQ(y.data<float>()[i * 1000 + 999], static_cast<float>(row * 1000 + 999)) << "index " << i;
  }
}

TEST(GatherOpsTest, GatherElementsAxesAndErrors) {
  Tensor x = f32({1, 2, 3, 4}, {2, 2});
  Tensor y = run_ok("GatherElements", {x, i64({0, 0, 1, 0}, {2, 2})}, {{"axis", int_attr(1)}});
  EXPECT_EQ(values<float>(y), (F{1, 1, 4, 3}));
  Tensor z = run_ok("GatherElements", {x, i64({1, -2}, {1, 2})}, {{"axis", int_attr(0)}});
  EXPECT_EQ(values<float>(z), (F{3, 2}));
  Status st = run_error("GatherElements", {x, i64({0, 2, 0, 0}, {2, 2})}, {{"axis", int_attr(1)}});
  EXPECT_NE(st.message().find("index 2 out of range for axis 1 of size 2"), std::string::npos) << st.message();
  // Indices larger than data off the axis would read outside: rejected.
  EXPECT_EQ(run_error("GatherElements", {x, i64({0, 0, 0}, {1, 3})}, {{"axis", int_attr(0)}}).code(),
            StatusCode::InvalidArgument);
}

TEST(GatherOpsTest, GatherNDWithBatchDims) {
  Tensor x = iota_f32({2, 2, 2});
  Tensor y = run_ok("GatherND", {x, i64({0, 1, 1, 0}, {2, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<float>(y), (F{2, 3, 4, 5}));
  // batch_dims=1: batch b picks row idx[b] of x[b].
  Tensor b = run_ok("GatherND", {x, i64({1, 0}, {2, 1})}, {{"batch_dims", int_attr(1)}});
  EXPECT_EQ(b.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<float>(b), (F{2, 3, 4, 5}));
  Tensor n = run_ok("GatherND", {x, i64({-1, -1, -1}, {1, 3})});
  EXPECT_EQ(values<float>(n), (F{7}));
  Status st = run_error("GatherND", {x, i64({0, 2}, {1, 2})});
  EXPECT_NE(st.message().find("index 2 out of range for axis 1"), std::string::npos) << st.message();
}

TEST(GatherOpsTest, ScatterNDReductions) {
  Tensor data = f32({1, 2, 3, 4}, {4});
  Tensor idx = i64({3, -4, 3}, {3, 1});
  Tensor upd = f32({10, 20, 30}, {3});
  EXPECT_EQ(values<float>(run_ok("ScatterND", {data, i64({1, 2}, {2, 1}), f32({9, 8}, {2})})), (F{1, 9, 8, 4}));
  EXPECT_EQ(values<float>(run_ok("ScatterND", {data, idx, upd}, {{"reduction", string_attr("add")}})),
            (F{21, 2, 3, 44}));
  EXPECT_EQ(values<float>(run_ok("ScatterND", {data, idx, upd}, {{"reduction", string_attr("mul")}})),
            (F{20, 2, 3, 1200}));
  // Slices: a 2-D data with 1-element index tuples replaces whole rows.
  Tensor rows = run_ok("ScatterND", {iota_f32({2, 2}), i64({1}, {1, 1}), f32({7, 7}, {1, 2})});
  EXPECT_EQ(values<float>(rows), (F{0, 1, 7, 7}));
  Status st = run_error("ScatterND", {data, i64({4}, {1, 1}), f32({0}, {1})});
  EXPECT_NE(st.message().find("index 4 out of range"), std::string::npos) << st.message();
}

TEST(GatherOpsTest, ScatterElementsAxisReductionAndOldScatter) {
  Tensor data = Tensor::zeros(DType::F32, {2, 3});
  Tensor idx = i64({2, -3, 0, 0}, {2, 2});
  Tensor upd = f32({1, 2, 3, 4}, {2, 2});
  Tensor y = run_ok("ScatterElements", {data, idx, upd}, {{"axis", int_attr(1)}});
  EXPECT_EQ(values<float>(y), (F{2, 0, 1, 4, 0, 0}));  // row 1 writes 3 then 4 into col 0: last wins
  Tensor a = run_ok("ScatterElements", {data, idx, upd}, {{"axis", int_attr(1)}, {"reduction", string_attr("add")}});
  EXPECT_EQ(values<float>(a), (F{2, 0, 1, 7, 0, 0}));
  Tensor h = run_ok("ScatterElements", {halfs({1, 1}, {2}), i64({1, 1}, {2}), halfs({2, 3}, {2})},
                    {{"reduction", string_attr("mul")}});
  EXPECT_EQ(half_values(h), (F{1, 6}));
  Tensor old = run_ok("Scatter", {data, i64({1}, {1, 1}), f32({5}, {1, 1})}, {{"axis", int_attr(0)}}, 9);
  EXPECT_EQ(values<float>(old), (F{0, 0, 0, 5, 0, 0}));
  EXPECT_EQ(run_error("ScatterElements", {data, i64({3}, {1, 1}), f32({5}, {1, 1})}, {{"axis", int_attr(1)}}).code(),
            StatusCode::InvalidArgument);
  // Bool data with reduction "none" is a byte copy.
  EXPECT_EQ(bool_values(run_ok("ScatterElements", {bools({0, 0}, {2}), i64({1}, {1}), bools({1}, {1})})),
            (std::vector<int>{0, 1}));
}

}  // namespace
}  // namespace dj
