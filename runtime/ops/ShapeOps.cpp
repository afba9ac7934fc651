// The shape family's entry point, and the ops that only look at or rename a
// shape: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Identity.
//
// Their shape functions are where symbolic dims become values: Shape turns its
// input's SymShape into sym_values, and Reshape turns sym_values (or a constant)
// back into a SymShape, so that x:[batch,seq,64] -> Shape -> Gather -> Concat ->
// Reshape keeps `batch` and `seq` symbolic. The kernels copy (outputs are fresh
// tensors by the kernel contract).
#include <algorithm>

#include "runtime/OpRegistry.h"
#include "runtime/ops/OpFamilies.h"
#include "runtime/ops/ShapeFamily.h"
#include "runtime/ops/ShapeValues.h"

namespace dj {

namespace {

// ---- Shape / Size -----------------------------------------------------------

// Opset 15's start/end: clamped to [0, rank], negative counts from the back.
std::pair<int64_t, int64_t> shape_range(const Node& node, int64_t rank) {
  auto clamp = [&](int64_t v) {
    if (v < 0) v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t start = clamp(node.attr_int("start", 0));
  int64_t end = clamp(node.attr_int("end", rank));
  return {start, std::max(start, end)};
}

Status shape_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto [start, end] = shape_range(ctx.node(), x.rank());
  Tensor& out = ctx.allocate_output(0, DType::I64, {end - start});
  for (int64_t i = start; i < end; ++i) out.data<int64_t>()[i - start] = x.shape()[i];
  return Status::ok_status();
}

Status shape_infer(ShapeContext& ctx) {
  const auto& in = ctx.input_shape(0);
  if (!in) {
    ctx.set_output(0, DType::I64, SymShape{ctx.fresh_dim("shape")});
    return Status::ok_status();
  }
  auto [start, end] = shape_range(ctx.node(), static_cast<int64_t>(in->size()));
  std::vector<SymExpr> dims(in->begin() + start, in->begin() + end);
  ctx.set_output(0, DType::I64, SymShape{SymExpr(end - start)});
  set_known_elements(ctx.output(0), std::move(dims));
  return Status::ok_status();
}

Status size_kernel(KernelContext& ctx) {
  Tensor& out = ctx.allocate_output(0, DType::I64, {});
  *out.data<int64_t>() = ctx.input(0).numel();
  return Status::ok_status();
}

Status size_infer(ShapeContext& ctx) {
  ctx.set_output(0, DType::I64, SymShape{});
  if (const auto& in = ctx.input_shape(0)) set_known_elements(ctx.output(0), {sym_product(*in)});
  return Status::ok_status();
}

// ---- Reshape ----------------------------------------------------------------

Expected<Shape> reshape_target(const Shape& in, const std::vector<int64_t>& spec, bool allowzero) {
  Shape out(spec.size());
  int64_t infer_at = -1, known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == -1) {
      if (infer_at >= 0)
        return make_error(StatusCode::InvalidArgument, "Reshape: more than one -1 in shape ", shape_to_string(spec));
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    if (d < -1) return make_error(StatusCode::InvalidArgument, "Reshape: invalid dimension ", d, " in shape ", shape_to_string(spec));
    if (d == 0 && !allowzero) {
      if (i >= in.size())
        return make_error(StatusCode::InvalidArgument, "Reshape: 0 at position ", i, " of shape ",
                          shape_to_string(spec), " has no input dimension to copy (input ", shape_to_string(in), ")");
      d = in[i];
    }
    out[i] = d;
    known *= d;
  }
  const int64_t numel = shape_numel(in);
  if (infer_at >= 0) {
    if (known == 0 || numel % known != 0)
      return make_error(StatusCode::InvalidArgument, "Reshape: cannot reshape ", shape_to_string(in), " (", numel,
                        " elements) to ", shape_to_string(spec));
    out[infer_at] = numel / known;
  } else if (known != numel) {
    return make_error(StatusCode::InvalidArgument, "Reshape: cannot reshape ", shape_to_string(in), " (", numel,
                      " elements) to ", shape_to_string(spec));
  }
  return out;
}

Status reshape_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  // Opset < 5 kept the target shape in an attribute.
  std::vector<int64_t> spec = ctx.has_input(1) ? ctx.input(1).to_int64_vector() : ctx.node().attr_ints("shape");
  DJ_ASSIGN_OR_RETURN(Shape shape, reshape_target(x.shape(), spec, ctx.node().attr_int("allowzero", 0) != 0));
  copy_to_output(ctx, 0, x, shape);
  return Status::ok_status();
}

Status reshape_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  const bool allowzero = ctx.node().attr_int("allowzero", 0) != 0;
  bool present = false;
  auto spec = known_attr_or_input(ctx, "shape", 1, present);
  if (!spec) {
    // The rank is still known when the shape input's length is.
    const auto& spec_shape = ctx.input_shape(1);
    if (spec_shape && spec_shape->size() == 1 && (*spec_shape)[0].is_const()) {
      SymShape out;
      for (int64_t i = 0; i < (*spec_shape)[0].const_value(); ++i) out.push_back(ctx.fresh_dim("reshape"));
      ctx.set_output(0, std::nullopt, out);
    }
    return Status::ok_status();
  }
  SymShape out(spec->size());
  int64_t infer_at = -1;
  for (size_t i = 0; i < spec->size(); ++i) {
    const SymExpr& d = (*spec)[i];
    if (d.is_const() && d.const_value() == -1) {
      if (infer_at >= 0) return Status::ok_status();  // invalid; the kernel reports it
      infer_at = static_cast<int64_t>(i);
    } else if (d.is_const() && d.const_value() == 0 && !allowzero) {
      out[i] = in && i < in->size() ? (*in)[i] : ctx.fresh_dim("reshape");
    } else if (d.is_const() && d.const_value() < -1) {
      return Status::ok_status();
    } else {
      out[i] = d;
    }
  }
  if (infer_at >= 0) {
    SymExpr others(1);
    for (size_t i = 0; i < out.size(); ++i)
      if (static_cast<int64_t>(i) != infer_at) others = others * out[i];
    out[infer_at] = in ? sym_divide_exact(sym_product(*in), others) : ctx.fresh_dim("reshape");
  }
  ctx.set_output(0, std::nullopt, out);
  if (out.size() <= 1) {
    if (auto values = known_elements(ctx.input(0))) set_known_elements(ctx.output(0), std::move(*values));
  }
  return Status::ok_status();
}

// ---- Flatten ----------------------------------------------------------------

Status flatten_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  int64_t axis = ctx.node().attr_int("axis", 1);
  const int64_t r = x.rank();
  if (axis < -r || axis > r)
    return make_error(StatusCode::InvalidArgument, "Flatten: axis ", axis, " out of range for rank ", r);
  if (axis < 0) axis += r;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < r; ++i) (i < axis ? outer : inner) *= x.shape()[i];
  copy_to_output(ctx, 0, x, {outer, inner});
  return Status::ok_status();
}

Status flatten_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  if (!in) return Status::ok_status();
  const int64_t r = static_cast<int64_t>(in->size());
  int64_t axis = ctx.node().attr_int("axis", 1);
  if (axis < -r || axis > r) return Status::ok_status();
  if (axis < 0) axis += r;
  ctx.set_output(0, std::nullopt, SymShape{sym_product(*in, 0, axis), sym_product(*in, axis)});
  return Status::ok_status();
}

// ---- Squeeze / Unsqueeze ------------------------------------------------------

Status squeeze_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  bool present = false;
  std::vector<int64_t> axes = attr_or_input_ints(ctx, "axes", 1, present);
  std::vector<bool> drop(static_cast<size_t>(x.rank()), false);
  if (present) {
    for (int64_t a : axes) {
      DJ_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(a, x.rank(), "Squeeze"));
      if (x.shape()[axis] != 1)
        return make_error(StatusCode::InvalidArgument, "Squeeze: axis ", a, " has size ", x.shape()[axis],
                          ", not 1 (input ", shape_to_string(x.shape()), ")");
      drop[axis] = true;
    }
  } else {
    for (int i = 0; i < x.rank(); ++i) drop[i] = x.shape()[i] == 1;
  }
  Shape out;
  for (int i = 0; i < x.rank(); ++i)
    if (!drop[i]) out.push_back(x.shape()[i]);
  copy_to_output(ctx, 0, x, out);
  return Status::ok_status();
}

Status squeeze_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  if (!in) return Status::ok_status();
  const int64_t r = static_cast<int64_t>(in->size());
  bool present = false;
  auto axes = known_attr_or_input(ctx, "axes", 1, present);
  std::vector<bool> drop(static_cast<size_t>(r), false);
  if (present) {
    if (!axes) return Status::ok_status();
    for (const SymExpr& a : *axes) {
      if (!a.is_const()) return Status::ok_status();
      auto axis = normalize_axis_opt(a.const_value(), r);
      if (!axis) return Status::ok_status();
      drop[*axis] = true;
    }
  } else {
    for (int64_t i = 0; i < r; ++i) {
      const SymExpr& d = (*in)[i];
      if (!d.is_const()) return Status::ok_status();  // a symbolic dim might be 1
      drop[i] = d.const_value() == 1;
    }
  }
  SymShape out;
  for (int64_t i = 0; i < r; ++i)
    if (!drop[i]) out.push_back((*in)[i]);
  ctx.set_output(0, std::nullopt, out);
  if (out.size() <= 1) {
    if (auto values = known_elements(ctx.input(0))) set_known_elements(ctx.output(0), std::move(*values));
  }
  return Status::ok_status();
}

// Output axes that Unsqueeze inserts, normalized against the output rank.
Expected<std::vector<bool>> unsqueeze_positions(const std::vector<int64_t>& axes, int64_t out_rank) {
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : axes) {
    DJ_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(a, out_rank, "Unsqueeze"));
    if (inserted[axis]) return make_error(StatusCode::InvalidArgument, "Unsqueeze: axis ", a, " given twice");
    inserted[axis] = true;
  }
  return inserted;
}

Status unsqueeze_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  bool present = false;
  std::vector<int64_t> axes = attr_or_input_ints(ctx, "axes", 1, present);
  const int64_t out_rank = x.rank() + static_cast<int64_t>(axes.size());
  DJ_ASSIGN_OR_RETURN(std::vector<bool> inserted, unsqueeze_positions(axes, out_rank));
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[i] ? 1 : x.shape()[next++]);
  copy_to_output(ctx, 0, x, out);
  return Status::ok_status();
}

Status unsqueeze_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  bool present = false;
  auto axes = known_attr_or_input(ctx, "axes", 1, present);
  if (!in || !axes) return Status::ok_status();
  std::vector<int64_t> ax;
  for (const SymExpr& a : *axes) {
    if (!a.is_const()) return Status::ok_status();
    ax.push_back(a.const_value());
  }
  const int64_t out_rank = static_cast<int64_t>(in->size() + ax.size());
  auto inserted = unsqueeze_positions(ax, out_rank);
  if (!inserted.ok()) return Status::ok_status();
  SymShape out;
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back((*inserted)[i] ? SymExpr(1) : (*in)[next++]);
  ctx.set_output(0, std::nullopt, out);
  if (out.size() <= 1) {
    if (auto values = known_elements(ctx.input(0))) set_known_elements(ctx.output(0), std::move(*values));
  }
  return Status::ok_status();
}

// ---- Identity -------------------------------------------------------------------

Status identity_kernel(KernelContext& ctx) {
  copy_to_output(ctx, 0, ctx.input(0), ctx.input(0).shape());
  return Status::ok_status();
}

Status identity_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  if (auto values = known_elements(ctx.input(0))) set_known_elements(ctx.output(0), std::move(*values));
  // An Identity of a weight (torch exports shared LayerNorm parameters this way) is
  // that weight: the JIT then reads it as a constant instead of copying it per run.
  if (const Tensor* c = ctx.input_constant(0))
    if (ValueInfo* out = ctx.output(0)) out->constant = *c;
  return Status::ok_status();
}

}  // namespace

void register_shape_view_ops(OpRegistry& r) {
  r.add({"Shape", shape_kernel, shape_infer});
  r.add({"Size", size_kernel, size_infer});
  r.add({"Reshape", reshape_kernel, reshape_infer});
  r.add({"Flatten", flatten_kernel, flatten_infer});
  r.add({"Squeeze", squeeze_kernel, squeeze_infer});
  r.add({"Unsqueeze", unsqueeze_kernel, unsqueeze_infer});
  r.add({"Identity", identity_kernel, identity_infer});
}

void register_shape_ops(OpRegistry& r) {
  register_shape_view_ops(r);
  register_shape_generator_ops(r);
  register_layout_ops(r);
  register_slice_pad_ops(r);
  register_resize_ops(r);
  register_mask_ops(r);
  register_gather_ops(r);
  register_scatter_ops(r);
}

}  // namespace dj
