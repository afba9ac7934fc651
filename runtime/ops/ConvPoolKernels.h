// ConvPoolKernels: the kernels and shape functions of the conv/pool family, each
// defined in its own file and registered together by register_conv_pool_ops()
// (ConvPoolOps.cpp).
//   ConvForward.cpp     Conv (im2col + GEMM, direct depthwise, pointwise as one GEMM)
//   ConvTranspose.cpp   ConvTranspose (GEMM + col2im)
//   ConvQuantized.cpp   ConvInteger, QLinearConv (on conv_i32 from ConvForward.cpp)
//   PoolOps.cpp         MaxPool, AveragePool, LpPool, Global{Average,Max,Lp}Pool
//   PoolUnpool.cpp      MaxUnpool
#pragma once

#include <optional>

#include "runtime/OpRegistry.h"

namespace dj {

Status conv_kernel(KernelContext& ctx);
Status conv_infer(ShapeContext& ctx);
// Conv's load-time output shape from X's and W's shapes (nullopt if unknown).
std::optional<SymShape> conv_output_sym_shape(ShapeContext& ctx, const std::optional<SymShape>& x,
                                              const std::optional<SymShape>& w);
// Conv of i32 operands (zero points already subtracted) plus an optional i32 bias;
// `node` carries the Conv attributes. Exact (64-bit accumulation, wrapped to i32).
Expected<Tensor> conv_i32(const Node& node, const Tensor& x, const Tensor& w, const Tensor* bias);
Status conv_integer_kernel(KernelContext& ctx);
Status qlinear_conv_kernel(KernelContext& ctx);
Status quantized_conv_infer(ShapeContext& ctx);  // ConvInteger (i32) and QLinearConv (y_zero_point's dtype)

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

Status max_unpool_kernel(KernelContext& ctx);
Status max_unpool_infer(ShapeContext& ctx);

}  // namespace dj
