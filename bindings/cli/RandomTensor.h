// random_tensor: seeded random data for inputs `dj run` makes up.
//
// Floats are uniform in [-1, 1); integers uniform in [0, 10) (small and
// non-negative, since integer inputs are mostly indices or ids); bools 0/1.
// The same (seed, stream, dtype, shape) always gives the same values: `stream`
// separates the inputs of one run (dj uses the input's index in the model).
#pragma once

#include <cstdint>

#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj {

Expected<Tensor> random_tensor(DType dtype, const Shape& shape, uint64_t seed, uint64_t stream);

}  // namespace dj
