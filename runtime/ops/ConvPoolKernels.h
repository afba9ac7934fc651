// ConvPoolKernels: the kernels and shape functions of the conv/pool family, each
// defined in its own file and registered together by register_conv_pool_ops()
// (ConvPoolOps.cpp).
//   ConvForward.cpp     Conv (im2col + GEMM, direct depthwise, pointwise as one GEMM)
//   ConvTranspose.cpp   ConvTranspose (GEMM + col2im)
//   PoolOps.cpp         MaxPool, AveragePool, LpPool, Global{Average,Max,Lp}Pool
#pragma once

#include "runtime/OpRegistry.h"

namespace dj {

Status conv_kernel(KernelContext& ctx);
Status conv_infer(ShapeContext& ctx);
Status conv_transpose_kernel(KernelContext& ctx);
Status conv_transpose_infer(ShapeContext& ctx);

Status max_pool_kernel(KernelContext& ctx);
Status average_pool_kernel(KernelContext& ctx);
Status lp_pool_kernel(KernelContext& ctx);
Status pool_infer(ShapeContext& ctx);  // MaxPool (both outputs), AveragePool, LpPool

Status global_average_pool_kernel(KernelContext& ctx);
Status global_max_pool_kernel(KernelContext& ctx);
Status global_lp_pool_kernel(KernelContext& ctx);
Status global_pool_infer(ShapeContext& ctx);

}  // namespace dj
