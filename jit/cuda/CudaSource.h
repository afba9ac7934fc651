// CudaSource: the entry point of jit/cuda's code generator — a CudaKernelSpec in,
// one complete CUDA C translation unit out (the preamble with DjKernelParams, any
// __device__ helpers, and the extern "C" kernel named spec.name).
//
// The text needs no headers and no GPU: NVRTC compiles it for sm_XX
// (NvrtcCompiler.h), and the tests' host emulation compiles it as C++. Launch it
// with launch_dims()'s grid and block and a DjKernelParams filled by fill_params()
// plus the buffer pointers (CudaLaunch.h).
#pragma once

#include <string>

#include "jit/cuda/CudaKernelSpec.h"
#include "runtime/Status.h"

namespace dj::jit::cuda {

struct CudaKernelSource {
  std::string name;    // the extern "C" kernel
  std::string source;  // a complete translation unit
  int block_size = 0;  // threads per block (x only), also the kernel's __launch_bounds__
};

// Fails with the reason (validate_spec's message) for a spec it cannot generate.
Expected<CudaKernelSource> generate_cuda_kernel(const CudaKernelSpec& spec);

}  // namespace dj::jit::cuda
