// Gemm kernels: tile multiples and ragged sizes, bias/ReLU/residual epilogues,
// batched GEMMs, concrete and generic — generated and compiled for sm_90.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/jit_cuda/CudaJitTestSupport.h"

namespace dj::jit::cuda {
namespace {

using testing::batched_gemm_spec;
using testing::compile_and_check;
using testing::gemm_spec;
using testing::generate_or_fail;
using testing::residual_gemm_spec;

bool contains(const std::string& text, const std::string& piece) { return text.find(piece) != std::string::npos; }

// The trimmed source lines from the epilogue's first ("float v = ") to its store.
std::vector<std::string> epilogue_statements(const std::string& source) {
  std::vector<std::string> lines;
  std::istringstream in(source);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    line.erase(0, line.find_first_not_of(' '));
    inside |= line.rfind("float v = ", 0) == 0;
    if (!inside) continue;
    lines.push_back(line);
    if (line.rfind("C[", 0) == 0) break;
  }
  return lines;
}

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

TEST(NvrtcGemm, ResidualEpilogues) {
  // Every combination of bias, ReLU before and ReLU after the residual, on a ragged size.
  for (int epilogue = 0; epilogue < 8; ++epilogue) {
    const bool bias = epilogue & 1, relu = epilogue & 2, relu_after = epilogue & 4;
    const std::string name = "gemm_residual_" + std::to_string(epilogue);
    SCOPED_TRACE(name);
    auto kernel = generate_or_fail(residual_gemm_spec(name, 65, 63, 17, bias, relu, relu_after));
    const std::string residual_at = bias ? "p.in[3]" : "p.in[2]";
    EXPECT_TRUE(contains(kernel.source, "const float* __restrict__ residual = " + residual_at + ";")) << kernel.source;
    // The epilogue's statements in order: bias, ReLU, residual, ReLU, store.
    std::vector<std::string> want = {std::string("float v = acc[i][j]") + (bias ? " + bias[col]" : "") + ";"};
    if (relu) want.push_back("v = v < 0.0f ? 0.0f : v;");
    want.push_back("v = v + residual[row * N + col];");
    if (relu_after) want.push_back("v = v < 0.0f ? 0.0f : v;");
    want.push_back("C[row * N + col] = v;");
    EXPECT_EQ(epilogue_statements(kernel.source), want) << kernel.source;
    compile_and_check(kernel);
  }
  auto generic = generate_or_fail(residual_gemm_spec("gemm_residual_any", 0, 0, 0, true, false, true, true));
  EXPECT_TRUE(contains(generic.source, "const long long M = p.rows;")) << generic.source;
  compile_and_check(generic);
}

TEST(NvrtcGemm, BatchedConcreteAndGeneric) {
  struct Size {
    int64_t batch, m, n, k;
  };
  for (const Size& s : std::vector<Size>{{1, 1, 1, 1}, {7, 65, 63, 17}, {12, 33, 8, 8}, {70000, 4, 4, 4}}) {
    const std::string name = "batched_" + std::to_string(s.batch) + "_" + std::to_string(s.m);
    SCOPED_TRACE(name);
    auto kernel = generate_or_fail(batched_gemm_spec(name, s.batch, s.m, s.n, s.k));
    EXPECT_EQ(kernel.block_size, 256);
    EXPECT_TRUE(contains(kernel.source, "const long long batch = " + std::to_string(s.batch) + "LL;")) << kernel.source;
    // blockIdx.z picks the matrix; the loop covers batches past the grid's z extent.
    EXPECT_TRUE(contains(kernel.source, "for (long long bz = blockIdx.z; bz < batch; bz += gridDim.z) {"))
        << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "const float* __restrict__ A = p.in[0] + bz * M * K;")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "const float* __restrict__ B = p.in[1] + bz * K * N;")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "float* __restrict__ C = p.out + bz * M * N;")) << kernel.source;
    EXPECT_FALSE(contains(kernel.source, "bias")) << kernel.source;
    compile_and_check(kernel);
  }
  auto generic = generate_or_fail(batched_gemm_spec("batched_any", 0, 0, 0, 0, true));
  EXPECT_TRUE(contains(generic.source, "const long long batch = p.extent[0];")) << generic.source;
  EXPECT_TRUE(contains(generic.source, "const long long K = p.k;")) << generic.source;
  auto out = compile_and_check(generic);
  EXPECT_NE(out.ptx.find("%ctaid.z"), std::string::npos);  // blockIdx.z is read
}

TEST(NvrtcGemm, InvalidSpecsAreRefused) {
  auto status = generate_cuda_kernel(gemm_spec("gemm_zero", 0, 4, 4, false, false)).status();
  EXPECT_EQ(status.code(), StatusCode::InvalidArgument);
  EXPECT_NE(status.message().find("m, n, k must be >= 1"), std::string::npos) << status.message();

  // Residual epilogues: the input count must match A, B, bias, residual.
  auto wrong_arity = residual_gemm_spec("gemm_residual_arity", 4, 4, 4, true, false, false);
  wrong_arity.num_inputs = 3;
  status = generate_cuda_kernel(wrong_arity).status();
  EXPECT_EQ(status.code(), StatusCode::InvalidArgument);
  EXPECT_NE(status.message().find("takes 4 inputs (A, B, bias, residual), num_inputs is 3"), std::string::npos)
      << status.message();
  wrong_arity.num_inputs = 4;
  EXPECT_TRUE(generate_cuda_kernel(wrong_arity).ok());
  auto relu_alone = gemm_spec("gemm_relu_after_alone", 4, 4, 4, false, false);
  relu_alone.relu_after_residual = true;
  EXPECT_NE(generate_cuda_kernel(relu_alone).status().message().find("relu_after_residual without a residual"),
            std::string::npos);

  // Batched: no epilogue, batch >= 1, two inputs.
  auto batched_bias = batched_gemm_spec("batched_bias", 2, 4, 4, 4);
  batched_bias.has_bias = true;
  EXPECT_EQ(generate_cuda_kernel(batched_bias).status().code(), StatusCode::Unsupported);
  auto no_batch = batched_gemm_spec("batched_none", 0, 4, 4, 4);
  EXPECT_NE(generate_cuda_kernel(no_batch).status().message().find("batch must be >= 1"), std::string::npos);
  auto batched_three = batched_gemm_spec("batched_three", 2, 4, 4, 4);
  batched_three.num_inputs = 3;
  EXPECT_NE(generate_cuda_kernel(batched_three).status().message().find("takes 2 inputs"), std::string::npos);
}

}  // namespace
}  // namespace dj::jit::cuda
