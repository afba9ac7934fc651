// ArgMax and ArgMin: the int64 index of the largest / smallest element along one
// axis (attributes axis = 0, keepdims = 1, select_last_index = 0).
//
// Ties go to the first index, or the last with select_last_index=1. NaN counts as
// larger/smaller than every number (numpy's argmax/argmin return the first NaN).
// An empty reduced axis is an InvalidArgument: there is no index to return.
#include "runtime/OpRegistry.h"
#include "runtime/ops/ReductionEngine.h"
#include "runtime/ops/ReductionLayout.h"
#include "runtime/ops/ReductionRegistration.h"

namespace dj {
namespace {

// True when candidate x (at a later index) should replace best.
template <bool IsMax, bool Last, typename C>
inline bool replaces(C x, C best) {
  const bool beats = IsMax ? (Last ? x >= best : x > best) : (Last ? x <= best : x < best);
  if constexpr (std::is_floating_point_v<C>) {
    if (Last) return beats || x != x;
    return beats || (x != x && best == best);
  }
  return beats;
}

template <bool IsMax, bool Last, typename T>
void arg_reduce_typed(const T* x, const ReduceLayout& layout, int64_t* y) {
  using C = typename ComputeType<T>::type;
  const int64_t outer = layout.outer, n = layout.reduce, inner = layout.inner;
  const bool parallel = outer * n * inner >= kReduceParallelElements;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (inner == 1) {
      // Rows of float/double: the vectorized max/min, then the first (or last)
      // position holding it; NaN is the extreme when present.
      using Combine = std::conditional_t<IsMax, MaxCombine<T>, MinCombine<T>>;
      reduction_detail::for_range(outer, parallel, [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o) {
          const T* p = x + o * n;
          const T m = reduction_detail::reduce_row<T, Combine>(p, n, T(0), IdentityMap{}, Combine::identity());
          const bool nan = m != m;
          auto hit = [&](int64_t r) { return nan ? p[r] != p[r] : p[r] == m; };
          int64_t at = 0;
          if (Last) {
            for (at = n - 1; at > 0 && !hit(at); --at) {}
          } else {
            while (at < n - 1 && !hit(at)) ++at;
          }
          y[o] = at;
        }
      });
      return;
    }
  }
  if (inner == 1) {
    reduction_detail::for_range(outer, parallel, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* p = x + o * n;
        C best = static_cast<C>(p[0]);
        int64_t at = 0;
        for (int64_t r = 1; r < n; ++r) {
          const C v = static_cast<C>(p[r]);
          if (replaces<IsMax, Last>(v, best)) { best = v; at = r; }
        }
        y[o] = at;
      }
    });
    return;
  }
  constexpr int64_t block = 1024;
  const int64_t iblocks = (inner + block - 1) / block;
  reduction_detail::for_range(outer * iblocks, parallel, [&](int64_t t0, int64_t t1) {
    std::vector<C> best(static_cast<size_t>(std::min(block, inner)));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / iblocks, i0 = (t % iblocks) * block, width = std::min(block, inner - i0);
      const T* p = x + o * n * inner + i0;
      int64_t* at = y + o * inner + i0;
      for (int64_t i = 0; i < width; ++i) { best[static_cast<size_t>(i)] = static_cast<C>(p[i]); at[i] = 0; }
      for (int64_t r = 1; r < n; ++r) {
        const T* row = p + r * inner;
        for (int64_t i = 0; i < width; ++i) {
          const C v = static_cast<C>(row[i]);
          if (replaces<IsMax, Last>(v, best[static_cast<size_t>(i)])) { best[static_cast<size_t>(i)] = v; at[i] = r; }
        }
      }
    }
  });
}

template <bool IsMax>
Status arg_reduce_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Node& node = ctx.node();
  if (x.rank() == 0)
    return make_error(StatusCode::InvalidArgument, node.op_type, ": input must have rank >= 1, got a scalar");
  DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(node.attr_int("axis", 0), x.rank(), node.op_type));
  const bool keepdims = node.attr_int("keepdims", 1) != 0;
  const bool last = node.attr_int("select_last_index", 0) != 0;
  std::vector<bool> flags(static_cast<size_t>(x.rank()), false);
  flags[static_cast<size_t>(axis)] = true;
  Tensor& out = ctx.allocate_output(0, DType::I64, reduced_shape(x.shape(), flags, keepdims));
  if (out.numel() == 0) return Status::ok_status();
  if (x.dim(axis) == 0)
    return make_error(StatusCode::InvalidArgument, node.op_type, ": axis ", axis, " has size 0; there is no element to select");
  ReduceLayout layout = single_axis_layout(x.shape(), axis);
  bool supported = dispatch_dtype(x.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    if (last) arg_reduce_typed<IsMax, true>(x.data<T>(), layout, out.data<int64_t>());
    else arg_reduce_typed<IsMax, false>(x.data<T>(), layout, out.data<int64_t>());
  });
  if (!supported)
    return make_error(StatusCode::Unsupported, node.op_type, ": input dtype ", dtype_name(x.dtype()), " is not supported");
  return Status::ok_status();
}

Status arg_reduce_infer(ShapeContext& ctx) {
  ctx.set_output(0, DType::I64, std::nullopt);
  const auto& shape = ctx.input_shape(0);
  if (!shape) return Status::ok_status();
  const Node& node = ctx.node();
  DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(node.attr_int("axis", 0), static_cast<int>(shape->size()), node.op_type));
  std::vector<bool> flags(shape->size(), false);
  flags[static_cast<size_t>(axis)] = true;
  ctx.set_output(0, std::nullopt, reduced_sym_shape(*shape, flags, node.attr_int("keepdims", 1) != 0));
  return Status::ok_status();
}

}  // namespace

void register_arg_reduce_ops(OpRegistry& r) {
  r.add({"ArgMax", arg_reduce_kernel<true>, arg_reduce_infer});
  r.add({"ArgMin", arg_reduce_kernel<false>, arg_reduce_infer});
}

}  // namespace dj
