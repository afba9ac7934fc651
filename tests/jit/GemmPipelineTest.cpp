// GemmPipeline: every schedule against a naive double-precision reference, tails included.
#include <gtest/gtest.h>

#include "jit/GemmPipeline.h"
#include "jit/KernelCompiler.h"
#include "tests/jit/JitTestSupport.h"

namespace dj::jit {
namespace {

using testing::random_tensor;

struct GemmKernelParams {
  Halide::ImageParam a{Halide::Float(32), 2, "A"};     // row-major [M, K]: a(k, i)
  Halide::ImageParam b{Halide::Float(32), 2, "B"};     // row-major [K, N]: b(j, k)
  Halide::ImageParam bias{Halide::Float(32), 1, "bias"};
};

Expected<CompiledKernel> compile_gemm(const GemmShape& shape, GemmSchedule force, GemmSchedule* chosen,
                                      const std::string& name) {
  GemmKernelParams p;
  GemmDefinition def;
  def.a = p.a;
  def.b = p.b;
  def.m = p.a.dim(1).extent();
  def.n = p.b.dim(0).extent();
  def.k = p.a.dim(0).extent();
  def.bias = p.bias;
  def.relu = true;
  GemmPipeline g = build_gemm(def, shape, force);
  if (chosen) *chosen = g.schedule;
  return compile_pipeline(PipelineSpec{Halide::Pipeline(g.out), {p.a, p.b, p.bias}, name});
}

// relu(A B + bias) in double.
Tensor reference(const Tensor& a, const Tensor& b, const Tensor& bias) {
  const int64_t m = a.dim(0), k = a.dim(1), n = b.dim(1);
  Tensor out = Tensor::empty(DType::F32, {m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = bias.data<float>()[j];
      for (int64_t kk = 0; kk < k; ++kk) acc += double(a.data<float>()[i * k + kk]) * b.data<float>()[kk * n + j];
      out.data<float>()[i * n + j] = static_cast<float>(acc > 0 ? acc : 0);
    }
  return out;
}

// Relative to the size of the terms: |err| <= tol * sqrt(K) * max|a| * max|b|.
void expect_gemm_matches(const CompiledKernel& kernel, int64_t m, int64_t n, int64_t k) {
  SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
  Tensor a = random_tensor({m, k}, 11), b = random_tensor({k, n}, 12), bias = random_tensor({n}, 13);
  Tensor out = Tensor::zeros(DType::F32, {m, n});
  Tensor inputs[] = {a, b, bias};
  Status st = kernel.run(inputs, std::span<const Tensor>(&out, 1));
  ASSERT_TRUE(st.ok()) << st.to_string();
  double err = testing::max_abs_diff(out, reference(a, b, bias));
  EXPECT_LT(err, 2e-6 * (1 + std::sqrt(double(k))) * 4) << "max abs error " << err;
}

struct Case {
  int64_t m, n, k;
  GemmSchedule expected;
};

TEST(GemmPipeline, AutoScheduleMatchesReference) {
  const Case cases[] = {
      {1, 1, 1, GemmSchedule::Small},
      {7, 13, 5, GemmSchedule::Small},
      {3, 700, 50, GemmSchedule::Small},  // column strips
      {64, 64, 64, GemmSchedule::RegisterBlocked},
      {200, 300, 100, GemmSchedule::RegisterBlocked},
      {512, 512, 512, GemmSchedule::RegisterBlocked},
      {100, 1000, 777, GemmSchedule::PackedB},  // tails in every packed loop
  };
  for (const Case& c : cases) {
    GemmSchedule chosen;
    std::string name = "gemm_" + std::to_string(c.m) + "_" + std::to_string(c.n) + "_" + std::to_string(c.k);
    auto kernel = compile_gemm({c.m, c.n, c.k}, GemmSchedule::Auto, &chosen, name);
    ASSERT_TRUE(kernel.ok()) << name << ": " << kernel.status().to_string();
    EXPECT_EQ(chosen, c.expected) << name << " got " << gemm_schedule_name(chosen);
    expect_gemm_matches(*kernel, c.m, c.n, c.k);
  }
}

TEST(GemmPipeline, PackedBAt1024) {
  auto kernel = compile_gemm({1024, 1024, 1024}, GemmSchedule::Auto, nullptr, "gemm_1024");
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  expect_gemm_matches(*kernel, 1024, 1024, 1024);
}

TEST(GemmPipeline, GenericScheduleServesEverySize) {
  GemmSchedule chosen;
  auto kernel = compile_gemm({}, GemmSchedule::Auto, &chosen, "gemm_generic");
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  EXPECT_EQ(chosen, GemmSchedule::Generic);
  for (auto [m, n, k] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {7, 13, 5}, {9, 49, 3}, {64, 64, 64},
                                                          {200, 300, 100}, {33, 17, 250}})
    expect_gemm_matches(*kernel, m, n, k);
}

TEST(GemmPipeline, SpecializedKernelRejectsOtherSizes) {
  auto kernel = compile_gemm({64, 64, 64}, GemmSchedule::Auto, nullptr, "gemm_64_only");
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  // 8 columns: the 48-wide ShiftInwards tiles of the 64x64 schedule cannot serve it.
  Tensor a = random_tensor({64, 64}, 1), b = random_tensor({64, 8}, 2), bias = random_tensor({8}, 3);
  Tensor out = Tensor::zeros(DType::F32, {64, 8});
  Tensor inputs[] = {a, b, bias};
  Status st = kernel->run(inputs, std::span<const Tensor>(&out, 1));
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(st.message().empty());
}

TEST(GemmPipeline, CustomEpilogueAddsResidual) {
  GemmKernelParams p;
  Halide::ImageParam residual(Halide::Float(32), 2, "residual");
  GemmDefinition def;
  def.a = p.a;
  def.b = p.b;
  def.m = p.a.dim(1).extent();
  def.n = p.b.dim(0).extent();
  def.k = p.a.dim(0).extent();
  def.epilogue = [&](Halide::Expr v, Halide::Var j, Halide::Var i) { return v + residual(j, i); };
  GemmPipeline g = build_gemm(def, {16, 64, 32});
  auto kernel = compile_pipeline(PipelineSpec{Halide::Pipeline(g.out), {p.a, p.b, residual}, "gemm_residual"});
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  Tensor a = random_tensor({16, 32}, 1), b = random_tensor({32, 64}, 2), res = random_tensor({16, 64}, 3);
  Tensor out = Tensor::zeros(DType::F32, {16, 64});
  Tensor inputs[] = {a, b, res};
  ASSERT_TRUE(kernel->run(inputs, std::span<const Tensor>(&out, 1)).ok());
  double worst = 0;
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 64; ++j) {
      double acc = res.data<float>()[i * 64 + j];
      for (int k = 0; k < 32; ++k) acc += double(a.data<float>()[i * 32 + k]) * b.data<float>()[k * 64 + j];
      worst = std::max(worst, std::fabs(acc - out.data<float>()[i * 64 + j]));
    }
  EXPECT_LT(worst, 1e-5);
}

}  // namespace
}  // namespace dj::jit
