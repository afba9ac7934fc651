// CudaSource: validation, then the generator of the spec's kind (see the header).
#include "jit/cuda/CudaSource.h"

#include "jit/cuda/CudaKernelGeometry.h"
#include "jit/cuda/CudaSourceElementwise.h"
#include "jit/cuda/CudaSourceGemm.h"
#include "jit/cuda/CudaSourceRows.h"

namespace dj::jit::cuda {

Expected<CudaKernelSource> generate_cuda_kernel(const CudaKernelSpec& spec) {
  DJ_RETURN_IF_ERROR(validate_spec(spec));
  CudaKernelSource out;
  out.name = spec.name;
  switch (spec.kind) {
    case CudaKernelKind::Elementwise:
      out.source = elementwise_kernel_source(spec);
      out.block_size = kElementwiseBlock;
      break;
    case CudaKernelKind::RowSoftmax:
    case CudaKernelKind::RowLayerNorm:
    case CudaKernelKind::RowReduce:
      out.source = row_kernel_source(spec);
      out.block_size = kRowBlock;
      break;
    case CudaKernelKind::Gemm:
    case CudaKernelKind::BatchedGemm:
      out.source = gemm_kernel_source(spec);
      out.block_size = kGemmBlock;
      break;
  }
  return out;
}

}  // namespace dj::jit::cuda
