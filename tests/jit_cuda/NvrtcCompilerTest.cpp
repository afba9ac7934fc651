// NvrtcCompiler: cubin and PTX for sm_90, the NVRTC log on errors, option
// handling, and concurrent compiles.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "jit/cuda/KernelParams.h"
#include "jit/cuda/NvrtcCompiler.h"
#include "tests/jit_cuda/CudaJitTestSupport.h"

namespace dj::jit::cuda {
namespace {

std::string scale_kernel(const std::string& name) {
  return std::string(kernel_params_source()) + "\nextern \"C\" __global__ void __launch_bounds__(128) " + name +
         "(DjKernelParams p) {\n"
         "  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
         "  if (i < p.numel) p.out[i] = p.in[0][i] / p.in[1][i];\n"
         "}\n";
}

TEST(NvrtcCompiler, VersionAndArchitectures) {
  const std::string version = nvrtc_version();
  EXPECT_TRUE(std::regex_match(version, std::regex("[0-9]+\\.[0-9]+"))) << version;
  const std::vector<int> archs = nvrtc_supported_archs();
  ASSERT_FALSE(archs.empty());
  EXPECT_NE(std::find(archs.begin(), archs.end(), 90), archs.end()) << "sm_90 missing";
  EXPECT_TRUE(std::is_sorted(archs.begin(), archs.end()));
  std::cout << "NVRTC " << version << ", archs:";
  for (int a : archs) std::cout << " " << a;
  std::cout << "\n";
}

TEST(NvrtcCompiler, CubinAndPtxForSm90) {
  auto out = nvrtc_compile(scale_kernel("scale"), "scale");
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->arch, "sm_90");
  testing::expect_sm90_cubin(out->cubin, "scale");
  EXPECT_NE(out->ptx.find(".target sm_90"), std::string::npos);
  EXPECT_NE(out->ptx.find(".visible .entry scale("), std::string::npos);
  EXPECT_EQ(out->ptx.find('\0'), std::string::npos) << "PTX must not carry its NUL terminator";
  EXPECT_GT(out->compile_ms, 0);
}

TEST(NvrtcCompiler, OneProgramGivesTheSamePtxAsComputeArch) {
  // The header's claim: PTX from an sm_90 compile is what compute_90 gives.
  auto both = nvrtc_compile(scale_kernel("scale"), "scale");
  NvrtcOptions ptx_only;
  ptx_only.want_cubin = false;
  auto ptx = nvrtc_compile(scale_kernel("scale"), "scale", ptx_only);
  ASSERT_TRUE(both.ok() && ptx.ok());
  EXPECT_EQ(ptx->arch, "compute_90");
  EXPECT_TRUE(ptx->cubin.empty());
  EXPECT_EQ(both->ptx, ptx->ptx);
}

TEST(NvrtcCompiler, CubinOnlyAndOtherArchs) {
  NvrtcOptions cubin_only;
  cubin_only.want_ptx = false;
  auto out = nvrtc_compile(scale_kernel("scale"), "scale", cubin_only);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_TRUE(out->ptx.empty());
  EXPECT_FALSE(out->cubin.empty());

  NvrtcOptions sm80;
  sm80.sm = 80;
  auto ampere = nvrtc_compile(scale_kernel("scale"), "scale", sm80);
  ASSERT_TRUE(ampere.ok()) << ampere.status().to_string();
  EXPECT_EQ(ampere->arch, "sm_80");
  EXPECT_NE(ampere->ptx.find(".target sm_80"), std::string::npos);
  EXPECT_NE(ampere->cubin, out->cubin);
}

TEST(NvrtcCompiler, CompileErrorCarriesTheLog) {
  const std::string source = std::string(kernel_params_source()) +
                             "\nextern \"C\" __global__ void broken(DjKernelParams p) { p.out[0] = undefined_thing; }\n";
  auto out = nvrtc_compile(source, "broken_kernel");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
  const std::string& message = out.status().message();
  EXPECT_NE(message.find("broken_kernel"), std::string::npos) << message;
  EXPECT_NE(message.find("NVRTC_ERROR_COMPILATION"), std::string::npos) << message;
  // The log itself: NVRTC names the identifier and the line.
  EXPECT_NE(message.find("identifier \"undefined_thing\" is undefined"), std::string::npos) << message;
  EXPECT_NE(message.find("broken_kernel.cu(2)"), std::string::npos) << message;
}

TEST(NvrtcCompiler, RejectsBadOptions) {
  NvrtcOptions old;
  old.sm = 35;
  auto out = nvrtc_compile(scale_kernel("scale"), "scale", old);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::Unsupported);
  EXPECT_NE(out.status().message().find("sm_35"), std::string::npos);
  EXPECT_NE(out.status().message().find(" 90"), std::string::npos) << out.status().message();

  NvrtcOptions nothing;
  nothing.want_cubin = nothing.want_ptx = false;
  EXPECT_EQ(nvrtc_compile(scale_kernel("scale"), "scale", nothing).status().code(), StatusCode::InvalidArgument);

  NvrtcOptions bogus;
  bogus.extra = {"--no-such-option"};
  auto bad = nvrtc_compile(scale_kernel("scale"), "scale", bogus);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--no-such-option"), std::string::npos) << bad.status().message();
}

TEST(NvrtcCompiler, FastMathAndExtraOptionsReachTheCompiler) {
  // IEEE division is div.rn.f32; --use_fast_math makes it approximate.
  auto precise = nvrtc_compile(scale_kernel("scale"), "scale");
  NvrtcOptions fast;
  fast.fast_math = true;
  auto approx = nvrtc_compile(scale_kernel("scale"), "scale", fast);
  ASSERT_TRUE(precise.ok() && approx.ok());
  EXPECT_NE(precise->ptx.find("div.rn.f32"), std::string::npos);
  EXPECT_EQ(approx->ptx.find("div.rn.f32"), std::string::npos);

  // Extra options are passed through: a macro the source insists on.
  const std::string source = std::string(kernel_params_source()) +
                             "\n#ifndef DJ_TEST_FLAG\n#error DJ_TEST_FLAG is not defined\n#endif\n"
                             "extern \"C\" __global__ void flagged(DjKernelParams p) { p.out[0] = 1.0f; }\n";
  auto without = nvrtc_compile(source, "flagged");
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.status().message().find("DJ_TEST_FLAG is not defined"), std::string::npos);
  NvrtcOptions defines;
  defines.extra = {"--define-macro=DJ_TEST_FLAG=1"};
  auto with = nvrtc_compile(source, "flagged", defines);
  EXPECT_TRUE(with.ok()) << with.status().to_string();
}

TEST(NvrtcCompiler, TheWholeContractVocabularyCompiles) {
  // Every qualifier, built-in, type and math function the contract lists, INFINITY included.
  const std::string source = std::string(kernel_params_source()) + R"(
__device__ __forceinline__ float twice(float v) { return v + v; }
extern "C" __global__ void __launch_bounds__(64) vocabulary(DjKernelParams p) {
  const float* __restrict__ a = p.in[0];
  float* __restrict__ out = p.out;
  __shared__ float partial[32];
  const unsigned t = threadIdx.x + blockIdx.x * blockDim.x + blockIdx.y + blockIdx.z + threadIdx.y + threadIdx.z +
                     blockDim.y + blockDim.z + gridDim.x + gridDim.y + gridDim.z;
  const long long wide = (long long)t + p.numel;
  const unsigned long long address = (unsigned long long)a;
  float v = a[t % 4u] + (float)wide + (float)(address & 1ull) + (float)warpSize;
  v = expf(v) + logf(v) + sqrtf(v) + rsqrtf(v) + tanhf(v) + erff(v) + fabsf(v) + floorf(v) + ceilf(v);
  v = fmaxf(v, -INFINITY) + fminf(v, INFINITY) + __expf(v) + __logf(v) + __fdividef(v, 3.0f) + twice(v);
  v += __shfl_xor_sync(0xffffffffu, v, 16) + __shfl_down_sync(0xffffffffu, v, 1);
  int i = (int)t;
  i += __shfl_xor_sync(0xffffffffu, i, 8) + __shfl_down_sync(0xffffffffu, i, 2);
  partial[t % 32u] = v + (float)i;
  __syncthreads();
  const float4 q = reinterpret_cast<const float4*>(a)[0];
  reinterpret_cast<float4*>(out)[t] = make_float4(q.x + partial[0], q.y, q.z, q.w);
}
)";
  auto out = nvrtc_compile(source, "vocabulary");
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_NE(out->ptx.find("shfl.sync.bfly.b32"), std::string::npos);
  EXPECT_NE(out->ptx.find("shfl.sync.down.b32"), std::string::npos);
  EXPECT_NE(out->ptx.find("bar.sync"), std::string::npos);
  EXPECT_NE(out->ptx.find("ld.global.nc.v4.f32"), std::string::npos) << "float4 loads are 16-byte";
  EXPECT_NE(out->ptx.find("0fFF800000"), std::string::npos) << "-INFINITY";

  NvrtcOptions bare;  // without the contract's macros INFINITY is unknown to NVRTC
  bare.contract_macros = false;
  auto without = nvrtc_compile(source, "vocabulary", bare);
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.status().message().find("\"INFINITY\" is undefined"), std::string::npos)
      << without.status().message();
}

TEST(NvrtcCompiler, ConcurrentCompilesFromSeveralThreads) {
  std::vector<Expected<NvrtcOutput>> results(4, Status(StatusCode::Internal, "not run"));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t)
    threads.emplace_back([&, t] {
      const std::string name = "scale_" + std::to_string(t);
      results[t] = nvrtc_compile(scale_kernel(name), name);
    });
  for (auto& t : threads) t.join();
  for (size_t t = 0; t < results.size(); ++t) {
    ASSERT_TRUE(results[t].ok()) << results[t].status().to_string();
    EXPECT_NE(results[t]->ptx.find(".visible .entry scale_" + std::to_string(t) + "("), std::string::npos);
  }
}

}  // namespace
}  // namespace dj::jit::cuda
