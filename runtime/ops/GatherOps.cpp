// Index-driven reads: Gather, GatherElements, GatherND.
//
// Indices are validated before any data moves (GatherIndices.h). Gather and
// GatherND copy one contiguous slice per index (memcpy, or a typed move when the
// slice is one element); GatherElements moves single elements. Gather's shape
// function also carries sym_values, so Shape(x)[i] stays symbolic.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "runtime/OpRegistry.h"
#include "runtime/ops/DataMovementCopy.h"
#include "runtime/ops/GatherIndices.h"
#include "runtime/ops/ShapeFamily.h"
#include "runtime/ops/ShapeValues.h"

namespace dj {

namespace {

template <typename Body>
void maybe_parallel(int64_t n, int64_t work, Body&& body) {
  if (work >= kParallelElements && n > 1) {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n),
                      [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
  } else {
    body(int64_t{0}, n);
  }
}

// ---- Gather ------------------------------------------------------------------------

Status gather_kernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  if (data.rank() == 0) return Status(StatusCode::InvalidArgument, "Gather: data must have rank >= 1");
  DJ_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), data.rank(), "Gather"));
  const int64_t dim = data.shape()[axis];
  DJ_ASSIGN_OR_RETURN(std::vector<int64_t> idx, read_indices(indices, dim, "Gather", axis));
  Shape shape(data.shape().begin(), data.shape().begin() + axis);
  shape.insert(shape.end(), indices.shape().begin(), indices.shape().end());
  shape.insert(shape.end(), data.shape().begin() + axis + 1, data.shape().end());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < data.rank(); ++d) {
    if (d < axis) outer *= data.shape()[d];
    if (d > axis) inner *= data.shape()[d];
  }
  Tensor& out = ctx.allocate_output(0, data.dtype(), shape);
  const int64_t n = static_cast<int64_t>(idx.size());
  const size_t block = static_cast<size_t>(inner) * dtype_size(data.dtype());
  const char* src = static_cast<const char*>(data.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  if (out.numel() == 0) return Status::ok_status();
  bool typed = dispatch_elem_size(block, [&](auto tag) {
    using T = decltype(tag);
    const T* s = reinterpret_cast<const T*>(src);
    T* d = reinterpret_cast<T*>(dst);
    maybe_parallel(outer * n, outer * n, [&](int64_t begin, int64_t end) {
      int64_t o = begin / n, i = begin % n;
      for (int64_t item = begin; item < end; ++item) {
        d[item] = s[o * dim + idx[i]];
        if (++i == n) {
          i = 0;
          ++o;
        }
      }
    });
  });
  if (typed) return Status::ok_status();
  maybe_parallel(outer * n, out.numel(), [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t o = item / n, i = item % n;
      std::memcpy(dst + static_cast<size_t>(item) * block, src + static_cast<size_t>(o * dim + idx[i]) * block, block);
    }
  });
  return Status::ok_status();
}

Status gather_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& data = ctx.input_shape(0);
  const auto& indices = ctx.input_shape(1);
  if (!data || !indices || data->empty()) return Status::ok_status();
  auto axis = normalize_axis_opt(ctx.node().attr_int("axis", 0), static_cast<int64_t>(data->size()));
  if (!axis) return Status::ok_status();
  SymShape out(data->begin(), data->begin() + *axis);
  out.insert(out.end(), indices->begin(), indices->end());
  out.insert(out.end(), data->begin() + *axis + 1, data->end());
  ctx.set_output(0, std::nullopt, out);
  // Picking from a known shape tensor: Shape(x)[1] -> seq.
  auto values = data->size() == 1 ? known_elements(ctx.input(0)) : std::nullopt;
  auto picks = known_constant_elements(ctx.input(1));
  if (values && picks && out.size() <= 1) {
    std::vector<SymExpr> picked;
    for (int64_t i : *picks) {
      if (!wrap_index(i, static_cast<int64_t>(values->size()))) return Status::ok_status();
      picked.push_back((*values)[i]);
    }
    set_known_elements(ctx.output(0), std::move(picked));
  }
  return Status::ok_status();
}

// ---- GatherElements ------------------------------------------------------------------

Status gather_elements_kernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const int64_t r = data.rank();
  if (indices.rank() != r)
    return make_error(StatusCode::InvalidArgument, "GatherElements: indices ", indices.describe(),
                      " must have the rank of data ", data.describe());
  DJ_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), r, "GatherElements"));
  for (int64_t d = 0; d < r; ++d)
    if (d != axis && indices.shape()[d] > data.shape()[d])
      return make_error(StatusCode::InvalidArgument, "GatherElements: indices ", indices.describe(),
                        " larger than data ", data.describe(), " on axis ", d);
  DJ_ASSIGN_OR_RETURN(std::vector<int64_t> idx, read_indices(indices, data.shape()[axis], "GatherElements", axis));
  Tensor& out = ctx.allocate_output(0, data.dtype(), indices.shape());
  if (out.numel() == 0) return Status::ok_status();
  const Strides dstr = contiguous_strides(data.shape());
  const int64_t last = indices.shape()[r - 1];
  const int64_t rows = out.numel() / last;
  const size_t es = dtype_size(data.dtype());
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T* s = static_cast<const T*>(data.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    maybe_parallel(rows, out.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        // Data offset of this row's first element, ignoring the axis coordinate.
        int64_t base = 0, rem = row;
        for (int64_t d = r - 2; d >= 0; --d) {
          const int64_t c = rem % indices.shape()[d];
          rem /= indices.shape()[d];
          if (d != axis) base += c * dstr[d];
        }
        const int64_t* ir = idx.data() + row * last;
        T* orow = o + row * last;
        if (axis == r - 1) {
          for (int64_t j = 0; j < last; ++j) orow[j] = s[base + ir[j]];
        } else {
          const int64_t as = dstr[axis], ls = dstr[r - 1];
          for (int64_t j = 0; j < last; ++j) orow[j] = s[base + j * ls + ir[j] * as];
        }
      }
    });
  };
  if (!dispatch_elem_size(es, run))
    return make_error(StatusCode::Unsupported, "GatherElements: element size ", es, " not supported");
  return Status::ok_status();
}

Status gather_elements_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(1));
  return Status::ok_status();
}

// ---- GatherND ----------------------------------------------------------------------------

Status gather_nd_kernel(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const int64_t r = data.rank(), q = indices.rank(), b = ctx.node().attr_int("batch_dims", 0);
  if (q < 1 || b < 0 || b >= std::min(r, q))
    return make_error(StatusCode::InvalidArgument, "GatherND: batch_dims ", b, " invalid for data ", data.describe(),
                      " and indices ", indices.describe());
  const int64_t k = indices.shape()[q - 1];
  if (k < 1 || k > r - b)
    return make_error(StatusCode::InvalidArgument, "GatherND: index tuples of length ", k, " for data ",
                      data.describe(), " with batch_dims ", b);
  for (int64_t d = 0; d < b; ++d)
    if (indices.shape()[d] != data.shape()[d])
      return make_error(StatusCode::InvalidArgument, "GatherND: batch dim ", d, " differs: indices ",
                        indices.describe(), ", data ", data.describe());
  Shape shape(indices.shape().begin(), indices.shape().end() - 1);
  shape.insert(shape.end(), data.shape().begin() + b + k, data.shape().end());
  int64_t batches = 1, slice = 1;
  for (int64_t d = 0; d < b; ++d) batches *= data.shape()[d];
  for (int64_t d = b + k; d < r; ++d) slice *= data.shape()[d];
  const Strides dstr = contiguous_strides(data.shape());
  const int64_t batch_stride = b > 0 ? dstr[b - 1] : 0;
  std::vector<int64_t> idx = indices.to_int64_vector();
  const int64_t tuples = static_cast<int64_t>(idx.size()) / k;
  const int64_t per_batch = batches ? tuples / batches : 0;
  // Resolve every tuple to a data offset first, so no bad index moves data.
  std::vector<int64_t> offsets(static_cast<size_t>(tuples));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = per_batch ? (t / per_batch) * batch_stride : 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t i = idx[t * k + j];
      const int64_t dim = data.shape()[b + j];
      if (!wrap_index(i, dim)) return index_out_of_range("GatherND", idx[t * k + j], b + j, dim);
      off += i * dstr[b + j];
    }
    offsets[t] = off;
  }
  Tensor& out = ctx.allocate_output(0, data.dtype(), shape);
  const size_t es = dtype_size(data.dtype()), bytes = static_cast<size_t>(slice) * es;
  const char* src = static_cast<const char*>(data.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  if (bytes == 0) return Status::ok_status();
  maybe_parallel(tuples, out.numel(), [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      std::memcpy(dst + static_cast<size_t>(t) * bytes, src + static_cast<size_t>(offsets[t]) * es, bytes);
  });
  return Status::ok_status();
}

Status gather_nd_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& data = ctx.input_shape(0);
  const auto& indices = ctx.input_shape(1);
  const int64_t b = ctx.node().attr_int("batch_dims", 0);
  if (!data || !indices || indices->empty() || !indices->back().is_const()) return Status::ok_status();
  const int64_t k = indices->back().const_value();
  if (b < 0 || k < 1 || b + k > static_cast<int64_t>(data->size())) return Status::ok_status();
  SymShape out(indices->begin(), indices->end() - 1);
  out.insert(out.end(), data->begin() + b + k, data->end());
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

}  // namespace

void register_gather_ops(OpRegistry& r) {
  r.add({"Gather", gather_kernel, gather_infer});
  r.add({"GatherElements", gather_elements_kernel, gather_elements_infer});
  r.add({"GatherND", gather_nd_kernel, gather_nd_infer});
}

}  // namespace dj
