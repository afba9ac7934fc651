// The shared checks of the elementwise kernels (see ElementwiseKernel.h).
#include "runtime/ops/ElementwiseKernel.h"

#include <vector>

namespace dj::elementwise {

Status require_inputs(const KernelContext& ctx, const char* op, size_t n) {
  for (size_t i = 0; i < n; ++i)
    DJ_CHECK(ctx.has_input(i), InvalidArgument, op, ": input ", i, " is missing (", n, " required)");
  return Status();
}

Status check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  DJ_CHECK(a.dtype() == b.dtype(), InvalidArgument, op, ": input dtypes differ: ", dtype_name(a.dtype()), " vs ",
           dtype_name(b.dtype()));
  return Status();
}

Status unsupported_dtype(const char* op, DType t) {
  return make_error(StatusCode::Unsupported, op, ": dtype ", dtype_name(t), " is not supported");
}

Expected<Shape> broadcast_output_shape(const char* op, const std::vector<const Tensor*>& tensors) {
  std::vector<Shape> shapes;
  shapes.reserve(tensors.size());
  for (const Tensor* t : tensors) shapes.push_back(t->shape());
  auto out = broadcast_shapes(shapes);
  if (!out.ok()) return out.status().with_context(std::string(op) + ": ");
  return out;
}

}  // namespace dj::elementwise
