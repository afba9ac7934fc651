// Index-driven writes: ScatterND, ScatterElements, and the opset 9-10 Scatter
// (ScatterElements without reduction).
//
// The output starts as a copy of data; updates are then written (reduction
// "none", byte copies by element size) or combined (add/mul/max/min, computed in
// ComputeType, so f16 adds in float). Every index is checked before any write.
// Updates are applied in index order, so duplicate indices with reduction "none"
// leave the last update, like ONNX's reference.
#include <algorithm>

#include "runtime/OpRegistry.h"
#include "runtime/ops/DataMovementCopy.h"
#include "runtime/ops/GatherIndices.h"
#include "runtime/ops/ShapeFamily.h"
#include "runtime/ops/ShapeValues.h"

namespace dj {

namespace {

enum class Reduction { None, Add, Mul, Max, Min };

Expected<Reduction> reduction_of(const Node& node, const char* op) {
  std::string r = node.attr_string("reduction", "none");
  if (r == "none") return Reduction::None;
  if (r == "add") return Reduction::Add;
  if (r == "mul") return Reduction::Mul;
  if (r == "max") return Reduction::Max;
  if (r == "min") return Reduction::Min;
  return make_error(StatusCode::Unsupported, op, ": reduction '", r, "' not supported");
}

// Writes `count` elements of src into dst (element offsets `dst_off[i]`,
// `src_off[i]`), combining per `red`.
Status apply_updates(Tensor& out, const Tensor& updates, const std::vector<int64_t>& dst_off,
                     const std::vector<int64_t>& src_off, int64_t run, Reduction red, const char* op) {
  const size_t es = dtype_size(out.dtype());
  char* dst = static_cast<char*>(out.raw_data());
  const char* src = static_cast<const char*>(updates.raw_data());
  if (red == Reduction::None) {
    for (size_t i = 0; i < dst_off.size(); ++i)
      std::memcpy(dst + dst_off[i] * static_cast<int64_t>(es), src + src_off[i] * static_cast<int64_t>(es),
                  static_cast<size_t>(run) * es);
    return Status::ok_status();
  }
  bool ok = dispatch_dtype(out.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = typename ComputeType<T>::type;
    T* d = out.data<T>();
    const T* s = updates.data<T>();
    for (size_t i = 0; i < dst_off.size(); ++i) {
      for (int64_t j = 0; j < run; ++j) {
        C a = static_cast<C>(d[dst_off[i] + j]), b = static_cast<C>(s[src_off[i] + j]);
        C v = red == Reduction::Add ? C(a + b) : red == Reduction::Mul ? C(a * b)
            : red == Reduction::Max ? std::max(a, b) : std::min(a, b);
        d[dst_off[i] + j] = T(v);
      }
    }
  });
  if (!ok)
    return make_error(StatusCode::Unsupported, op, ": reduction on ", dtype_name(out.dtype()), " not supported");
  return Status::ok_status();
}

// ---- ScatterND -------------------------------------------------------------------------

Status scatter_nd_kernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Tensor& updates = ctx.input(2);
  DJ_ASSIGN_OR_RETURN(Reduction red, reduction_of(ctx.node(), "ScatterND"));
  const int64_t r = data.rank(), q = indices.rank();
  if (q < 1) return Status(StatusCode::InvalidArgument, "ScatterND: indices must have rank >= 1");
  const int64_t k = indices.shape()[q - 1];
  if (k < 1 || k > r)
    return make_error(StatusCode::InvalidArgument, "ScatterND: index tuples of length ", k, " for data ", data.describe());
  Shape expected(indices.shape().begin(), indices.shape().end() - 1);
  expected.insert(expected.end(), data.shape().begin() + k, data.shape().end());
  if (updates.shape() != expected || updates.dtype() != data.dtype())
    return make_error(StatusCode::InvalidArgument, "ScatterND: updates ", updates.describe(), " should be ",
                      dtype_name(data.dtype()), shape_to_string(expected));
  const Strides dstr = contiguous_strides(data.shape());
  int64_t slice = 1;
  for (int64_t d = k; d < r; ++d) slice *= data.shape()[d];
  std::vector<int64_t> idx = indices.to_int64_vector();
  const int64_t tuples = static_cast<int64_t>(idx.size()) / k;
  std::vector<int64_t> dst_off(static_cast<size_t>(tuples)), src_off(static_cast<size_t>(tuples));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t i = idx[t * k + j];
      if (!wrap_index(i, data.shape()[j])) return index_out_of_range("ScatterND", idx[t * k + j], j, data.shape()[j]);
      off += i * dstr[j];
    }
    dst_off[t] = off;
    src_off[t] = t * slice;
  }
  Tensor& out = ctx.allocate_output(0, data.dtype(), data.shape());
  if (data.nbytes()) std::memcpy(out.raw_data(), data.raw_data(), data.nbytes());
  return apply_updates(out, updates, dst_off, src_off, slice, red, "ScatterND");
}

// ---- ScatterElements / Scatter ---------------------------------------------------------

Status scatter_elements_kernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Tensor& updates = ctx.input(2);
  const char* op = ctx.node().op_type == "Scatter" ? "Scatter" : "ScatterElements";
  DJ_ASSIGN_OR_RETURN(Reduction red, reduction_of(ctx.node(), op));
  const int64_t r = data.rank();
  if (indices.rank() != r || updates.shape() != indices.shape() || updates.dtype() != data.dtype())
    return make_error(StatusCode::InvalidArgument, op, ": indices ", indices.describe(), " and updates ",
                      updates.describe(), " must have one shape and the rank of data ", data.describe());
  DJ_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), r, op));
  for (int64_t d = 0; d < r; ++d)
    if (d != axis && indices.shape()[d] > data.shape()[d])
      return make_error(StatusCode::InvalidArgument, op, ": indices ", indices.describe(), " larger than data ",
                        data.describe(), " on axis ", d);
  DJ_ASSIGN_OR_RETURN(std::vector<int64_t> idx, read_indices(indices, data.shape()[axis], op, axis));
  const Strides dstr = contiguous_strides(data.shape());
  const int64_t n = static_cast<int64_t>(idx.size());
  std::vector<int64_t> dst_off(static_cast<size_t>(n)), src_off(static_cast<size_t>(n));
  std::vector<int64_t> coord(static_cast<size_t>(r), 0);
  for (int64_t e = 0; e < n; ++e) {
    int64_t off = 0;
    for (int64_t d = 0; d < r; ++d) off += (d == axis ? idx[e] : coord[d]) * dstr[d];
    dst_off[e] = off;
    src_off[e] = e;
    for (int64_t d = r - 1; d >= 0; --d) {
      if (++coord[d] < indices.shape()[d]) break;
      coord[d] = 0;
    }
  }
  Tensor& out = ctx.allocate_output(0, data.dtype(), data.shape());
  if (data.nbytes()) std::memcpy(out.raw_data(), data.raw_data(), data.nbytes());
  return apply_updates(out, updates, dst_off, src_off, 1, red, op);
}

Status scatter_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::ok_status();
}

}  // namespace

void register_scatter_ops(OpRegistry& r) {
  r.add({"ScatterND", scatter_nd_kernel, scatter_infer});
  r.add({"ScatterElements", scatter_elements_kernel, scatter_infer});
  r.add({"Scatter", scatter_elements_kernel, scatter_infer});
}

}  // namespace dj
