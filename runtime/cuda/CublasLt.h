// CublasLt: f32 GEMM with fused epilogues through cuBLASLt, loaded with dlopen.
//
// The library is `libcublasLt.so.13` (falling back to `libcublasLt.so`), or the file
// named by DJ_CUBLASLT_LIBRARY; it is never linked, so binaries start without it.
// Types and prototypes come from the toolkit's cublasLt.h; every entry point is looked
// up by its plain name (cublasLt.h versions none of them).
//
// The operation, all matrices dense, row-major, f32, in device memory:
//   out[m,n] = epilogue(A[m,k] · B[k,n] (+ bias[n] broadcast over rows))
// Epilogues: None, Bias, ReluBias, GeluBias, Relu. GELU is cuBLASLt's, the tanh
// approximation 0.5x(1+tanh(√(2/π)(x+0.044715x³))), which differs from ONNX's erf
// GELU by up to about 5e-4: use GeluBias only where that tolerance is acceptable.
//
// Row-major through a column-major library: a row-major [r,c] buffer is, byte for
// byte, the column-major [c,r] matrix of its transpose. So out = A·B is computed as the
// column-major problem outᵀ[n,m] = Bᵀ[n,k] · Aᵀ[k,m]: cuBLASLt's "A" is our B buffer
// (n×k, ld n), its "B" is our A buffer (k×m, ld k), its "D" (and "C", unused with
// beta = 0) is our out buffer (n×m, ld n), no transposes. cuBLASLt's bias runs along
// D's rows, which are our columns n: exactly bias[n].
//
// Plans: the matmul descriptor, the layouts and the algorithm chosen by
// cublasLtMatmulAlgoGetHeuristic are cached per (m, n, k, epilogue, tf32, pointer
// alignments); pointer alignment is part of the key because the heuristic picks
// vectorized kernels from it. The cache holds up to 512 plans and starts over when
// full (dynamic shapes can produce unbounded keys). Workspace (up to 32 MiB, NVIDIA's
// recommendation for Hopper) comes from the context's stream-ordered allocator and is
// returned right after the launch is enqueued — safe, since only later work on the
// same stream can reuse it.
//
// Precision: CUBLAS_COMPUTE_32F (true f32 FMA) unless allow_tf32, which permits
// TF32 tensor cores (about 1e-3 relative error; much faster on sm_80+).
// Thread-safe; one cuBLASLt handle per process, created on the device context.
#pragma once

#ifdef DJ_HAVE_CUDA

#include <cuda.h>

#include <cstdint>
#include <string>

#include "runtime/Status.h"
#include "runtime/cuda/CudaDeviceAllocator.h"

namespace dj {

class CudaContext;

enum class GemmEpilogue { None, Bias, ReluBias, GeluBias, Relu };
const char* gemm_epilogue_name(GemmEpilogue epilogue);  // "none", "bias", "relu_bias", ...
bool gemm_epilogue_has_bias(GemmEpilogue epilogue);

struct GemmF32 {
  int64_t m = 0, n = 0, k = 0;
  DevicePtr a = 0;     // [m,k], row-major
  DevicePtr b = 0;     // [k,n], row-major
  DevicePtr bias = 0;  // [n]; required by the *Bias epilogues, ignored otherwise
  DevicePtr out = 0;   // [m,n], row-major; must not overlap a, b or bias
  GemmEpilogue epilogue = GemmEpilogue::None;
  bool allow_tf32 = false;
};

class CublasLt {
 public:
  // The process's cuBLASLt: the library (errors name the file tried), then the CUDA
  // device context, then a handle. Created once; the same result ever after.
  static Expected<CublasLt*> get();

  // Enqueues the GEMM on `stream`. m or n of 0 is a no-op; k of 0 and dims above
  // INT32_MAX are refused (Unsupported / InvalidArgument), as is a shape cuBLASLt has
  // no algorithm for (Unsupported, naming the shape and epilogue).
  Status gemm_f32(const GemmF32& gemm, CUstream stream);

  size_t cached_plans() const;
  std::string library() const;  // the file that was opened
  size_t version() const;       // cublasLtGetVersion(), e.g. 130100

  CublasLt(const CublasLt&) = delete;
  CublasLt& operator=(const CublasLt&) = delete;

 private:
  struct Impl;
  explicit CublasLt(Impl* impl) : impl_(impl) {}
  Impl* impl_;  // never freed: the object lives for the process
};

}  // namespace dj

#endif  // DJ_HAVE_CUDA
