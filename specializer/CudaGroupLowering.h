// CudaGroupLowering: one fusion group of a FusionPlan -> a CudaKernelSpec ->
// CUDA C (jit/cuda/) -> an NVRTC cubin + PTX for the backend's arch -> a kernel
// loaded by the GpuBackend. The GPU counterpart of GroupLowering (Halide); both
// pass the same views (group_views), so a group's kernel arguments are the same
// on every device.
//
// Every kernel group kind has a CUDA form: elementwise chains, GEMMs with their
// whole epilogue (bias, ReLU, residual add, ReLU), batched GEMMs, and Softmax /
// LayerNorm with their elementwise prologue computed in the row kernel.
//
// Concrete plans bake every extent into the source; generic plans (the
// shape-generic tier) read extents and broadcast strides from DjKernelParams at
// run time, with each input's broadcasting decided symbolically as on the CPU.
#pragma once

#include <string>

#include "specializer/FusionPlan.h"
#include "specializer/GpuBackend.h"
#include "specializer/GroupLowering.h"

namespace dj::specializer {

// The spec of a kernel group (kernel_name: its extern "C" entry point).
Expected<jit::cuda::CudaKernelSpec> cuda_spec_for_group(const FusionPlan& plan, const FusionGroup& group,
                                                        const std::string& kernel_name);

// Generates, compiles (when the backend needs a binary) and loads the group's kernel.
// `cached`: the cubin + PTX from the code cache, compiled for this kernel name and
// group before: NVRTC is not called (the source is still generated, for listings).
Expected<LoweredGroup> lower_group_cuda(const FusionPlan& plan, const FusionGroup& group,
                                        const std::string& kernel_name, GpuBackend& backend,
                                        const jit::cuda::NvrtcOutput* cached = nullptr);

}  // namespace dj::specializer
