// Ops that keep, drop or reverse parts of a tensor under a mask or lengths:
// Trilu, ReverseSequence, Compress, NonZero.
//
// Compress and NonZero have data-dependent output sizes: their shape functions
// name the unknown dim with ctx.fresh_dim() so later stages see it as such.
#include <algorithm>

#include "runtime/OpRegistry.h"
#include "runtime/ops/DataMovementCopy.h"
#include "runtime/ops/ShapeFamily.h"
#include "runtime/ops/ShapeValues.h"

namespace dj {

namespace {

// ---- Trilu ------------------------------------------------------------------------------

Status trilu_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) return make_error(StatusCode::InvalidArgument, "Trilu: input must have rank >= 2, got ", x.describe());
  const int64_t k = ctx.has_input(1) ? ctx.input(1).item<int64_t>() : 0;
  const bool upper = ctx.node().attr_int("upper", 1) != 0;
  const int64_t rows = x.dim(-2), cols = x.dim(-1);
  const int64_t matrices = rows * cols != 0 ? x.numel() / (rows * cols) : 0;
  const size_t es = dtype_size(x.dtype());
  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  std::memset(dst, 0, out.nbytes());  // zero bits are 0 for every dtype
  for (int64_t m = 0; m < matrices; ++m) {
    for (int64_t i = 0; i < rows; ++i) {
      // Kept columns: j - i >= k (upper) or j - i <= k (lower), as [lo, hi).
      int64_t lo = upper ? std::clamp<int64_t>(i + k, 0, cols) : 0;
      int64_t hi = upper ? cols : std::clamp<int64_t>(i + k + 1, 0, cols);
      if (hi <= lo) continue;
      const int64_t off = (m * rows + i) * cols + lo;
      std::memcpy(dst + off * static_cast<int64_t>(es), src + off * static_cast<int64_t>(es),
                  static_cast<size_t>(hi - lo) * es);
    }
  }
  return Status::ok_status();
}

Status same_as_input_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::ok_status();
}

// ---- ReverseSequence ------------------------------------------------------------------------

Status reverse_sequence_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t batch_axis = ctx.node().attr_int("batch_axis", 1), time_axis = ctx.node().attr_int("time_axis", 0);
  if (x.rank() < 2 || !((batch_axis == 0 && time_axis == 1) || (batch_axis == 1 && time_axis == 0)))
    return make_error(StatusCode::InvalidArgument, "ReverseSequence: batch_axis ", batch_axis, " and time_axis ",
                      time_axis, " must be 0 and 1 on rank >= 2, input ", x.describe());
  std::vector<int64_t> lens = ctx.input(1).to_int64_vector();
  const int64_t batch = x.shape()[batch_axis], time = x.shape()[time_axis];
  if (static_cast<int64_t>(lens.size()) != batch)
    return make_error(StatusCode::InvalidArgument, "ReverseSequence: ", lens.size(), " sequence lengths for batch ", batch);
  for (int64_t l : lens)
    if (l < 0 || l > time)
      return make_error(StatusCode::InvalidArgument, "ReverseSequence: sequence length ", l, " out of range [0, ", time, "]");
  const int64_t a0 = x.shape()[0], a1 = x.shape()[1];
  const size_t block = static_cast<size_t>(a0 * a1 != 0 ? x.numel() / (a0 * a1) : 0) * dtype_size(x.dtype());
  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < a0; ++i) {
    for (int64_t j = 0; j < a1; ++j) {
      const int64_t b = batch_axis == 0 ? i : j, t = batch_axis == 0 ? j : i;
      const int64_t st = t < lens[b] ? lens[b] - 1 - t : t;
      const int64_t si = batch_axis == 0 ? i : st, sj = batch_axis == 0 ? st : j;
      std::memcpy(dst + static_cast<size_t>(i * a1 + j) * block, src + static_cast<size_t>(si * a1 + sj) * block, block);
    }
  }
  return Status::ok_status();
}

// ---- Compress -------------------------------------------------------------------------------

Status compress_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& cond = ctx.input(1);
  const bool has_axis = ctx.node().has_attr("axis");
  Shape in_shape = has_axis ? x.shape() : Shape{x.numel()};
  int64_t axis = 0;
  if (has_axis) {
    DJ_ASSIGN_OR_RETURN(axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), "Compress"));
  }
  const int64_t dim = in_shape[axis];
  std::vector<int64_t> keep;
  std::vector<int64_t> c = cond.to_int64_vector();
  for (int64_t i = 0; i < static_cast<int64_t>(c.size()); ++i) {
    if (!c[i]) continue;
    if (i >= dim)
      return make_error(StatusCode::InvalidArgument, "Compress: condition selects index ", i, " beyond axis size ", dim);
    keep.push_back(i);
  }
  std::vector<std::vector<int64_t>> maps;
  Shape shape;
  for (size_t a = 0; a < in_shape.size(); ++a) {
    if (static_cast<int64_t>(a) == axis) {
      maps.push_back(keep);
    } else {
      std::vector<int64_t> m(static_cast<size_t>(in_shape[a]));
      for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<int64_t>(i);
      maps.push_back(std::move(m));
    }
    shape.push_back(static_cast<int64_t>(maps.back().size()));
  }
  Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
  copy_by_axis_maps(x.raw_data(), in_shape, maps, out.raw_data(), dtype_size(x.dtype()), nullptr);
  return Status::ok_status();
}

Status compress_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  if (!ctx.node().has_attr("axis")) {
    ctx.set_output(0, std::nullopt, SymShape{ctx.fresh_dim("compress")});
    return Status::ok_status();
  }
  const auto& in = ctx.input_shape(0);
  if (!in) return Status::ok_status();
  auto axis = normalize_axis_opt(ctx.node().attr_int("axis", 0), static_cast<int64_t>(in->size()));
  if (!axis) return Status::ok_status();
  SymShape out = *in;
  out[*axis] = ctx.fresh_dim("compress");
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

// ---- NonZero ----------------------------------------------------------------------------------

Status nonzero_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t n = x.numel();
  std::vector<int64_t> hits;  // flat positions of non-zero elements
  bool ok = dispatch_dtype(x.dtype(), AllTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = typename ComputeType<T>::type;
    const T* d = x.data<T>();
    for (int64_t i = 0; i < n; ++i)
      if (static_cast<C>(d[i]) != C(0)) hits.push_back(i);
  });
  if (!ok) return make_error(StatusCode::Unsupported, "NonZero: dtype ", dtype_name(x.dtype()), " not supported");
  // A scalar behaves as a 1-element vector (numpy's nonzero on 0-d input).
  const Shape shape = x.rank() == 0 ? Shape{1} : x.shape();
  const int64_t r = static_cast<int64_t>(shape.size()), count = static_cast<int64_t>(hits.size());
  Tensor& out = ctx.allocate_output(0, DType::I64, {r, count});
  int64_t* o = out.data<int64_t>();
  for (int64_t h = 0; h < count; ++h) {
    int64_t rem = hits[h];
    for (int64_t d = r - 1; d >= 0; --d) {
      o[d * count + h] = rem % shape[d];
      rem /= shape[d];
    }
  }
  return Status::ok_status();
}

Status nonzero_infer(ShapeContext& ctx) {
  const auto& in = ctx.input_shape(0);
  SymExpr rank = in ? SymExpr(std::max<int64_t>(1, static_cast<int64_t>(in->size()))) : ctx.fresh_dim("nonzero_rank");
  ctx.set_output(0, DType::I64, SymShape{rank, ctx.fresh_dim("nonzero")});
  return Status::ok_status();
}

}  // namespace

void register_mask_ops(OpRegistry& r) {
  r.add({"Trilu", trilu_kernel, same_as_input_infer});
  r.add({"ReverseSequence", reverse_sequence_kernel, same_as_input_infer});
  r.add({"Compress", compress_kernel, compress_infer});
  r.add({"NonZero", nonzero_kernel, nonzero_infer});
}

}  // namespace dj
