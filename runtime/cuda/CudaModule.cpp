// CudaModule: cuModuleLoadDataEx (with the JIT error log), cuModuleGetFunction, cuLaunchKernel.
#include "runtime/cuda/CudaModule.h"

#ifdef DJ_HAVE_CUDA

#include <cstdint>
#include <cstring>

#include "runtime/Log.h"

namespace dj {

Expected<std::unique_ptr<CudaModule>> CudaModule::load(CudaContext& context, std::string_view image) {
  DJ_CHECK(!image.empty(), InvalidArgument, "cannot load an empty CUDA module image");
  DJ_RETURN_IF_ERROR(context.make_current());
  const CudaDriverApi& api = context.driver();
  const std::string owned(image);  // PTX must end in NUL; a cubin ignores the extra byte
  // The driver writes PTX JIT diagnostics here. Option values are passed in the void*
  // slots: a pointer for the buffer, the size as an integer cast to void*.
  char error_log[8192] = {};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void* values[] = {error_log, reinterpret_cast<void*>(static_cast<uintptr_t>(sizeof error_log))};
  CUmodule module = nullptr;
  const CUresult loaded = api.cuModuleLoadDataEx(&module, owned.c_str(), 2, options, values);
  if (loaded != CUDA_SUCCESS) {
    error_log[sizeof error_log - 1] = '\0';
    Status s = cuda_call_status(api, loaded, "cuModuleLoadDataEx");
    const bool is_elf = owned.compare(0, 4, "\x7f" "ELF") == 0;
    std::string message = s.message() + (is_elf ? " (cubin image)" : " (PTX image)");
    if (error_log[0]) message += "; JIT log: " + std::string(error_log);
    return Status(s.code(), message);
  }
  return std::unique_ptr<CudaModule>(new CudaModule(context, module));
}

CudaModule::~CudaModule() {
  if (!module_) return;
  Status s = context_.make_current();
  if (s.ok()) {
    const CUresult unloaded = context_.driver().cuModuleUnload(module_);
    if (unloaded != CUDA_SUCCESS) s = cuda_call_status(context_.driver(), unloaded, "cuModuleUnload");
  }
  if (!s.ok()) DJ_LOG_WARN("unloading a CUDA module: " << s.message());
}

Expected<CUfunction> CudaModule::function(const std::string& name) const {
  DJ_RETURN_IF_ERROR(context_.make_current());
  CUfunction function = nullptr;
  const CUresult found = context_.driver().cuModuleGetFunction(&function, module_, name.c_str());
  if (found == CUDA_ERROR_NOT_FOUND) {
    return make_error(StatusCode::InvalidArgument, "CUDA module has no kernel named '", name, "'");
  }
  if (found != CUDA_SUCCESS) return cuda_call_status(context_.driver(), found, "cuModuleGetFunction");
  return function;
}

Status launch_kernel(CudaContext& context, CUfunction function, LaunchDims grid, LaunchDims block,
                     unsigned dynamic_shared_bytes, const void* params, CUstream stream) {
  DJ_CHECK(function != nullptr && params != nullptr, InvalidArgument, "kernel launch without a function or params");
  DJ_CHECK(grid.x && grid.y && grid.z && block.x && block.y && block.z, InvalidArgument,
           "kernel launch with an empty grid (", grid.x, "x", grid.y, "x", grid.z, ") or block (", block.x, "x",
           block.y, "x", block.z, ")");
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  const int limit = context.properties().max_threads_per_block;
  DJ_CHECK(limit <= 0 || threads <= static_cast<uint64_t>(limit), InvalidArgument, "kernel launch with ", threads,
           " threads per block; the device allows ", limit);
  DJ_RETURN_IF_ERROR(context.make_current());
  // kernelParams holds one pointer per kernel parameter; ours have exactly one.
  void* kernel_params[] = {const_cast<void*>(params)};
  DJ_CU_RETURN_IF_ERROR(context.driver(), cuLaunchKernel(function, grid.x, grid.y, grid.z, block.x, block.y, block.z,
                                                         dynamic_shared_bytes, stream, kernel_params, nullptr));
  return Status::ok_status();
}

}  // namespace dj

#endif  // DJ_HAVE_CUDA
