// The convolution and pooling op family: registration only; the kernels live in
// ConvForward.cpp, ConvTranspose.cpp, ConvQuantized.cpp, PoolOps.cpp and
// PoolUnpool.cpp (see ConvPoolKernels.h).
#include "runtime/OpRegistry.h"
#include "runtime/ops/ConvPoolKernels.h"
#include "runtime/ops/OpFamilies.h"

namespace dj {

void register_conv_pool_ops(OpRegistry& r) {
  r.add({"Conv", &conv_kernel, &conv_infer});
  r.add({"ConvInteger", &conv_integer_kernel, &quantized_conv_infer});
  r.add({"QLinearConv", &qlinear_conv_kernel, &quantized_conv_infer});
  r.add({"ConvTranspose", &conv_transpose_kernel, &conv_transpose_infer});
  r.add({"MaxPool", &max_pool_kernel, &pool_infer});
  r.add({"AveragePool", &average_pool_kernel, &pool_infer});
  r.add({"LpPool", &lp_pool_kernel, &pool_infer});
  r.add({"GlobalAveragePool", &global_average_pool_kernel, &global_pool_infer});
  r.add({"GlobalMaxPool", &global_max_pool_kernel, &global_pool_infer});
  r.add({"GlobalLpPool", &global_lp_pool_kernel, &global_pool_infer});
  r.add({"MaxUnpool", &max_unpool_kernel, &max_unpool_infer});
}

}  // namespace dj
