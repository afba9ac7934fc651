// TensorSummary: how `dj run` prints a tensor — statistics and values.
//
// summarize_tensor gives "min=... max=... mean=..." over the finite values (with
// counts of NaN/Inf when there are any); format_values prints values NumPy-style
// with nested brackets, at most `limit` of them (then "..."), or all when limit
// is 0. f16/bf16 print as float, bool as 0/1.
#pragma once

#include <cstddef>
#include <string>

#include "runtime/Tensor.h"

namespace dj {

std::string summarize_tensor(const Tensor& t);
std::string format_values(const Tensor& t, size_t limit);

}  // namespace dj
