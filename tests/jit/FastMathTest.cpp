// FastMath: the vectorizable approximations against libm (double) over [-12, 12].
#include <gtest/gtest.h>

#include <cmath>

#include "jit/ElementwiseSchedule.h"
#include "jit/FastMath.h"
#include "jit/KernelCompiler.h"

namespace dj::jit {
namespace {

using UnaryExpr = Halide::Expr (*)(Halide::Expr);

double max_error(UnaryExpr fn, double (*reference)(double), const std::string& name) {
  constexpr int64_t kPoints = 1 << 20;
  Halide::ImageParam x(Halide::Float(32), 1, "x");
  Halide::Var i("i");
  Halide::Func out(name);
  out(i) = fn(x(i));
  schedule_elementwise(out, {kPoints});
  auto kernel = compile_pipeline(PipelineSpec{Halide::Pipeline(out), {x}, name});
  if (!kernel.ok()) {
    ADD_FAILURE() << kernel.status().to_string();
    return INFINITY;
  }
  Tensor in = Tensor::empty(DType::F32, {kPoints});
  for (int64_t k = 0; k < kPoints; ++k) in.data<float>()[k] = static_cast<float>(-12.0 + 24.0 * k / (kPoints - 1));
  // Tiny and exact-zero inputs too.
  for (int64_t k = 0; k < 64; ++k) in.data<float>()[k] = std::ldexp(1.0f, -static_cast<int>(k)) * (k % 2 ? -1 : 1);
  in.data<float>()[64] = 0.0f;
  Tensor result = Tensor::zeros(DType::F32, {kPoints});
  Status st = kernel->run(std::span<const Tensor>(&in, 1), std::span<const Tensor>(&result, 1));
  if (!st.ok()) {
    ADD_FAILURE() << st.to_string();
    return INFINITY;
  }
  double worst = 0;
  for (int64_t k = 0; k < kPoints; ++k) {
    double d = std::fabs(result.data<float>()[k] - reference(in.data<float>()[k]));
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d);
  }
  std::printf("  %-14s max abs error %.3g over [-12, 12]\n", name.c_str(), worst);
  return worst;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double gelu_tanh(double x) { return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); }
double exp_small(double x) { return std::exp(std::min(x, 0.0)); }
Halide::Expr exp_nonpositive(Halide::Expr x) { return exp_f32(Halide::min(x, 0.0f)); }

TEST(FastMath, TanhWithin5e7) { EXPECT_LT(max_error(tanh_f32, [](double x) { return std::tanh(x); }, "fm_tanh"), 5e-7); }
TEST(FastMath, SigmoidWithin5e7) { EXPECT_LT(max_error(sigmoid_f32, sigmoid, "fm_sigmoid"), 5e-7); }
TEST(FastMath, ErfWithin2e6) { EXPECT_LT(max_error(erf_f32, [](double x) { return std::erf(x); }, "fm_erf"), 2e-6); }
TEST(FastMath, GeluWithin1e5) { EXPECT_LT(max_error(gelu_f32, gelu, "fm_gelu"), 1e-5); }
TEST(FastMath, GeluTanhWithin1e5) { EXPECT_LT(max_error(gelu_tanh_f32, gelu_tanh, "fm_gelu_tanh"), 1e-5); }
TEST(FastMath, ExpOfNonPositiveWithin2e7) { EXPECT_LT(max_error(exp_nonpositive, exp_small, "fm_exp"), 2e-7); }
TEST(FastMath, ExpRelativeErrorWithin3e7) {
  // exp over [-12, 12] relative to the value: divide by exp(x) (the reference) through a wrapper.
  EXPECT_LT(max_error([](Halide::Expr x) { return exp_f32(x) / Halide::cast<float>(Halide::exp(Halide::cast<double>(x))); },
                      [](double) { return 1.0; }, "fm_exp_rel"),
            3e-7);
}

}  // namespace
}  // namespace dj::jit
