// What the jit/cuda tests share: compiling a generated kernel with NVRTC for
// sm_90 and checking what came back (an sm_90 ELF cubin, PTX with the entry point
// and no local-memory arrays), and a catalog of specs covering every kind.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "jit/cuda/CudaKernelSpec.h"
#include "jit/cuda/CudaSource.h"
#include "jit/cuda/NvrtcCompiler.h"

namespace dj::jit::cuda::testing {

// ELF header facts of a CUDA cubin: magic, 64-bit class, e_machine EM_CUDA (190).
inline void expect_sm90_cubin(const std::vector<char>& cubin, const std::string& name) {
  ASSERT_GE(cubin.size(), 64u) << name;
  EXPECT_EQ(std::memcmp(cubin.data(), "\x7f" "ELF", 4), 0) << name << ": no ELF magic";
  EXPECT_EQ(cubin[4], 2) << name << ": not ELFCLASS64";
  uint16_t machine = 0;
  std::memcpy(&machine, cubin.data() + 18, 2);
  EXPECT_EQ(machine, 190) << name << ": e_machine is not EM_CUDA";
}

// Compiles a generated kernel to cubin + PTX for sm_90 and checks both.
inline NvrtcOutput compile_and_check(const CudaKernelSource& kernel, const NvrtcOptions& options = {}) {
  auto out = nvrtc_compile(kernel.source, kernel.name, options);
  EXPECT_TRUE(out.ok()) << kernel.name << ": " << out.status().to_string() << "\n" << kernel.source;
  if (!out.ok()) return {};
  expect_sm90_cubin(out->cubin, kernel.name);
  EXPECT_EQ(out->log, "") << kernel.name << ": NVRTC warns\n" << kernel.source;
  const std::string& ptx = out->ptx;
  EXPECT_NE(ptx.find(".target sm_90"), std::string::npos) << kernel.name;
  EXPECT_NE(ptx.find(".visible .entry " + kernel.name + "("), std::string::npos) << kernel.name << "\n" << ptx;
  // __launch_bounds__ reaches the PTX as .maxntid.
  EXPECT_NE(ptx.find(".maxntid " + std::to_string(kernel.block_size) + ", 1, 1"), std::string::npos) << kernel.name;
  // Per-thread arrays (row caches, GEMM accumulators) must live in registers: a local
  // depot in the PTX means they were spilled to local memory.
  EXPECT_EQ(ptx.find("__local_depot"), std::string::npos) << kernel.name << ": uses local memory\n" << kernel.source;
  return std::move(out).value();
}

inline CudaKernelSource generate_or_fail(const CudaKernelSpec& spec) {
  auto kernel = generate_cuda_kernel(spec);
  EXPECT_TRUE(kernel.ok()) << spec.name << ": " << kernel.status().to_string();
  return kernel.ok() ? std::move(kernel).value() : CudaKernelSource{};
}

inline CudaKernelSpec elementwise_spec(const std::string& name, const Shape& out, const std::vector<Shape>& inputs,
                                       const std::vector<ElementwiseStep>& steps, bool generic = false) {
  CudaKernelSpec spec;
  spec.kind = CudaKernelKind::Elementwise;
  spec.name = name;
  spec.generic = generic;
  spec.output_shape = out;
  spec.input_shapes = inputs;
  spec.steps = steps;
  return spec;
}

inline CudaKernelSpec row_spec(CudaKernelKind kind, const std::string& name, int64_t rows, int64_t cols,
                               bool generic = false) {
  CudaKernelSpec spec;
  spec.kind = kind;
  spec.name = name;
  spec.generic = generic;
  spec.rows = rows;
  spec.cols = cols;
  spec.num_inputs = kind == CudaKernelKind::RowLayerNorm ? 3 : 1;
  return spec;
}

inline CudaKernelSpec gemm_spec(const std::string& name, int64_t m, int64_t n, int64_t k, bool bias, bool relu,
                                bool generic = false) {
  CudaKernelSpec spec;
  spec.kind = CudaKernelKind::Gemm;
  spec.name = name;
  spec.generic = generic;
  spec.m = m;
  spec.n = n;
  spec.k = k;
  spec.has_bias = bias;
  spec.relu = relu;
  return spec;
}

inline CudaKernelSpec residual_gemm_spec(const std::string& name, int64_t m, int64_t n, int64_t k, bool bias, bool relu,
                                         bool relu_after, bool generic = false) {
  CudaKernelSpec spec = gemm_spec(name, m, n, k, bias, relu, generic);
  spec.has_residual = true;
  spec.relu_after_residual = relu_after;
  return spec;
}

inline CudaKernelSpec batched_gemm_spec(const std::string& name, int64_t batch, int64_t m, int64_t n, int64_t k,
                                        bool generic = false) {
  CudaKernelSpec spec = gemm_spec(name, m, n, k, false, false, generic);
  spec.kind = CudaKernelKind::BatchedGemm;
  spec.batch = batch;
  return spec;
}

// A softmax or layer norm (with bias) whose rows are `steps` of the prologue inputs `views`.
inline CudaKernelSpec prologue_row_spec(CudaKernelKind kind, const std::string& name, int64_t rows, int64_t cols,
                                        const std::vector<Shape>& views, const std::vector<ElementwiseStep>& steps,
                                        bool generic = false) {
  CudaKernelSpec spec = row_spec(kind, name, rows, cols, generic);
  spec.prologue_views = views;
  spec.steps = steps;
  spec.num_inputs = static_cast<int>(views.size()) + (kind == CudaKernelKind::RowLayerNorm ? 2 : 0);
  return spec;
}

// (x * s + b) over [rows, cols]: the block x, a scalar s, a row b; then a residual
// block r added, through a Tanh (a DAG: x is read twice).
inline std::vector<ElementwiseStep> prologue_steps() {
  return {{"Mul", {0, 1}}, {"Add", {4, 2}}, {"Tanh", {0}}, {"Add", {5, 6}}, {"Add", {7, 3}}};
}
inline std::vector<Shape> prologue_views(int64_t rows, int64_t cols) { return {{rows, cols}, {1}, {cols}, {rows, cols}}; }

// One spec of each form the generators have (kind x concrete/generic x path).
inline std::vector<CudaKernelSpec> spec_catalog() {
  const std::vector<ElementwiseStep> add_relu = {{"Add", {0, 1}}, {"Relu", {2}}};
  std::vector<CudaKernelSpec> specs = {
      elementwise_spec("ew_flat", {64, 256}, {{64, 256}, {64, 256}}, add_relu),
      elementwise_spec("ew_scalar_tail", {1001}, {{1001}, {1}}, add_relu),
      elementwise_spec("ew_index", {8, 5, 7}, {{8, 5, 7}, {5, 1}}, add_relu),
      elementwise_spec("ew_generic", {4, 16}, {{4, 16}, {16}}, add_relu, true),
      row_spec(CudaKernelKind::RowSoftmax, "softmax_warp", 100, 77),
      row_spec(CudaKernelKind::RowSoftmax, "softmax_block", 3, 5000),
      row_spec(CudaKernelKind::RowSoftmax, "softmax_generic", 0, 0, true),
      row_spec(CudaKernelKind::RowLayerNorm, "layernorm_warp", 64, 256),
      row_spec(CudaKernelKind::RowLayerNorm, "layernorm_block", 2, 4096),
      row_spec(CudaKernelKind::RowLayerNorm, "layernorm_generic", 0, 0, true),
      row_spec(CudaKernelKind::RowReduce, "reduce_warp", 10, 33),
      row_spec(CudaKernelKind::RowReduce, "reduce_generic", 0, 0, true),
      gemm_spec("gemm_bias_relu", 100, 70, 33, true, true),
      gemm_spec("gemm_generic", 0, 0, 0, false, false, true),
      residual_gemm_spec("gemm_residual", 100, 70, 33, true, true, true),
      residual_gemm_spec("gemm_residual_generic", 0, 0, 0, false, false, false, true),
      batched_gemm_spec("batched_gemm", 7, 65, 33, 17),
      batched_gemm_spec("batched_gemm_generic", 0, 0, 0, 0, true),
      prologue_row_spec(CudaKernelKind::RowSoftmax, "softmax_prologue_warp", 9, 45, prologue_views(9, 45),
                        prologue_steps()),
      prologue_row_spec(CudaKernelKind::RowLayerNorm, "layernorm_prologue_block", 3, 2000, prologue_views(3, 2000),
                        prologue_steps()),
      prologue_row_spec(CudaKernelKind::RowSoftmax, "softmax_prologue_generic", 0, 0, prologue_views(4, 8),
                        prologue_steps(), true),
  };
  CudaKernelSpec with_flags = elementwise_spec("ew_generic_flags", {4, 16}, {{4, 16}, {1}}, add_relu, true);
  with_flags.input_broadcast = {{false, false}, {true, true}};
  specs.push_back(with_flags);
  specs[11].reduce = RowReduceOp::Max;
  return specs;
}

}  // namespace dj::jit::cuda::testing
