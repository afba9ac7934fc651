// TopK: the k largest (or smallest) elements along an axis and their int64
// indices. k is the second input (a 1-element int64 tensor) from opset 10, the
// attribute `k` before; attributes axis = -1, largest = 1, sorted = 1.
//
// Order: by value (descending for largest, ascending otherwise), ties broken by the
// lower index, as ONNX specifies. The output is always sorted (sorted=0 allows any
// order, so sorted output is valid). NaN ranks above every number, so the order
// stays a strict weak ordering. Output dim `axis` is k: the constant when k is a
// load-time constant, its symbolic value when known, otherwise a fresh dim.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "runtime/OpRegistry.h"
#include "runtime/ops/ReductionEngine.h"
#include "runtime/ops/ReductionLayout.h"
#include "runtime/ops/ReductionRegistration.h"

namespace dj {
namespace {

template <typename C>
inline bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return v != v;
  else return false;
}

// Strict "a ranks before b" for values va (index a) and vb (index b).
template <bool Largest, typename C>
inline bool ranks_before(C va, int64_t a, C vb, int64_t b) {
  const bool na = is_nan(va), nb = is_nan(vb);
  if (na != nb) return Largest ? na : nb;  // NaN first when largest, last otherwise
  if (!na && va != vb) return Largest ? va > vb : va < vb;
  return a < b;
}

// Below this k, one pass keeps a sorted buffer of the best k seen so far: most
// elements cost one comparison against the current k-th best.
constexpr int64_t kSmallK = 32;

// Top k of src[r * stride], r < n, into (vals, idxs) sorted; k <= kSmallK, k >= 1.
template <bool Largest, typename T, typename C>
void select_small_k(const T* src, int64_t stride, int64_t n, int64_t k, C* vals, int64_t* idxs) {
  int64_t filled = 0;
  for (int64_t r = 0; r < n; ++r) {
    const C v = static_cast<C>(src[r * stride]);
    // Index r is larger than every buffered index, so a tie never displaces.
    if (filled == k && !ranks_before<Largest>(v, r, vals[k - 1], idxs[k - 1])) continue;
    int64_t pos = filled < k ? filled++ : k - 1;
    while (pos > 0 && ranks_before<Largest>(v, r, vals[pos - 1], idxs[pos - 1])) {
      vals[pos] = vals[pos - 1];
      idxs[pos] = idxs[pos - 1];
      --pos;
    }
    vals[pos] = v;
    idxs[pos] = r;
  }
}

// Top k of line[0..n) into order[0..k) (order has n slots), sorted.
template <bool Largest, typename C>
void select_top_k(const C* line, int64_t n, int64_t k, int64_t* order) {
  std::iota(order, order + n, int64_t{0});
  auto before = [line](int64_t a, int64_t b) { return ranks_before<Largest>(line[a], a, line[b], b); };
  if (k < n) std::nth_element(order, order + k, order + n, before);
  std::sort(order, order + k, before);
}

template <typename T>
void topk_typed(const T* x, const ReduceLayout& layout, int64_t k, bool largest, T* values, int64_t* indices) {
  using C = typename ComputeType<T>::type;
  const int64_t outer = layout.outer, n = layout.reduce, inner = layout.inner;
  const int64_t lines = outer * inner;
  const bool parallel = lines > 1 && lines * n >= kReduceParallelElements;
  const bool small_k = k <= kSmallK;
  reduction_detail::for_range(lines, parallel, [&](int64_t l0, int64_t l1) {
    std::vector<C> line(static_cast<size_t>(small_k ? k : n));
    std::vector<int64_t> order(static_cast<size_t>(small_k ? k : n));
    for (int64_t l = l0; l < l1; ++l) {
      const int64_t o = l / inner, i = l % inner;
      const T* src = x + o * n * inner + i;
      if (small_k) {
        if (largest) select_small_k<true>(src, inner, n, k, line.data(), order.data());
        else select_small_k<false>(src, inner, n, k, line.data(), order.data());
      } else {
        for (int64_t r = 0; r < n; ++r) line[static_cast<size_t>(r)] = static_cast<C>(src[r * inner]);
        if (largest) select_top_k<true>(line.data(), n, k, order.data());
        else select_top_k<false>(line.data(), n, k, order.data());
      }
      T* vdst = values + o * k * inner + i;
      int64_t* idst = indices + o * k * inner + i;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t at = order[static_cast<size_t>(j)];
        vdst[j * inner] = src[at * inner];
        idst[j * inner] = at;
      }
    }
  });
}

Expected<int64_t> topk_k(const KernelContext& ctx) {
  if (ctx.num_inputs() < 2) {
    if (!ctx.node().has_attr("k")) return make_error(StatusCode::InvalidArgument, "TopK: no k input or attribute");
    return ctx.node().attr_int("k", 0);
  }
  if (!ctx.has_input(1)) return make_error(StatusCode::InvalidArgument, "TopK: the k input is required");
  const Tensor& kt = ctx.input(1);
  if (kt.numel() != 1 || (kt.dtype() != DType::I64 && kt.dtype() != DType::I32))
    return make_error(StatusCode::InvalidArgument, "TopK: k must be a 1-element int64 tensor, got ", kt.describe());
  return kt.item<int64_t>();
}

Status topk_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Node& node = ctx.node();
  if (x.rank() == 0) return make_error(StatusCode::InvalidArgument, "TopK: input must have rank >= 1, got a scalar");
  DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(node.attr_int("axis", -1), x.rank(), "TopK"));
  DJ_ASSIGN_OR_RETURN(int64_t k, topk_k(ctx));
  const int64_t n = x.dim(axis);
  if (k < 0 || k > n)
    return make_error(StatusCode::InvalidArgument, "TopK: k = ", k, " out of range for axis ", axis, " of size ", n);
  const bool largest = node.attr_int("largest", 1) != 0;
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(axis)] = k;
  Tensor& values = ctx.allocate_output(0, x.dtype(), out_shape);
  Tensor& indices = ctx.allocate_output(1, DType::I64, out_shape);
  if (values.numel() == 0) return Status::ok_status();
  ReduceLayout layout = single_axis_layout(x.shape(), axis);
  bool supported = dispatch_dtype(x.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    topk_typed<T>(x.data<T>(), layout, k, largest, values.data<T>(), indices.data<int64_t>());
  });
  if (!supported) return make_error(StatusCode::Unsupported, "TopK: input dtype ", dtype_name(x.dtype()), " is not supported");
  return Status::ok_status();
}

Status topk_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  ctx.set_output(1, DType::I64, std::nullopt);
  const auto& shape = ctx.input_shape(0);
  if (!shape || shape->empty()) return Status::ok_status();
  const Node& node = ctx.node();
  DJ_ASSIGN_OR_RETURN(int axis, normalize_axis(node.attr_int("axis", -1), static_cast<int>(shape->size()), "TopK"));
  std::optional<SymExpr> k;
  if (node.inputs.size() < 2) {
    if (node.has_attr("k")) k = SymExpr(node.attr_int("k", 0));
  } else if (const Tensor* c = ctx.input_constant(1); c && c->numel() == 1) {
    k = SymExpr(c->item<int64_t>());
  } else if (const ValueInfo* kv = ctx.input(1); kv && kv->sym_values && kv->sym_values->size() == 1) {
    k = (*kv->sym_values)[0];
  }
  SymShape out = *shape;
  out[static_cast<size_t>(axis)] = k ? *k : ctx.fresh_dim("topk");
  ctx.set_output(0, std::nullopt, out);
  ctx.set_output(1, std::nullopt, out);
  return Status::ok_status();
}

}  // namespace

void register_topk_op(OpRegistry& r) { r.add({"TopK", topk_kernel, topk_infer}); }

}  // namespace dj
