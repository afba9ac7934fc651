// Row kernels (softmax, layer norm, row reductions): warp-per-row and
// block-per-row forms, ragged and exact column counts, concrete and generic,
// softmax and layer norm with an elementwise prologue — generated and compiled
// for sm_90.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/jit_cuda/CudaJitTestSupport.h"

namespace dj::jit::cuda {
namespace {

using testing::compile_and_check;
using testing::generate_or_fail;
using testing::prologue_row_spec;
using testing::prologue_steps;
using testing::prologue_views;
using testing::row_spec;

bool contains(const std::string& text, const std::string& piece) { return text.find(piece) != std::string::npos; }

struct RowShape {
  int64_t rows, cols;
};
const std::vector<RowShape> kShapes = {{1, 1}, {7, 31}, {100, 32}, {3, 33}, {64, 256}, {5, 1024}, {2, 1025}, {1, 5000}, {100000, 77}};

std::string shape_name(const RowShape& s) { return std::to_string(s.rows) + "x" + std::to_string(s.cols); }

// The form the source must have for a concrete shape.
void expect_form(const CudaKernelSource& kernel, const RowShape& s, bool cached_row) {
  const bool warp = s.cols <= 1024;
  EXPECT_EQ(contains(kernel.source, "one warp per row"), warp) << kernel.source;
  EXPECT_EQ(contains(kernel.source, "one block per row"), !warp) << kernel.source;
  EXPECT_EQ(contains(kernel.source, "__shared__ float partial[32];"), !warp) << kernel.source;
  EXPECT_EQ(contains(kernel.source, "__syncthreads()"), !warp) << kernel.source;
  EXPECT_TRUE(contains(kernel.source, "__shfl_xor_sync(0xffffffffu, v, offset)")) << kernel.source;
  EXPECT_TRUE(contains(kernel.source, "const long long cols = " + std::to_string(s.cols) + "LL;")) << kernel.source;
  if (warp && cached_row) {
    const int64_t per_lane = (s.cols + 31) / 32;
    EXPECT_TRUE(contains(kernel.source, "float v[" + std::to_string(per_lane) + "];")) << kernel.source;
    // Lanes beyond cols are guarded only when cols is not a multiple of 32.
    EXPECT_EQ(contains(kernel.source, "j < cols"), s.cols % 32 != 0) << kernel.source;
  }
}

TEST(NvrtcRowKernels, SoftmaxConcrete) {
  for (const RowShape& s : kShapes) {
    SCOPED_TRACE(shape_name(s));
    auto kernel = generate_or_fail(row_spec(CudaKernelKind::RowSoftmax, "softmax_" + shape_name(s), s.rows, s.cols));
    expect_form(kernel, s, true);
    EXPECT_TRUE(contains(kernel.source, "expf(")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "dj_max(")) << kernel.source;  // NaN-propagating max
    compile_and_check(kernel);
  }
}

TEST(NvrtcRowKernels, LayerNormConcreteWithAndWithoutBias) {
  for (const RowShape& s : kShapes) {
    for (int inputs : {2, 3}) {
      SCOPED_TRACE(shape_name(s) + " inputs " + std::to_string(inputs));
      auto spec = row_spec(CudaKernelKind::RowLayerNorm, "layernorm_" + shape_name(s) + "_" + std::to_string(inputs),
                           s.rows, s.cols);
      spec.num_inputs = inputs;
      spec.epsilon = 1e-6f;
      auto kernel = generate_or_fail(spec);
      expect_form(kernel, s, true);
      EXPECT_EQ(contains(kernel.source, "bias[j]"), inputs == 3) << kernel.source;
      EXPECT_TRUE(contains(kernel.source, "sqrtf(var + 9.99999997e-07f)")) << kernel.source;
      EXPECT_TRUE(contains(kernel.source, "/ (float)cols")) << kernel.source;  // biased variance, like the reference
      compile_and_check(kernel);
    }
  }
}

TEST(NvrtcRowKernels, ReductionsConcrete) {
  const std::vector<std::pair<RowReduceOp, std::string>> ops = {{RowReduceOp::Sum, "float a = 0.0f;"},
                                                                {RowReduceOp::Mean, "a / (float)cols"},
                                                                {RowReduceOp::Max, "float a = -INFINITY;"},
                                                                {RowReduceOp::Min, "float a = INFINITY;"}};
  for (const RowShape& s : kShapes) {
    for (const auto& [op, piece] : ops) {
      SCOPED_TRACE(shape_name(s) + " " + row_reduce_op_name(op));
      auto spec = row_spec(CudaKernelKind::RowReduce,
                           std::string("reduce_") + row_reduce_op_name(op) + "_" + shape_name(s), s.rows, s.cols);
      spec.reduce = op;
      auto kernel = generate_or_fail(spec);
      expect_form(kernel, s, false);
      EXPECT_TRUE(contains(kernel.source, piece)) << kernel.source;
      EXPECT_TRUE(contains(kernel.source, "y[row] = ")) << kernel.source;
      compile_and_check(kernel);
    }
  }
}

TEST(NvrtcRowKernels, GenericKernelsHoldBothForms) {
  std::vector<CudaKernelSpec> specs = {row_spec(CudaKernelKind::RowSoftmax, "softmax_any", 0, 0, true),
                                       row_spec(CudaKernelKind::RowLayerNorm, "layernorm_any", 0, 0, true)};
  for (RowReduceOp op : {RowReduceOp::Sum, RowReduceOp::Mean, RowReduceOp::Max, RowReduceOp::Min}) {
    specs.push_back(row_spec(CudaKernelKind::RowReduce, std::string("reduce_any_") + row_reduce_op_name(op), 0, 0, true));
    specs.back().reduce = op;
  }
  auto no_bias = row_spec(CudaKernelKind::RowLayerNorm, "layernorm_any_nobias", 0, 0, true);
  no_bias.num_inputs = 2;
  specs.push_back(no_bias);
  for (const CudaKernelSpec& spec : specs) {
    SCOPED_TRACE(spec.name);
    auto kernel = generate_or_fail(spec);
    EXPECT_TRUE(contains(kernel.source, "const long long rows = p.rows;")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "const long long cols = p.cols;")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "if (cols <= 1024LL) {")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "one warp per row")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "one block per row")) << kernel.source;
    compile_and_check(kernel);
  }
}

TEST(NvrtcRowKernels, InvalidSpecsAreRefused) {
  auto bad_inputs = row_spec(CudaKernelKind::RowLayerNorm, "ln_one_input", 4, 8);
  bad_inputs.num_inputs = 1;
  EXPECT_NE(generate_cuda_kernel(bad_inputs).status().message().find("num_inputs 2 or 3"), std::string::npos);
  auto bad_eps = row_spec(CudaKernelKind::RowLayerNorm, "ln_nan_eps", 4, 8);
  bad_eps.epsilon = NAN;
  EXPECT_NE(generate_cuda_kernel(bad_eps).status().message().find("epsilon"), std::string::npos);
  auto softmax_two = row_spec(CudaKernelKind::RowSoftmax, "softmax_two", 4, 8);
  softmax_two.num_inputs = 2;
  EXPECT_FALSE(generate_cuda_kernel(softmax_two).ok());
  EXPECT_NE(generate_cuda_kernel(row_spec(CudaKernelKind::RowReduce, "reduce_empty", 4, 0)).status().message().find(
                "rows and cols must be >= 1"),
            std::string::npos);
}

TEST(NvrtcRowKernels, ProloguesReplaceTheRowInput) {
  // Block, scalar, row and block operands (prologue_views); each form of the row walk.
  for (const RowShape& s : std::vector<RowShape>{{1, 1}, {7, 31}, {100, 32}, {3, 33}, {64, 256}, {2, 1025}, {1, 5000}}) {
    for (CudaKernelKind kind : {CudaKernelKind::RowSoftmax, CudaKernelKind::RowLayerNorm}) {
      const std::string name = std::string(kind == CudaKernelKind::RowSoftmax ? "softmax" : "layernorm") +
                               "_prologue_" + shape_name(s);
      SCOPED_TRACE(name);
      auto kernel = generate_or_fail(
          prologue_row_spec(kind, name, s.rows, s.cols, prologue_views(s.rows, s.cols), prologue_steps()));
      expect_form(kernel, s, true);
      // x is never read: the prologue's inputs take its place.
      EXPECT_FALSE(contains(kernel.source, "const float* __restrict__ x = ")) << kernel.source;
      EXPECT_TRUE(contains(kernel.source, "__device__ __forceinline__ float " + name +
                                              "_prologue(float x0, float x1, float x2, float x3) {"))
          << kernel.source;
      EXPECT_TRUE(contains(kernel.source, "const float s1 = p.in[1][0];")) << kernel.source;      // the scalar, once
      EXPECT_TRUE(contains(kernel.source, "const float* r0 = in0 + row * cols;")) << kernel.source;  // block rows
      EXPECT_TRUE(contains(kernel.source, "const float* r3 = in3 + row * cols;")) << kernel.source;
      // (A one-column row [1] is one value: read once, like the scalar.)
      const std::string row_operand = s.cols == 1 ? "s2" : "in2[j]";
      EXPECT_TRUE(contains(kernel.source, name + "_prologue(r0[j], s1, " + row_operand + ", r3[j])")) << kernel.source;
      if (kind == CudaKernelKind::RowLayerNorm) {
        EXPECT_TRUE(contains(kernel.source, "const float* __restrict__ scale = p.in[4];")) << kernel.source;
        EXPECT_TRUE(contains(kernel.source, "const float* __restrict__ bias = p.in[5];")) << kernel.source;
      }
      compile_and_check(kernel);
    }
  }
  auto no_bias = prologue_row_spec(CudaKernelKind::RowLayerNorm, "layernorm_prologue_nobias", 5, 40, {{1}, {5, 40}},
                                   {{"Mul", {1, 0}}});
  no_bias.num_inputs = 3;
  auto kernel = generate_or_fail(no_bias);
  EXPECT_TRUE(contains(kernel.source, "const float* __restrict__ scale = p.in[2];")) << kernel.source;
  EXPECT_FALSE(contains(kernel.source, "bias[j]")) << kernel.source;
  EXPECT_FALSE(contains(kernel.source, "p.in[3]")) << kernel.source;
  compile_and_check(kernel);
}

TEST(NvrtcRowKernels, GenericProloguesHoldBothForms) {
  for (CudaKernelKind kind : {CudaKernelKind::RowSoftmax, CudaKernelKind::RowLayerNorm}) {
    auto spec = prologue_row_spec(kind, kind == CudaKernelKind::RowSoftmax ? "softmax_prologue_any" : "layernorm_prologue_any",
                                  0, 0, prologue_views(4, 8), prologue_steps(), true);
    SCOPED_TRACE(spec.name);
    auto kernel = generate_or_fail(spec);
    EXPECT_TRUE(contains(kernel.source, "if (cols <= 1024LL) {")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, spec.name + "_prologue(r0[j], s1, in2[j], r3[j])")) << kernel.source;
    compile_and_check(kernel);
  }
}

TEST(NvrtcRowKernels, InvalidProloguesAreRefused) {
  auto refused = [](const CudaKernelSpec& spec) { return generate_cuda_kernel(spec).status(); };
  auto with_views = [](const std::vector<Shape>& views) {
    return prologue_row_spec(CudaKernelKind::RowSoftmax, "softmax_bad_view", 9, 45, views, prologue_steps());
  };
  // An operand that is neither the block, one row nor one value.
  for (const std::vector<Shape>& views : std::vector<std::vector<Shape>>{
           {{9, 45}, {1}, {9}, {9, 45}}, {{9, 46}, {1}, {45}, {9, 45}}, {{9, 45}, {1, 1}, {45}, {9, 45}},
           {{9, 45}, {}, {45}, {9, 45}}, {{9, 45}, {1}, {45}, {1, 9, 45}}}) {
    Status status = refused(with_views(views));
    EXPECT_EQ(status.code(), StatusCode::InvalidArgument);
    EXPECT_NE(status.message().find("a prologue input is the row block, one row or one value: [9,45], [45] or [1]"),
              std::string::npos)
        << status.message();
  }
  EXPECT_TRUE(generate_cuda_kernel(with_views(prologue_views(9, 45))).ok());
  // Generic specs know only ranks: rank 1 or 2.
  auto generic = prologue_row_spec(CudaKernelKind::RowSoftmax, "softmax_bad_rank", 0, 0,
                                   {{4, 8}, {1}, {8}, {2, 4, 8}}, prologue_steps(), true);
  EXPECT_NE(refused(generic).message().find("prologue input 3 has view [2,4,8]"), std::string::npos);
  // The chain: operands in range, known ops.
  auto bad_operand = with_views(prologue_views(9, 45));
  bad_operand.steps[1].operands = {5, 2};  // step 1 reading itself
  EXPECT_NE(refused(bad_operand).message().find("prologue: step 1 (Add) reads operand 5"), std::string::npos)
      << refused(bad_operand).message();
  auto bad_op = with_views(prologue_views(9, 45));
  bad_op.steps[0].op = "Pow";
  EXPECT_EQ(refused(bad_op).code(), StatusCode::Unsupported);
  // Input counts: the softmax takes the prologue's 4, the layer norm 4 + scale (+ bias).
  auto softmax_count = with_views(prologue_views(9, 45));
  softmax_count.num_inputs = 1;
  EXPECT_NE(refused(softmax_count).message().find("takes 4 inputs, num_inputs is 1"), std::string::npos)
      << refused(softmax_count).message();
  auto ln = prologue_row_spec(CudaKernelKind::RowLayerNorm, "layernorm_bad_count", 9, 45, prologue_views(9, 45),
                              prologue_steps());
  ln.num_inputs = 3;
  EXPECT_NE(refused(ln).message().find("(num_inputs 5 or 6), num_inputs is 3"), std::string::npos)
      << refused(ln).message();
  // More than DJ_MAX_KERNEL_INPUTS in all.
  auto many = prologue_row_spec(CudaKernelKind::RowLayerNorm, "layernorm_many", 9, 45, std::vector<Shape>(7, {45}),
                                {{"Add", {0, 1}}});
  EXPECT_EQ(refused(many).code(), StatusCode::Unsupported);
  EXPECT_NE(refused(many).message().find("at most 8 inputs, this one has 9"), std::string::npos);
  // No prologue for row reductions.
  auto reduce = row_spec(CudaKernelKind::RowReduce, "reduce_prologue", 9, 45);
  reduce.prologue_views = {{9, 45}};
  reduce.steps = {{"Neg", {0}}};
  EXPECT_EQ(refused(reduce).code(), StatusCode::Unsupported);
}

}  // namespace
}  // namespace dj::jit::cuda
