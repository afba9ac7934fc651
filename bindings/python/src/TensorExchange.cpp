// TensorExchange: dj_dtype <-> DLPack dtype, borrowing inputs, adopting outputs.
#include "TensorExchange.h"

#include <optional>
#include <vector>

#include "StatusError.h"

namespace dynajit_py {
namespace {

using nb::dlpack::dtype_code;

std::optional<dj_dtype> dj_dtype_of(nb::dlpack::dtype dt) {
  if (dt.lanes != 1) return std::nullopt;
  switch (static_cast<dtype_code>(dt.code)) {
    case dtype_code::Float:
      if (dt.bits == 32) return DJ_F32;
      if (dt.bits == 64) return DJ_F64;
      if (dt.bits == 16) return DJ_F16;
      return std::nullopt;
    case dtype_code::Bfloat:
      return dt.bits == 16 ? std::optional<dj_dtype>(DJ_BF16) : std::nullopt;
    case dtype_code::Int:
      if (dt.bits == 64) return DJ_I64;
      if (dt.bits == 32) return DJ_I32;
      if (dt.bits == 16) return DJ_I16;
      if (dt.bits == 8) return DJ_I8;
      return std::nullopt;
    case dtype_code::UInt:
      if (dt.bits == 64) return DJ_U64;
      if (dt.bits == 32) return DJ_U32;
      if (dt.bits == 16) return DJ_U16;
      if (dt.bits == 8) return DJ_U8;
      return std::nullopt;
    case dtype_code::Bool:
      return dt.bits == 8 ? std::optional<dj_dtype>(DJ_BOOL) : std::nullopt;
    default:
      return std::nullopt;
  }
}

nb::dlpack::dtype dlpack_dtype_of(dj_dtype dtype) {
  auto make = [](dtype_code code, uint8_t bits) { return nb::dlpack::dtype{static_cast<uint8_t>(code), bits, 1}; };
  switch (dtype) {
    case DJ_F32: return make(dtype_code::Float, 32);
    case DJ_F64: return make(dtype_code::Float, 64);
    case DJ_F16: return make(dtype_code::Float, 16);
    case DJ_BF16: return make(dtype_code::UInt, 16);  // NumPy has no bfloat16: hand out the bits
    case DJ_I64: return make(dtype_code::Int, 64);
    case DJ_I32: return make(dtype_code::Int, 32);
    case DJ_I16: return make(dtype_code::Int, 16);
    case DJ_I8: return make(dtype_code::Int, 8);
    case DJ_U64: return make(dtype_code::UInt, 64);
    case DJ_U32: return make(dtype_code::UInt, 32);
    case DJ_U16: return make(dtype_code::UInt, 16);
    case DJ_U8: return make(dtype_code::UInt, 8);
    case DJ_BOOL: return make(dtype_code::Bool, 8);
    default:
      throw StatusError(DJ_ERR_INTERNAL, std::string("an output has dtype ") + dj_dtype_name(dtype) +
                                             ", which the Python bindings cannot express");
  }
}

const char* numpy_dtype_name(nb::dlpack::dtype dt) {
  switch (static_cast<dtype_code>(dt.code)) {
    case dtype_code::Float: return dt.bits == 16 ? "float16" : dt.bits == 32 ? "float32" : "float64";
    case dtype_code::Int: return dt.bits == 8 ? "int8" : dt.bits == 16 ? "int16" : dt.bits == 32 ? "int32" : "int64";
    case dtype_code::UInt:
      return dt.bits == 8 ? "uint8" : dt.bits == 16 ? "uint16" : dt.bits == 32 ? "uint32" : "uint64";
    default: return "bool";
  }
}

}  // namespace

TensorPtr borrow_input(const std::string& input_name, const InputArray& array, dj_dtype dtype) {
  std::optional<dj_dtype> given = dj_dtype_of(array.dtype());
  bool bf16_bits = dtype == DJ_BF16 && given == DJ_U16;
  if (!given || (*given != dtype && !bf16_bits)) {
    throw StatusError(DJ_ERR_INVALID_ARGUMENT, "input '" + input_name + "': the array's element type (" +
                                                   (given ? dj_dtype_name(*given) : "not a DynaJIT dtype") +
                                                   ") is not " + dj_dtype_name(dtype));
  }
  const size_t rank = array.ndim();
  std::vector<int64_t> shape(rank), strides(rank);
  for (size_t d = 0; d < rank; ++d) {
    shape[d] = static_cast<int64_t>(array.shape(d));
    strides[d] = array.stride(d);  // nanobind gives strides in elements, as dj_tensor_borrow wants
  }
  dj_tensor* out = nullptr;
  check_status(dj_tensor_borrow(dtype, shape.data(), rank, const_cast<void*>(array.data()),
                                rank ? strides.data() : nullptr, &out));
  return TensorPtr(out);
}

nb::object adopt_output(dj_tensor* tensor) {
  // The capsule owns the tensor from here on, so every exit below frees it exactly once.
  nb::capsule owner(tensor, [](void* p) noexcept { dj_tensor_free(static_cast<dj_tensor*>(p)); });
  const size_t rank = dj_tensor_rank(tensor);
  const int64_t* dims = dj_tensor_shape(tensor);
  std::vector<size_t> shape(rank);
  for (size_t d = 0; d < rank; ++d) shape[d] = static_cast<size_t>(dims[d]);
  nb::dlpack::dtype dt = dlpack_dtype_of(dj_tensor_dtype(tensor));
  if (dj_tensor_numel(tensor) == 0) {
    // No buffer to share (its pointer may be NULL): a fresh empty array says the same.
    nb::list py_shape;
    for (size_t d = 0; d < rank; ++d) py_shape.append(shape[d]);
    return nb::module_::import_("numpy").attr("empty")(nb::tuple(py_shape), numpy_dtype_name(dt));
  }
  return nb::ndarray<nb::numpy>(dj_tensor_data(tensor), rank, shape.data(), owner, nullptr, dt).cast();
}

}  // namespace dynajit_py
