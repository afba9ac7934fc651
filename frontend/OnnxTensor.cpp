// TensorProto decoding: raw_data (little-endian bytes) and the typed repeated fields.
#include "frontend/OnnxTensor.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "onnx/onnx_pb.h"

namespace dj {

std::optional<DType> dtype_from_onnx(int t) {
  switch (t) {
    case onnx::TensorProto_DataType_FLOAT: return DType::F32;
    case onnx::TensorProto_DataType_DOUBLE: return DType::F64;
    case onnx::TensorProto_DataType_FLOAT16: return DType::F16;
    case onnx::TensorProto_DataType_BFLOAT16: return DType::BF16;
    case onnx::TensorProto_DataType_INT64: return DType::I64;
    case onnx::TensorProto_DataType_INT32: return DType::I32;
    case onnx::TensorProto_DataType_INT16: return DType::I16;
    case onnx::TensorProto_DataType_INT8: return DType::I8;
    case onnx::TensorProto_DataType_UINT64: return DType::U64;
    case onnx::TensorProto_DataType_UINT32: return DType::U32;
    case onnx::TensorProto_DataType_UINT16: return DType::U16;
    case onnx::TensorProto_DataType_UINT8: return DType::U8;
    case onnx::TensorProto_DataType_BOOL: return DType::Bool;
    default: return std::nullopt;
  }
}

int dtype_to_onnx(DType t) {
  switch (t) {
    case DType::F32: return onnx::TensorProto_DataType_FLOAT;
    case DType::F64: return onnx::TensorProto_DataType_DOUBLE;
    case DType::F16: return onnx::TensorProto_DataType_FLOAT16;
    case DType::BF16: return onnx::TensorProto_DataType_BFLOAT16;
    case DType::I64: return onnx::TensorProto_DataType_INT64;
    case DType::I32: return onnx::TensorProto_DataType_INT32;
    case DType::I16: return onnx::TensorProto_DataType_INT16;
    case DType::I8: return onnx::TensorProto_DataType_INT8;
    case DType::U64: return onnx::TensorProto_DataType_UINT64;
    case DType::U32: return onnx::TensorProto_DataType_UINT32;
    case DType::U16: return onnx::TensorProto_DataType_UINT16;
    case DType::U8: return onnx::TensorProto_DataType_UINT8;
    case DType::Bool: return onnx::TensorProto_DataType_BOOL;
  }
  return onnx::TensorProto_DataType_UNDEFINED;
}

namespace {
const char* onnx_type_name(int t) {
  return onnx::TensorProto_DataType_IsValid(t) ? onnx::TensorProto_DataType_Name(t).c_str() : "invalid";
}

template <typename Src, typename Field>
Status copy_typed(const Field& field, Tensor& t, const std::string& name) {
  const int64_t n = t.numel();
  if (field.size() != n)
    return make_error(StatusCode::InvalidModel, "tensor '", name, "' has ", field.size(), " values for shape ",
                      shape_to_string(t.shape()));
  bool ok = dispatch_dtype(t.dtype(), AllTypes{}, [&](auto tag) {
    using T = decltype(tag);
    T* d = t.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
        d[i].bits = static_cast<uint16_t>(field.Get(static_cast<int>(i)));  // stored as bit patterns
      } else {
        d[i] = static_cast<T>(static_cast<Src>(field.Get(static_cast<int>(i))));
      }
    }
  });
  if (!ok) return make_error(StatusCode::Internal, "unexpected dtype");
  return {};
}
}  // namespace

Expected<Tensor> tensor_from_proto(const onnx::TensorProto& proto) {
  const std::string& name = proto.name();
  if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL || proto.external_data_size() > 0)
    return make_error(StatusCode::Unsupported, "tensor '", name, "' uses external data, which is not supported");
  auto dtype = dtype_from_onnx(proto.data_type());
  if (!dtype)
    return make_error(StatusCode::Unsupported, "tensor '", name, "' has element type ",
                      onnx_type_name(proto.data_type()), ", which DynaJIT does not support");
  Shape shape;
  for (int64_t d : proto.dims()) {
    if (d < 0) return make_error(StatusCode::InvalidModel, "tensor '", name, "' has a negative dimension");
    shape.push_back(d);
  }
  if (shape_numel(shape) > (int64_t{1} << 40))
    return make_error(StatusCode::InvalidModel, "tensor '", name, "' is implausibly large: ", shape_to_string(shape));
  DJ_ASSIGN_OR_RETURN(Tensor t, Tensor::try_empty(*dtype, shape));
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    if (raw.size() != t.nbytes())
      return make_error(StatusCode::InvalidModel, "tensor '", name, "' raw_data has ", raw.size(),
                        " bytes but shape ", shape_to_string(shape), " of ", dtype_name(*dtype), " needs ", t.nbytes());
    if (!raw.empty()) std::memcpy(t.raw_data(), raw.data(), raw.size());
    if (*dtype == DType::Bool) {  // normalize any non-zero byte to 1
      uint8_t* b = t.data<uint8_t>();
      for (int64_t i = 0; i < t.numel(); ++i) b[i] = b[i] != 0;
    }
    return t;
  }
  switch (*dtype) {
    case DType::F32: DJ_RETURN_IF_ERROR((copy_typed<float>(proto.float_data(), t, name))); break;
    case DType::F64: DJ_RETURN_IF_ERROR((copy_typed<double>(proto.double_data(), t, name))); break;
    case DType::I64: DJ_RETURN_IF_ERROR((copy_typed<int64_t>(proto.int64_data(), t, name))); break;
    case DType::U32:
    case DType::U64: DJ_RETURN_IF_ERROR((copy_typed<uint64_t>(proto.uint64_data(), t, name))); break;
    default: DJ_RETURN_IF_ERROR((copy_typed<int32_t>(proto.int32_data(), t, name))); break;
  }
  return t;
}

Expected<Tensor> read_tensor_pb_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(StatusCode::IoError, "cannot open '", path, "'");
  std::stringstream buf;
  buf << in.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(buf.str()))
    return make_error(StatusCode::InvalidModel, "'", path, "' is not a valid ONNX TensorProto");
  auto t = tensor_from_proto(proto);
  if (!t.ok()) return t.status().with_context(path + ": ");
  return t;
}

}  // namespace dj
