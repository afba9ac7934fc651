// LayerNormalization (opset 17) and InstanceNormalization: normalize contiguous
// rows by their own mean and variance, then scale and shift.
//
// LayerNormalization: rows are the flattened dims [axis:] (axis default -1);
// Y = (X - mean) * InvStdDev * Scale + B with InvStdDev = 1/sqrt(var + epsilon),
// Scale/B broadcast to X.shape[axis:]; optional outputs Mean and InvStdDev have
// shape X.shape[:axis] + [1] * (rank - axis) and the stash type (float unless
// stash_type says double). InstanceNormalization: rows are the spatial dims of each
// (n, c); scale and B are per channel. Variance is the population variance, computed
// in two passes in the compute type (float for f32/f16/bf16, double for f64).
#include <cmath>

#include "runtime/OpRegistry.h"
#include "runtime/ops/NormalizationCompute.h"
#include "runtime/ops/NormalizationRegistration.h"
#include "runtime/ops/ReductionLayout.h"

namespace dj {
namespace {

constexpr int64_t kOnnxDouble = 11;  // TensorProto.DOUBLE, for stash_type

// Writes row statistics (in C) into an f32/f64/bf16/f16 output tensor.
template <typename C>
void store_stats(const std::vector<C>& values, Tensor& out) {
  dispatch_dtype(out.dtype(), FloatTypes{}, [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data<T>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = store_as<T>(values[i]);
  });
}

Status layer_norm_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Node& node = ctx.node();
  if (x.rank() == 0)
    return make_error(StatusCode::InvalidArgument, "LayerNormalization: input must have rank >= 1, got a scalar");
  DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(node.attr_int("axis", -1), x.rank(), "LayerNormalization"));
  if (!ctx.has_input(1)) return make_error(StatusCode::InvalidArgument, "LayerNormalization: Scale input is required");
  const float epsilon = node.attr_float("epsilon", 1e-5f);
  const int64_t outer = dims_product(x.shape(), 0, axis);
  const int64_t n = dims_product(x.shape(), axis, x.rank());
  const Shape row_shape(x.shape().begin() + axis, x.shape().end());
  DJ_ASSIGN_OR_RETURN(std::vector<double> scale, broadcast_param(ctx.input(1), row_shape, "LayerNormalization: Scale"));
  std::vector<double> bias;
  if (ctx.has_input(2)) {
    DJ_ASSIGN_OR_RETURN(bias, broadcast_param(ctx.input(2), row_shape, "LayerNormalization: B"));
  }
  Shape stats_shape(x.shape().begin(), x.shape().begin() + axis);
  stats_shape.resize(static_cast<size_t>(x.rank()), 1);
  const DType stash = node.attr_int("stash_type", 1) == kOnnxDouble ? DType::F64 : DType::F32;

  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  return run_in_compute_float(x, out, "LayerNormalization", [&](auto tag, const Tensor& xc, Tensor& yc) {
    using C = decltype(tag);
    const std::vector<C> s(scale.begin(), scale.end());
    const std::vector<C> b(bias.begin(), bias.end());
    std::vector<C> means(static_cast<size_t>(outer)), inv_stds(static_cast<size_t>(outer));
    const C* px = xc.template data<C>();
    C* py = yc.template data<C>();
    const bool parallel = outer * n >= kReduceParallelElements;
    reduction_detail::for_range(outer, parallel, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const C* p = px + o * n;
        C* q = py + o * n;
        const RowStats<C> st = row_mean_var(p, n);
        const C inv = C(1) / std::sqrt(st.var + static_cast<C>(epsilon));
        if (b.empty()) {
          for (int64_t j = 0; j < n; ++j) q[j] = (p[j] - st.mean) * inv * s[static_cast<size_t>(j)];
        } else {
          for (int64_t j = 0; j < n; ++j)
            q[j] = (p[j] - st.mean) * inv * s[static_cast<size_t>(j)] + b[static_cast<size_t>(j)];
        }
        means[static_cast<size_t>(o)] = st.mean;
        inv_stds[static_cast<size_t>(o)] = inv;
      }
    });
    if (ctx.wants_output(1)) store_stats(means, ctx.allocate_output(1, stash, stats_shape));
    if (ctx.wants_output(2)) store_stats(inv_stds, ctx.allocate_output(2, stash, stats_shape));
    return Status::ok_status();
  });
}

Status layer_norm_infer(ShapeContext& ctx) {
  const Node& node = ctx.node();
  const DType stash = node.attr_int("stash_type", 1) == kOnnxDouble ? DType::F64 : DType::F32;
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  ctx.set_output(1, stash, std::nullopt);
  ctx.set_output(2, stash, std::nullopt);
  const auto& shape = ctx.input_shape(0);
  if (!shape || shape->empty()) return Status::ok_status();
  const int rank = static_cast<int>(shape->size());
  DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(node.attr_int("axis", -1), rank, "LayerNormalization"));
  SymShape stats(shape->begin(), shape->begin() + axis);
  stats.resize(static_cast<size_t>(rank), SymExpr(1));
  ctx.set_output(1, std::nullopt, stats);
  ctx.set_output(2, std::nullopt, stats);
  return Status::ok_status();
}

Status instance_norm_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2)
    return make_error(StatusCode::InvalidArgument, "InstanceNormalization: input must have rank >= 2 (N, C, ...), got ",
                      x.describe());
  if (!ctx.has_input(1) || !ctx.has_input(2))
    return make_error(StatusCode::InvalidArgument, "InstanceNormalization: scale and B inputs are required");
  const int64_t channels = x.dim(1);
  const int64_t rows = x.dim(0) * channels;
  const int64_t n = dims_product(x.shape(), 2, x.rank());
  const std::vector<double> scale = tensor_to_doubles(ctx.input(1));
  const std::vector<double> bias = tensor_to_doubles(ctx.input(2));
  if (static_cast<int64_t>(scale.size()) != channels || static_cast<int64_t>(bias.size()) != channels)
    return make_error(StatusCode::InvalidArgument, "InstanceNormalization: scale ", ctx.input(1).describe(), " and B ",
                      ctx.input(2).describe(), " must have one value per channel (", channels, ")");
  const float epsilon = ctx.node().attr_float("epsilon", 1e-5f);
  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  return run_in_compute_float(x, out, "InstanceNormalization", [&](auto tag, const Tensor& xc, Tensor& yc) {
    using C = decltype(tag);
    const C* px = xc.template data<C>();
    C* py = yc.template data<C>();
    reduction_detail::for_range(rows, rows * n >= kReduceParallelElements, [&](int64_t r0, int64_t r1) {
      for (int64_t row = r0; row < r1; ++row) {
        const size_t c = static_cast<size_t>(row % channels);
        const C* p = px + row * n;
        C* q = py + row * n;
        const RowStats<C> st = row_mean_var(p, n);
        const C a = static_cast<C>(scale[c]) / std::sqrt(st.var + static_cast<C>(epsilon));
        const C b = static_cast<C>(bias[c]);
        for (int64_t j = 0; j < n; ++j) q[j] = (p[j] - st.mean) * a + b;
      }
    });
    return Status::ok_status();
  });
}

Status same_shape_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::ok_status();
}

}  // namespace

void register_layer_instance_ops(OpRegistry& r) {
  r.add({"LayerNormalization", layer_norm_kernel, layer_norm_infer});
  r.add({"InstanceNormalization", instance_norm_kernel, same_shape_infer});
}

}  // namespace dj
