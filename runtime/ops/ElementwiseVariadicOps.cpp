// The variadic elementwise ops Min Max Sum Mean: one or more inputs of one
// dtype, all broadcast together. Inputs are folded left to right, each step a
// broadcasting binary loop into a fresh tensor (the common case has two inputs,
// so this costs one pass). Min and Max propagate NaN, like numpy.
#include <type_traits>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ElementwiseCast.h"
#include "runtime/ops/ElementwiseFamily.h"
#include "runtime/ops/ElementwiseKernel.h"
#include "runtime/ops/ElementwiseShapes.h"

namespace dj::elementwise {
namespace {

struct MinOp {
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) return (a < b || a != a) ? a : b;
    else return a < b ? a : b;
  }
};
struct MaxOp {
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) return (a > b || a != a) ? a : b;
    else return a > b ? a : b;
  }
};
struct SumOp {
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {
      return static_cast<C>(wrapping_t<C>(a) + wrapping_t<C>(b));
    } else {
      return a + b;
    }
  }
};

template <typename Set, typename Op>
Status run_variadic(KernelContext& ctx, const char* name, Set set, const Op& op, bool mean) {
  const size_t n = ctx.num_inputs();
  DJ_CHECK(n >= 1, InvalidArgument, name, ": needs at least one input");
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < n; ++i) {
    DJ_CHECK(ctx.has_input(i), InvalidArgument, name, ": input ", i, " is missing");
    DJ_RETURN_IF_ERROR(check_same_dtype(name, ctx.input(0), ctx.input(i)));
    inputs.push_back(&ctx.input(i));
  }
  // Checked up front so that the error names every input's shape.
  DJ_ASSIGN_OR_RETURN(Shape out_shape, broadcast_output_shape(name, inputs));
  (void)out_shape;
  const DType dtype = ctx.input(0).dtype();
  bool ok = dispatch_dtype(dtype, set, [&](auto tag) {
    using T = decltype(tag);
    // One input is its own result (copied: outputs are fresh tensors).
    Tensor acc = n == 1 ? cast_tensor(ctx.input(0), dtype) : Tensor();
    for (size_t i = 1; i < n; ++i) {
      const Tensor& lhs = i == 1 ? ctx.input(0) : acc;
      const Tensor& rhs = ctx.input(i);
      Tensor next = Tensor::empty(dtype, *broadcast_shapes({lhs.shape(), rhs.shape()}));
      broadcast_binary<T, T, T>(lhs, rhs, next, op);
      acc = std::move(next);
    }
    if (mean && n > 1) {
      using C = compute_t<T>;
      const C count = static_cast<C>(n);
      T* p = acc.data<T>();
      parallel_ranges(acc.numel(), kGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) p[i] = store<T>(load(p[i]) / count);
      });
    }
    ctx.set_output(0, std::move(acc));
  });
  return ok ? Status() : unsupported_dtype(name, dtype);
}

Status min_kernel(KernelContext& ctx) { return run_variadic(ctx, "Min", NumericTypes{}, MinOp{}, false); }
Status max_kernel(KernelContext& ctx) { return run_variadic(ctx, "Max", NumericTypes{}, MaxOp{}, false); }
Status sum_kernel(KernelContext& ctx) { return run_variadic(ctx, "Sum", NumericTypes{}, SumOp{}, false); }
Status mean_kernel(KernelContext& ctx) { return run_variadic(ctx, "Mean", FloatTypes{}, SumOp{}, true); }

}  // namespace

void register_variadic_ops(OpRegistry& r) {
  r.add({"Min", min_kernel, infer_arithmetic});
  r.add({"Max", max_kernel, infer_arithmetic});
  r.add({"Sum", sum_kernel, infer_broadcast});
  r.add({"Mean", mean_kernel, infer_broadcast});
}

}  // namespace dj::elementwise
