// (placeholder until the family is written) registers nothing yet.
#include "runtime/OpRegistry.h"
#include "runtime/ops/OpFamilies.h"

namespace dj {
void register_conv_pool_ops(OpRegistry& r) { (void)r; }
}  // namespace dj
