// EmulationTestSupport.h — what the CUDA emulation tests share: the contract's kernel-parameter
// struct (host copy and the kernel-side preamble text, kept identical; a test checks the
// layouts agree), compiling a kernel source with the configured host compiler, random inputs
// and element-wise comparisons that name the first bad index.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/cuda_emulation/EmulatedModule.h"

namespace dj::emu::testing {

inline constexpr int kMaxKernelInputs = 8;
inline constexpr int kMaxKernelRank = 6;

// The host's view of the contract's DjKernelParams (jit/cuda/KernelParams.h).
struct DjKernelParams {
  const float* in[kMaxKernelInputs];
  float* out;
  long long numel;
  long long rows, cols;
  long long k;
  int rank;
  long long extent[kMaxKernelRank];
  long long in_stride[kMaxKernelInputs][kMaxKernelRank];
};

// The same struct as generated sources define it in their preamble.
inline const char* const kParamsPreamble = R"(
#define DJ_MAX_KERNEL_INPUTS 8
#define DJ_MAX_KERNEL_RANK 6
struct DjKernelParams {
  const float* in[DJ_MAX_KERNEL_INPUTS];
  float* out;
  long long numel;
  long long rows, cols;
  long long k;
  int rank;
  long long extent[DJ_MAX_KERNEL_RANK];
  long long in_stride[DJ_MAX_KERNEL_INPUTS][DJ_MAX_KERNEL_RANK];
};
)";

inline Expected<std::shared_ptr<const EmulatedModule>> compile_kernels(
    const std::string& kernels, const std::vector<std::string>& names,
    const std::vector<std::string>& extra_flags = {}) {
  HostCompiler compiler = configured_host_compiler();
  compiler.extra_flags = extra_flags;
  return EmulatedModule::compile(kParamsPreamble + kernels, names, "DjKernelParams", compiler);
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

inline DjKernelParams params_for(std::vector<const float*> inputs, float* out, long long numel) {
  DjKernelParams p{};
  for (size_t i = 0; i < inputs.size(); ++i) p.in[i] = inputs[i];
  p.out = out;
  p.numel = numel;
  return p;
}

// |got - want| <= abs_tol + rel_tol * |want| everywhere; reports the first failing index.
inline ::testing::AssertionResult all_near(const std::vector<float>& got,
                                           const std::vector<double>& want, double abs_tol,
                                           double rel_tol = 0.0) {
  if (got.size() < want.size())
    return ::testing::AssertionFailure() << "got " << got.size() << " values, want " << want.size();
  for (size_t i = 0; i < want.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(diff <= abs_tol + rel_tol * std::fabs(want[i])))
      return ::testing::AssertionFailure() << "index " << i << ": got " << got[i] << ", want "
                                           << want[i] << " (diff " << diff << ")";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace dj::emu::testing
