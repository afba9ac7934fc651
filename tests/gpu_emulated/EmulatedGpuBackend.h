// EmulatedGpuBackend: a GpuBackend for machines without a GPU (tests only). Device
// memory is host memory tagged Cuda (so every host<->device boundary of the real
// path is exercised and counted: host code must go through Tensor::to_host), kernels
// are the very CUDA C the specializer generated, compiled by the host compiler
// against CudaEmulation.h and run with each block's threads as fibers.
//
// It still asks for the NVRTC binary (needs_binary), so every kernel it runs was
// also compiled to an sm_90 cubin and PTX; it records those compile times.
#pragma once

#include <mutex>
#include <vector>

#include "specializer/GpuBackend.h"

namespace dj::specializer {

class EmulatedGpuBackend final : public GpuBackend {
 public:
  std::string description() const override { return "host emulation of CUDA sm_90 (tests)"; }
  int sm() const override { return 90; }
  Status load(GpuKernel& kernel) override;
  Expected<Tensor> allocate(DType dtype, const Shape& shape) override;
  Expected<Tensor> upload(const Tensor& host) override;
  Status launch(const GpuKernel& kernel, const jit::cuda::LaunchDims& dims, const DjKernelParams& params) override;

  struct CompiledKernelRecord {
    std::string name;
    double nvrtc_ms = 0;
    size_t cubin_bytes = 0, ptx_bytes = 0;
  };
  std::vector<CompiledKernelRecord> compiled() const;
  int64_t live_device_tensors() const { return live_counter_->load(); }

 private:
  mutable std::mutex mutex_;
  std::vector<CompiledKernelRecord> compiled_;
  // Shared with the tensors' release callbacks, which may outlive the backend.
  std::shared_ptr<std::atomic<int64_t>> live_counter_ = std::make_shared<std::atomic<int64_t>>(0);
};

}  // namespace dj::specializer
