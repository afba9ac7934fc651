// TensorExchange: NumPy arrays in and out of the C API without copying their data.
//
// borrow_input() makes a dj_tensor that views an array's memory (with the array's
// strides, in elements), so a C-contiguous input reaches the model untouched and a
// strided one is packed by the runtime, not here. The caller keeps the array alive
// until the run that uses the tensor has returned.
//
// adopt_output() hands an output dj_tensor to NumPy: the array points at the
// tensor's buffer and a capsule owning the tensor is its base, so the buffer is
// freed (dj_tensor_free) when the last NumPy view of it goes.
#pragma once

#include <memory>
#include <string>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include "dynajit.h"

namespace dynajit_py {

namespace nb = nanobind;

using InputArray = nb::ndarray<nb::ro, nb::device::cpu>;

struct TensorDeleter {
  void operator()(dj_tensor* t) const noexcept { dj_tensor_free(t); }
};
using TensorPtr = std::unique_ptr<dj_tensor, TensorDeleter>;

// A borrowed view of `array` as `dtype`. The array's element type must be `dtype`
// (or uint16 for DJ_BF16, which NumPy lacks: the bits are passed as they are);
// otherwise StatusError(DJ_ERR_INVALID_ARGUMENT) naming `input_name`.
TensorPtr borrow_input(const std::string& input_name, const InputArray& array, dj_dtype dtype);

// Takes ownership of `tensor` (also when it throws) and returns a NumPy array over
// its buffer. bf16 comes back as uint16 bits.
nb::object adopt_output(dj_tensor* tensor);

}  // namespace dynajit_py
