// EmulationErrorTest.cpp — how the emulation fails: deadlocks and divergent barriers are
// reported (never hang) and leave the module usable, shuffle misuse (partial warp, partial
// mask, unsupported type) is rejected, compile errors carry the compiler's message, bad
// launch shapes and unknown kernels give a status; and a source is compiled once.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/cuda_emulation/EmulationTestSupport.h"

namespace dj::emu::testing {
namespace {

#define ASSERT_COMPILED(module) ASSERT_TRUE((module).ok()) << (module).status().to_string()

// Line numbers below are lines of the source text passed to compile_kernels, which starts
// with the parameter-struct preamble.
int preamble_lines() {
  int lines = 0;
  for (const char* c = kParamsPreamble; *c; ++c) lines += *c == '\n';
  return lines;
}
std::string at_line(int line_in_kernels) {
  return "emulated_kernel.cu:" + std::to_string(preamble_lines() + line_in_kernels);
}

const char* const kDeadlocks = R"(
extern "C" __global__ void divergent_barriers(DjKernelParams p) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
}
extern "C" __global__ void shuffle_against_barrier(DjKernelParams p) {
  float v = 1.0f;
  if (threadIdx.x % 32 < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
  else __syncthreads();
  p.out[threadIdx.x] = v;
}
extern "C" __global__ void shuffle_with_exited_lanes(DjKernelParams p) {
  if (threadIdx.x >= 16) return;
  p.out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 2.0f, 1u);
}
extern "C" __global__ void fill(DjKernelParams p) {
  __shared__ float s[256];
  s[threadIdx.x] = (float)threadIdx.x;
  __syncthreads();
  p.out[blockIdx.x * blockDim.x + threadIdx.x] = s[blockDim.x - 1 - threadIdx.x];
}
extern "C" __global__ void one_line_divergence(DjKernelParams p) {
  if (threadIdx.x < 3) __syncthreads(); else __syncthreads();
}
)";

class EmulationDeadlock : public ::testing::TestWithParam<const char*> {};

// Each failure must name both wait sites and leave every fiber reusable: a good launch of the
// same module on the same thread right after must work.
TEST_P(EmulationDeadlock, DeadlocksAreReportedAndTheModuleStaysUsable) {
  const std::vector<std::string> flags =
      GetParam()[0] ? std::vector<std::string>{GetParam()} : std::vector<std::string>{};
  auto module = compile_kernels(kDeadlocks,
                                {"divergent_barriers", "shuffle_against_barrier",
                                 "shuffle_with_exited_lanes", "fill", "one_line_divergence"},
                                flags);
  ASSERT_COMPILED(module);
  std::vector<float> out(512, -1.0f);
  DjKernelParams p = params_for({}, out.data(), 512);

  Status s = module.value()->launch("divergent_barriers", {2, 1, 1}, {32, 1, 1}, &p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("deadlock in block (0,0,0)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("16 thread(s) wait at __syncthreads() (" + at_line(4)),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("16 thread(s) wait at __syncthreads() (" + at_line(6)),
            std::string::npos)
      << s.message();

  s = module.value()->launch("shuffle_against_barrier", {1, 1, 1}, {64, 1, 1}, &p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("32 thread(s) wait at __shfl_xor_sync (" + at_line(11)),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("32 thread(s) wait at __syncthreads() (" + at_line(12)),
            std::string::npos)
      << s.message();

  s = module.value()->launch("shuffle_with_exited_lanes", {1, 1, 1}, {32, 1, 1}, &p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("16 thread(s) wait at __shfl_down_sync"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("16 thread(s) have exited"), std::string::npos) << s.message();

  s = module.value()->launch("one_line_divergence", {1, 1, 1}, {64, 1, 1}, &p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("3 thread(s) wait at __syncthreads() (" + at_line(26)),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("61 thread(s) wait at __syncthreads() (" + at_line(26)),
            std::string::npos)
      << s.message();

  for (unsigned block : {256u, 32u}) {
    ASSERT_TRUE(module.value()->launch("fill", {2, 1, 1}, {block, 1, 1}, &p).ok());
    for (unsigned i = 0; i < 2 * block; ++i)
      ASSERT_EQ(out[i], static_cast<float>(block - 1 - i % block))
          << "block " << block << " index " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(FiberSwitch, EmulationDeadlock,
                         ::testing::Values("", "-DDJ_EMU_USE_UCONTEXT"),
                         [](const auto& info) { return info.param[0] ? "ucontext" : "native"; });

const char* const kShuffleMisuse = R"(
extern "C" __global__ void warp_sum(DjKernelParams p) {
  float v = (float)threadIdx.x;
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  p.out[threadIdx.x] = v;
}
extern "C" __global__ void half_mask(DjKernelParams p) {
  p.out[threadIdx.x] = __shfl_xor_sync(0x0000ffffu, 1.0f, 1);
}
)";

TEST(EmulationErrors, ShufflesNeedFullWarpsAndTheFullMask) {
  auto module = compile_kernels(kShuffleMisuse, {"warp_sum", "half_mask"});
  ASSERT_COMPILED(module);
  std::vector<float> out(128, -1.0f);
  DjKernelParams p = params_for({}, out.data(), 128);

  Status s = module.value()->launch("warp_sum", {1, 1, 1}, {33, 1, 1}, &p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("thread (32,0,0): __shfl_xor_sync in a partial warp"),
            std::string::npos)
      << s.message();

  s = module.value()->launch("half_mask", {1, 1, 1}, {32, 1, 1}, &p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("mask 0xffff"), std::string::npos) << s.message();

  ASSERT_TRUE(module.value()->launch("warp_sum", {1, 1, 1}, {64, 1, 1}, &p).ok());
  for (unsigned t = 0; t < 64; ++t)  // lanes 0..31 sum to 496 in each warp, offset by 32*32
    ASSERT_EQ(out[t], t < 32 ? 496.0f : 496.0f + 32 * 32) << "thread " << t;
}

TEST(EmulationErrors, ShuffleOfATypeOutsideTheContractDoesNotCompile) {
  auto module = compile_kernels(R"(
extern "C" __global__ void bad(DjKernelParams p) {
  unsigned v = threadIdx.x;
  p.out[threadIdx.x] = (float)__shfl_xor_sync(0xffffffffu, v, 1);
}
)",
                                {"bad"});
  ASSERT_FALSE(module.ok());
  EXPECT_NE(module.status().message().find("deleted"), std::string::npos)
      << module.status().message();
}

TEST(EmulationErrors, CompileErrorsCarryTheCompilersMessage) {
  auto module = compile_kernels(R"(
extern "C" __global__ void broken(DjKernelParams p) {
  p.out[0] = no_such_function(p.numel);
}
)",
                                {"broken"});
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.status().code(), StatusCode::InvalidArgument);
  const std::string& m = module.status().message();
  EXPECT_NE(m.find("host compile of the emulated CUDA source failed"), std::string::npos) << m;
  EXPECT_NE(m.find("no_such_function"), std::string::npos) << m;
  EXPECT_NE(m.find(at_line(3)), std::string::npos) << m;

  // A kernel name that the source does not define fails in the generated entry.
  auto missing =
      compile_kernels("extern \"C\" __global__ void a(DjKernelParams p) {}\n", {"a", "b"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'b' was not declared"), std::string::npos)
      << missing.status().message();
}

TEST(EmulationErrors, BadArgumentsGiveAStatus) {
  EXPECT_FALSE(compile_kernels("", {}).ok());
  EXPECT_FALSE(compile_kernels("", {"not an identifier"}).ok());
  EXPECT_FALSE(compile_kernels("", {"k", "k"}).ok());
  HostCompiler no_header = configured_host_compiler();
  no_header.include_dir = "/nonexistent";
  EXPECT_FALSE(EmulatedModule::compile("", {"k"}, "DjKernelParams", no_header).ok());

  auto module = compile_kernels(R"(
extern "C" __global__ void touch(DjKernelParams p) { p.out[0] = 1.0f; }
)",
                                {"touch"});
  ASSERT_COMPILED(module);
  std::vector<float> out(1, 0.0f);
  DjKernelParams p = params_for({}, out.data(), 1);
  const EmulatedModule& m = *module.value();
  EXPECT_EQ(m.launch("nope", {1, 1, 1}, {1, 1, 1}, &p).code(), StatusCode::InvalidArgument);
  EXPECT_FALSE(m.launch("touch", {1, 1, 1}, {1, 1, 1}, nullptr).ok());
  for (LaunchDims block :
       {LaunchDims{0, 1, 1}, LaunchDims{1025, 1, 1}, LaunchDims{32, 32, 2}, LaunchDims{1, 1, 65}}) {
    Status s = m.launch("touch", {1, 1, 1}, block, &p);
    ASSERT_FALSE(s.ok()) << block.x << "x" << block.y << "x" << block.z;
    EXPECT_NE(s.message().find("invalid launch"), std::string::npos) << s.message();
  }
  Status s = m.launch("touch", {1, 70000, 1}, {1, 1, 1}, &p);
  EXPECT_NE(s.message().find("invalid launch"), std::string::npos) << s.message();
  EXPECT_EQ(out[0], 0.0f);  // nothing ran
  ASSERT_TRUE(m.launch("touch", {1, 1, 1}, {1, 1, 1}, &p).ok());
  EXPECT_EQ(out[0], 1.0f);
}

TEST(EmulatedModuleCache, TheSameTextIsCompiledOnce) {
  const std::string source = R"(
extern "C" __global__ void twice(DjKernelParams p) { p.out[threadIdx.x] = 2.0f * p.in[0][threadIdx.x]; }
)";
  auto first = compile_kernels(source, {"twice"});
  auto again = compile_kernels(source, {"twice"});
  auto other = compile_kernels(source + "\n", {"twice"});
  ASSERT_COMPILED(first);
  ASSERT_COMPILED(again);
  ASSERT_COMPILED(other);
  EXPECT_EQ(first.value().get(), again.value().get());
  EXPECT_NE(first.value().get(), other.value().get());
  std::vector<float> in = {1.5f, -2.0f}, out(2, 0.0f);
  DjKernelParams p = params_for({in.data()}, out.data(), 2);
  ASSERT_TRUE(other.value()->launch("twice", {1, 1, 1}, {2, 1, 1}, &p).ok());
  EXPECT_EQ(out, (std::vector<float>{3.0f, -4.0f}));
}

TEST(EmulatedModuleCache, TheTranslationUnitWrapsTheSourceAndOneEntryPerKernel) {
  const std::string tu = emulation_translation_unit("SOURCE_TEXT", {"k1", "k2"}, "Params");
  EXPECT_EQ(tu.find("#include \"CudaEmulation.h\""), 0u);
  EXPECT_NE(tu.find("SOURCE_TEXT"), std::string::npos);
  EXPECT_NE(
      tu.find("void dj_emu_entry_k1(const void* params, unsigned gx, unsigned gy, unsigned gz, "
              "unsigned bx, unsigned by, unsigned bz)"),
      std::string::npos);
  EXPECT_NE(tu.find("k2(*static_cast<const Params*>(params))"), std::string::npos);
}

}  // namespace
}  // namespace dj::emu::testing
