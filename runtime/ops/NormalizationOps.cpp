// The normalization family: LpNormalization and MeanVarianceNormalization (this
// file, both built on the reduction engine), and the registration of the softmax
// ops, LayerNormalization / InstanceNormalization and BatchNormalization.
//
// LpNormalization: y = x / ||x||_p along `axis` (default -1), p in {1, 2}; a zero
// norm gives 0 rather than NaN. MeanVarianceNormalization: over `axes` (default
// [0, 2, 3]) y = (x - mean) / (sqrt(var) + 1e-9), as ONNX's function body defines
// it (variance computed in two passes, which equals E[x^2] - E[x]^2 exactly in
// real arithmetic and loses less precision).
#include <cmath>

#include "runtime/OpRegistry.h"
#include "runtime/ops/NormalizationCompute.h"
#include "runtime/ops/NormalizationRegistration.h"
#include "runtime/ops/OpFamilies.h"
#include "runtime/ops/ReductionEngine.h"
#include "runtime/ops/ReductionLayout.h"

namespace dj {
namespace {

// Calls fn(k, offset) for every element of every reduction group k of `layout`
// (k in output order), groups [k0, k1) only.
template <typename Fn>
void for_each_group_element(const ReduceLayout& layout, int64_t k0, int64_t k1, const Fn& fn) {
  const int64_t count = layout.reduce_count();
  if (layout.blocked) {
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t o = k / layout.inner, i = k % layout.inner;
      const int64_t base = o * layout.reduce * layout.inner + i;
      for (int64_t r = 0; r < count; ++r) fn(k, base + r * layout.inner);
    }
  } else {
    for (int64_t k = k0; k < k1; ++k)
      for (int64_t r = 0; r < count; ++r) fn(k, layout.kept_offsets[static_cast<size_t>(k)] + layout.reduce_offsets[static_cast<size_t>(r)]);
  }
}

struct CenteredSquare {
  template <typename C> C operator()(C x, C mean) const { return (x - mean) * (x - mean); }
};

Status lp_norm_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Node& node = ctx.node();
  if (x.rank() == 0) return make_error(StatusCode::InvalidArgument, "LpNormalization: input must have rank >= 1, got a scalar");
  DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(node.attr_int("axis", -1), x.rank(), "LpNormalization"));
  const int64_t p = node.attr_int("p", 2);
  if (p != 1 && p != 2) return make_error(StatusCode::InvalidArgument, "LpNormalization: p must be 1 or 2, got ", p);
  const ReduceLayout layout = single_axis_layout(x.shape(), axis);
  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  return run_in_compute_float(x, out, "LpNormalization", [&](auto tag, const Tensor& xc, Tensor& yc) {
    using C = decltype(tag);
    const C* px = xc.template data<C>();
    C* py = yc.template data<C>();
    std::vector<C> inv_norm(static_cast<size_t>(layout.num_outputs()));
    auto store = [&](int64_t k, C acc) {
      const C norm = p == 1 ? acc : std::sqrt(acc);
      inv_norm[static_cast<size_t>(k)] = norm == C(0) ? C(0) : C(1) / norm;
    };
    if (p == 1) run_reduction<C, SumCombine<C>>(px, layout, AbsMap{}, static_cast<const C*>(nullptr), store);
    else run_reduction<C, SumCombine<C>>(px, layout, SquareMap{}, static_cast<const C*>(nullptr), store);
    const int64_t outer = layout.outer, n = layout.reduce, inner = layout.inner;
    reduction_detail::for_range(outer, x.numel() >= kReduceParallelElements, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t r = 0; r < n; ++r) {
          const C* src = px + (o * n + r) * inner;
          C* dst = py + (o * n + r) * inner;
          const C* inv = inv_norm.data() + o * inner;
          for (int64_t i = 0; i < inner; ++i) dst[i] = src[i] * inv[i];
        }
    });
    return Status::ok_status();
  });
}

Status mvn_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const std::vector<int64_t> axes = ctx.node().attr_ints("axes", {0, 2, 3});
  DJ_ASSIGN_OR_RETURN(std::vector<bool> flags, reduced_axis_flags(axes, x.rank(), "MeanVarianceNormalization"));
  const ReduceLayout layout = plan_reduce_layout(x.shape(), flags);
  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  return run_in_compute_float(x, out, "MeanVarianceNormalization", [&](auto tag, const Tensor& xc, Tensor& yc) {
    using C = decltype(tag);
    const C* px = xc.template data<C>();
    C* py = yc.template data<C>();
    const int64_t groups = layout.num_outputs();
    const C count = static_cast<C>(layout.reduce_count());
    std::vector<C> mean(static_cast<size_t>(groups)), scale(static_cast<size_t>(groups));
    run_reduction<C, SumCombine<C>>(px, layout, IdentityMap{}, static_cast<const C*>(nullptr),
                                    [&](int64_t k, C sum) { mean[static_cast<size_t>(k)] = sum / count; });
    run_reduction<C, SumCombine<C>>(px, layout, CenteredSquare{}, mean.data(), [&](int64_t k, C ss) {
      scale[static_cast<size_t>(k)] = C(1) / (std::sqrt(ss / count) + static_cast<C>(1e-9));
    });
    reduction_detail::for_range(groups, x.numel() >= kReduceParallelElements, [&](int64_t k0, int64_t k1) {
      for_each_group_element(layout, k0, k1, [&](int64_t k, int64_t at) {
        py[at] = (px[at] - mean[static_cast<size_t>(k)]) * scale[static_cast<size_t>(k)];
      });
    });
    return Status::ok_status();
  });
}

Status same_shape_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::ok_status();
}

}  // namespace

void register_normalization_ops(OpRegistry& r) {
  register_softmax_ops(r);
  register_layer_instance_ops(r);
  register_batch_norm_op(r);
  r.add({"LpNormalization", lp_norm_kernel, same_shape_infer});
  r.add({"MeanVarianceNormalization", mvn_kernel, same_shape_infer});
}

}  // namespace dj
