// CudaLaunch: how to launch a generated kernel — the DjKernelParams of one call
// (fill_params) and the grid and block (launch_dims).
//
// fill_params is where the shapes of a call meet the kernel's assumptions: it
// refuses what the kernel cannot compute (more than DJ_MAX_KERNEL_INPUTS inputs,
// rank above DJ_MAX_KERNEL_RANK, shapes that do not broadcast, a concrete kernel
// called with other shapes than it was generated for, a generic one called with
// other ranks or against its broadcast flags), so a launch with its params is
// always in bounds. It fills every field but the pointers (in[], out), which the
// caller sets to device buffers of the given shapes.
#pragma once

#include <vector>

#include "jit/cuda/CudaKernelSpec.h"
#include "jit/cuda/KernelParams.h"
#include "runtime/Status.h"

namespace dj::jit::cuda {

struct LaunchDims {
  unsigned grid_x = 1, grid_y = 1, grid_z = 1;
  unsigned block_x = 1, block_y = 1, block_z = 1;
  unsigned shared_bytes = 0;  // dynamic shared memory (the kernels use static __shared__ only)
};

// Grid and block for `params` as fill_params left them. Never a zero dimension:
// a call with nothing to do (numel 0) launches one block that exits, or the
// caller skips the launch. Grids are capped; the kernels loop over the rest.
LaunchDims launch_dims(const CudaKernelSpec& spec, const DjKernelParams& params);

// input_shapes in argument order (A, B, bias, residual for Gemm; x or the
// prologue's inputs, then scale, bias for layer norm). Row kinds take any rank >= 1:
// the last dim is cols, the others flatten into rows (with a prologue the output
// gives the rows; its inputs must fit their views); Gemm's A likewise flattens its
// leading dims into m. BatchedGemm takes A [batch..., m, k] and B [batch..., k, n]
// and sets rank 3, extent {batch, m, n}.
Status fill_params(const CudaKernelSpec& spec, const std::vector<Shape>& input_shapes, const Shape& output_shape,
                   DjKernelParams& params);

}  // namespace dj::jit::cuda
