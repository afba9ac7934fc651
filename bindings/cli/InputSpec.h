// InputSpec: what `dj run --input` and `--dim` say, parsed and checked.
//
//   --input NAME=SHAPE[:DTYPE]   random data of that shape ("1x37x256", "scalar")
//   --input NAME=:DTYPE          random data, declared shape, this dtype
//   --input NAME=FILE.npy        the data in a NumPy file
//   --dim   SYMBOL=N             size of a symbolic dim for inputs made up by dj
// Parsing only; matching against the model happens in RunInputs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "runtime/DType.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj {

struct InputSpec {
  std::string name;
  std::optional<Shape> shape;  // nullopt: the declared shape
  std::optional<DType> dtype;  // nullopt: the declared dtype
  std::string npy_path;        // non-empty: read the data from this file
};

// "1x37x256" -> {1,37,256}; "scalar" -> {}; dims are non-negative integers.
Expected<Shape> parse_shape(std::string_view text);
Expected<InputSpec> parse_input_spec(std::string_view text);
// "batch=4" -> {"batch", 4}.
Expected<std::pair<std::string, int64_t>> parse_dim_binding(std::string_view text);

}  // namespace dj
