// Row kernels (softmax, layer norm, row reductions): warp-per-row and
// block-per-row forms, ragged and exact column counts, concrete and generic —
// generated and compiled for sm_90.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/jit_cuda/CudaJitTestSupport.h"

namespace dj::jit::cuda {
namespace {

using testing::compile_and_check;
using testing::generate_or_fail;
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

}  // namespace
}  // namespace dj::jit::cuda
