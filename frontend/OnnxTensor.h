// ONNX TensorProto <-> dj::Tensor: typed fields and raw_data (little-endian),
// every dtype DynaJIT knows; strings and external data are refused with a clear
// Status. Also reads the standalone `.pb` tensor files of ONNX's test data.
#pragma once

#include <string>

#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace onnx {
class TensorProto;
}

namespace dj {

Expected<Tensor> tensor_from_proto(const onnx::TensorProto& proto);
Expected<Tensor> read_tensor_pb_file(const std::string& path);
// Maps onnx::TensorProto_DataType (an int) to a DType; nullopt for unsupported types.
std::optional<DType> dtype_from_onnx(int onnx_elem_type);
int dtype_to_onnx(DType t);

}  // namespace dj
