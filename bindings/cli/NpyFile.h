// NpyFile: reading and writing NumPy .npy files (format versions 1, 2 and 3).
//
// read_npy accepts little- and big-endian data, C or Fortran order, and the
// dtypes DynaJIT has a NumPy equivalent for (f2 f4 f8, i1..i8, u1..u8, b1); the
// result is always a contiguous, native-endian tensor. write_npy writes version 1
// little-endian C order; bf16 has no NumPy dtype and is written as f32 (exact).
// Errors name the file: IoError when it cannot be opened, read or written,
// InvalidArgument when its content is not a valid .npy.
#pragma once

#include <string>

#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj {

Expected<Tensor> read_npy(const std::string& path);
Expected<Tensor> parse_npy(const std::string& bytes, const std::string& path_for_messages);
Status write_npy(const std::string& path, const Tensor& tensor);

}  // namespace dj
