// cuBLASLt's row-major f32 GEMM with each epilogue against a double-precision host
// reference. Skips without a GPU (fails instead with DJ_TEST_REQUIRE_CUDA=1).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "runtime/Tensor.h"
#include "runtime/cuda/CublasLt.h"
#include "runtime/cuda/CudaTransfer.h"
#include "tests/runtime_cuda/CudaTestSupport.h"

namespace dj {
namespace {

// Deterministic values in [-1, 1) with no structure a transposition bug could hide behind.
std::vector<float> pseudo_random(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t x = seed;
  for (float& f : v) {
    x = x * 1664525u + 1013904223u;
    f = static_cast<float>(x >> 8) / static_cast<float>(1u << 23) - 1.0f;
  }
  return v;
}

double reference_epilogue(double x, GemmEpilogue e) {
  switch (e) {
    case GemmEpilogue::ReluBias:
    case GemmEpilogue::Relu:
      return x > 0 ? x : 0;
    case GemmEpilogue::GeluBias:  // cuBLASLt's GELU: the tanh approximation
      return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    default:
      return x;
  }
}

void check_gemm(CudaContext& ctx, CublasLt& lt, int64_t m, int64_t n, int64_t k, GemmEpilogue epilogue) {
  SCOPED_TRACE(::testing::Message() << "m=" << m << " n=" << n << " k=" << k << " epilogue "
                                  << gemm_epilogue_name(epilogue));
  CUstream stream = ctx.thread_stream().value();
  const std::vector<float> a = pseudo_random(size_t(m * k), 1), b = pseudo_random(size_t(k * n), 2),
                           bias = pseudo_random(size_t(n), 3);
  DeviceBuffer da = upload_to_new_buffer(ctx, Tensor::from_vector(a, {m, k}), stream).value();
  DeviceBuffer db = upload_to_new_buffer(ctx, Tensor::from_vector(b, {k, n}), stream).value();
  DeviceBuffer dbias = upload_to_new_buffer(ctx, Tensor::from_vector(bias, {n}), stream).value();
  DeviceBuffer dout = DeviceBuffer::allocate(ctx.allocator(), size_t(m * n) * 4, reinterpret_cast<StreamKey>(stream)).value();
  GemmF32 g;
  g.m = m, g.n = n, g.k = k;
  g.a = da.ptr(), g.b = db.ptr(), g.out = dout.ptr();
  g.bias = gemm_epilogue_has_bias(epilogue) ? dbias.ptr() : 0;
  g.epilogue = epilogue;
  Status s = lt.gemm_f32(g, stream);
  ASSERT_TRUE(s.ok()) << s.to_string();
  Tensor out = download_tensor(ctx, dout.ptr(), dout.capacity(), DType::F32, {m, n}, stream).value();
  const float* got = out.data<float>();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = gemm_epilogue_has_bias(epilogue) ? bias[size_t(j)] : 0.0;
      double magnitude = std::fabs(acc);
      for (int64_t p = 0; p < k; ++p) {
        const double term = double(a[size_t(i * k + p)]) * double(b[size_t(p * n + j)]);
        acc += term;
        magnitude += std::fabs(term);
      }
      const double want = reference_epilogue(acc, epilogue);
      // f32 accumulation error grows with the sum of |terms|. cuBLASLt may evaluate GELU's
      // tanh with the hardware approximation (about 2^-11 relative), hence its extra slack.
      double tol = 1e-5 + 2e-6 * magnitude;
      if (epilogue == GemmEpilogue::GeluBias) tol += 1e-3 * (1.0 + std::fabs(acc));
      ASSERT_NEAR(got[i * n + j], want, tol) << "out[" << i << "," << j << "]";
    }
  }
}

TEST(CublasLtGpu, EveryEpilogueMatchesTheHostReference) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  Expected<CublasLt*> lt = CublasLt::get();
  ASSERT_TRUE(lt.ok()) << lt.status().to_string();
  // Odd, unequal sizes: a swapped m/n/k or leading dimension cannot pass.
  for (GemmEpilogue e : {GemmEpilogue::None, GemmEpilogue::Bias, GemmEpilogue::ReluBias, GemmEpilogue::GeluBias,
                         GemmEpilogue::Relu}) {
    check_gemm(ctx, *lt.value(), 37, 53, 29, e);
  }
}

TEST(CublasLtGpu, LargerBiasReluGemmAndPlanCache) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  CublasLt& lt = *CublasLt::get().value();
  check_gemm(ctx, lt, 256, 384, 512, GemmEpilogue::ReluBias);
  const size_t plans = lt.cached_plans();
  check_gemm(ctx, lt, 256, 384, 512, GemmEpilogue::ReluBias);  // same key: the plan is reused
  EXPECT_EQ(lt.cached_plans(), plans);
  check_gemm(ctx, lt, 1, 384, 512, GemmEpilogue::ReluBias);    // a row vector (decode-style m=1)
  EXPECT_EQ(lt.cached_plans(), plans + 1);
}

TEST(CublasLtGpu, RefusesBadArguments) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  CublasLt& lt = *CublasLt::get().value();
  CUstream stream = ctx.thread_stream().value();
  DeviceBuffer buf = DeviceBuffer::allocate(ctx.allocator(), 4096, reinterpret_cast<StreamKey>(stream)).value();
  GemmF32 g;
  g.m = 4, g.n = 4, g.k = 4;
  g.a = buf.ptr(), g.b = buf.ptr() + 64, g.out = buf.ptr() + 1024;
  g.epilogue = GemmEpilogue::Bias;  // without a bias pointer
  EXPECT_EQ(lt.gemm_f32(g, stream).code(), StatusCode::InvalidArgument);
  g.epilogue = GemmEpilogue::None;
  g.out = buf.ptr() + 32;  // overlaps a
  EXPECT_EQ(lt.gemm_f32(g, stream).code(), StatusCode::InvalidArgument);
  g.out = buf.ptr() + 1024;
  g.k = 0;
  EXPECT_EQ(lt.gemm_f32(g, stream).code(), StatusCode::Unsupported);
  g.m = 0;
  EXPECT_TRUE(lt.gemm_f32(g, stream).ok());  // empty output: nothing to do
}

}  // namespace
}  // namespace dj
