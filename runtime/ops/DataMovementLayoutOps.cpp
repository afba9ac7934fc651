// Ops that rearrange whole blocks of a tensor: Transpose, Concat, Split,
// DepthToSpace, SpaceToDepth.
//
// All copy bytes by element size. Concat and Split move one contiguous chunk
// per input per outer row (memcpy); Transpose and the *ToSpace/*ToDepth pair go
// through permute_copy (DataMovementCopy.h), which merges axes and tiles.
#include <tbb/parallel_for.h>

#include <algorithm>

#include "runtime/OpRegistry.h"
#include "runtime/ops/DataMovementCopy.h"
#include "runtime/ops/ShapeFamily.h"
#include "runtime/ops/ShapeValues.h"

namespace dj {

namespace {

// ---- Transpose -------------------------------------------------------------------

Expected<std::vector<int64_t>> transpose_perm(const Node& node, int64_t rank) {
  std::vector<int64_t> perm = node.attr_ints("perm");
  if (perm.empty() && !node.has_attr("perm")) {
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
    return perm;
  }
  if (static_cast<int64_t>(perm.size()) != rank)
    return make_error(StatusCode::InvalidArgument, "Transpose: perm has ", perm.size(), " entries for rank ", rank);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t& p : perm) {
    if (p < -rank || p >= rank || seen[p < 0 ? p + rank : p])
      return make_error(StatusCode::InvalidArgument, "Transpose: perm is not a permutation of 0..", rank - 1);
    if (p < 0) p += rank;
    seen[p] = true;
  }
  return perm;
}

Status transpose_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DJ_ASSIGN_OR_RETURN(std::vector<int64_t> perm, transpose_perm(ctx.node(), x.rank()));
  Shape shape;
  for (int64_t p : perm) shape.push_back(x.shape()[p]);
  Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
  permute_copy(x.raw_data(), x.shape(), perm, out.raw_data(), dtype_size(x.dtype()));
  return Status::ok_status();
}

Status transpose_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  if (!in) return Status::ok_status();
  auto perm = transpose_perm(ctx.node(), static_cast<int64_t>(in->size()));
  if (!perm.ok()) return Status::ok_status();
  SymShape out;
  for (int64_t p : *perm) out.push_back((*in)[p]);
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

// ---- Concat ------------------------------------------------------------------------

Status concat_kernel(KernelContext& ctx) {
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) inputs.push_back(&ctx.input(i));
  if (inputs.empty()) return Status(StatusCode::InvalidArgument, "Concat: no inputs");
  const Tensor& first = *inputs[0];
  const int64_t r = first.rank();
  DJ_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), r, "Concat"));
  Shape shape = first.shape();
  shape[axis] = 0;
  for (const Tensor* t : inputs) {
    bool match = t->rank() == r && t->dtype() == first.dtype();
    for (int64_t d = 0; match && d < r; ++d) match = d == axis || t->shape()[d] == first.shape()[d];
    if (!match)
      return make_error(StatusCode::InvalidArgument, "Concat: input ", t->describe(), " does not match ",
                        first.describe(), " outside axis ", axis);
    shape[axis] += t->shape()[axis];
  }
  Tensor& out = ctx.allocate_output(0, first.dtype(), shape);
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  std::vector<size_t> chunk(inputs.size());  // bytes per outer row, per input
  size_t row_bytes = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    chunk[i] = outer == 0 ? 0 : inputs[i]->nbytes() / static_cast<size_t>(outer);
    row_bytes += chunk[i];
  }
  char* dst = static_cast<char*>(out.raw_data());
  auto copy_rows = [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      char* d = dst + static_cast<size_t>(o) * row_bytes;
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (!chunk[i]) continue;
        std::memcpy(d, static_cast<const char*>(inputs[i]->raw_data()) + static_cast<size_t>(o) * chunk[i], chunk[i]);
        d += chunk[i];
      }
    }
  };
  if (out.numel() >= kParallelElements && outer > 1) {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, outer),
                      [&](const tbb::blocked_range<int64_t>& br) { copy_rows(br.begin(), br.end()); });
  } else {
    copy_rows(0, outer);
  }
  return Status::ok_status();
}

Status concat_infer(ShapeContext& ctx) {
  std::optional<DType> dtype;
  const SymShape* base = nullptr;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!dtype) dtype = ctx.input_dtype(i);
    const auto& s = ctx.input_shape(i);
    if (s && (!base || (!sym_shape_is_static(*base) && sym_shape_is_static(*s)))) base = &*s;
  }
  ctx.set_output(0, dtype, std::nullopt);
  if (!base) return Status::ok_status();
  const int64_t r = static_cast<int64_t>(base->size());
  auto axis = normalize_axis_opt(ctx.node().attr_int("axis", 0), r);
  if (!axis) return Status::ok_status();
  SymShape out = *base;
  SymExpr total(0);
  bool all_known = true;
  std::vector<SymExpr> values;
  bool values_known = r == 1;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.input(i)) continue;
    const auto& s = ctx.input_shape(i);
    if (s && static_cast<int64_t>(s->size()) == r) {
      total = total + (*s)[*axis];
    } else {
      all_known = false;
    }
    if (values_known) {
      auto e = known_elements(ctx.input(i));
      if (e) values.insert(values.end(), e->begin(), e->end());
      values_known = e.has_value();
    }
  }
  out[*axis] = all_known ? total : ctx.fresh_dim("concat");
  ctx.set_output(0, std::nullopt, out);
  if (values_known) set_known_elements(ctx.output(0), std::move(values));
  return Status::ok_status();
}

// ---- Split ---------------------------------------------------------------------------

// The size of each part along the axis, from `split` or an equal division.
Expected<std::vector<int64_t>> split_sizes(const KernelContext& ctx, int64_t dim, size_t parts) {
  bool present = false;
  std::vector<int64_t> sizes = attr_or_input_ints(ctx, "split", 1, present);
  if (present) {
    int64_t sum = 0;
    for (int64_t s : sizes) {
      if (s < 0) return make_error(StatusCode::InvalidArgument, "Split: negative split size ", s);
      sum += s;
    }
    if (sizes.size() != parts || sum != dim)
      return make_error(StatusCode::InvalidArgument, "Split: split sizes ", shape_to_string(sizes), " do not cover ",
                        parts, " outputs of axis size ", dim);
    return sizes;
  }
  if (parts == 0) return Status(StatusCode::InvalidArgument, "Split: no outputs");
  const int64_t n = static_cast<int64_t>(parts);
  if (dim % n != 0 && ctx.opset() < 18)
    return make_error(StatusCode::InvalidArgument, "Split: axis size ", dim, " cannot be split into ", n, " equal parts");
  // Opset 18: ceil-sized parts, the last one smaller.
  const int64_t part = (dim + n - 1) / n;
  for (int64_t i = 0; i < n; ++i) sizes.push_back(std::clamp<int64_t>(dim - i * part, 0, part));
  return sizes;
}

Status split_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DJ_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), "Split"));
  DJ_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, split_sizes(ctx, x.shape()[axis], ctx.num_outputs()));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (d < axis) outer *= x.shape()[d];
    if (d > axis) inner *= x.shape()[d];
  }
  const size_t es = dtype_size(x.dtype());
  const size_t in_row = static_cast<size_t>(x.shape()[axis] * inner) * es;
  size_t offset = 0;  // bytes into each input row
  for (size_t i = 0; i < sizes.size(); ++i) {
    const size_t chunk = static_cast<size_t>(sizes[i] * inner) * es;
    if (ctx.wants_output(i)) {
      Shape shape = x.shape();
      shape[axis] = sizes[i];
      Tensor& out = ctx.allocate_output(i, x.dtype(), shape);
      const char* src = static_cast<const char*>(x.raw_data()) + offset;
      char* dst = static_cast<char*>(out.raw_data());
      for (int64_t o = 0; o < outer && chunk; ++o) std::memcpy(dst + o * chunk, src + o * in_row, chunk);
    }
    offset += chunk;
  }
  return Status::ok_status();
}

Status split_infer(ShapeContext& ctx) {
  const size_t parts = ctx.num_outputs();
  for (size_t i = 0; i < parts; ++i) ctx.set_output(i, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  if (!in || parts == 0) return Status::ok_status();
  auto axis = normalize_axis_opt(ctx.node().attr_int("axis", 0), static_cast<int64_t>(in->size()));
  if (!axis) return Status::ok_status();
  const SymExpr dim = (*in)[*axis];
  bool present = false;
  auto given = known_attr_or_input(ctx, "split", 1, present);
  std::vector<SymExpr> sizes;
  if (present) {
    if (!given || given->size() != parts) return Status::ok_status();
    sizes = *given;
  } else if (dim.is_const()) {
    const int64_t n = static_cast<int64_t>(parts), d = dim.const_value(), part = (d + n - 1) / n;
    for (int64_t i = 0; i < n; ++i) sizes.emplace_back(std::clamp<int64_t>(d - i * part, 0, part));
  } else if (ctx.opset() < 18) {
    // Valid models divide evenly before opset 18.
    sizes.assign(parts, sym_divide_exact(dim, SymExpr(static_cast<int64_t>(parts))));
  } else {
    SymExpr part = SymExpr::ceil_div(dim, SymExpr(static_cast<int64_t>(parts)));
    sizes.assign(parts, part);
    sizes.back() = dim - part * SymExpr(static_cast<int64_t>(parts - 1));
  }
  auto values = in->size() == 1 ? known_elements(ctx.input(0)) : std::nullopt;
  int64_t offset = 0;
  for (size_t i = 0; i < parts; ++i) {
    SymShape out = *in;
    out[*axis] = sizes[i];
    ctx.set_output(i, std::nullopt, out);
    if (values && sizes[i].is_const() && offset + sizes[i].const_value() <= static_cast<int64_t>(values->size())) {
      set_known_elements(ctx.output(i), std::vector<SymExpr>(values->begin() + offset,
                                                             values->begin() + offset + sizes[i].const_value()));
      offset += sizes[i].const_value();
    } else {
      values.reset();
    }
  }
  return Status::ok_status();
}

// ---- DepthToSpace / SpaceToDepth --------------------------------------------------------

Status depth_to_space_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t bs = ctx.node().attr_int("blocksize", 0);
  if (x.rank() != 4) return make_error(StatusCode::InvalidArgument, "DepthToSpace: input must be 4-D, got ", x.describe());
  if (bs <= 0 || x.dim(1) % (bs * bs) != 0)
    return make_error(StatusCode::InvalidArgument, "DepthToSpace: channels ", x.dim(1), " not divisible by blocksize^2 (",
                      bs, ")");
  const int64_t n = x.dim(0), c = x.dim(1) / (bs * bs), h = x.dim(2), w = x.dim(3);
  const bool crd = ctx.node().attr_string("mode", "DCR") == "CRD";
  Shape in6 = crd ? Shape{n, c, bs, bs, h, w} : Shape{n, bs, bs, c, h, w};
  std::vector<int64_t> perm = crd ? std::vector<int64_t>{0, 1, 4, 2, 5, 3} : std::vector<int64_t>{0, 3, 4, 1, 5, 2};
  Tensor& out = ctx.allocate_output(0, x.dtype(), {n, c, h * bs, w * bs});
  permute_copy(x.raw_data(), in6, perm, out.raw_data(), dtype_size(x.dtype()));
  return Status::ok_status();
}

Status space_to_depth_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t bs = ctx.node().attr_int("blocksize", 0);
  if (x.rank() != 4) return make_error(StatusCode::InvalidArgument, "SpaceToDepth: input must be 4-D, got ", x.describe());
  if (bs <= 0 || x.dim(2) % bs != 0 || x.dim(3) % bs != 0)
    return make_error(StatusCode::InvalidArgument, "SpaceToDepth: spatial dims of ", x.describe(),
                      " not divisible by blocksize ", bs);
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2) / bs, w = x.dim(3) / bs;
  Tensor& out = ctx.allocate_output(0, x.dtype(), {n, c * bs * bs, h, w});
  permute_copy(x.raw_data(), {n, c, h, bs, w, bs}, {0, 3, 5, 1, 2, 4}, out.raw_data(), dtype_size(x.dtype()));
  return Status::ok_status();
}

Status depth_space_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  const int64_t bs = ctx.node().attr_int("blocksize", 0);
  if (!in || in->size() != 4 || bs <= 0) return Status::ok_status();
  const SymShape& s = *in;
  if (ctx.node().op_type == "DepthToSpace") {
    ctx.set_output(0, std::nullopt, SymShape{s[0], sym_divide_exact(s[1], SymExpr(bs * bs)), s[2] * SymExpr(bs), s[3] * SymExpr(bs)});
  } else {
    ctx.set_output(0, std::nullopt, SymShape{s[0], s[1] * SymExpr(bs * bs), sym_divide_exact(s[2], SymExpr(bs)),
                                             sym_divide_exact(s[3], SymExpr(bs))});
  }
  return Status::ok_status();
}

}  // namespace

void register_layout_ops(OpRegistry& r) {
  r.add({"Transpose", transpose_kernel, transpose_infer});
  r.add({"Concat", concat_kernel, concat_infer});
  r.add({"Split", split_kernel, split_infer});
  r.add({"DepthToSpace", depth_to_space_kernel, depth_space_infer});
  r.add({"SpaceToDepth", space_to_depth_kernel, depth_space_infer});
}

}  // namespace dj
