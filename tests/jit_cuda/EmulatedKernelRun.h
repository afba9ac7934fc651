// EmulatedKernelRun: what the jit/cuda numerics tests share — running one spec's
// generated kernel on the CPU through the host emulation of CUDA
// (tests/cuda_emulation), launched with fill_params + launch_dims exactly as the
// GPU would be (optionally with a capped grid, so every grid-stride, tile and
// batch loop runs more than once, and with misaligned buffers), and comparing its
// output with a double-precision reference.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "jit/cuda/CudaLaunch.h"
#include "jit/cuda/CudaSource.h"
#include "tests/cuda_emulation/EmulatedModule.h"

namespace dj::jit::cuda::testing {

inline std::vector<float> random_values(int64_t n, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// Buffers with a chosen misalignment (in floats) from a 16-byte boundary.
struct Buffer {
  std::vector<float> storage;
  size_t shift = 0;
  Buffer(const std::vector<float>& values, size_t misalign) : storage(values.size() + 8, 0.0f) {
    const auto base = reinterpret_cast<uintptr_t>(storage.data());
    shift = ((16 - base % 16) % 16) / sizeof(float) + misalign;
    std::copy(values.begin(), values.end(), storage.begin() + static_cast<std::ptrdiff_t>(shift));
  }
  float* data() { return storage.data() + shift; }
};

struct RunOptions {
  size_t misalign = 0;     // floats past a 16-byte boundary, for every buffer
  unsigned max_grid = 0;   // cap each grid dimension (0: launch_dims' grid)
};

// Generates, compiles (host emulation), fills params, launches; returns the output.
inline std::vector<float> run(const CudaKernelSpec& spec, const std::vector<Shape>& shapes,
                              const std::vector<std::vector<float>>& inputs, const Shape& out_shape,
                              const RunOptions& options = {}) {
  auto kernel = generate_cuda_kernel(spec);
  EXPECT_TRUE(kernel.ok()) << kernel.status().to_string();
  if (!kernel.ok()) return {};
  auto module = emu::EmulatedModule::compile(kernel->source, {kernel->name}, "DjKernelParams",
                                             emu::configured_host_compiler());
  EXPECT_TRUE(module.ok()) << module.status().to_string() << "\n" << kernel->source;
  if (!module.ok()) return {};

  DjKernelParams params{};
  Status filled = fill_params(spec, shapes, out_shape, params);
  EXPECT_TRUE(filled.ok()) << filled.to_string();
  if (!filled.ok()) return {};
  std::vector<Buffer> buffers;
  buffers.reserve(inputs.size() + 1);
  for (size_t i = 0; i < inputs.size(); ++i) {
    buffers.emplace_back(inputs[i], options.misalign);
    params.in[i] = buffers.back().data();
  }
  const int64_t out_numel = shape_numel(out_shape);
  // NaN-filled, so an element the kernel never writes cannot pass.
  buffers.emplace_back(std::vector<float>(static_cast<size_t>(out_numel), NAN), options.misalign);
  params.out = buffers.back().data();

  LaunchDims dims = launch_dims(spec, params);
  if (options.max_grid) {
    dims.grid_x = std::min(dims.grid_x, options.max_grid);
    dims.grid_y = std::min(dims.grid_y, options.max_grid);
    dims.grid_z = std::min(dims.grid_z, options.max_grid);
  }
  Status launched = (*module)->launch(kernel->name, {dims.grid_x, dims.grid_y, dims.grid_z},
                                      {dims.block_x, dims.block_y, dims.block_z}, &params);
  EXPECT_TRUE(launched.ok()) << launched.to_string() << "\n" << kernel->source;
  return std::vector<float>(params.out, params.out + out_numel);
}

// |got - want| <= tol * max(1, |want|), NaN only where NaN is expected; names the first bad index.
inline void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      ASSERT_TRUE(std::isnan(got[i])) << "index " << i << ": got " << got[i] << ", want NaN";
      continue;
    }
    if (std::isinf(want[i])) {
      ASSERT_EQ(static_cast<double>(got[i]), want[i]) << "index " << i;
      continue;
    }
    ASSERT_LE(std::fabs(got[i] - want[i]), tol * std::max(1.0, std::fabs(want[i])))
        << "index " << i << ": got " << got[i] << ", want " << want[i];
  }
}

// The CPU reference kernels' formulas (runtime/ops/Elementwise*), in float.
inline float reference_elementwise_op(const ElementwiseStep& step, float a, float b) {
  const std::string& op = step.op;
  if (op == "Relu") return a < 0 ? 0.0f : a;
  if (op == "Sigmoid") return 1.0f / (1.0f + std::exp(-a));
  if (op == "Tanh") return std::tanh(a);
  if (op == "Exp") return std::exp(a);
  if (op == "Log") return std::log(a);
  if (op == "Neg") return -a;
  if (op == "Abs") return std::fabs(a);
  if (op == "Sqrt") return std::sqrt(a);
  if (op == "Erf") return std::erf(a);
  if (op == "Identity") return a;
  if (op == "Reciprocal") return 1.0f / a;
  if (op == "Floor") return std::floor(a);
  if (op == "Ceil") return std::ceil(a);
  if (op == "LeakyRelu") return a < 0 ? step.alpha * a : a;
  if (op == "Add") return a + b;
  if (op == "Sub") return a - b;
  if (op == "Mul") return a * b;
  if (op == "Div") return a / b;
  if (op == "Max") return (a > b || a != a) ? a : b;
  if (op == "Min") return (a < b || a != a) ? a : b;
  ADD_FAILURE() << "no reference for " << op;
  return 0;
}

}  // namespace dj::jit::cuda::testing
