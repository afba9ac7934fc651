// CudaModule: a loaded cubin or PTX image, its kernels, and kernel launch.
//
// load() takes the image bytes as NVRTC produced them: a cubin (ELF, sm-specific) or
// PTX text (JIT-compiled by the driver for the current device; PTX must be
// NUL-terminated, which load() guarantees by copying into a std::string). A PTX JIT
// error comes back with the driver's error log in the message.
//
// Launch ABI (the CUDA kernels' contract): every DynaJIT kernel takes exactly one
// parameter, a DjKernelParams struct passed by value. launch_kernel() passes
// kernelParams = { params }; the driver copies the struct's bytes when the launch is
// enqueued, so `params` may live on the caller's stack.
//
// The module is unloaded when the object is destroyed; functions obtained from it
// must not be launched afterwards.
#pragma once

#ifdef DJ_HAVE_CUDA

#include <cuda.h>

#include <memory>
#include <string>
#include <string_view>

#include "runtime/Status.h"
#include "runtime/cuda/CudaContext.h"

namespace dj {

struct LaunchDims {
  unsigned x = 1, y = 1, z = 1;
};

class CudaModule {
 public:
  static Expected<std::unique_ptr<CudaModule>> load(CudaContext& context, std::string_view image);
  ~CudaModule();
  CudaModule(const CudaModule&) = delete;
  CudaModule& operator=(const CudaModule&) = delete;

  // The kernel named `name` (its extern "C" name); InvalidArgument naming it if absent.
  Expected<CUfunction> function(const std::string& name) const;

 private:
  CudaModule(CudaContext& context, CUmodule module) : context_(context), module_(module) {}
  CudaContext& context_;
  CUmodule module_;
};

// Launches `function` on `stream` with one by-value parameter whose bytes are at
// `params` (a DjKernelParams, or for tests any struct matching the kernel's signature).
// Rejects empty grids/blocks and blocks over the device's thread limit before the
// driver sees them.
Status launch_kernel(CudaContext& context, CUfunction function, LaunchDims grid, LaunchDims block,
                     unsigned dynamic_shared_bytes, const void* params, CUstream stream);

}  // namespace dj

#endif  // DJ_HAVE_CUDA
