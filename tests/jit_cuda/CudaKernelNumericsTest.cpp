// The generated kernels compute the right numbers: each spec's source runs on the
// CPU through the host emulation of CUDA (tests/cuda_emulation), launched with
// fill_params + launch_dims exactly as the GPU would be, and is compared with an
// independent reference computed here in double (elementwise ops: the CPU
// reference kernels' float formulas). Also with tiny grids, so that every
// grid-stride and tile loop runs more than once, and with misaligned buffers
// (the float4 path must fall back).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "jit/cuda/CudaElementwiseOps.h"
#include "tests/jit_cuda/CudaJitTestSupport.h"
#include "tests/jit_cuda/EmulatedKernelRun.h"

namespace dj::jit::cuda {
namespace {

using testing::elementwise_spec;
using testing::expect_close;
using testing::gemm_spec;
using testing::random_values;
using testing::reference_elementwise_op;
using testing::row_spec;
using testing::run;
using testing::RunOptions;

// ---- Elementwise -----------------------------------------------------------------------

// NumPy broadcasting, element by element.
std::vector<double> reference_elementwise(const CudaKernelSpec& spec, const std::vector<Shape>& shapes,
                                          const std::vector<std::vector<float>>& inputs, const Shape& out) {
  const int64_t numel = shape_numel(out);
  std::vector<double> result(static_cast<size_t>(numel));
  std::vector<float> values;
  for (int64_t i = 0; i < numel; ++i) {
    values.clear();
    for (size_t k = 0; k < inputs.size(); ++k) {
      const Shape& s = shapes[k];
      int64_t rem = i, offset = 0, stride = 1;
      for (size_t t = 0; t < out.size(); ++t) {
        const size_t d = out.size() - 1 - t;
        const int64_t c = rem % out[d];
        rem /= out[d];
        if (t < s.size()) {
          const int64_t extent = s[s.size() - 1 - t];
          offset += (extent == 1 ? 0 : c) * stride;
          stride *= extent;
        }
      }
      values.push_back(inputs[k][static_cast<size_t>(offset)]);
    }
    for (const ElementwiseStep& step : spec.steps) {
      const float a = values[static_cast<size_t>(step.operands[0])];
      const float b = step.operands.size() > 1 ? values[static_cast<size_t>(step.operands[1])] : 0.0f;
      values.push_back(reference_elementwise_op(step, a, b));
    }
    result[static_cast<size_t>(i)] = values.back();
  }
  return result;
}

void check_elementwise(const CudaKernelSpec& spec, const std::vector<Shape>& shapes, const Shape& out,
                       const RunOptions& options = {}, float lo = -2.0f, float hi = 2.0f) {
  SCOPED_TRACE(spec.name + " output " + shape_to_string(out) + " misalign " + std::to_string(options.misalign) +
               " max_grid " + std::to_string(options.max_grid));
  std::vector<std::vector<float>> inputs;
  for (size_t i = 0; i < shapes.size(); ++i)
    inputs.push_back(random_values(shape_numel(shapes[i]), 100 + static_cast<uint32_t>(i), lo, hi));
  expect_close(run(spec, shapes, inputs, out, options), reference_elementwise(spec, shapes, inputs, out), 2e-6);
}

TEST(CudaKernelNumerics, EveryElementwiseOp) {
  // A few kernels (each host compile costs about a second), each summing several ops of
  // the inputs: any op computed wrongly changes the sum. Grouped by the domain they need.
  const std::vector<std::pair<std::vector<std::string>, float>> groups = {
      {{"Log", "Sqrt", "Reciprocal", "Exp", "Sigmoid"}, 0.1f},  // inputs in [0.1, 3]
      {{"Relu", "Tanh", "Neg", "Abs", "Erf"}, -3.0f},           // inputs in [-3, 3]
      {{"Identity", "Floor", "Ceil", "LeakyRelu"}, -3.0f},
      {{"Add", "Sub", "Mul", "Div", "Max", "Min"}, 0.1f}};
  size_t covered = 0;
  int index = 0;
  for (const auto& [ops, lo] : groups) {
    std::vector<ElementwiseStep> steps;
    int sum = -1;  // the running sum's value index
    for (const std::string& op : ops) {
      ElementwiseStep step{op, {0}, 0.3f};
      if (elementwise_op_arity(op) == 2) step.operands = {0, 1};
      else if (steps.size() % 2) step.operands = {1};  // unary ops alternate between the two inputs
      steps.push_back(step);
      const int result = 2 + static_cast<int>(steps.size()) - 1;
      if (sum >= 0) {
        steps.push_back({"Add", {sum, result}});
        sum = 2 + static_cast<int>(steps.size()) - 1;
      } else {
        sum = result;
      }
    }
    covered += ops.size();
    auto spec = elementwise_spec("every_op_" + std::to_string(index++), {5, 12}, {{5, 12}, {12}}, steps);
    check_elementwise(spec, spec.input_shapes, spec.output_shape, {}, lo, 3.0f);
  }
  EXPECT_EQ(covered, supported_elementwise_ops().size());
}

TEST(CudaKernelNumerics, ElementwisePathsAndShapes) {
  const std::vector<ElementwiseStep> chain = {{"Mul", {0, 1}}, {"Tanh", {3}}, {"Sub", {4, 2}}, {"LeakyRelu", {5}, 0.1f}};
  struct Case {
    Shape out;
    std::vector<Shape> inputs;
  };
  const std::vector<Case> cases = {
      {{4096}, {{4096}, {4096}, {4096}}},                 // flat, float4
      {{1001}, {{1001}, {1}, {1001}}},                    // flat, float4 bulk + tail, a scalar
      {{3}, {{3}, {}, {1}}},                              // fewer elements than a float4
      {{7, 9, 5}, {{7, 9, 5}, {9, 1}, {5}}},              // index path, broadcasts inner/outer
      {{2, 3, 4, 5, 6}, {{2, 1, 4, 1, 6}, {3, 1, 1, 1}, {2, 3, 4, 5, 6}}},  // rank 5, coalescing
      {{6, 1, 4}, {{6, 1, 1}, {1, 4}, {6, 1, 4}}},        // outer product through a unit dim
  };
  int index = 0;
  for (const Case& c : cases) {
    const std::string name = "paths_" + std::to_string(index++);
    auto concrete = elementwise_spec(name, c.out, c.inputs, chain);
    auto generic = elementwise_spec(name + "_generic", c.out, c.inputs, chain, true);
    for (const RunOptions& options : {RunOptions{}, RunOptions{1, 0}, RunOptions{0, 1}, RunOptions{3, 2}}) {
      check_elementwise(concrete, c.inputs, c.out, options);
      check_elementwise(generic, c.inputs, c.out, options);
    }
  }
}

TEST(CudaKernelNumerics, OneGenericKernelServesManyShapes) {
  const std::vector<ElementwiseStep> chain = {{"Add", {0, 1}}, {"Sigmoid", {2}}};
  auto generic = elementwise_spec("generic_shapes", {4, 8}, {{4, 8}, {8}}, chain, true);
  for (const std::vector<Shape>& shapes : std::vector<std::vector<Shape>>{
           {{4, 8}, {8}}, {{1, 1}, {1}}, {{33, 7}, {7}}, {{5, 8}, {1}}, {{300, 129}, {129}}, {{0, 3}, {3}}})
    check_elementwise(generic, shapes, shapes[0]);
  // With broadcast flags (input 1 broadcast along rows only): the flat path is not compiled in.
  auto flagged = elementwise_spec("generic_flagged", {4, 8}, {{4, 8}, {1, 8}}, chain, true);
  flagged.input_broadcast = {{false, false}, {true, false}};
  for (const std::vector<Shape>& shapes : std::vector<std::vector<Shape>>{{{4, 8}, {1, 8}}, {{1, 5}, {1, 5}}, {{9, 2}, {1, 2}}})
    check_elementwise(flagged, shapes, shapes[0], {0, 2});
  auto flat_only = elementwise_spec("generic_flat_only", {4, 8}, {{4, 8}, {1}}, chain, true);
  flat_only.input_broadcast = {{false, false}, {true, true}};
  for (const std::vector<Shape>& shapes : std::vector<std::vector<Shape>>{{{4, 8}, {1}}, {{3, 3}, {1}}, {{1, 1}, {1}}})
    check_elementwise(flat_only, shapes, shapes[0], {1, 1});
}

TEST(CudaKernelNumerics, MaxMinPropagateNaN) {
  auto spec = elementwise_spec("nan_minmax", {8}, {{8}, {8}}, {{"Max", {0, 1}}, {"Min", {1, 0}}, {"Add", {2, 3}}});
  const std::vector<float> a = {1, NAN, 3, NAN, -1, 0, INFINITY, -INFINITY};
  const std::vector<float> b = {NAN, 2, NAN, NAN, -2, -0.0f, 1, 1};
  std::vector<float> got = run(spec, {{8}, {8}}, {a, b}, {8});
  const std::vector<double> want = {NAN, NAN, NAN, NAN, -3, 0, INFINITY, -INFINITY};
  expect_close(got, want, 0);
}

// ---- Row kinds ---------------------------------------------------------------------------

std::vector<double> reference_rows(const CudaKernelSpec& spec, int64_t rows, int64_t cols,
                                   const std::vector<std::vector<float>>& in) {
  std::vector<double> out;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in[0].data() + r * cols;
    double sum = 0, mx = -INFINITY, mn = INFINITY;
    for (int64_t j = 0; j < cols; ++j) {
      sum += x[j];
      mx = std::max(mx, double(x[j]));
      mn = std::min(mn, double(x[j]));
    }
    if (spec.kind == CudaKernelKind::RowReduce) {
      const RowReduceOp op = spec.reduce;
      out.push_back(op == RowReduceOp::Sum ? sum : op == RowReduceOp::Mean ? sum / cols : op == RowReduceOp::Max ? mx : mn);
    } else if (spec.kind == CudaKernelKind::RowSoftmax) {
      double total = 0;
      for (int64_t j = 0; j < cols; ++j) total += std::exp(x[j] - mx);
      for (int64_t j = 0; j < cols; ++j) out.push_back(std::exp(x[j] - mx) / total);
    } else {
      const double mean = sum / cols;
      double var = 0;
      for (int64_t j = 0; j < cols; ++j) var += (x[j] - mean) * (x[j] - mean);
      const double inv = 1.0 / std::sqrt(var / cols + spec.epsilon);
      for (int64_t j = 0; j < cols; ++j)
        out.push_back((x[j] - mean) * inv * in[1][static_cast<size_t>(j)] +
                      (spec.num_inputs == 3 ? in[2][static_cast<size_t>(j)] : 0.0));
    }
  }
  return out;
}

void check_rows(const CudaKernelSpec& spec, int64_t rows, int64_t cols, const RunOptions& options = {}) {
  SCOPED_TRACE(spec.name + " " + std::to_string(rows) + " x " + std::to_string(cols) + " max_grid " +
               std::to_string(options.max_grid));
  std::vector<std::vector<float>> in = {random_values(rows * cols, 7, -4, 6)};
  std::vector<Shape> shapes = {{rows, cols}};
  for (int i = 1; i < spec_input_count(spec); ++i) {
    in.push_back(random_values(cols, 20 + static_cast<uint32_t>(i), 0.5f, 1.5f));
    shapes.push_back({cols});
  }
  const Shape out = spec.kind == CudaKernelKind::RowReduce ? Shape{rows} : Shape{rows, cols};
  // Float sums over up to a few thousand terms in another order than the double reference.
  expect_close(run(spec, shapes, in, out, options), reference_rows(spec, rows, cols, in), 2e-5);
}

// Ragged and exact warps, both sides of the warp/block threshold (1024).
const std::vector<std::pair<int64_t, int64_t>> kRowShapes = {{1, 1}, {3, 31}, {9, 32}, {10, 33}, {4, 100},
                                                             {2, 1024}, {3, 1025}, {2, 3000}, {17, 64}};
// Concrete kernels are compiled per shape, so fewer: one of each form.
const std::vector<std::pair<int64_t, int64_t>> kConcreteRowShapes = {{1, 1}, {9, 32}, {10, 33}, {3, 1025}};

std::vector<CudaKernelSpec> row_specs(int64_t rows, int64_t cols, bool generic) {
  const std::string tag = generic ? "any" : std::to_string(rows) + "x" + std::to_string(cols);
  std::vector<CudaKernelSpec> specs = {row_spec(CudaKernelKind::RowSoftmax, "softmax_" + tag, rows, cols, generic),
                                       row_spec(CudaKernelKind::RowLayerNorm, "layernorm_" + tag, rows, cols, generic)};
  auto no_bias = row_spec(CudaKernelKind::RowLayerNorm, "layernorm_nobias_" + tag, rows, cols, generic);
  no_bias.num_inputs = 2;
  no_bias.epsilon = 1e-3f;
  specs.push_back(no_bias);
  for (RowReduceOp op : {RowReduceOp::Sum, RowReduceOp::Mean, RowReduceOp::Max, RowReduceOp::Min}) {
    specs.push_back(row_spec(CudaKernelKind::RowReduce, std::string("reduce_") + row_reduce_op_name(op) + "_" + tag,
                             rows, cols, generic));
    specs.back().reduce = op;
  }
  return specs;
}

TEST(CudaKernelNumerics, RowKindsConcrete) {
  for (const auto& [rows, cols] : kConcreteRowShapes)
    for (const CudaKernelSpec& spec : row_specs(rows, cols, false)) check_rows(spec, rows, cols);
}

TEST(CudaKernelNumerics, RowKindsGenericAndGridLoops) {
  for (const CudaKernelSpec& spec : row_specs(0, 0, true))
    for (const auto& [rows, cols] : kRowShapes) {
      check_rows(spec, rows, cols);
      check_rows(spec, rows, cols, {0, 1});  // one block walks every row
    }
  // Concrete kernels with a capped grid: each warp / block takes several rows.
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{37, 45}, {5, 2000}}) {
    std::vector<CudaKernelSpec> specs = row_specs(rows, cols, false);
    for (size_t i : {0, 1, 5}) check_rows(specs[i], rows, cols, {0, 2});  // softmax, layer norm, max
  }
}

TEST(CudaKernelNumerics, SoftmaxIsStableAndPropagatesNaN) {
  auto spec = row_spec(CudaKernelKind::RowSoftmax, "softmax_extreme", 3, 4);
  const std::vector<float> x = {1000, 999, 998, -1e30f, -1000, -1001, 88, 89, 1, NAN, 2, 3};
  std::vector<float> got = run(spec, {{3, 4}}, {x}, {3, 4});
  std::vector<double> want = reference_rows(spec, 2, 4, {x});  // first two rows; the third holds NaN
  for (int i = 0; i < 4; ++i) want.push_back(NAN);
  expect_close(got, want, 1e-6);
}

// ---- Gemm ----------------------------------------------------------------------------------

void check_gemm(const CudaKernelSpec& spec, int64_t m, int64_t n, int64_t k, const RunOptions& options = {}) {
  SCOPED_TRACE(spec.name + " m " + std::to_string(m) + " n " + std::to_string(n) + " k " + std::to_string(k) +
               " max_grid " + std::to_string(options.max_grid));
  std::vector<std::vector<float>> in = {random_values(m * k, 1), random_values(k * n, 2)};
  std::vector<Shape> shapes = {{m, k}, {k, n}};
  if (spec.has_bias) {
    in.push_back(random_values(n, 3));
    shapes.push_back({n});
  }
  std::vector<double> want(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = spec.has_bias ? in[2][static_cast<size_t>(j)] : 0.0;
      for (int64_t p = 0; p < k; ++p) acc += double(in[0][static_cast<size_t>(i * k + p)]) * in[1][static_cast<size_t>(p * n + j)];
      want[static_cast<size_t>(i * n + j)] = spec.relu && acc < 0 ? 0.0 : acc;
    }
  expect_close(run(spec, shapes, in, {m, n}, options), want, 1e-5 * std::max<int64_t>(1, k / 8));
}

TEST(CudaKernelNumerics, GemmTilesTailsAndEpilogues) {
  struct Size {
    int64_t m, n, k;
  };
  // Each size with another epilogue (none, bias, ReLU, both): a host compile each.
  const std::vector<Size> sizes = {{1, 1, 1}, {64, 64, 16}, {65, 63, 17}, {100, 70, 33}, {3, 130, 2}, {40, 3, 70}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    const Size& s = sizes[i];
    const bool bias = i % 2, relu = (i / 2) % 2;
    check_gemm(gemm_spec("gemm_" + std::to_string(i), s.m, s.n, s.k, bias, relu), s.m, s.n, s.k);
  }
  auto generic = gemm_spec("gemm_any", 0, 0, 0, true, true, true);
  for (const Size& s : std::vector<Size>{{5, 7, 3}, {130, 65, 40}, {1, 200, 1}, {70, 1, 129}}) {
    check_gemm(generic, s.m, s.n, s.k);
    check_gemm(generic, s.m, s.n, s.k, {0, 1});  // one block walks every tile
  }
}

}  // namespace
}  // namespace dj::jit::cuda
