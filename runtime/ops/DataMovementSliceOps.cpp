// Ops whose output element is an input element chosen independently per axis:
// Slice, Pad, Expand, Tile. Each builds one index map per axis and hands it to
// copy_by_axis_maps (DataMovementCopy.h), which copies contiguous runs with
// memcpy and splits large outputs across threads.
//
// Load time: Slice computes sliced lengths symbolically (exact clamping with
// min/max, folded where dims >= 0 makes it trivial); an end at or beyond
// INT32_MAX means "to the end" (we assume no single dim reaches 2^31).
// Expand and Tile consume sym_values of their shape/repeats inputs.
#include <algorithm>
#include <climits>

#include "runtime/OpRegistry.h"
#include "runtime/ops/Broadcast.h"
#include "runtime/ops/DataMovementCopy.h"
#include "runtime/ops/ShapeFamily.h"
#include "runtime/ops/ShapeValues.h"

namespace dj {

namespace {

std::vector<int64_t> identity_map(int64_t n) {
  std::vector<int64_t> m(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) m[i] = i;
  return m;
}

// ---- Slice --------------------------------------------------------------------------

struct SliceArgs {
  std::vector<int64_t> starts, ends, axes, steps;
};

SliceArgs slice_args(const KernelContext& ctx) {
  SliceArgs a;
  if (ctx.opset() < 10 && !ctx.has_input(1)) {
    a.starts = ctx.node().attr_ints("starts");
    a.ends = ctx.node().attr_ints("ends");
    a.axes = ctx.node().attr_ints("axes");
  } else {
    a.starts = input_ints(ctx, 1);
    a.ends = input_ints(ctx, 2);
    a.axes = input_ints(ctx, 3);
    a.steps = input_ints(ctx, 4);
  }
  return a;
}

// Index map of one sliced axis, by ONNX's clamping rules.
std::vector<int64_t> slice_axis_map(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (dim == 0) return {};
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  int64_t count;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    count = end > start ? (end - start + step - 1) / step : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
  }
  std::vector<int64_t> m(static_cast<size_t>(std::max<int64_t>(count, 0)));
  for (size_t i = 0; i < m.size(); ++i) m[i] = start + static_cast<int64_t>(i) * step;
  return m;
}

Status slice_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  SliceArgs a = slice_args(ctx);
  const size_t n = a.starts.size();
  if (a.ends.size() != n || (!a.axes.empty() && a.axes.size() != n) || (!a.steps.empty() && a.steps.size() != n))
    return make_error(StatusCode::InvalidArgument, "Slice: starts, ends, axes and steps differ in length (", n, ", ",
                      a.ends.size(), ", ", a.axes.size(), ", ", a.steps.size(), ")");
  std::vector<std::vector<int64_t>> maps;
  for (int i = 0; i < x.rank(); ++i) maps.push_back(identity_map(x.shape()[i]));
  std::vector<bool> seen(static_cast<size_t>(x.rank()), false);
  for (size_t i = 0; i < n; ++i) {
    DJ_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(a.axes.empty() ? static_cast<int64_t>(i) : a.axes[i], x.rank(), "Slice"));
    if (seen[axis]) return make_error(StatusCode::InvalidArgument, "Slice: axis ", axis, " given twice");
    seen[axis] = true;
    const int64_t step = a.steps.empty() ? 1 : a.steps[i];
    if (step == 0) return Status(StatusCode::InvalidArgument, "Slice: step is 0");
    maps[axis] = slice_axis_map(x.shape()[axis], a.starts[i], a.ends[i], step);
  }
  Shape shape;
  for (const auto& m : maps) shape.push_back(static_cast<int64_t>(m.size()));
  Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
  copy_by_axis_maps(x.raw_data(), x.shape(), maps, out.raw_data(), dtype_size(x.dtype()), nullptr);
  return Status::ok_status();
}

constexpr int64_t kToTheEnd = INT32_MAX;

// Start/end of a positive-step slice clamped to [0, dim], symbolically.
std::optional<SymExpr> sym_clamp_index(const SymExpr& v, const SymExpr& dim) {
  if (v.is_const()) {
    int64_t c = v.const_value();
    if (c >= kToTheEnd) return dim;
    if (c <= -kToTheEnd) return SymExpr(0);
    if (c < 0) return sym_max(dim + SymExpr(c), 0);
    return sym_min(SymExpr(c), dim);
  }
  if (sym_is_nonnegative(v)) return sym_min(v, dim);
  return std::nullopt;
}

// Length of one sliced axis at load time; nullopt when it cannot be expressed.
std::optional<SymExpr> sym_slice_length(const SymExpr& dim, const SymExpr& start, const SymExpr& end,
                                        const SymExpr& step) {
  if (!step.is_const() || step.const_value() == 0) return std::nullopt;
  const int64_t k = step.const_value();
  if (dim.is_const() && start.is_const() && end.is_const())
    return SymExpr(static_cast<int64_t>(slice_axis_map(dim.const_value(), start.const_value(), end.const_value(), k).size()));
  if (k < 0) {
    // Only the full reversal x[::-k] is expressible without case analysis.
    bool from_last = start.is_const() && (start.const_value() == -1 || start.const_value() >= kToTheEnd);
    bool to_first = end.is_const() && end.const_value() <= -kToTheEnd;
    if (from_last && to_first) return k == -1 ? dim : SymExpr::ceil_div(dim, SymExpr(-k));
    return std::nullopt;
  }
  auto s = sym_clamp_index(start, dim), e = sym_clamp_index(end, dim);
  if (!s || !e) return std::nullopt;
  SymExpr len = sym_max(*e - *s, 0);
  return k == 1 ? len : SymExpr::ceil_div(len, SymExpr(k));
}

Status slice_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  if (!in) return Status::ok_status();
  const int64_t r = static_cast<int64_t>(in->size());
  std::optional<std::vector<SymExpr>> starts, ends, axes, steps;
  auto attr = [&](const char* name) {
    std::vector<SymExpr> v;
    for (int64_t x : ctx.node().attr_ints(name)) v.emplace_back(x);
    return v;
  };
  if (ctx.opset() < 10 && !ctx.input(1)) {
    starts = attr("starts");
    ends = attr("ends");
    axes = attr("axes");
    steps = std::vector<SymExpr>{};
  } else {
    starts = known_elements(ctx.input(1));
    ends = known_elements(ctx.input(2));
    axes = ctx.input(3) ? known_elements(ctx.input(3)) : std::vector<SymExpr>{};
    steps = ctx.input(4) ? known_elements(ctx.input(4)) : std::vector<SymExpr>{};
  }
  SymShape out = *in;
  if (!starts || !ends || !axes || !steps || starts->size() != ends->size()) {
    // Which axes are sliced may still be known; all others keep their dims.
    if (axes && !axes->empty()) {
      for (const SymExpr& a : *axes) {
        auto axis = a.is_const() ? normalize_axis_opt(a.const_value(), r) : std::nullopt;
        if (!axis) return Status::ok_status();
        out[*axis] = ctx.fresh_dim("slice");
      }
      ctx.set_output(0, std::nullopt, out);
    }
    return Status::ok_status();
  }
  const size_t n = starts->size();
  std::vector<int64_t> resolved_axes;
  for (size_t i = 0; i < n; ++i) {
    int64_t a = static_cast<int64_t>(i);
    if (!axes->empty()) {
      if (axes->size() != n || !(*axes)[i].is_const()) return Status::ok_status();
      a = (*axes)[i].const_value();
    }
    auto axis = normalize_axis_opt(a, r);
    if (!axis) return Status::ok_status();
    const SymExpr step = steps->empty() ? SymExpr(1) : (steps->size() == n ? (*steps)[i] : SymExpr(0));
    auto len = sym_slice_length((*in)[*axis], (*starts)[i], (*ends)[i], step);
    out[*axis] = len ? *len : ctx.fresh_dim("slice");
    resolved_axes.push_back(*axis);
  }
  ctx.set_output(0, std::nullopt, out);
  // Slicing a known 1-D shape tensor with constant bounds keeps its elements.
  auto values = r == 1 ? known_elements(ctx.input(0)) : std::nullopt;
  if (values && n == 1 && (*starts)[0].is_const() && (*ends)[0].is_const() &&
      (steps->empty() || (*steps)[0].is_const())) {
    std::vector<SymExpr> picked;
    for (int64_t m : slice_axis_map(static_cast<int64_t>(values->size()), (*starts)[0].const_value(),
                                    (*ends)[0].const_value(), steps->empty() ? 1 : (*steps)[0].const_value()))
      picked.push_back((*values)[m]);
    set_known_elements(ctx.output(0), std::move(picked));
  }
  return Status::ok_status();
}

// ---- Pad -------------------------------------------------------------------------------

enum class PadMode { Constant, Reflect, Edge, Wrap };

Expected<PadMode> pad_mode(const Node& node) {
  std::string m = node.attr_string("mode", "constant");
  if (m == "constant") return PadMode::Constant;
  if (m == "reflect") return PadMode::Reflect;
  if (m == "edge") return PadMode::Edge;
  if (m == "wrap") return PadMode::Wrap;
  return make_error(StatusCode::Unsupported, "Pad: mode '", m, "' not supported");
}

// Where output index o of a padded axis reads from (-1: the constant).
int64_t pad_source(int64_t i, int64_t dim, PadMode mode) {
  if (i >= 0 && i < dim) return i;
  switch (mode) {
    case PadMode::Constant: return -1;
    case PadMode::Edge: return i < 0 ? 0 : dim - 1;
    case PadMode::Wrap: return ((i % dim) + dim) % dim;
    case PadMode::Reflect: {
      if (dim == 1) return 0;
      const int64_t period = 2 * (dim - 1);
      int64_t m = ((i % period) + period) % period;
      return m < dim ? m : period - m;
    }
  }
  return -1;
}

// Pads as [begin_0..begin_{r-1}, end_0..end_{r-1}] over all axes.
Expected<std::vector<int64_t>> full_pads(const KernelContext& ctx, int64_t r) {
  std::vector<int64_t> pads = ctx.opset() < 11 && !ctx.has_input(1) ? ctx.node().attr_ints("pads") : input_ints(ctx, 1);
  if (ctx.has_input(3)) {  // opset 18's axes
    std::vector<int64_t> axes = input_ints(ctx, 3);
    if (pads.size() != 2 * axes.size())
      return make_error(StatusCode::InvalidArgument, "Pad: ", pads.size(), " pads for ", axes.size(), " axes");
    std::vector<int64_t> full(static_cast<size_t>(2 * r), 0);
    for (size_t i = 0; i < axes.size(); ++i) {
      DJ_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(axes[i], r, "Pad"));
      full[axis] = pads[i];
      full[axis + r] = pads[i + axes.size()];
    }
    return full;
  }
  if (static_cast<int64_t>(pads.size()) != 2 * r)
    return make_error(StatusCode::InvalidArgument, "Pad: ", pads.size(), " pads for rank ", r, " (need ", 2 * r, ")");
  return pads;
}

Status pad_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  DJ_ASSIGN_OR_RETURN(PadMode mode, pad_mode(ctx.node()));
  DJ_ASSIGN_OR_RETURN(std::vector<int64_t> pads, full_pads(ctx, r));
  const size_t es = dtype_size(x.dtype());
  std::vector<char> fill(es, 0);
  if (mode == PadMode::Constant) {
    if (ctx.has_input(2) && ctx.input(2).numel() > 0) {
      if (ctx.input(2).dtype() != x.dtype())
        return make_error(StatusCode::InvalidArgument, "Pad: constant_value ", ctx.input(2).describe(),
                          " does not match data ", x.describe());
      std::memcpy(fill.data(), ctx.input(2).raw_data(), es);
    } else if (ctx.node().has_attr("value")) {
      const double v = ctx.node().attr_float("value", 0);
      dispatch_dtype(x.dtype(), AllTypes{}, [&](auto tag) {
        using T = decltype(tag);
        T t;
        if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
          t = T(static_cast<float>(v));
        } else {
          t = static_cast<T>(v);
        }
        std::memcpy(fill.data(), &t, es);
      });
    }
  }
  std::vector<std::vector<int64_t>> maps;
  Shape shape;
  for (int64_t a = 0; a < r; ++a) {
    const int64_t dim = x.shape()[a], begin = pads[a], end = pads[a + r];
    const int64_t out_dim = dim + begin + end;
    if (out_dim < 0)
      return make_error(StatusCode::InvalidArgument, "Pad: pads ", begin, ",", end, " remove more than axis ", a,
                        " of size ", dim);
    if (dim == 0 && out_dim > 0 && mode != PadMode::Constant)
      return make_error(StatusCode::InvalidArgument, "Pad: cannot ", ctx.node().attr_string("mode", ""),
                        "-pad empty axis ", a);
    std::vector<int64_t> m(static_cast<size_t>(out_dim));
    for (int64_t o = 0; o < out_dim; ++o) m[o] = pad_source(o - begin, dim, mode);
    maps.push_back(std::move(m));
    shape.push_back(out_dim);
  }
  Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
  copy_by_axis_maps(x.raw_data(), x.shape(), maps, out.raw_data(), es, fill.data());
  return Status::ok_status();
}

Status pad_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  if (!in) return Status::ok_status();
  const int64_t r = static_cast<int64_t>(in->size());
  std::optional<std::vector<SymExpr>> pads;
  if (ctx.opset() < 11 && !ctx.input(1)) {
    pads.emplace();
    for (int64_t p : ctx.node().attr_ints("pads")) pads->emplace_back(p);
  } else {
    pads = known_elements(ctx.input(1));
  }
  if (ctx.input(3) || !pads || static_cast<int64_t>(pads->size()) != 2 * r) return Status::ok_status();
  SymShape out;
  for (int64_t a = 0; a < r; ++a) out.push_back((*in)[a] + ((*pads)[a] + (*pads)[a + r]));  // pads first: constants fold
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

// ---- Expand / Tile ----------------------------------------------------------------------

Status expand_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Shape target = ctx.input(1).to_int64_vector();
  DJ_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes({x.shape(), target}));
  Shape in_shape(shape.size() - x.shape().size(), 1);
  in_shape.insert(in_shape.end(), x.shape().begin(), x.shape().end());
  std::vector<std::vector<int64_t>> maps;
  for (size_t a = 0; a < shape.size(); ++a)
    maps.push_back(in_shape[a] == 1 ? std::vector<int64_t>(static_cast<size_t>(shape[a]), 0) : identity_map(shape[a]));
  Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
  copy_by_axis_maps(x.raw_data(), in_shape, maps, out.raw_data(), dtype_size(x.dtype()), nullptr);
  return Status::ok_status();
}

Status expand_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  auto target = known_elements(ctx.input(1));
  if (!in || !target) return Status::ok_status();
  ctx.set_output(0, std::nullopt, broadcast_sym_shapes({in, SymShape(target->begin(), target->end())}));
  return Status::ok_status();
}

Status tile_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> repeats = ctx.input(1).to_int64_vector();
  if (static_cast<int64_t>(repeats.size()) != x.rank())
    return make_error(StatusCode::InvalidArgument, "Tile: ", repeats.size(), " repeats for rank ", x.rank());
  std::vector<std::vector<int64_t>> maps;
  Shape shape;
  for (int a = 0; a < x.rank(); ++a) {
    if (repeats[a] < 0) return make_error(StatusCode::InvalidArgument, "Tile: negative repeat ", repeats[a]);
    const int64_t dim = x.shape()[a], out_dim = dim * repeats[a];
    std::vector<int64_t> m(static_cast<size_t>(out_dim));
    for (int64_t o = 0; o < out_dim; ++o) m[o] = o % dim;
    maps.push_back(std::move(m));
    shape.push_back(out_dim);
  }
  Tensor& out = ctx.allocate_output(0, x.dtype(), shape);
  copy_by_axis_maps(x.raw_data(), x.shape(), maps, out.raw_data(), dtype_size(x.dtype()), nullptr);
  return Status::ok_status();
}

Status tile_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  if (!in) return Status::ok_status();
  auto repeats = known_elements(ctx.input(1));
  SymShape out = *in;
  for (size_t a = 0; a < out.size(); ++a)
    out[a] = repeats && repeats->size() == out.size() ? out[a] * (*repeats)[a] : ctx.fresh_dim("tile");
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

}  // namespace

void register_slice_pad_ops(OpRegistry& r) {
  r.add({"Slice", slice_kernel, slice_infer});
  r.add({"Pad", pad_kernel, pad_infer});
  r.add({"Expand", expand_kernel, expand_infer});
  r.add({"Tile", tile_kernel, tile_infer});
}

}  // namespace dj
