// fill_params and launch_dims: the params of a call (extents, strides, rows,
// cols, m/n/k, batch) against hand-computed values, refusals with their reasons,
// and grids that cover the work without exceeding CUDA's limits.
#include <gtest/gtest.h>

#include "jit/cuda/CudaBroadcastLayout.h"
#include "jit/cuda/CudaLaunch.h"
#include "tests/jit_cuda/CudaJitTestSupport.h"

namespace dj::jit::cuda {
namespace {

using testing::batched_gemm_spec;
using testing::elementwise_spec;
using testing::gemm_spec;
using testing::prologue_row_spec;
using testing::prologue_steps;
using testing::prologue_views;
using testing::residual_gemm_spec;
using testing::row_spec;

const std::vector<ElementwiseStep> kAdd = {{"Add", {0, 1}}};

DjKernelParams filled(const CudaKernelSpec& spec, const std::vector<Shape>& inputs, const Shape& out) {
  DjKernelParams p{};
  Status st = fill_params(spec, inputs, out, p);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return p;
}

std::string refusal(const CudaKernelSpec& spec, const std::vector<Shape>& inputs, const Shape& out) {
  DjKernelParams p{};
  Status st = fill_params(spec, inputs, out, p);
  EXPECT_FALSE(st.ok()) << spec.name;
  return st.message();
}

TEST(CudaBroadcastLayout, CoalescesDims) {
  // Same shapes: one dim.
  auto same = broadcast_layout({{2, 3, 4}, {2, 3, 4}}, {2, 3, 4});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->extent, (std::vector<int64_t>{24}));
  EXPECT_EQ(same->stride, (std::vector<std::vector<int64_t>>{{1}, {1}}));
  EXPECT_TRUE(same->flat());
  // Row vector against a matrix: two dims, the vector strides 0 along rows.
  auto rows = broadcast_layout({{5, 8}, {8}}, {5, 8});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->extent, (std::vector<int64_t>{5, 8}));
  EXPECT_EQ(rows->stride, (std::vector<std::vector<int64_t>>{{8, 1}, {0, 1}}));
  EXPECT_FALSE(rows->flat());
  // Column broadcast in the middle of rank 4; unit dims of the output drop out.
  auto mid = broadcast_layout({{2, 1, 3, 4}, {3, 1}}, {2, 1, 3, 4});
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(mid->extent, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(mid->stride, (std::vector<std::vector<int64_t>>{{12, 4, 1}, {0, 1, 0}}));
  // Outer dims merge when both inputs walk them alike: [2,3,4,5] + [4,5] -> [6, 20].
  auto outer = broadcast_layout({{2, 3, 4, 5}, {4, 5}}, {2, 3, 4, 5});
  ASSERT_TRUE(outer.ok());
  EXPECT_EQ(outer->extent, (std::vector<int64_t>{6, 20}));
  EXPECT_EQ(outer->stride, (std::vector<std::vector<int64_t>>{{20, 1}, {0, 1}}));
  // Scalars, empty outputs.
  auto scalar = broadcast_layout({{}, {1, 1}}, {1, 1});
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(scalar->extent, (std::vector<int64_t>{1}));
  EXPECT_EQ(scalar->numel, 1);
  auto empty = broadcast_layout({{0, 3}, {3}}, {0, 3});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->numel, 0);
  EXPECT_TRUE(empty->flat());
}

TEST(CudaBroadcastLayout, RefusesWhatDoesNotBroadcast) {
  auto bad = broadcast_layout({{4, 5}, {4}}, {4, 5});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("input 1 [4] does not broadcast to the output [4,5]"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(broadcast_layout({{2, 4, 5}}, {4, 5}).ok());
  EXPECT_FALSE(broadcast_layout({{3}}, {1}).ok());  // the output is not the broadcast of its inputs
}

TEST(CudaLaunch, ElementwiseConcreteParams) {
  auto spec = elementwise_spec("rows_add", {5, 8}, {{5, 8}, {8}}, kAdd);
  DjKernelParams p = filled(spec, {{5, 8}, {8}}, {5, 8});
  EXPECT_EQ(p.numel, 40);
  EXPECT_EQ(p.rank, 2);
  EXPECT_EQ(p.extent[0], 5);
  EXPECT_EQ(p.extent[1], 8);
  EXPECT_EQ(p.in_stride[0][0], 8);
  EXPECT_EQ(p.in_stride[0][1], 1);
  EXPECT_EQ(p.in_stride[1][0], 0);
  EXPECT_EQ(p.in_stride[1][1], 1);
  // The same layout under other unit dims is the same computation.
  EXPECT_TRUE(fill_params(spec, {{1, 5, 8}, {1, 8}}, {1, 5, 8}, p).ok());
  // Other shapes are not.
  EXPECT_NE(refusal(spec, {{6, 8}, {8}}, {6, 8}).find("generated for inputs [5,8], [8] -> output [5,8]"),
            std::string::npos);
}

TEST(CudaLaunch, ElementwiseGenericParamsAreRightAligned) {
  // [2,3,4,5] + [4,5] coalesces to [6, 20]: placed in the last two of four slots.
  auto spec = elementwise_spec("generic_add", {2, 3, 4, 5}, {{2, 3, 4, 5}, {4, 5}}, kAdd, true);
  DjKernelParams p = filled(spec, {{7, 3, 4, 5}, {4, 5}}, {7, 3, 4, 5});
  EXPECT_EQ(p.rank, 4);
  EXPECT_EQ(p.numel, 420);
  const int64_t extent[] = {1, 1, 21, 20}, s0[] = {0, 0, 20, 1}, s1[] = {0, 0, 0, 1};
  for (int d = 0; d < 4; ++d) {
    EXPECT_EQ(p.extent[d], extent[d]) << d;
    EXPECT_EQ(p.in_stride[0][d], s0[d]) << d;
    EXPECT_EQ(p.in_stride[1][d], s1[d]) << d;
  }
  // A generic kernel serves any shapes of its ranks, including flat ones...
  DjKernelParams flat = filled(spec, {{2, 3, 4, 5}, {1, 1}}, {2, 3, 4, 5});
  EXPECT_EQ(flat.extent[3], 120);
  EXPECT_EQ(flat.extent[3], flat.numel);
  EXPECT_EQ(flat.in_stride[1][3], 0);
  // ... but not other ranks.
  EXPECT_NE(refusal(spec, {{3, 4, 5}, {4, 5}}, {3, 4, 5}).find("output rank 4"), std::string::npos);
  EXPECT_NE(refusal(spec, {{2, 3, 4, 5}, {5}}, {2, 3, 4, 5}).find("input 1 of rank 2"), std::string::npos);
}

TEST(CudaLaunch, GenericBroadcastFlagsAreEnforced) {
  auto spec = elementwise_spec("flagged", {4, 8}, {{4, 8}, {1, 8}}, kAdd, true);
  spec.input_broadcast = {{false, false}, {true, false}};
  EXPECT_TRUE(filled(spec, {{9, 3}, {1, 3}}, {9, 3}).numel == 27);
  // An output dim of 1 makes broadcasting moot.
  EXPECT_TRUE(filled(spec, {{1, 3}, {1, 3}}, {1, 3}).numel == 3);
  EXPECT_NE(refusal(spec, {{9, 3}, {9, 3}}, {9, 3}).find("input 1 [9,3] is not broadcast along output dim 0"),
            std::string::npos);
  EXPECT_NE(refusal(spec, {{9, 3}, {1, 1}}, {9, 3}).find("is broadcast along output dim 1"), std::string::npos);
}

TEST(CudaLaunch, ElementwiseRefusals) {
  auto spec = elementwise_spec("any_add", {4, 5}, {{4, 5}, {5}}, kAdd, true);
  EXPECT_NE(refusal(spec, {{4, 5}, {4}}, {4, 5}).find("does not broadcast"), std::string::npos);
  EXPECT_NE(refusal(spec, {{4, 5}}, {4, 5}).find("takes 2 inputs, got 1"), std::string::npos);
  EXPECT_NE(refusal(spec, std::vector<Shape>(9, Shape{4, 5}), {4, 5}).find("at most 8 inputs"), std::string::npos);
  EXPECT_NE(refusal(spec, {{1, 1, 1, 1, 1, 1, 4, 5}, {5}}, {1, 1, 1, 1, 1, 1, 4, 5}).find("rank above 6"),
            std::string::npos);
  EXPECT_NE(refusal(spec, {{4, -5}, {5}}, {4, 5}).find("negative"), std::string::npos);
}

TEST(CudaLaunch, RowParams) {
  auto softmax = row_spec(CudaKernelKind::RowSoftmax, "softmax", 0, 0, true);
  DjKernelParams p = filled(softmax, {{2, 3, 7}}, {2, 3, 7});
  EXPECT_EQ(p.rows, 6);
  EXPECT_EQ(p.cols, 7);
  EXPECT_EQ(p.numel, 42);
  EXPECT_NE(refusal(softmax, {{2, 3, 7}}, {2, 21}).find("must have the input's rows"), std::string::npos);
  EXPECT_NE(refusal(softmax, {{}}, {}).find("rank >= 1"), std::string::npos);

  auto concrete = row_spec(CudaKernelKind::RowLayerNorm, "layernorm", 6, 7);
  p = filled(concrete, {{6, 7}, {7}, {1, 7}}, {6, 7});
  EXPECT_EQ(p.rows, 6);
  EXPECT_NE(refusal(concrete, {{6, 8}, {8}, {8}}, {6, 8}).find("generated for 6 x 7 rows"), std::string::npos);
  EXPECT_NE(refusal(concrete, {{6, 7}, {6}, {7}}, {6, 7}).find("scale [6] must have cols = 7"), std::string::npos);
  EXPECT_NE(refusal(concrete, {{6, 7}, {7}}, {6, 7}).find("takes 3 inputs, got 2"), std::string::npos);

  auto reduce = row_spec(CudaKernelKind::RowReduce, "reduce", 0, 0, true);
  p = filled(reduce, {{4, 10}}, {4, 1});
  EXPECT_EQ(p.rows, 4);
  EXPECT_EQ(p.numel, 4);
  EXPECT_NE(refusal(reduce, {{4, 10}}, {10}).find("one value per row"), std::string::npos);
  EXPECT_NE(refusal(reduce, {{4, 0}}, {4}).find("rows of length 0"), std::string::npos);
}

TEST(CudaLaunch, GemmParams) {
  auto spec = gemm_spec("gemm", 0, 0, 0, true, false, true);
  DjKernelParams p = filled(spec, {{2, 3, 5}, {5, 7}, {7}}, {2, 3, 7});
  EXPECT_EQ(p.rows, 6);
  EXPECT_EQ(p.cols, 7);
  EXPECT_EQ(p.k, 5);
  EXPECT_EQ(p.numel, 42);
  EXPECT_NE(refusal(spec, {{6, 5}, {4, 7}, {7}}, {6, 7}).find("disagree on the inner dimension"), std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 5}, {5, 7}, {6}}, {6, 7}).find("bias [6] must have n = 7"), std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 5}, {5, 7}, {7}}, {7, 6}).find("must be [6, 7]"), std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 5}, {1, 5, 7}, {7}}, {6, 7}).find("B must be [k, n]"), std::string::npos);
  auto concrete = gemm_spec("gemm_c", 6, 7, 5, false, false);
  EXPECT_NE(refusal(concrete, {{6, 4}, {4, 7}}, {6, 7}).find("generated for m 6, n 7, k 5"), std::string::npos);
}

TEST(CudaLaunch, ResidualGemmParams) {
  auto spec = residual_gemm_spec("gemm_residual", 0, 0, 0, true, true, true, true);
  DjKernelParams p = filled(spec, {{2, 3, 5}, {5, 7}, {7}, {2, 3, 7}}, {2, 3, 7});
  EXPECT_EQ(p.rows, 6);
  EXPECT_EQ(p.cols, 7);
  EXPECT_EQ(p.k, 5);
  EXPECT_EQ(p.numel, 42);
  EXPECT_TRUE(filled(spec, {{6, 5}, {5, 7}, {7}, {6, 7}}, {6, 7}).numel == 42);  // the [m, n] view
  EXPECT_NE(refusal(spec, {{6, 5}, {5, 7}, {7}, {6, 6}}, {6, 7}).find("residual [6,6] must be the output's [6, 7]"),
            std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 5}, {5, 7}, {7}, {7, 6}}, {6, 7}).find("residual [7,6]"), std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 5}, {5, 7}, {7}}, {6, 7}).find("takes 4 inputs, got 3"), std::string::npos);
  auto no_bias = residual_gemm_spec("gemm_residual_c", 6, 7, 5, false, false, false);
  EXPECT_EQ(filled(no_bias, {{6, 5}, {5, 7}, {6, 7}}, {6, 7}).numel, 42);
  EXPECT_NE(refusal(no_bias, {{6, 5}, {5, 7}, {7}}, {6, 7}).find("residual [7] must be"), std::string::npos);
}

TEST(CudaLaunch, BatchedGemmParams) {
  auto spec = batched_gemm_spec("batched", 0, 0, 0, 0, true);
  DjKernelParams p = filled(spec, {{2, 3, 4, 5}, {2, 3, 5, 7}}, {2, 3, 4, 7});
  EXPECT_EQ(p.rank, 3);
  EXPECT_EQ(p.extent[0], 6);  // the batch dims flatten
  EXPECT_EQ(p.extent[1], 4);
  EXPECT_EQ(p.extent[2], 7);
  EXPECT_EQ(p.rows, 4);
  EXPECT_EQ(p.cols, 7);
  EXPECT_EQ(p.k, 5);
  EXPECT_EQ(p.numel, 168);
  EXPECT_EQ(filled(spec, {{9, 5}, {5, 2}}, {9, 2}).extent[0], 1);  // rank 2: one matrix
  EXPECT_NE(refusal(spec, {{2, 4, 5}, {3, 5, 7}}, {2, 4, 7}).find("disagree on the batch dims"), std::string::npos);
  EXPECT_NE(refusal(spec, {{2, 4, 5}, {2, 6, 7}}, {2, 4, 7}).find("disagree on the inner dimension"), std::string::npos);
  EXPECT_NE(refusal(spec, {{2, 4, 5}, {5, 7}}, {2, 4, 7}).find("of one rank >= 2"), std::string::npos);
  EXPECT_NE(refusal(spec, {{2, 4, 5}, {2, 5, 7}}, {2, 7, 4}).find("must be [2, 4, 7]"), std::string::npos);
  auto concrete = batched_gemm_spec("batched_c", 7, 4, 3, 5);
  EXPECT_EQ(filled(concrete, {{7, 4, 5}, {7, 5, 3}}, {7, 4, 3}).extent[0], 7);
  EXPECT_NE(refusal(concrete, {{6, 4, 5}, {6, 5, 3}}, {6, 4, 3}).find("generated for batch 7, m 4, n 3, k 5"),
            std::string::npos);
}

TEST(CudaLaunch, PrologueRowParams) {
  // Rows come from the output; each prologue input must fit its view.
  auto spec = prologue_row_spec(CudaKernelKind::RowLayerNorm, "ln_prologue", 0, 0, prologue_views(4, 8),
                                prologue_steps(), true);
  const Shape x = {2, 3, 8};
  DjKernelParams p = filled(spec, {x, {1}, {8}, x, {8}, {8}}, x);
  EXPECT_EQ(p.rows, 6);
  EXPECT_EQ(p.cols, 8);
  EXPECT_EQ(p.numel, 48);
  EXPECT_EQ(filled(spec, {{6, 8}, {}, {1, 8}, {6, 8}, {8}, {8}}, {6, 8}).rows, 6);  // scalar [] and row [1, 8] fit too
  EXPECT_NE(refusal(spec, {{6, 8}, {1}, {6}, {6, 8}, {8}, {8}}, {6, 8}).find("prologue input 2 [6] must be one row"),
            std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 8}, {2}, {8}, {6, 8}, {8}, {8}}, {6, 8}).find("prologue input 1 [2] must be one value"),
            std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 8}, {1}, {8}, {5, 8}, {8}, {8}}, {6, 8})
                .find("prologue input 3 [5,8] must be the row block [6, 8]"),
            std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 8}, {1}, {8}, {6, 8}, {7}, {8}}, {6, 8}).find("scale [7] must have cols = 8"),
            std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 8}, {1}, {8}, {6, 8}, {8}, {9}}, {6, 8}).find("bias [9] must have cols = 8"),
            std::string::npos);
  EXPECT_NE(refusal(spec, {{6, 8}, {1}, {8}, {6, 8}, {8}}, {6, 8}).find("takes 6 inputs, got 5"), std::string::npos);
  auto concrete = prologue_row_spec(CudaKernelKind::RowSoftmax, "sm_prologue", 6, 8, prologue_views(6, 8),
                                    prologue_steps());
  EXPECT_EQ(filled(concrete, {{6, 8}, {1}, {8}, {6, 8}}, {6, 8}).rows, 6);
  EXPECT_NE(refusal(concrete, {{5, 8}, {1}, {8}, {5, 8}}, {5, 8}).find("generated for 6 x 8 rows, called with output [5,8]"),
            std::string::npos);
}

TEST(CudaLaunch, DimsCoverTheWorkWithinLimits) {
  // Elementwise, flat: 4 elements a thread-iteration; index path: 1.
  auto flat = elementwise_spec("flat", {1000, 1000}, {{1000, 1000}, {1}}, kAdd);
  LaunchDims d = launch_dims(flat, filled(flat, {{1000, 1000}, {1}}, {1000, 1000}));
  EXPECT_EQ(d.block_x, 256u);
  EXPECT_EQ(d.grid_x, 977u);  // ceil(250000 / 256)
  EXPECT_EQ(d.grid_y * d.grid_z * d.block_y * d.block_z, 1u);
  auto rows = elementwise_spec("rows", {1000, 1000}, {{1000, 1000}, {1000}}, kAdd);
  d = launch_dims(rows, filled(rows, {{1000, 1000}, {1000}}, {1000, 1000}));
  EXPECT_EQ(d.grid_x, 3907u);  // ceil(1000000 / 256)
  auto huge = elementwise_spec("huge", {1 << 20, 1 << 12}, {{1 << 20, 1 << 12}, {1 << 12}}, kAdd);
  d = launch_dims(huge, filled(huge, {{1 << 20, 1 << 12}, {1 << 12}}, {1 << 20, 1 << 12}));
  EXPECT_EQ(d.grid_x, 8192u);  // capped: the grid-stride loop does the rest
  auto none = elementwise_spec("none", {0, 5}, {{0, 5}, {5}}, kAdd);
  EXPECT_EQ(launch_dims(none, filled(none, {{0, 5}, {5}}, {0, 5})).grid_x, 1u);

  // Rows: 8 rows a block when a warp takes a row, one row a block otherwise.
  auto warp_rows = row_spec(CudaKernelKind::RowSoftmax, "sm", 1000, 77);
  d = launch_dims(warp_rows, filled(warp_rows, {{1000, 77}}, {1000, 77}));
  EXPECT_EQ(d.grid_x, 125u);
  EXPECT_EQ(d.block_x, 256u);
  auto generic = row_spec(CudaKernelKind::RowSoftmax, "sm_any", 0, 0, true);
  EXPECT_EQ(launch_dims(generic, filled(generic, {{1001, 1024}}, {1001, 1024})).grid_x, 126u);
  EXPECT_EQ(launch_dims(generic, filled(generic, {{1001, 1025}}, {1001, 1025})).grid_x, 1001u);
  EXPECT_EQ(launch_dims(generic, filled(generic, {{int64_t(1) << 22, 2000}}, {int64_t(1) << 22, 2000})).grid_x,
            1u << 20);

  // Gemm: 64 x 64 tiles, n along x, m along y (capped at 65535).
  auto gemm = gemm_spec("g", 0, 0, 0, false, false, true);
  d = launch_dims(gemm, filled(gemm, {{100, 3}, {3, 130}}, {100, 130}));
  EXPECT_EQ(d.grid_x, 3u);
  EXPECT_EQ(d.grid_y, 2u);
  EXPECT_EQ(d.block_x, 256u);
  d = launch_dims(gemm, filled(gemm, {{int64_t(1) << 23, 1}, {1, 1}}, {int64_t(1) << 23, 1}));
  EXPECT_EQ(d.grid_y, 65535u);
  EXPECT_EQ(d.grid_x, 1u);

  // Batched: the same tiles, one z-slice per matrix (capped at 65535; the kernel loops).
  auto batched = batched_gemm_spec("bg", 0, 0, 0, 0, true);
  d = launch_dims(batched, filled(batched, {{7, 100, 3}, {7, 3, 130}}, {7, 100, 130}));
  EXPECT_EQ(d.grid_x, 3u);
  EXPECT_EQ(d.grid_y, 2u);
  EXPECT_EQ(d.grid_z, 7u);
  EXPECT_EQ(d.block_x, 256u);
  d = launch_dims(batched, filled(batched, {{100000, 2, 2}, {100000, 2, 2}}, {100000, 2, 2}));
  EXPECT_EQ(d.grid_z, 65535u);
  auto concrete_batched = batched_gemm_spec("bg_c", 12, 65, 1, 4);
  d = launch_dims(concrete_batched, filled(concrete_batched, {{12, 65, 4}, {12, 4, 1}}, {12, 65, 1}));
  EXPECT_EQ(d.grid_x, 1u);
  EXPECT_EQ(d.grid_y, 2u);
  EXPECT_EQ(d.grid_z, 12u);
  // A prologue does not change the row grid: 8 rows a block for 77 columns.
  auto prologue = prologue_row_spec(CudaKernelKind::RowSoftmax, "smp", 1000, 77, prologue_views(1000, 77),
                                    prologue_steps());
  EXPECT_EQ(launch_dims(prologue, filled(prologue, {{1000, 77}, {1}, {77}, {1000, 77}}, {1000, 77})).grid_x, 125u);
}

TEST(CudaLaunch, BlockSizeMatchesTheGeneratedKernel) {
  for (const CudaKernelSpec& spec : testing::spec_catalog()) {
    auto kernel = generate_cuda_kernel(spec);
    ASSERT_TRUE(kernel.ok()) << spec.name << ": " << kernel.status().to_string();
    DjKernelParams p{};
    EXPECT_EQ(launch_dims(spec, p).block_x, static_cast<unsigned>(kernel->block_size)) << spec.name;
    EXPECT_NE(kernel->source.find("__launch_bounds__(" + std::to_string(kernel->block_size) + ")"), std::string::npos);
  }
}

}  // namespace
}  // namespace dj::jit::cuda
