// The elementwise op family's entry point: math, comparisons, logic, Where,
// Cast, Clip and the activations. The kernels live in the Elementwise*Ops.cpp
// files listed in ElementwiseFamily.h; they share the loops of ElementwiseLoops.h.
#include "runtime/OpRegistry.h"
#include "runtime/ops/ElementwiseFamily.h"
#include "runtime/ops/OpFamilies.h"

namespace dj {

void register_elementwise_ops(OpRegistry& r) {
  elementwise::register_arithmetic_ops(r);
  elementwise::register_variadic_ops(r);
  elementwise::register_compare_logic_ops(r);
  elementwise::register_math_ops(r);
  elementwise::register_activation_ops(r);
  elementwise::register_cast_ops(r);
}

}  // namespace dj
