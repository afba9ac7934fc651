// KernelParams: DjKernelParams, the one by-value argument of every kernel that
// jit/cuda generates (the contract shared with runtime/cuda, which launches them
// with kernelParams = {&params}, and with the host emulation used by the tests).
//
// Invariants: the struct is defined exactly once, by DJ_KERNEL_PARAMS_DEFINITION,
// which is expanded here as C++ and stringified (after macro expansion, so the
// array bounds read as numbers) into kernel_params_source(), the text that every
// generated translation unit starts with. Host and device therefore cannot drift;
// the static_asserts pin the layout that both sides (x86-64 and NVPTX, both LP64
// with 8-byte long long and pointers) compute identically.
#pragma once

#include <cstddef>

#define DJ_MAX_KERNEL_INPUTS 8
#define DJ_MAX_KERNEL_RANK 6

// Plain C: no default member initializers, no methods (NVRTC and the host see the
// same text). Field meanings:
//   in[i]            device pointers of the inputs, in argument order
//   out              the one output
//   numel            elements of the output
//   rows, cols       row kinds: rows of length cols; Gemm, BatchedGemm: m (rows) and n (cols)
//   k                Gemm, BatchedGemm: the inner dimension
//   rank             Elementwise: the number of meaningful entries of extent; BatchedGemm: 3
//   extent[d]        Elementwise: output dims, row-major; BatchedGemm: {batch, m, n}
//   in_stride[i][d]  element stride of input i along output dim d (0 where broadcast)
#define DJ_KERNEL_PARAMS_DEFINITION                                \
  struct DjKernelParams {                                          \
    const float* in[DJ_MAX_KERNEL_INPUTS];                         \
    float* out;                                                    \
    long long numel;                                               \
    long long rows, cols;                                          \
    long long k;                                                   \
    int rank;                                                      \
    long long extent[DJ_MAX_KERNEL_RANK];                          \
    long long in_stride[DJ_MAX_KERNEL_INPUTS][DJ_MAX_KERNEL_RANK]; \
  };

DJ_KERNEL_PARAMS_DEFINITION

#define DJ_KERNEL_PARAMS_STRINGIFY(...) #__VA_ARGS__
#define DJ_KERNEL_PARAMS_EXPAND_AND_STRINGIFY(...) DJ_KERNEL_PARAMS_STRINGIFY(__VA_ARGS__)

namespace dj::jit::cuda {

// The definition above as CUDA C source text (one line, array bounds as numbers).
inline constexpr const char* kernel_params_source() {
  return DJ_KERNEL_PARAMS_EXPAND_AND_STRINGIFY(DJ_KERNEL_PARAMS_DEFINITION);
}

// The layout both compilers must agree on (LP64: 8-byte pointers and long long).
static_assert(sizeof(void*) == 8 && sizeof(long long) == 8 && sizeof(int) == 4, "DjKernelParams assumes LP64");
static_assert(offsetof(DjKernelParams, in) == 0);
static_assert(offsetof(DjKernelParams, out) == 8 * DJ_MAX_KERNEL_INPUTS);
static_assert(offsetof(DjKernelParams, numel) == offsetof(DjKernelParams, out) + 8);
static_assert(offsetof(DjKernelParams, rows) == offsetof(DjKernelParams, numel) + 8);
static_assert(offsetof(DjKernelParams, cols) == offsetof(DjKernelParams, rows) + 8);
static_assert(offsetof(DjKernelParams, k) == offsetof(DjKernelParams, cols) + 8);
static_assert(offsetof(DjKernelParams, rank) == offsetof(DjKernelParams, k) + 8);
static_assert(offsetof(DjKernelParams, extent) == offsetof(DjKernelParams, rank) + 8, "4 bytes of padding after rank");
static_assert(offsetof(DjKernelParams, in_stride) == offsetof(DjKernelParams, extent) + 8 * DJ_MAX_KERNEL_RANK);
static_assert(sizeof(DjKernelParams) == 544 && alignof(DjKernelParams) == 8);
// CUDA passes kernel parameters in a 4 KiB constant bank (32 KiB since 12.1 on Volta+).
static_assert(sizeof(DjKernelParams) <= 4096);

}  // namespace dj::jit::cuda
