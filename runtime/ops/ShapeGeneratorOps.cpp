// Ops that make a tensor from attributes or a few scalars: Constant,
// ConstantOfShape, Range, EyeLike, OneHot.
//
// Their shape functions are the consumers of sym_values: ConstantOfShape's
// output SymShape is its input's element values, Range's length is computed
// symbolically from its scalars, and Constant publishes its tensor (and, for
// small integer tensors, its elements) to everything downstream.
#include <algorithm>
#include <cmath>

#include "runtime/OpRegistry.h"
#include "runtime/ops/DataMovementCopy.h"
#include "runtime/ops/ShapeFamily.h"
#include "runtime/ops/ShapeValues.h"

namespace dj {

namespace {

// ONNX TensorProto.DataType numbers (a stable part of the ONNX spec), for the
// `dtype` attribute of EyeLike. The runtime cannot include the frontend's map.
std::optional<DType> dtype_from_onnx_number(int64_t n) {
  switch (n) {
    case 1: return DType::F32;
    case 2: return DType::U8;
    case 3: return DType::I8;
    case 4: return DType::U16;
    case 5: return DType::I16;
    case 6: return DType::I32;
    case 7: return DType::I64;
    case 9: return DType::Bool;
    case 10: return DType::F16;
    case 11: return DType::F64;
    case 12: return DType::U32;
    case 13: return DType::U64;
    case 16: return DType::BF16;
    default: return std::nullopt;
  }
}

template <typename T>
T from_double(double v) {
  if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
    return T(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

// Element values of a small integer constant as SymExprs (for sym_values).
std::optional<std::vector<SymExpr>> small_int_elements(const Tensor& t) {
  if (!(dtype_is_signed_int(t.dtype()) || dtype_is_unsigned_int(t.dtype())) || t.rank() > 1 ||
      static_cast<size_t>(t.numel()) > kMaxSymValues)
    return std::nullopt;
  std::vector<SymExpr> out;
  for (int64_t v : t.to_int64_vector()) out.emplace_back(v);
  return out;
}

SymShape sym_shape_of(const Shape& s) { return SymShape(s.begin(), s.end()); }

// ---- Constant -------------------------------------------------------------------

Expected<Tensor> constant_value(const Node& node) {
  auto it = node.attributes.find("value");
  if (it != node.attributes.end() && it->second.t.defined()) return it->second.t;
  if (node.has_attr("value_float")) return Tensor::scalar<float>(node.attr_float("value_float", 0));
  if (node.has_attr("value_int")) return Tensor::scalar<int64_t>(node.attr_int("value_int", 0));
  if (node.has_attr("value_floats")) {
    auto v = node.attr_floats("value_floats");
    return Tensor::from_vector<float>(v, {static_cast<int64_t>(v.size())});
  }
  if (node.has_attr("value_ints")) {
    auto v = node.attr_ints("value_ints");
    return Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
  }
  if (node.has_attr("sparse_value") || node.has_attr("value_string") || node.has_attr("value_strings"))
    return Status(StatusCode::Unsupported, "Constant: sparse and string values are not supported");
  return Status(StatusCode::InvalidModel, "Constant: no value attribute");
}

Status constant_kernel(KernelContext& ctx) {
  DJ_ASSIGN_OR_RETURN(Tensor value, constant_value(ctx.node()));
  ctx.set_output(0, value.clone());
  return Status::ok_status();
}

Status constant_infer(ShapeContext& ctx) {
  auto value = constant_value(ctx.node());
  if (!value.ok()) return Status::ok_status();
  ctx.set_output(0, value->dtype(), sym_shape_of(value->shape()));
  if (ValueInfo* out = ctx.output(0)) {
    out->constant = *value;
    if (auto e = small_int_elements(*value)) set_known_elements(out, std::move(*e));
  }
  return Status::ok_status();
}

// ---- ConstantOfShape --------------------------------------------------------------

Tensor constant_of_shape_value(const Node& node) {
  auto it = node.attributes.find("value");
  if (it != node.attributes.end() && it->second.t.defined()) return it->second.t;
  return Tensor::scalar<float>(0.0f);
}

Status constant_of_shape_kernel(KernelContext& ctx) {
  Tensor value = constant_of_shape_value(ctx.node());
  if (value.numel() != 1)
    return make_error(StatusCode::InvalidModel, "ConstantOfShape: value must hold one element, has ", value.numel());
  Shape shape = ctx.input(0).to_int64_vector();
  for (int64_t d : shape)
    if (d < 0)
      return make_error(StatusCode::InvalidArgument, "ConstantOfShape: negative dimension in shape ",
                        shape_to_string(shape));
  Tensor& out = ctx.allocate_output(0, value.dtype(), shape);
  fill_elements(out.raw_data(), out.numel(), value.raw_data(), dtype_size(value.dtype()));
  return Status::ok_status();
}

Status constant_of_shape_infer(ShapeContext& ctx) {
  Tensor value = constant_of_shape_value(ctx.node());
  ctx.set_output(0, value.dtype(), std::nullopt);
  if (auto dims = known_elements(ctx.input(0))) {
    ctx.set_output(0, std::nullopt, SymShape(dims->begin(), dims->end()));
  } else if (const auto& s = ctx.input_shape(0); s && s->size() == 1 && (*s)[0].is_const()) {
    SymShape out;
    for (int64_t i = 0; i < (*s)[0].const_value(); ++i) out.push_back(ctx.fresh_dim("constantofshape"));
    ctx.set_output(0, std::nullopt, out);
  }
  return Status::ok_status();
}

// ---- Range --------------------------------------------------------------------------

Status range_kernel(KernelContext& ctx) {
  const DType t = ctx.input(0).dtype();
  Status status;
  bool ok = dispatch_dtype(t, NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = typename ComputeType<T>::type;
    C start = ctx.input(0).item<C>(), limit = ctx.input(1).item<C>(), delta = ctx.input(2).item<C>();
    if (delta == C(0)) {
      status = Status(StatusCode::InvalidArgument, "Range: delta is 0");
      return;
    }
    double n_real = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
    int64_t n = 0;
    if constexpr (std::is_integral_v<C>) {
      // Exact integer ceil-division (doubles lose precision near 2^53).
      int64_t span = static_cast<int64_t>(limit) - static_cast<int64_t>(start), d = static_cast<int64_t>(delta);
      int64_t q = span / d;
      if (span % d != 0 && ((span < 0) == (d < 0))) ++q;
      n = std::max<int64_t>(q, 0);
    } else {
      n = std::max<int64_t>(static_cast<int64_t>(n_real), 0);
    }
    Tensor& out = ctx.allocate_output(0, t, {n});
    T* o = out.data<T>();
    for (int64_t i = 0; i < n; ++i) o[i] = from_double<T>(static_cast<double>(static_cast<C>(start + static_cast<C>(i) * delta)));
  });
  if (!ok) return make_error(StatusCode::Unsupported, "Range: dtype ", dtype_name(t), " not supported");
  return status;
}

Status range_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  // Float scalars known as constants: compute the count directly.
  const Tensor *s = ctx.input_constant(0), *l = ctx.input_constant(1), *d = ctx.input_constant(2);
  if (s && l && d && dtype_is_float(s->dtype())) {
    double delta = d->item<double>();
    if (delta == 0) return Status::ok_status();
    double n = std::ceil((l->item<double>() - s->item<double>()) / delta);
    ctx.set_output(0, std::nullopt, SymShape{SymExpr(std::max<int64_t>(static_cast<int64_t>(n), 0))});
    return Status::ok_status();
  }
  auto start = known_elements(ctx.input(0)), limit = known_elements(ctx.input(1)), delta = known_elements(ctx.input(2));
  if (start && limit && delta && start->size() == 1 && limit->size() == 1 && delta->size() == 1 &&
      (*delta)[0].is_const() && (*delta)[0].const_value() != 0) {
    const int64_t step = (*delta)[0].const_value();
    SymExpr span = step > 0 ? (*limit)[0] - (*start)[0] : (*start)[0] - (*limit)[0];
    SymExpr n = sym_max(SymExpr::ceil_div(span, SymExpr(step > 0 ? step : -step)), 0);
    ctx.set_output(0, std::nullopt, SymShape{n});
    if (n.is_const() && static_cast<size_t>(n.const_value()) <= kMaxSymValues) {
      std::vector<SymExpr> values;
      for (int64_t i = 0; i < n.const_value(); ++i) values.push_back((*start)[0] + SymExpr(i * step));
      set_known_elements(ctx.output(0), std::move(values));
    }
    return Status::ok_status();
  }
  ctx.set_output(0, std::nullopt, SymShape{ctx.fresh_dim("range")});
  return Status::ok_status();
}

// ---- EyeLike --------------------------------------------------------------------------

Expected<DType> eyelike_dtype(const Node& node, std::optional<DType> input) {
  if (!node.has_attr("dtype")) {
    if (!input) return Status(StatusCode::InvalidArgument, "EyeLike: input dtype unknown");
    return *input;
  }
  auto t = dtype_from_onnx_number(node.attr_int("dtype", 1));
  if (!t) return make_error(StatusCode::Unsupported, "EyeLike: dtype ", node.attr_int("dtype", 1), " not supported");
  return *t;
}

Status eyelike_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() != 2) return make_error(StatusCode::InvalidArgument, "EyeLike: input must be 2-D, got ", x.describe());
  DJ_ASSIGN_OR_RETURN(DType t, eyelike_dtype(ctx.node(), x.dtype()));
  const int64_t rows = x.dim(0), cols = x.dim(1), k = ctx.node().attr_int("k", 0);
  Tensor& out = ctx.allocate_output(0, t, x.shape());
  std::memset(out.raw_data(), 0, out.nbytes());
  dispatch_dtype(t, AllTypes{}, [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    for (int64_t i = std::max<int64_t>(0, -k); i < rows && i + k < cols; ++i) o[i * cols + i + k] = from_double<T>(1.0);
  });
  return Status::ok_status();
}

Status eyelike_infer(ShapeContext& ctx) {
  auto t = eyelike_dtype(ctx.node(), ctx.input_dtype(0));
  ctx.set_output(0, t.ok() ? std::optional<DType>(*t) : std::nullopt, ctx.input_shape(0));
  return Status::ok_status();
}

// ---- OneHot ---------------------------------------------------------------------------

Status onehot_kernel(KernelContext& ctx) {
  const Tensor& indices = ctx.input(0);
  const Tensor& values = ctx.input(2);
  if (ctx.input(1).numel() != 1)
    return make_error(StatusCode::InvalidArgument, "OneHot: depth must hold one element, got ", ctx.input(1).describe());
  if (values.numel() != 2)
    return make_error(StatusCode::InvalidArgument, "OneHot: values must hold [off, on], got ", values.describe());
  const int64_t depth = static_cast<int64_t>(ctx.input(1).item<double>());
  if (depth < 0) return make_error(StatusCode::InvalidArgument, "OneHot: negative depth ", depth);
  const int64_t r = indices.rank();
  int64_t axis = ctx.node().attr_int("axis", -1);
  if (axis < -(r + 1) || axis > r)
    return make_error(StatusCode::InvalidArgument, "OneHot: axis ", axis, " out of range for output rank ", r + 1);
  if (axis < 0) axis += r + 1;
  Shape shape = indices.shape();
  shape.insert(shape.begin() + axis, depth);
  int64_t inner = 1;
  for (int64_t i = axis; i < r; ++i) inner *= indices.shape()[i];
  const size_t es = dtype_size(values.dtype());
  const char* off = static_cast<const char*>(values.raw_data());
  const char* on = off + es;
  Tensor& out = ctx.allocate_output(0, values.dtype(), shape);
  char* o = static_cast<char*>(out.raw_data());
  fill_elements(o, out.numel(), off, es);
  std::vector<int64_t> idx = indices.to_int64_vector();
  for (size_t n = 0; n < idx.size(); ++n) {
    int64_t v = idx[n] < 0 ? idx[n] + depth : idx[n];
    if (v < 0 || v >= depth) continue;  // out of range: all "off", as the spec says
    const int64_t outer_i = static_cast<int64_t>(n) / inner, inner_i = static_cast<int64_t>(n) % inner;
    std::memcpy(o + ((outer_i * depth + v) * inner + inner_i) * static_cast<int64_t>(es), on, es);
  }
  return Status::ok_status();
}

Status onehot_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(2), std::nullopt);
  const auto& in = ctx.input_shape(0);
  if (!in) return Status::ok_status();
  const int64_t r = static_cast<int64_t>(in->size());
  int64_t axis = ctx.node().attr_int("axis", -1);
  if (axis < -(r + 1) || axis > r) return Status::ok_status();
  if (axis < 0) axis += r + 1;
  SymExpr depth = ctx.fresh_dim("onehot");
  if (const Tensor* d = ctx.input_constant(1); d && d->numel() == 1) {
    depth = SymExpr(static_cast<int64_t>(d->item<double>()));
  } else if (auto e = known_elements(ctx.input(1)); e && e->size() == 1) {
    depth = (*e)[0];
  }
  SymShape out = *in;
  out.insert(out.begin() + axis, depth);
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

}  // namespace

void register_shape_generator_ops(OpRegistry& r) {
  r.add({"Constant", constant_kernel, constant_infer});
  r.add({"ConstantOfShape", constant_of_shape_kernel, constant_of_shape_infer});
  r.add({"Range", range_kernel, range_infer});
  r.add({"EyeLike", eyelike_kernel, eyelike_infer});
  r.add({"OneHot", onehot_kernel, onehot_infer});
}

}  // namespace dj
