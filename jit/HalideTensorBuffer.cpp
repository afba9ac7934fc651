// HalideTensorBuffer: Tensor -> halide_buffer_t (see HalideTensorBuffer.h).
#include "jit/HalideTensorBuffer.h"

#include <cstdint>
#include <limits>

namespace dj::jit {

std::optional<halide_type_t> halide_type_of(DType dtype) {
  switch (dtype) {
    case DType::F32: return halide_type_t(halide_type_float, 32);
    case DType::F64: return halide_type_t(halide_type_float, 64);
    case DType::F16: return halide_type_t(halide_type_float, 16);
    case DType::BF16: return halide_type_t(halide_type_bfloat, 16);
    case DType::I64: return halide_type_t(halide_type_int, 64);
    case DType::I32: return halide_type_t(halide_type_int, 32);
    case DType::I16: return halide_type_t(halide_type_int, 16);
    case DType::I8: return halide_type_t(halide_type_int, 8);
    case DType::U64: return halide_type_t(halide_type_uint, 64);
    case DType::U32: return halide_type_t(halide_type_uint, 32);
    case DType::U16: return halide_type_t(halide_type_uint, 16);
    case DType::U8: return halide_type_t(halide_type_uint, 8);
    case DType::Bool: return halide_type_t(halide_type_uint, 1);
  }
  return std::nullopt;
}

Status HalideTensorBuffer::bind(const Tensor& tensor) {
  DJ_CHECK(tensor.defined(), InvalidArgument, "cannot pass an undefined tensor to a compiled kernel");
  const int rank = tensor.rank();
  DJ_CHECK(rank <= kMaxHalideRank, Unsupported, "tensor ", tensor.describe(), " has rank ", rank,
           "; compiled kernels take at most ", kMaxHalideRank);
  auto type = halide_type_of(tensor.dtype());
  DJ_CHECK(type.has_value(), Unsupported, "no Halide type for ", dtype_name(tensor.dtype()));
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  for (int d = 0; d < rank; ++d) {
    const int64_t extent = tensor.shape()[rank - 1 - d];
    const int64_t stride = tensor.strides()[rank - 1 - d];
    DJ_CHECK(extent <= kMax && stride <= kMax && stride >= -kMax, Unsupported, "tensor ", tensor.describe(),
             " has a dimension or stride beyond 2^31, which compiled kernels do not address");
    dims_[d] = halide_dimension_t(0, static_cast<int32_t>(extent), static_cast<int32_t>(stride));
  }
  buffer_ = halide_buffer_t{};
  buffer_.host = static_cast<uint8_t*>(const_cast<void*>(tensor.raw_data()));
  buffer_.type = *type;
  buffer_.dimensions = rank;
  buffer_.dim = rank ? dims_.data() : nullptr;
  return Status::ok_status();
}

}  // namespace dj::jit
