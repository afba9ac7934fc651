// GpuBackend: where the GPU specializations of a model run. The specializer only
// generates and compiles (CUDA C -> NVRTC, jit/cuda/); a backend owns device
// memory, loads compiled kernels and launches them:
//   - CudaDriverBackend (CudaDriverBackend.h): the product path, the CUDA driver
//     API through runtime/cuda/ (dlopen'ed libcuda, stream-ordered allocator);
//   - the tests' host-emulation backend (tests/cuda_emulation/), which compiles
//     the very same CUDA C with the host compiler and runs blocks as fibers.
// Device tensors a backend makes are Tensors whose device() is Cuda (Tensor.h):
// host code never dereferences them, and to_host() copies them back.
// A backend is shared by all GPU specializations of one model and must be
// thread-safe (regions run from many threads at once).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "jit/cuda/CudaKernelSpec.h"
#include "jit/cuda/CudaLaunch.h"
#include "jit/cuda/CudaSource.h"
#include "jit/cuda/KernelParams.h"
#include "jit/cuda/NvrtcCompiler.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj::specializer {

// One compiled CUDA kernel of a fusion group.
struct GpuKernel {
  jit::cuda::CudaKernelSpec spec;
  jit::cuda::CudaKernelSource source;
  jit::cuda::NvrtcOutput binary;       // sm_XX cubin + PTX (empty when loaded from source by the emulation)
  std::shared_ptr<const void> loaded;  // the backend's handle for it (module + function)
};

struct GpuTransferCounts {
  uint64_t uploads = 0;    // host -> device copies of region inputs
  uint64_t launches = 0;
};

class GpuBackend {
 public:
  virtual ~GpuBackend() = default;
  virtual std::string description() const = 0;  // e.g. "CUDA NVIDIA H100 80GB HBM3 (sm_90)"
  virtual int sm() const = 0;                    // the arch NVRTC compiles for: 90 = sm_90
  // What compiled code for this backend depends on, for code-cache keys: the arch
  // and the NVRTC version ("cuda sm_90, nvrtc 13.0").
  virtual std::string cache_target() const {
    return "cuda sm_" + std::to_string(sm()) + ", nvrtc " + jit::cuda::nvrtc_version();
  }
  // Whether load() needs the NVRTC binary (a real device does; the emulation runs the source).
  virtual bool needs_binary() const { return true; }
  // Makes `kernel` launchable: sets kernel.loaded.
  virtual Status load(GpuKernel& kernel) = 0;
  virtual Expected<Tensor> allocate(DType dtype, const Shape& shape) = 0;  // contiguous device tensor
  virtual Expected<Tensor> upload(const Tensor& host) = 0;                 // a device copy
  // Waits until everything this thread enqueued is done (uploads made at build
  // time must be complete before other threads' streams read them).
  virtual Status synchronize() { return {}; }
  virtual Status launch(const GpuKernel& kernel, const jit::cuda::LaunchDims& dims, const DjKernelParams& params) = 0;

  GpuTransferCounts counts() const { return {uploads_.load(), launches_.load()}; }

 protected:
  std::atomic<uint64_t> uploads_{0}, launches_{0};
};

}  // namespace dj::specializer
