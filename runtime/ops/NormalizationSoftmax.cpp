// Softmax, LogSoftmax and Hardmax.
//
// Opset >= 13: the op works along one axis (attribute axis, default -1), viewed as
// [outer, n, inner]. Opset < 13: the input is coerced to 2-D at `axis` (default 1)
// and the op works along the flattened [axis:] dims, i.e. inner = 1.
// Softmax subtracts the row max before exp (no overflow for large inputs) and
// scales by 1/sum; LogSoftmax computes (x - max) - log(sum) in that order so that
// large inputs keep their precision. Hardmax is 1 at the first maximal element.
#include <cmath>

#include "runtime/OpRegistry.h"
#include "runtime/ops/NormalizationCompute.h"
#include "runtime/ops/NormalizationRegistration.h"
#include "runtime/ops/ReductionEngine.h"
#include "runtime/ops/ReductionExpRows.h"
#include "runtime/ops/ReductionLayout.h"
#include "runtime/ops/ReductionVectorMath.h"

namespace dj {
namespace {

enum class SoftmaxKind { Softmax, LogSoftmax };

// One contiguous row of n elements.
template <SoftmaxKind K, typename C>
inline void softmax_row(const C* p, C* q, int64_t n) {
  using namespace reduction_detail;
  const C m = reduce_row<C, MaxCombine<C>>(p, n, C(0), IdentityMap{}, MaxCombine<C>::identity());
  if constexpr (K == SoftmaxKind::Softmax) {
    C sum;
    if constexpr (std::is_same_v<C, float>) {
      sum = exp_row_kernels().exp_store_sum(p, q, n, m);
    } else {
      for (int64_t j = 0; j < n; ++j) q[j] = exp_any<C>(p[j] - m);
      sum = reduce_row<C, SumCombine<C>>(q, n, C(0), IdentityMap{}, C(0));
    }
    const C inv = C(1) / sum;
    for (int64_t j = 0; j < n; ++j) q[j] *= inv;
  } else {
    const C log_sum = static_cast<C>(std::log(reduce_row<C, SumCombine<C>>(p, n, m, ExpShiftMap{}, C(0))));
    for (int64_t j = 0; j < n; ++j) q[j] = (p[j] - m) - log_sum;
  }
}

// Columns [i0, i0+width) of one outer slice [n, inner]; m and s hold `width` scratch values.
template <SoftmaxKind K, typename C>
inline void softmax_columns(const C* p, C* q, int64_t n, int64_t inner, int64_t width, C* m, C* s) {
  for (int64_t i = 0; i < width; ++i) { m[i] = MaxCombine<C>::identity(); s[i] = C(0); }
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < width; ++i) m[i] = MaxCombine<C>::apply(m[i], p[r * inner + i]);
  if constexpr (K == SoftmaxKind::Softmax) {
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = 0; i < width; ++i) {
        const C e = exp_any<C>(p[r * inner + i] - m[i]);
        q[r * inner + i] = e;
        s[i] += e;
      }
    for (int64_t i = 0; i < width; ++i) s[i] = C(1) / s[i];
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = 0; i < width; ++i) q[r * inner + i] *= s[i];
  } else {
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = 0; i < width; ++i) s[i] += exp_any<C>(p[r * inner + i] - m[i]);
    for (int64_t i = 0; i < width; ++i) s[i] = static_cast<C>(std::log(s[i]));
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = 0; i < width; ++i) q[r * inner + i] = (p[r * inner + i] - m[i]) - s[i];
  }
}

template <SoftmaxKind K, typename C>
void softmax_typed(const C* x, C* y, const ReduceLayout& layout) {
  const int64_t outer = layout.outer, n = layout.reduce, inner = layout.inner;
  const bool parallel = outer * n * inner >= kReduceParallelElements;
  if (inner == 1) {
    reduction_detail::for_range(outer, parallel, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) softmax_row<K>(x + o * n, y + o * n, n);
    });
    return;
  }
  constexpr int64_t block = 512;
  const int64_t iblocks = (inner + block - 1) / block;
  reduction_detail::for_range(outer * iblocks, parallel, [&](int64_t t0, int64_t t1) {
    std::vector<C> scratch(2 * static_cast<size_t>(block));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / iblocks, i0 = (t % iblocks) * block, width = std::min(block, inner - i0);
      const int64_t base = o * n * inner + i0;
      softmax_columns<K>(x + base, y + base, n, inner, width, scratch.data(), scratch.data() + block);
    }
  });
}

// The [outer, n, inner] view for this opset's axis rule.
Expected<ReduceLayout> softmax_layout(const Shape& shape, const Node& node, int64_t opset) {
  const int rank = static_cast<int>(shape.size());
  if (opset >= 13) {
    if (rank == 0) return ReduceLayout{};  // a scalar is its own one-element row
    DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(node.attr_int("axis", -1), rank, node.op_type));
    return single_axis_layout(shape, axis);
  }
  // Coerced to 2-D: axis may equal rank (then every row has one element).
  const int64_t a = node.attr_int("axis", 1);
  if (a < -rank || a > rank)
    return make_error(StatusCode::InvalidArgument, node.op_type, ": axis ", a, " out of range for a rank-", rank,
                      " input (valid: [", -rank, ", ", rank, "])");
  const int axis = static_cast<int>(a < 0 ? a + rank : a);
  ReduceLayout layout;
  layout.outer = dims_product(shape, 0, axis);
  layout.reduce = dims_product(shape, axis, rank);
  return layout;
}

template <SoftmaxKind K>
Status softmax_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DJ_ASSIGN_OR_RETURN(ReduceLayout layout, softmax_layout(x.shape(), ctx.node(), ctx.opset()));
  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  if (x.numel() == 0) return Status::ok_status();
  return run_in_compute_float(x, out, ctx.node().op_type, [&](auto tag, const Tensor& xc, Tensor& yc) {
    using C = decltype(tag);
    softmax_typed<K, C>(xc.data<C>(), yc.data<C>(), layout);
    return Status::ok_status();
  });
}

template <typename T>
void hardmax_typed(const T* x, T* y, const ReduceLayout& layout) {
  using C = typename ComputeType<T>::type;
  const int64_t outer = layout.outer, n = layout.reduce, inner = layout.inner;
  const int64_t lines = outer * inner;
  const bool parallel = lines * n >= kReduceParallelElements;
  reduction_detail::for_range(lines, parallel, [&](int64_t l0, int64_t l1) {
    for (int64_t l = l0; l < l1; ++l) {
      const int64_t o = l / inner, i = l % inner;
      const T* p = x + o * n * inner + i;
      T* q = y + o * n * inner + i;
      int64_t at = 0;
      C best = static_cast<C>(p[0]);
      for (int64_t r = 1; r < n; ++r) {
        const C v = static_cast<C>(p[r * inner]);
        if (v > best || (v != v && best == best)) { best = v; at = r; }
      }
      for (int64_t r = 0; r < n; ++r) q[r * inner] = store_as<T>(C(r == at ? 1 : 0));
    }
  });
}

Status hardmax_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DJ_ASSIGN_OR_RETURN(ReduceLayout layout, softmax_layout(x.shape(), ctx.node(), ctx.opset()));
  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  if (x.numel() == 0) return Status::ok_status();
  bool supported = dispatch_dtype(x.dtype(), FloatTypes{}, [&](auto tag) {
    using T = decltype(tag);
    hardmax_typed<T>(x.data<T>(), out.data<T>(), layout);
  });
  if (!supported)
    return make_error(StatusCode::Unsupported, "Hardmax: input dtype ", dtype_name(x.dtype()), " is not supported");
  return Status::ok_status();
}

Status same_shape_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::ok_status();
}

}  // namespace

void register_softmax_ops(OpRegistry& r) {
  r.add({"Softmax", softmax_kernel<SoftmaxKind::Softmax>, same_shape_infer});
  r.add({"LogSoftmax", softmax_kernel<SoftmaxKind::LogSoftmax>, same_shape_infer});
  r.add({"Hardmax", hardmax_kernel, same_shape_infer});
}

}  // namespace dj
