// CudaDriverBackend: the GpuBackend of the product — GPU specializations run on the
// process's CUDA device (runtime/cuda/CudaContext: the driver through dlopen, one
// stream per calling thread, the stream-ordered caching allocator).
//
// Gemm groups run through cuBLASLt with the bias/ReLU epilogue fused when the
// library loads (DJ_CUBLASLT=off: the generated tiled kernel, also the fallback).
// Kernels load from the NVRTC cubin when it was built for this device's arch, else
// from the PTX (the driver JIT-compiles it). Device tensors it makes hold a
// DeviceBuffer: the last Tensor view going frees the block back to the allocator,
// in stream order. Reading one back (Tensor::to_host) synchronizes the calling
// thread's stream.
//
// Not yet measured on a GPU: no session so far had one (see issue 8's notes).
#pragma once

#if DJ_HAVE_CUDA

#include <memory>

#include "specializer/GpuBackend.h"

namespace dj::specializer {

// The backend for this process's CUDA device; an error saying why when none is usable.
Expected<std::shared_ptr<GpuBackend>> make_cuda_driver_backend();

}  // namespace dj::specializer

#endif  // DJ_HAVE_CUDA
