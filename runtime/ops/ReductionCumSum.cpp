// CumSum: running sums along the axis given by the second input (a scalar or
// 1-element int32/int64 tensor), with attributes exclusive (the sum of the
// elements before, not including, each position) and reverse (sum from the end).
//
// Sums accumulate sequentially in the compute type (float for f32/f16/bf16, like
// numpy's cumsum), so results match the reference order of additions.
#include "runtime/OpRegistry.h"
#include "runtime/ops/ReductionEngine.h"
#include "runtime/ops/ReductionLayout.h"
#include "runtime/ops/ReductionRegistration.h"

namespace dj {
namespace {

template <typename T>
void cumsum_typed(const T* x, T* y, const ReduceLayout& layout, bool exclusive, bool reverse) {
  using C = typename ComputeType<T>::type;
  const int64_t outer = layout.outer, n = layout.reduce, inner = layout.inner;
  const bool parallel = outer * n * inner >= kReduceParallelElements;
  // Position r of the walk reads/writes row (reverse ? n-1-r : r).
  const int64_t first = reverse ? n - 1 : 0;
  const int64_t step = reverse ? -1 : 1;
  if (inner == 1) {
    reduction_detail::for_range(outer, parallel, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* p = x + o * n;
        T* q = y + o * n;
        C sum = C(0);
        for (int64_t r = 0, j = first; r < n; ++r, j += step) {
          const C v = static_cast<C>(p[j]);
          if (exclusive) { q[j] = store_as<T>(sum); sum += v; }
          else { sum += v; q[j] = store_as<T>(sum); }
        }
      }
    });
    return;
  }
  constexpr int64_t block = 1024;
  const int64_t iblocks = (inner + block - 1) / block;
  reduction_detail::for_range(outer * iblocks, parallel, [&](int64_t t0, int64_t t1) {
    std::vector<C> sum(static_cast<size_t>(std::min(block, inner)));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / iblocks, i0 = (t % iblocks) * block, width = std::min(block, inner - i0);
      std::fill(sum.begin(), sum.end(), C(0));
      for (int64_t r = 0, j = first; r < n; ++r, j += step) {
        const T* p = x + (o * n + j) * inner + i0;
        T* q = y + (o * n + j) * inner + i0;
        if (exclusive) {
          for (int64_t i = 0; i < width; ++i) {
            q[i] = store_as<T>(sum[static_cast<size_t>(i)]);
            sum[static_cast<size_t>(i)] += static_cast<C>(p[i]);
          }
        } else {
          for (int64_t i = 0; i < width; ++i) {
            sum[static_cast<size_t>(i)] += static_cast<C>(p[i]);
            q[i] = store_as<T>(sum[static_cast<size_t>(i)]);
          }
        }
      }
    }
  });
}

Status cumsum_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Node& node = ctx.node();
  if (!ctx.has_input(1)) return make_error(StatusCode::InvalidArgument, "CumSum: the axis input is required");
  const Tensor& axis_t = ctx.input(1);
  if (axis_t.numel() != 1 || (axis_t.dtype() != DType::I64 && axis_t.dtype() != DType::I32))
    return make_error(StatusCode::InvalidArgument, "CumSum: axis must be a 1-element int32/int64 tensor, got ",
                      axis_t.describe());
  if (x.rank() == 0) return make_error(StatusCode::InvalidArgument, "CumSum: input must have rank >= 1, got a scalar");
  DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(axis_t.item<int64_t>(), x.rank(), "CumSum"));
  const bool exclusive = node.attr_int("exclusive", 0) != 0;
  const bool reverse = node.attr_int("reverse", 0) != 0;
  Tensor& out = ctx.allocate_output(0, x.dtype(), x.shape());
  if (x.numel() == 0) return Status::ok_status();
  ReduceLayout layout = single_axis_layout(x.shape(), axis);
  bool supported = false;
  dispatch_dtype(x.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, int8_t> && !std::is_same_v<T, uint8_t> && !std::is_same_v<T, int16_t> &&
                  !std::is_same_v<T, uint16_t>) {
      supported = true;
      cumsum_typed<T>(x.data<T>(), out.data<T>(), layout, exclusive, reverse);
    }
  });
  if (!supported)
    return make_error(StatusCode::Unsupported, "CumSum: input dtype ", dtype_name(x.dtype()), " is not supported");
  return Status::ok_status();
}

Status cumsum_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::ok_status();
}

}  // namespace

void register_cumsum_op(OpRegistry& r) { r.add({"CumSum", cumsum_kernel, cumsum_infer}); }

}  // namespace dj
