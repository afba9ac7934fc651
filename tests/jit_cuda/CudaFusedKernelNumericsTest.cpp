// The fused kernel forms compute the right numbers: GEMM residual epilogues,
// batched GEMMs and softmax / layer norm with an elementwise prologue, each run on
// the CPU through the host emulation of CUDA (EmulatedKernelRun.h) and compared
// with a reference computed here in double (the prologue's elementwise ops in
// float, as the CPU reference kernels compute them). Shapes are odd on purpose
// (m, n, k off the 64 x 64 x 16 tile; ragged warps; both sides of the warp/block
// row threshold), concrete and generic, and with capped grids so that every tile,
// batch and row loop runs more than once.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/jit_cuda/CudaJitTestSupport.h"
#include "tests/jit_cuda/EmulatedKernelRun.h"

namespace dj::jit::cuda {
namespace {

using testing::batched_gemm_spec;
using testing::expect_close;
using testing::prologue_row_spec;
using testing::random_values;
using testing::reference_elementwise_op;
using testing::residual_gemm_spec;
using testing::run;
using testing::RunOptions;

struct GemmSize {
  int64_t m, n, k;
};

// ---- Gemm + residual -----------------------------------------------------------------------

void check_residual_gemm(const CudaKernelSpec& spec, const GemmSize& s, const RunOptions& options = {}) {
  SCOPED_TRACE(spec.name + " m " + std::to_string(s.m) + " n " + std::to_string(s.n) + " k " + std::to_string(s.k) +
               " max_grid " + std::to_string(options.max_grid));
  std::vector<std::vector<float>> in = {random_values(s.m * s.k, 1), random_values(s.k * s.n, 2)};
  std::vector<Shape> shapes = {{s.m, s.k}, {s.k, s.n}};
  if (spec.has_bias) {
    in.push_back(random_values(s.n, 3));
    shapes.push_back({s.n});
  }
  in.push_back(random_values(s.m * s.n, 4, -3.0f, 3.0f));
  shapes.push_back({s.m, s.n});
  const std::vector<float>& residual = in.back();
  std::vector<double> want(static_cast<size_t>(s.m * s.n));
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double v = spec.has_bias ? in[2][static_cast<size_t>(j)] : 0.0;
      for (int64_t p = 0; p < s.k; ++p)
        v += double(in[0][static_cast<size_t>(i * s.k + p)]) * in[1][static_cast<size_t>(p * s.n + j)];
      if (spec.relu && v < 0) v = 0;
      v += residual[static_cast<size_t>(i * s.n + j)];
      if (spec.relu_after_residual && v < 0) v = 0;
      want[static_cast<size_t>(i * s.n + j)] = v;
    }
  expect_close(run(spec, shapes, in, {s.m, s.n}, options), want, 1e-5 * std::max<int64_t>(1, s.k / 8));
}

TEST(CudaFusedKernelNumerics, GemmResidualEpilogues) {
  // Concrete: each size with another epilogue (a host compile each).
  const std::vector<GemmSize> sizes = {{1, 1, 1}, {65, 63, 17}, {100, 70, 33}, {3, 130, 2}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    const GemmSize& s = sizes[i];
    const bool bias = i % 2, relu = i == 1 || i == 2, relu_after = i >= 2;
    check_residual_gemm(residual_gemm_spec("residual_" + std::to_string(i), s.m, s.n, s.k, bias, relu, relu_after), s);
  }
  auto generic = residual_gemm_spec("residual_any", 0, 0, 0, true, true, true, true);
  for (const GemmSize& s : std::vector<GemmSize>{{5, 7, 3}, {130, 65, 40}, {1, 200, 1}, {70, 1, 129}}) {
    check_residual_gemm(generic, s);
    check_residual_gemm(generic, s, {0, 1});  // one block walks every tile
  }
}

// ---- Batched GEMM --------------------------------------------------------------------------

void check_batched_gemm(const CudaKernelSpec& spec, int64_t batch, const GemmSize& s, const RunOptions& options = {}) {
  SCOPED_TRACE(spec.name + " batch " + std::to_string(batch) + " m " + std::to_string(s.m) + " n " +
               std::to_string(s.n) + " k " + std::to_string(s.k) + " max_grid " + std::to_string(options.max_grid));
  const std::vector<std::vector<float>> in = {random_values(batch * s.m * s.k, 5), random_values(batch * s.k * s.n, 6)};
  std::vector<double> want(static_cast<size_t>(batch * s.m * s.n));
  for (int64_t b = 0; b < batch; ++b) {
    const float* a = in[0].data() + b * s.m * s.k;
    const float* bm = in[1].data() + b * s.k * s.n;
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) {
        double v = 0;
        for (int64_t p = 0; p < s.k; ++p) v += double(a[i * s.k + p]) * bm[p * s.n + j];
        want[static_cast<size_t>((b * s.m + i) * s.n + j)] = v;
      }
  }
  expect_close(run(spec, {{batch, s.m, s.k}, {batch, s.k, s.n}}, in, {batch, s.m, s.n}, options), want,
               1e-5 * std::max<int64_t>(1, s.k / 8));
}

TEST(CudaFusedKernelNumerics, BatchedGemmConcrete) {
  for (int64_t batch : {1, 7}) {
    const GemmSize s = batch == 1 ? GemmSize{65, 63, 17} : GemmSize{33, 70, 9};
    auto spec = batched_gemm_spec("batched_" + std::to_string(batch), batch, s.m, s.n, s.k);
    check_batched_gemm(spec, batch, s);
    check_batched_gemm(spec, batch, s, {0, 2});  // two z-slices: each walks several matrices
  }
}

TEST(CudaFusedKernelNumerics, BatchedGemmGeneric) {
  auto spec = batched_gemm_spec("batched_any", 0, 0, 0, 0, true);
  for (int64_t batch : {1, 7})
    for (const GemmSize& s : std::vector<GemmSize>{{5, 7, 3}, {65, 63, 17}, {1, 130, 1}, {70, 1, 33}}) {
      check_batched_gemm(spec, batch, s);
      check_batched_gemm(spec, batch, s, {0, 1});  // one block walks every tile of every matrix
    }
}

// ---- Softmax / LayerNorm with a prologue --------------------------------------------------

// The prologue's operands for rows x cols: (x, s, b, r) of testing::prologue_views,
// and x computed from them in float with the reference formulas.
struct PrologueCase {
  std::vector<std::vector<float>> inputs;  // the prologue's, then LayerNorm's scale and bias
  std::vector<Shape> shapes;
  std::vector<float> x;
};

PrologueCase prologue_case(const CudaKernelSpec& spec, int64_t rows, int64_t cols) {
  PrologueCase c;
  const std::vector<Shape> views = testing::prologue_views(rows, cols);
  for (size_t i = 0; i < views.size(); ++i) {
    c.inputs.push_back(random_values(shape_numel(views[i]), 40 + static_cast<uint32_t>(i), -2.0f, 2.0f));
    c.shapes.push_back(views[i]);
  }
  if (spec.kind == CudaKernelKind::RowLayerNorm)
    for (uint32_t i = 0; i < 2; ++i) {
      c.inputs.push_back(random_values(cols, 50 + i, 0.5f, 1.5f));
      c.shapes.push_back({cols});
    }
  const int operands = static_cast<int>(views.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      std::vector<float> values;
      for (size_t i = 0; i < views.size(); ++i) {
        switch (row_operand_view(views[i])) {
          case RowOperandView::Block: values.push_back(c.inputs[i][static_cast<size_t>(r * cols + j)]); break;
          case RowOperandView::Row: values.push_back(c.inputs[i][static_cast<size_t>(j)]); break;
          case RowOperandView::Scalar: values.push_back(c.inputs[i][0]); break;
        }
      }
      for (const ElementwiseStep& step : spec.steps) {
        const float a = values[static_cast<size_t>(step.operands[0])];
        const float b = step.operands.size() > 1 ? values[static_cast<size_t>(step.operands[1])] : 0.0f;
        values.push_back(reference_elementwise_op(step, a, b));
      }
      EXPECT_EQ(values.size(), static_cast<size_t>(operands) + spec.steps.size());
      c.x.push_back(values.back());
    }
  return c;
}

std::vector<double> reference_rows(const CudaKernelSpec& spec, const PrologueCase& c, int64_t rows, int64_t cols) {
  std::vector<double> out;
  const size_t scale = spec.prologue_views.size();
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = c.x.data() + r * cols;
    double sum = 0, mx = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) {
      sum += x[j];
      mx = std::max(mx, double(x[j]));
    }
    if (spec.kind == CudaKernelKind::RowSoftmax) {
      double total = 0;
      for (int64_t j = 0; j < cols; ++j) total += std::exp(x[j] - mx);
      for (int64_t j = 0; j < cols; ++j) out.push_back(std::exp(x[j] - mx) / total);
    } else {
      const double mean = sum / cols;
      double var = 0;
      for (int64_t j = 0; j < cols; ++j) var += (x[j] - mean) * (x[j] - mean);
      const double inv = 1.0 / std::sqrt(var / cols + spec.epsilon);
      for (int64_t j = 0; j < cols; ++j)
        out.push_back((x[j] - mean) * inv * c.inputs[scale][static_cast<size_t>(j)] +
                      c.inputs[scale + 1][static_cast<size_t>(j)]);
    }
  }
  return out;
}

void check_prologue(const CudaKernelSpec& spec, int64_t rows, int64_t cols, const RunOptions& options = {}) {
  SCOPED_TRACE(spec.name + " " + std::to_string(rows) + " x " + std::to_string(cols) + " max_grid " +
               std::to_string(options.max_grid));
  const PrologueCase c = prologue_case(spec, rows, cols);
  expect_close(run(spec, c.shapes, c.inputs, {rows, cols}, options), reference_rows(spec, c, rows, cols), 2e-5);
}

CudaKernelSpec prologue_spec(CudaKernelKind kind, int64_t rows, int64_t cols, bool generic) {
  const std::string name = std::string(kind == CudaKernelKind::RowSoftmax ? "softmax" : "layernorm") + "_prologue_" +
                           (generic ? std::string("any") : std::to_string(rows) + "x" + std::to_string(cols));
  // Generic views are examples (block, one value, one row, block).
  const std::vector<Shape> views = testing::prologue_views(generic ? 4 : rows, generic ? 8 : cols);
  return prologue_row_spec(kind, name, rows, cols, views, testing::prologue_steps(), generic);
}

TEST(CudaFusedKernelNumerics, ProloguesConcrete) {
  // One warp with one element; ragged and exact warps (the row cached in registers);
  // a block per row (the prologue recomputed in each pass).
  for (auto [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {9, 45}, {3, 64}, {3, 1025}})
    for (CudaKernelKind kind : {CudaKernelKind::RowSoftmax, CudaKernelKind::RowLayerNorm})
      check_prologue(prologue_spec(kind, rows, cols, false), rows, cols);
  // With a capped grid: each warp / block takes several rows.
  check_prologue(prologue_spec(CudaKernelKind::RowSoftmax, 37, 45, false), 37, 45, {0, 2});
  check_prologue(prologue_spec(CudaKernelKind::RowLayerNorm, 5, 2000, false), 5, 2000, {0, 2});
}

TEST(CudaFusedKernelNumerics, ProloguesGeneric) {
  for (CudaKernelKind kind : {CudaKernelKind::RowSoftmax, CudaKernelKind::RowLayerNorm}) {
    const CudaKernelSpec spec = prologue_spec(kind, 0, 0, true);
    for (auto [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 31}, {9, 32}, {10, 33}, {3, 1025},
                                                                        {2, 3000}}) {
      check_prologue(spec, rows, cols);
      check_prologue(spec, rows, cols, {0, 1});  // one block walks every row
    }
  }
}

// A prologue of one row and one value, no block: only the output tells the number
// of rows (fill_params), and every row comes out equal.
TEST(CudaFusedKernelNumerics, PrologueOfRowAndScalarOnly) {
  // x[r, j] = (b[j] - s) * s, s read by both steps.
  CudaKernelSpec spec = prologue_row_spec(CudaKernelKind::RowSoftmax, "softmax_row_scalar", 4, 6, {{6}, {1}},
                                          {{"Sub", {0, 1}}, {"Mul", {2, 1}}});
  const std::vector<float> b = {0.5f, -1.0f, 2.0f, 0.0f, 1.5f, -0.25f}, s = {3.0f};
  std::vector<double> row;
  double total = 0, mx = -INFINITY;
  for (float v : b) mx = std::max(mx, double((v - s[0]) * s[0]));
  for (float v : b) total += std::exp((v - s[0]) * s[0] - mx);
  for (float v : b) row.push_back(std::exp((v - s[0]) * s[0] - mx) / total);
  std::vector<double> want;
  for (int r = 0; r < 4; ++r) want.insert(want.end(), row.begin(), row.end());
  expect_close(run(spec, {{6}, {1}}, {b, s}, {4, 6}), want, 1e-6);
}

}  // namespace
}  // namespace dj::jit::cuda
