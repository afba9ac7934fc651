// LinalgEinsum: the Einsum op (any number of operands, explicit or implicit output,
// ellipsis broadcasting, repeated labels within an operand as diagonals).
//
// Operands are contracted left to right; each pairwise contraction becomes one
// batched matrix product (batch labels, free labels of each side, contracted labels)
// on strided views, so common forms ("bij,bjk->bik", "bhqd,bhkd->bhqk") copy
// nothing before the GEMM. Labels that only one operand uses and the output drops
// are summed out first.
#pragma once

#include "runtime/OpRegistry.h"

namespace dj {

Status einsum_kernel(KernelContext& ctx);
Status einsum_infer(ShapeContext& ctx);

}  // namespace dj
