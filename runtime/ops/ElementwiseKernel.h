// ElementwiseKernel: the glue between a KernelContext and ElementwiseLoops that
// the elementwise family's kernels share — input and dtype checks with messages
// naming the op, the broadcast output shape, and the generic unary / binary
// kernel bodies that dispatch on dtype and run a per-element op.
//
// An op is a small function object whose call operator is a template over the
// compute type C (float for f16/bf16): `template <typename C> C operator()(C x)`.
// It must compile for every dtype of the set it is dispatched over.
#pragma once

#include <vector>
#include <type_traits>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ElementwiseLoops.h"

namespace dj::elementwise {

// The unsigned type integer arithmetic of compute type C wraps in: at least 32
// bits, so the usual promotions never yield a signed int that could overflow.
template <typename C>
using wrapping_t = std::conditional_t<(sizeof(C) <= 4), uint32_t, uint64_t>;

// InvalidArgument unless inputs 0..n-1 are present.
Status require_inputs(const KernelContext& ctx, const char* op, size_t n);
// InvalidArgument "Add: input dtypes differ: f32 vs i64".
Status check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
// Unsupported "Sqrt: dtype i64 is not supported".
Status unsupported_dtype(const char* op, DType t);
// The broadcast shape of the tensors, or InvalidArgument
// "Add: shapes cannot be broadcast: [2,3] [4]".
Expected<Shape> broadcast_output_shape(const char* op, const std::vector<const Tensor*>& tensors);

// y = op(x), same dtype and shape as x.
template <typename Set, typename Op>
Status run_unary(KernelContext& ctx, const char* name, Set set, const Op& op, int64_t grain = kGrain) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, name, 1));
  const Tensor& x = ctx.input(0);
  bool ok = dispatch_dtype(x.dtype(), set, [&](auto tag) {
    using T = decltype(tag);
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    map_unary(x.data<T>(), y.data<T>(), x.numel(), op, grain);
  });
  return ok ? Status() : unsupported_dtype(name, x.dtype());
}

// y = op(x) as bool (IsNaN, IsInf, Not).
template <typename Set, typename Op>
Status run_unary_to_bool(KernelContext& ctx, const char* name, Set set, const Op& op) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, name, 1));
  const Tensor& x = ctx.input(0);
  bool ok = dispatch_dtype(x.dtype(), set, [&](auto tag) {
    using T = decltype(tag);
    Tensor& y = ctx.allocate_output(0, DType::Bool, x.shape());
    map_unary(x.data<T>(), y.data<bool>(), x.numel(), op);
  });
  return ok ? Status() : unsupported_dtype(name, x.dtype());
}

// out = op(a, b) with broadcasting; a and b share a dtype; the output has that
// dtype, or bool when kBoolOut (comparisons).
template <bool kBoolOut, typename Set, typename Op>
Status run_binary(KernelContext& ctx, const char* name, Set set, const Op& op, int64_t grain = kGrain) {
  DJ_RETURN_IF_ERROR(require_inputs(ctx, name, 2));
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  DJ_RETURN_IF_ERROR(check_same_dtype(name, a, b));
  DJ_ASSIGN_OR_RETURN(Shape shape, broadcast_output_shape(name, {&a, &b}));
  bool ok = dispatch_dtype(a.dtype(), set, [&](auto tag) {
    using T = decltype(tag);
    using O = std::conditional_t<kBoolOut, bool, T>;
    Tensor& out = ctx.allocate_output(0, DTypeOf<O>::value, shape);
    broadcast_binary<T, T, O>(a, b, out, op, grain);
  });
  return ok ? Status() : unsupported_dtype(name, a.dtype());
}

}  // namespace dj::elementwise
