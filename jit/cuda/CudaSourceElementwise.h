// CudaSourceElementwise: CUDA C for a fused chain of f32 elementwise ops whose
// inputs broadcast (NumPy rules) to one output.
//
// The kernel is a grid-stride loop over the output with up to two paths:
//   flat   every input is the full output or a single element (the broadcast
//          layout coalesces to one dim): 16-byte float4 loads and stores for the
//          bulk when the buffers are 16-byte aligned, then the numel % 4 tail;
//          scalar loads when they are not aligned;
//   index  otherwise: the linear index is split into coordinates of the
//          coalesced output dims and each input's offset summed from its strides,
//          in 32-bit arithmetic when numel <= 2^30 (divisions are far cheaper).
// Concrete specs bake extents and strides as constants (one path); generic specs
// read them from DjKernelParams and branch at run time on p.extent[rank-1] == p.numel
// (flat), unless the spec's broadcast flags already rule the index path out.
#pragma once

#include <string>

#include "jit/cuda/CudaKernelSpec.h"

namespace dj::jit::cuda {

// Precondition: validate_spec(spec) is ok and spec.kind is Elementwise.
std::string elementwise_kernel_source(const CudaKernelSpec& spec);

// The rank the kernel indexes over: the coalesced layout's for a concrete spec,
// the output rank (at least 1) for a generic one. fill_params right-aligns the
// coalesced dims into this many DjKernelParams slots.
int elementwise_kernel_rank(const CudaKernelSpec& spec);

}  // namespace dj::jit::cuda
