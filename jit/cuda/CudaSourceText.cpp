// CudaSourceText: preamble, signature and literals (see the header).
#include "jit/cuda/CudaSourceText.h"

#include "jit/cuda/KernelParams.h"

namespace dj::jit::cuda {

std::string kernel_preamble(const CudaKernelSpec& spec, const std::string& summary) {
  return cat("// DynaJIT generated CUDA C: ", cuda_kernel_kind_name(spec.kind), " kernel ", spec.name,
             spec.generic ? " (shape-generic" : " (shape-specialized", summary.empty() ? "" : ", ", summary, ")\n",
             kernel_params_source(), "\n\n");
}

std::string kernel_signature(const std::string& name, int block_size) {
  return cat("extern \"C\" __global__ void __launch_bounds__(", block_size, ") ", name, "(DjKernelParams p)");
}

std::string ll_literal(int64_t value) { return cat(value, "LL"); }
std::string u32_literal(int64_t value) { return cat(value, "u"); }

}  // namespace dj::jit::cuda
