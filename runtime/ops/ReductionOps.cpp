// The reduction family: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
// ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare (this file),
// and the registration of ArgMax/ArgMin, CumSum and TopK (ReductionArgOps.cpp,
// ReductionCumSum.cpp, TopK.cpp).
//
// Axes come from the `axes` attribute (ReduceSum before opset 13, the others before
// 18) or from the optional second input; both forms are accepted at any opset.
// Empty axes mean "all axes", unless noop_with_empty_axes=1, which reduces over no
// axis (each output is the op applied to one element: ReduceSumSquare squares,
// ReduceL2 takes |x|, ...). Accumulation: float for f32/f16/bf16, double for f64,
// int64/uint64 for integer sums and products, double for the integer ops that need
// a log or sqrt. ReduceLogSumExp subtracts the per-output max before exp.
#include <cmath>

#include "runtime/OpRegistry.h"
#include "runtime/ops/OpFamilies.h"
#include "runtime/ops/ReductionEngine.h"
#include "runtime/ops/ReductionLayout.h"
#include "runtime/ops/ReductionRegistration.h"
#include "runtime/ops/ReductionVectorMath.h"

namespace dj {
namespace {

enum class ReduceKind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

constexpr bool needs_float_accumulator(ReduceKind k) {
  return k == ReduceKind::L2 || k == ReduceKind::LogSum || k == ReduceKind::LogSumExp;
}

// The accumulator type for storage type T under reduction kind K.
template <typename T, ReduceKind K>
using ReduceAcc = std::conditional_t<
    std::is_same_v<T, double>, double,
    std::conditional_t<!std::is_integral_v<T>, float,
                       std::conditional_t<needs_float_accumulator(K), double,
                                          std::conditional_t<std::is_unsigned_v<T>, uint64_t, int64_t>>>>;

// The dtypes ONNX defines for the Reduce ops (Max/Min also take 8-bit integers).
template <typename T, ReduceKind K>
constexpr bool reduce_supports() {
  if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>)
    return K == ReduceKind::Max || K == ReduceKind::Min;
  return !std::is_same_v<T, int16_t> && !std::is_same_v<T, uint16_t> && !std::is_same_v<T, bool>;
}

// Axes of a Reduce node: the second input if given, else the attribute.
std::vector<int64_t> reduce_axes_from_kernel(const KernelContext& ctx) {
  if (ctx.has_input(1)) return ctx.input(1).to_int64_vector();
  return ctx.node().attr_ints("axes");
}

Expected<std::vector<bool>> reduce_flags(const std::vector<int64_t>& axes, int rank, const Node& node) {
  if (axes.empty()) return std::vector<bool>(static_cast<size_t>(rank), node.attr_int("noop_with_empty_axes", 0) == 0);
  return reduced_axis_flags(axes, rank, node.op_type);
}

template <ReduceKind K, typename T>
void reduce_typed(const Tensor& x, const ReduceLayout& layout, Tensor& out) {
  using A = ReduceAcc<T, K>;
  const T* in = x.data<T>();
  T* y = out.data<T>();
  const int64_t count = layout.reduce_count();
  auto plain = [&](auto combine_tag, auto map, auto finalize) {
    using Combine = decltype(combine_tag);
    run_reduction<A, Combine>(in, layout, map, static_cast<const A*>(nullptr),
                              [&](int64_t k, A acc) { y[k] = store_as<T>(finalize(acc)); });
  };
  auto same = [](A a) { return a; };
  if constexpr (K == ReduceKind::Sum) plain(SumCombine<A>{}, IdentityMap{}, same);
  if constexpr (K == ReduceKind::Max) plain(MaxCombine<A>{}, IdentityMap{}, same);
  if constexpr (K == ReduceKind::Min) plain(MinCombine<A>{}, IdentityMap{}, same);
  if constexpr (K == ReduceKind::Prod) plain(ProdCombine<A>{}, IdentityMap{}, same);
  if constexpr (K == ReduceKind::L1) plain(SumCombine<A>{}, AbsMap{}, same);
  if constexpr (K == ReduceKind::SumSquare) plain(SumCombine<A>{}, SquareMap{}, same);
  if constexpr (K == ReduceKind::L2) plain(SumCombine<A>{}, SquareMap{}, [](A a) { return static_cast<A>(std::sqrt(a)); });
  if constexpr (K == ReduceKind::LogSum) plain(SumCombine<A>{}, IdentityMap{}, [](A a) { return static_cast<A>(std::log(a)); });
  if constexpr (K == ReduceKind::Mean) {
    plain(SumCombine<A>{}, IdentityMap{}, [count](A a) -> A {
      if constexpr (std::is_integral_v<A>) return count == 0 ? A(0) : static_cast<A>(a / static_cast<A>(count));
      else return a / static_cast<A>(count);
    });
  }
  if constexpr (K == ReduceKind::LogSumExp) {
    // shift = max per output; a non-finite max (all -inf, or +inf) shifts by 0 so
    // that exp() gives the right 0 or inf instead of NaN.
    std::vector<A> shift(static_cast<size_t>(layout.num_outputs()));
    run_reduction<A, MaxCombine<A>>(in, layout, IdentityMap{}, static_cast<const A*>(nullptr),
                                    [&](int64_t k, A m) { shift[static_cast<size_t>(k)] = std::isfinite(m) ? m : A(0); });
    run_reduction<A, SumCombine<A>>(in, layout, ExpShiftMap{}, shift.data(), [&](int64_t k, A s) {
      y[k] = store_as<T>(static_cast<A>(std::log(s)) + shift[static_cast<size_t>(k)]);
    });
  }
}

template <ReduceKind K>
Status reduce_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Node& node = ctx.node();
  DJ_ASSIGN_OR_RETURN(std::vector<bool> flags, reduce_flags(reduce_axes_from_kernel(ctx), x.rank(), node));
  const bool keepdims = node.attr_int("keepdims", 1) != 0;
  ReduceLayout layout = plan_reduce_layout(x.shape(), flags);
  Tensor& out = ctx.allocate_output(0, x.dtype(), reduced_shape(x.shape(), flags, keepdims));
  bool supported = false;
  dispatch_dtype(x.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (reduce_supports<T, K>()) {
      supported = true;
      reduce_typed<K, T>(x, layout, out);
    }
  });
  if (!supported)
    return make_error(StatusCode::Unsupported, node.op_type, ": input dtype ", dtype_name(x.dtype()), " is not supported");
  return Status::ok_status();
}

Status reduce_infer(ShapeContext& ctx) {
  const Node& node = ctx.node();
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& shape = ctx.input_shape(0);
  if (!shape) return Status::ok_status();
  std::vector<int64_t> axes;
  const bool axes_input = node.inputs.size() > 1 && node.inputs[1] != kNoValue;
  if (axes_input) {
    const Tensor* c = ctx.input_constant(1);
    if (!c) return Status::ok_status();  // runtime axes: the output shape is not known yet
    axes = c->to_int64_vector();
  } else {
    axes = node.attr_ints("axes");
  }
  const int rank = static_cast<int>(shape->size());
  DJ_ASSIGN_OR_RETURN(std::vector<bool> flags, reduce_flags(axes, rank, node));
  ctx.set_output(0, std::nullopt, reduced_sym_shape(*shape, flags, node.attr_int("keepdims", 1) != 0));
  return Status::ok_status();
}

}  // namespace

void register_reduction_ops(OpRegistry& r) {
  r.add({"ReduceSum", reduce_kernel<ReduceKind::Sum>, reduce_infer});
  r.add({"ReduceMean", reduce_kernel<ReduceKind::Mean>, reduce_infer});
  r.add({"ReduceMax", reduce_kernel<ReduceKind::Max>, reduce_infer});
  r.add({"ReduceMin", reduce_kernel<ReduceKind::Min>, reduce_infer});
  r.add({"ReduceProd", reduce_kernel<ReduceKind::Prod>, reduce_infer});
  r.add({"ReduceL1", reduce_kernel<ReduceKind::L1>, reduce_infer});
  r.add({"ReduceL2", reduce_kernel<ReduceKind::L2>, reduce_infer});
  r.add({"ReduceLogSum", reduce_kernel<ReduceKind::LogSum>, reduce_infer});
  r.add({"ReduceLogSumExp", reduce_kernel<ReduceKind::LogSumExp>, reduce_infer});
  r.add({"ReduceSumSquare", reduce_kernel<ReduceKind::SumSquare>, reduce_infer});
  register_arg_reduce_ops(r);
  register_cumsum_op(r);
  register_topk_op(r);
}

}  // namespace dj
