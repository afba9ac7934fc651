// Index reading and range checks shared by the Gather* and Scatter* kernels.
#include "runtime/ops/GatherIndices.h"

namespace dj {

Status index_out_of_range(const char* op, int64_t index, int64_t axis, int64_t dim) {
  return make_error(StatusCode::InvalidArgument, op, ": index ", index, " out of range for axis ", axis, " of size ",
                    dim);
}

Expected<std::vector<int64_t>> read_indices(const Tensor& indices, int64_t dim, const char* op, int64_t axis) {
  if (!dtype_is_signed_int(indices.dtype()) && !dtype_is_unsigned_int(indices.dtype()))
    return make_error(StatusCode::InvalidArgument, op, ": indices must be integers, got ", indices.describe());
  std::vector<int64_t> idx = indices.to_int64_vector();
  for (int64_t& i : idx) {
    const int64_t original = i;
    if (!wrap_index(i, dim)) return index_out_of_range(op, original, axis, dim);
  }
  return idx;
}

}  // namespace dj
