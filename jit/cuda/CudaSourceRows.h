// CudaSourceRows: CUDA C for the row kinds — RowSoftmax, RowLayerNorm and
// RowReduce over the rows of a [rows, cols] row-major f32 matrix.
//
// Rows of at most kWarpRowMaxCols elements get one warp each (warp shuffles only;
// a shape-specialized kernel keeps its row in registers, ceil(cols/32) values per
// lane, so x is read once); longer rows get one 256-thread block each (shuffles,
// then one __shared__ partial per warp, all-reduced so that every thread holds the
// result; barriers before the partials are read and before they are reused).
// Lanes beyond cols contribute the reduction's identity (0, -inf, +inf), so any
// cols >= 1 works. A generic kernel holds both forms and picks by p.cols, as
// launch_dims does. Both loop over rows (grid-stride), so any rows >= 0 works.
//
// With a prologue (RowSoftmax/RowLayerNorm), x is never read: element j of a row is
// the prologue's chain applied to its inputs' elements (the row block's [row, j], the
// row vector's [j], a value loaded once per thread), computed where x would be
// loaded: once per element in the register-cached warp form, once per pass in the
// streaming forms.
//
// Numerics follow the CPU reference: softmax subtracts the row max (NaN-propagating)
// before exp and scales by 1/sum; layer norm takes the mean, then the biased
// variance in a second pass over (x - mean), then (x - mean) * (1/sqrt(var + eps))
// * scale + bias; Mean divides the sum by cols.
#pragma once

#include <string>

#include "jit/cuda/CudaKernelSpec.h"

namespace dj::jit::cuda {

// Precondition: validate_spec(spec) is ok and spec.kind is a row kind.
std::string row_kernel_source(const CudaKernelSpec& spec);

}  // namespace dj::jit::cuda
