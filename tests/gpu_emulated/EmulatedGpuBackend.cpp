// EmulatedGpuBackend: host memory as "device" memory, kernels through EmulatedModule.
#include "tests/gpu_emulated/EmulatedGpuBackend.h"

#include <cstdlib>
#include <cstring>

#include "tests/cuda_emulation/EmulatedModule.h"

namespace dj::specializer {

Status EmulatedGpuBackend::load(GpuKernel& kernel) {
  if (kernel.binary.cubin.size() < 4 || std::memcmp(kernel.binary.cubin.data(), "\x7f" "ELF", 4) != 0)
    return make_error(StatusCode::Internal, kernel.spec.name, ": NVRTC made no sm_90 cubin");
  if (kernel.binary.ptx.find(".visible .entry " + kernel.spec.name) == std::string::npos)
    return make_error(StatusCode::Internal, kernel.spec.name, ": the PTX lacks the entry point");
  DJ_ASSIGN_OR_RETURN(auto module, emu::EmulatedModule::compile(kernel.source.source, {kernel.spec.name}, "DjKernelParams",
                                                                emu::configured_host_compiler()));
  kernel.loaded = module;
  std::lock_guard<std::mutex> lock(mutex_);
  compiled_.push_back({kernel.spec.name, kernel.binary.compile_ms, kernel.binary.cubin.size(), kernel.binary.ptx.size()});
  return {};
}

Expected<Tensor> EmulatedGpuBackend::allocate(DType dtype, const Shape& shape) {
  const size_t bytes = std::max<size_t>(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), 1);
  void* memory = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!memory) return make_error(StatusCode::OutOfMemory, "emulated device: cannot allocate ", bytes, " bytes");
  // Poison fresh memory: a kernel that leaves an output element unwritten shows as NaN.
  std::memset(memory, 0xff, bytes);
  live_counter_->fetch_add(1);
  auto live = live_counter_;
  return Tensor::on_device(
      memory, dtype, shape, DeviceKind::Cuda,
      [memory, live]() {
        std::free(memory);
        live->fetch_sub(1);
      },
      [memory, bytes](size_t offset, void* host, size_t n) -> Status {
        if (offset + n > bytes) return Status(StatusCode::Internal, "read past an emulated device buffer");
        std::memcpy(host, static_cast<const char*>(memory) + offset, n);
        return {};
      });
}

Expected<Tensor> EmulatedGpuBackend::upload(const Tensor& host) {
  if (!host.on_host()) return Status(StatusCode::Internal, "upload of a tensor already on the device");
  DJ_ASSIGN_OR_RETURN(Tensor device, allocate(host.dtype(), host.shape()));
  Tensor packed = host.contiguous();
  std::memcpy(device.raw_data(), packed.raw_data(), packed.nbytes());
  uploads_.fetch_add(1);
  return device;
}

Status EmulatedGpuBackend::launch(const GpuKernel& kernel, const jit::cuda::LaunchDims& dims,
                                  const DjKernelParams& params) {
  const auto* module = static_cast<const emu::EmulatedModule*>(kernel.loaded.get());
  if (!module) return make_error(StatusCode::Internal, kernel.spec.name, " was never loaded");
  launches_.fetch_add(1);
  return module->launch(kernel.spec.name, {dims.grid_x, dims.grid_y, dims.grid_z},
                        {dims.block_x, dims.block_y, dims.block_z}, &params);
}

std::vector<EmulatedGpuBackend::CompiledKernelRecord> EmulatedGpuBackend::compiled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return compiled_;
}

}  // namespace dj::specializer
