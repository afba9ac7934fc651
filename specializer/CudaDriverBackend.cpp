// CudaDriverBackend: GpuBackend over runtime/cuda (see CudaDriverBackend.h).
#if DJ_HAVE_CUDA
#include "specializer/CudaDriverBackend.h"

#include <cstdlib>
#include <cstring>

#include "runtime/Log.h"
#include "runtime/cuda/CublasLt.h"
#include "runtime/cuda/CudaContext.h"
#include "runtime/cuda/CudaModule.h"
#include "runtime/cuda/CudaTransfer.h"

namespace dj::specializer {
namespace {

struct LoadedCudaKernel {
  std::unique_ptr<CudaModule> module;
  CUfunction function = nullptr;
};

class CudaDriverBackend final : public GpuBackend {
 public:
  explicit CudaDriverBackend(CudaContext& context) : context_(context) {
    // Gemm groups go to cuBLASLt (fused bias/ReLU epilogue) when it loads; the
    // generated tiled kernel stays their fallback. DJ_CUBLASLT=off forces the latter.
    const char* off = std::getenv("DJ_CUBLASLT");
    if (off && (std::strcmp(off, "off") == 0 || std::strcmp(off, "0") == 0)) return;
    auto lt = CublasLt::get();
    if (lt.ok())
      cublas_ = *lt;
    else
      DJ_LOG_INFO("cuda: GEMMs use the generated kernel: " << lt.status().message());
  }

  std::string description() const override { return "CUDA " + context_.properties().describe(); }
  int sm() const override { return context_.properties().sm_major * 10 + context_.properties().sm_minor; }

  Status load(GpuKernel& kernel) override {
    const auto& binary = kernel.binary;
    const bool cubin_fits = !binary.cubin.empty() && binary.arch == context_.properties().arch();
    if (!cubin_fits && binary.ptx.empty())
      return make_error(StatusCode::Internal, kernel.spec.name, ": neither a ", context_.properties().arch(),
                        " cubin nor PTX to load");
    std::string_view image = cubin_fits ? std::string_view(binary.cubin.data(), binary.cubin.size())
                                        : std::string_view(binary.ptx);
    auto loaded = std::make_shared<LoadedCudaKernel>();
    DJ_ASSIGN_OR_RETURN(loaded->module, CudaModule::load(context_, image));
    DJ_ASSIGN_OR_RETURN(loaded->function, loaded->module->function(kernel.spec.name));
    kernel.loaded = std::move(loaded);
    return {};
  }

  Expected<Tensor> allocate(DType dtype, const Shape& shape) override {
    DJ_ASSIGN_OR_RETURN(CUstream stream, context_.thread_stream());
    const size_t bytes = std::max<size_t>(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), 1);
    DJ_ASSIGN_OR_RETURN(DeviceBuffer buffer,
                        DeviceBuffer::allocate(context_.allocator(), bytes, reinterpret_cast<StreamKey>(stream)));
    return wrap(std::move(buffer), dtype, shape);
  }

  Expected<Tensor> upload(const Tensor& host) override {
    DJ_ASSIGN_OR_RETURN(CUstream stream, context_.thread_stream());
    DJ_ASSIGN_OR_RETURN(DeviceBuffer buffer, upload_to_new_buffer(context_, host, stream));
    uploads_.fetch_add(1, std::memory_order_relaxed);
    return wrap(std::move(buffer), host.dtype(), host.shape());
  }

  Status synchronize() override { return context_.synchronize_thread_stream(); }

  Status launch(const GpuKernel& kernel, const jit::cuda::LaunchDims& dims, const DjKernelParams& params) override {
    const auto* loaded = static_cast<const LoadedCudaKernel*>(kernel.loaded.get());
    if (!loaded) return make_error(StatusCode::Internal, kernel.spec.name, " was never loaded");
    DJ_ASSIGN_OR_RETURN(CUstream stream, context_.thread_stream());
    launches_.fetch_add(1, std::memory_order_relaxed);
    if (kernel.spec.kind == jit::cuda::CudaKernelKind::Gemm && !kernel.spec.has_residual && cublas_) {  // cuBLASLt has no residual epilogue
      Status st = cublas_->gemm_f32(cublas_gemm(kernel.spec, params), stream);
      if (st.ok() || st.code() != StatusCode::Unsupported) return st;  // no algorithm: the generated kernel
    }
    return launch_kernel(context_, loaded->function, {dims.grid_x, dims.grid_y, dims.grid_z},
                         {dims.block_x, dims.block_y, dims.block_z}, dims.shared_bytes, &params, stream);
  }

 private:
  static GemmF32 cublas_gemm(const jit::cuda::CudaKernelSpec& spec, const DjKernelParams& params) {
    GemmF32 g;
    g.m = params.rows;
    g.n = params.cols;
    g.k = params.k;
    auto address = [](const void* p) { return static_cast<DevicePtr>(reinterpret_cast<uintptr_t>(p)); };
    g.a = address(params.in[0]);
    g.b = address(params.in[1]);
    g.bias = spec.has_bias ? address(params.in[2]) : 0;
    g.out = address(params.out);
    g.epilogue = spec.has_bias ? (spec.relu ? GemmEpilogue::ReluBias : GemmEpilogue::Bias)
                               : (spec.relu ? GemmEpilogue::Relu : GemmEpilogue::None);
    return g;
  }

  // A device tensor owning `buffer`: freed (stream-ordered) when the last view goes.
  Tensor wrap(DeviceBuffer buffer, DType dtype, const Shape& shape) {
    auto held = std::make_shared<DeviceBuffer>(std::move(buffer));
    CudaContext* context = &context_;
    const DevicePtr base = held->ptr();
    const size_t capacity = held->capacity();
    return Tensor::on_device(
        reinterpret_cast<void*>(static_cast<uintptr_t>(base)), dtype, shape, DeviceKind::Cuda,
        [held]() { held->reset(); },
        [context, base, capacity](size_t offset, void* host, size_t bytes) -> Status {
          if (offset > capacity) return Status(StatusCode::Internal, "read past a device buffer");
          DJ_ASSIGN_OR_RETURN(CUstream stream, context->thread_stream());
          return download_into(*context, base + offset, capacity - offset, host, bytes, stream);
        });
  }

  CudaContext& context_;
  CublasLt* cublas_ = nullptr;
};

}  // namespace

Expected<std::shared_ptr<GpuBackend>> make_cuda_driver_backend() {
  DJ_ASSIGN_OR_RETURN(CudaContext * context, CudaContext::get());
  return std::shared_ptr<GpuBackend>(std::make_shared<CudaDriverBackend>(*context));
}

}  // namespace dj::specializer
#endif  // DJ_HAVE_CUDA
