// BatchNormalization: per-channel normalization of X [N, C, D1, ...] with inputs
// scale, B, input_mean, input_var (each [C]).
//
// Inference (the default): Y = (X - mean) / sqrt(var + epsilon) * scale + B using
// the given statistics; the per-channel factor is computed once in double.
// training_mode=1 (opset >= 14): the statistics are the batch's own mean and
// population variance over N and the spatial dims; outputs 1 and 2 are the updated
// running statistics, running = input * momentum + batch * (1 - momentum).
// Opsets < 14 expressed training through extra outputs; those are Unsupported.
// spatial=0 (opsets < 9) takes statistics of shape [C, D1, ...], per element.
#include <cmath>

#include "runtime/OpRegistry.h"
#include "runtime/ops/NormalizationCompute.h"
#include "runtime/ops/NormalizationRegistration.h"
#include "runtime/ops/ReductionLayout.h"

namespace dj {
namespace {

// Y rows: row = n * groups + g holds `n_inner` elements normalized by group g.
template <typename C>
void apply_channel_affine(const C* x, C* y, int64_t rows, int64_t groups, int64_t inner,
                          const std::vector<double>& mean, const std::vector<double>& factor,
                          const std::vector<double>& bias) {
  reduction_detail::for_range(rows, rows * inner >= kReduceParallelElements, [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const size_t g = static_cast<size_t>(row % groups);
      const C m = static_cast<C>(mean[g]), a = static_cast<C>(factor[g]), b = static_cast<C>(bias[g]);
      const C* p = x + row * inner;
      C* q = y + row * inner;
      for (int64_t j = 0; j < inner; ++j) q[j] = (p[j] - m) * a + b;
    }
  });
}

// Per-group mean and population variance over the batch (rows n*groups + g).
template <typename C>
void batch_statistics(const C* x, int64_t batch, int64_t groups, int64_t inner, std::vector<double>& mean,
                      std::vector<double>& var) {
  mean.assign(static_cast<size_t>(groups), 0.0);
  var.assign(static_cast<size_t>(groups), 0.0);
  const double count = static_cast<double>(batch * inner);
  for (int64_t g = 0; g < groups; ++g) {
    double sum = 0;
    for (int64_t b = 0; b < batch; ++b) {
      const C* p = x + (b * groups + g) * inner;
      for (int64_t j = 0; j < inner; ++j) sum += static_cast<double>(p[j]);
    }
    const double m = count > 0 ? sum / count : 0.0;
    double ss = 0;
    for (int64_t b = 0; b < batch; ++b) {
      const C* p = x + (b * groups + g) * inner;
      for (int64_t j = 0; j < inner; ++j) ss += (static_cast<double>(p[j]) - m) * (static_cast<double>(p[j]) - m);
    }
    mean[static_cast<size_t>(g)] = m;
    var[static_cast<size_t>(g)] = count > 0 ? ss / count : 0.0;
  }
}

void store_doubles(const std::vector<double>& values, Tensor& out) {
  dispatch_dtype(out.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = typename ComputeType<T>::type;
    T* p = out.data<T>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = store_as<T>(static_cast<C>(values[i]));
  });
}

Status batch_norm_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Node& node = ctx.node();
  if (x.rank() < 2)
    return make_error(StatusCode::InvalidArgument, "BatchNormalization: input must have rank >= 2 (N, C, ...), got ",
                      x.describe());
  for (size_t i = 1; i <= 4; ++i)
    if (!ctx.has_input(i))
      return make_error(StatusCode::InvalidArgument, "BatchNormalization: input ", i,
                        " (scale, B, input_mean, input_var) is required");
  const bool training = ctx.opset() >= 14 && node.attr_int("training_mode", 0) != 0;
  if (!training && ctx.opset() < 14)
    for (size_t i = 1; i < ctx.num_outputs(); ++i)
      if (ctx.wants_output(i))
        return make_error(StatusCode::Unsupported,
                          "BatchNormalization: training outputs (mean, var, saved_mean, saved_var) of opset ",
                          ctx.opset(), " are not supported; only inference is");
  const float epsilon = node.attr_float("epsilon", 1e-5f);
  const float momentum = node.attr_float("momentum", 0.9f);

  const int64_t batch = x.dim(0);
  int64_t groups = x.dim(1);
  int64_t inner = dims_product(x.shape(), 2, x.rank());
  const int64_t params = ctx.input(1).numel();
  if (node.attr_int("spatial", 1) == 0 && params == groups * inner) {
    groups *= inner;  // per-element statistics
    inner = 1;
  }
  std::vector<double> scale = tensor_to_doubles(ctx.input(1));
  std::vector<double> bias = tensor_to_doubles(ctx.input(2));
  std::vector<double> mean = tensor_to_doubles(ctx.input(3));
  std::vector<double> var = tensor_to_doubles(ctx.input(4));
  for (size_t i = 1; i <= 4; ++i)
    if (ctx.input(i).numel() != groups)
      return make_error(StatusCode::InvalidArgument, "BatchNormalization: input ", i, " has ", ctx.input(i).describe(),
                        ", expected ", groups, " values (one per channel of ", x.describe(), ")");

  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  return run_in_compute_float(x, out, "BatchNormalization", [&](auto tag, const Tensor& xc, Tensor& yc) {
    using C = decltype(tag);
    const C* px = xc.template data<C>();
    std::vector<double> used_mean = mean, used_var = var;
    if (training) batch_statistics(px, batch, groups, inner, used_mean, used_var);
    std::vector<double> factor(static_cast<size_t>(groups));
    for (size_t g = 0; g < factor.size(); ++g) factor[g] = scale[g] / std::sqrt(used_var[g] + epsilon);
    apply_channel_affine(px, yc.template data<C>(), batch * groups, groups, inner, used_mean, factor, bias);
    if (training) {
      for (size_t g = 0; g < factor.size(); ++g) {
        used_mean[g] = mean[g] * momentum + used_mean[g] * (1.0 - momentum);
        used_var[g] = var[g] * momentum + used_var[g] * (1.0 - momentum);
      }
      if (ctx.wants_output(1)) store_doubles(used_mean, ctx.allocate_output(1, ctx.input(3).dtype(), ctx.input(3).shape()));
      if (ctx.wants_output(2)) store_doubles(used_var, ctx.allocate_output(2, ctx.input(4).dtype(), ctx.input(4).shape()));
    }
    return Status::ok_status();
  });
}

Status batch_norm_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  if (ctx.opset() >= 14) {
    ctx.set_output(1, ctx.input_dtype(3), ctx.input_shape(3));
    ctx.set_output(2, ctx.input_dtype(4), ctx.input_shape(4));
  }
  return Status::ok_status();
}

}  // namespace

void register_batch_norm_op(OpRegistry& r) { r.add({"BatchNormalization", batch_norm_kernel, batch_norm_infer}); }

}  // namespace dj
