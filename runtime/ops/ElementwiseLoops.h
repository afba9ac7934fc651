// ElementwiseLoops: the loops every elementwise kernel runs — a unary map, and
// binary / ternary maps with ONNX multidirectional broadcasting.
//
// Hot paths, in order: every operand has the output's element count (one flat
// loop), one operand is a single element (held in a register), and the general
// broadcast path. The general path first collapses the output shape: size-1 dims
// are dropped and adjacent dims merge when every input walks them the same way,
// so afterwards each input's innermost stride is 0 or 1 and the innermost loop is
// a flat loop the compiler vectorizes. Work above 2*grain elements is split into
// TBB chunks of elements (not rows), so a few long rows still spread over cores.
//
// Invariants: inputs are contiguous and broadcastable to the output shape (the
// caller checked that with broadcast_shapes); outputs are fresh, contiguous and
// never alias an input (the loops use __restrict). Ops receive compute types
// (float for f16/bf16) and their result is converted to the output type on store.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "runtime/DType.h"
#include "runtime/Tensor.h"
#include "runtime/ops/Broadcast.h"

namespace dj::elementwise {

// Elements per parallel chunk: cheap ops (add, compare, copy) amortize the task
// overhead only over many elements; transcendental ops (exp, tanh, erf) sooner.
constexpr int64_t kGrain = 16384;
constexpr int64_t kTranscendentalGrain = 4096;

template <typename T>
using compute_t = typename ComputeType<T>::type;
template <typename T>
inline compute_t<T> load(T v) { return static_cast<compute_t<T>>(v); }
template <typename T, typename C>
inline T store(C v) { return static_cast<T>(v); }

// Calls body(begin, end) over [0, n): serially for small n, else in TBB chunks.
template <typename Body>
void parallel_ranges(int64_t n, int64_t grain, const Body& body) {
  if (n <= 0) return;
  if (n <= 2 * grain) {
    body(int64_t{0}, n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                    [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
}

template <typename In, typename Out, typename Op>
void map_unary(const In* in, Out* out, int64_t n, const Op& op, int64_t grain = kGrain) {
  parallel_ranges(n, grain, [&](int64_t begin, int64_t end) {
    const In* __restrict x = in + begin;
    Out* __restrict y = out + begin;
    const int64_t len = end - begin;
    for (int64_t i = 0; i < len; ++i) y[i] = store<Out>(op(load(x[i])));
  });
}

// The collapsed iteration space of a broadcast: see the file comment.
template <size_t N>
struct BroadcastPlan {
  Shape dims;                      // collapsed output dims, all > 1; empty for a one-element output
  std::array<Strides, N> strides;  // strides[k][d]: input k's element step along dims[d] (0: broadcast)

  int64_t inner_stride(size_t k) const { return dims.empty() ? 0 : strides[k].back(); }
};

template <size_t N>
BroadcastPlan<N> plan_broadcast(const std::array<const Shape*, N>& in_shapes, const Shape& out_shape) {
  std::array<Strides, N> full;
  for (size_t k = 0; k < N; ++k) full[k] = broadcast_strides(*in_shapes[k], out_shape);
  BroadcastPlan<N> p;
  for (size_t d = 0; d < out_shape.size(); ++d) {
    const int64_t n = out_shape[d];
    if (n == 1) continue;
    bool merge = !p.dims.empty();
    for (size_t k = 0; k < N && merge; ++k) merge = p.strides[k].back() == full[k][d] * n;
    if (merge) {
      p.dims.back() *= n;
      for (size_t k = 0; k < N; ++k) p.strides[k].back() = full[k][d];
    } else {
      p.dims.push_back(n);
      for (size_t k = 0; k < N; ++k) p.strides[k].push_back(full[k][d]);
    }
  }
  return p;
}

// Walks output elements [begin, end) as runs along the innermost collapsed dim,
// calling run(offsets, out_offset, len) where offsets[k] is input k's element
// offset for the run's first element. Index math happens once per run.
template <size_t N, typename Run>
void for_each_run(const BroadcastPlan<N>& p, int64_t begin, int64_t end, const Run& run) {
  std::array<int64_t, N> off{};
  const size_t rank = p.dims.size();
  if (rank == 0) {
    run(off, begin, end - begin);
    return;
  }
  Shape idx(rank, 0);
  int64_t rem = begin;
  for (size_t d = rank; d-- > 0;) {
    idx[d] = rem % p.dims[d];
    rem /= p.dims[d];
    for (size_t k = 0; k < N; ++k) off[k] += idx[d] * p.strides[k][d];
  }
  const size_t last = rank - 1;
  const int64_t inner = p.dims[last];
  int64_t pos = begin;
  while (pos < end) {
    const int64_t len = std::min(inner - idx[last], end - pos);
    run(off, pos, len);
    pos += len;
    if (pos >= end) break;
    // The run ended a row: rewind to its start, then carry into the outer dims.
    for (size_t k = 0; k < N; ++k) off[k] -= idx[last] * p.strides[k][last];
    idx[last] = 0;
    for (size_t d = last; d-- > 0;) {
      ++idx[d];
      for (size_t k = 0; k < N; ++k) off[k] += p.strides[k][d];
      if (idx[d] < p.dims[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= p.dims[d] * p.strides[k][d];
      idx[d] = 0;
    }
  }
}

// One run of a binary op; sa and sb are 0 (broadcast) or 1. Each case is a flat
// loop so the compiler can vectorize it.
template <typename A, typename B, typename O, typename Op>
inline void binary_run(const A* __restrict a, int64_t sa, const B* __restrict b, int64_t sb,
                       O* __restrict o, int64_t n, const Op& op) {
  if (sa != 0 && sb != 0) {
    for (int64_t i = 0; i < n; ++i) o[i] = store<O>(op(load(a[i]), load(b[i])));
  } else if (sb != 0) {
    const auto av = load(a[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = store<O>(op(av, load(b[i])));
  } else if (sa != 0) {
    const auto bv = load(b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = store<O>(op(load(a[i]), bv));
  } else {
    std::fill_n(o, n, store<O>(op(load(a[0]), load(b[0]))));
  }
}

// out = op(a, b) with broadcasting; out already has the broadcast shape.
template <typename A, typename B, typename O, typename Op>
void broadcast_binary(const Tensor& a, const Tensor& b, Tensor& out, const Op& op, int64_t grain = kGrain) {
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  O* po = out.data<O>();
  const int64_t n = out.numel();
  if (n == 0) return;
  const int64_t sa = a.numel() == n ? 1 : a.numel() == 1 ? 0 : -1;
  const int64_t sb = b.numel() == n ? 1 : b.numel() == 1 ? 0 : -1;
  if (sa >= 0 && sb >= 0) {  // same shape or scalar operand: flat loops
    parallel_ranges(n, grain, [&](int64_t s, int64_t e) {
      binary_run(pa + s * sa, sa, pb + s * sb, sb, po + s, e - s, op);
    });
    return;
  }
  const auto plan = plan_broadcast<2>({&a.shape(), &b.shape()}, out.shape());
  const int64_t ia = plan.inner_stride(0), ib = plan.inner_stride(1);
  parallel_ranges(n, grain, [&](int64_t s, int64_t e) {
    for_each_run(plan, s, e, [&](const std::array<int64_t, 2>& off, int64_t o, int64_t len) {
      binary_run(pa + off[0], ia, pb + off[1], ib, po + o, len, op);
    });
  });
}

// out = op(a, b, c) with broadcasting (Where, Clip-like ops).
template <typename A, typename B, typename C, typename O, typename Op>
void broadcast_ternary(const Tensor& a, const Tensor& b, const Tensor& c, Tensor& out, const Op& op,
                       int64_t grain = kGrain) {
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  const C* pc = c.data<C>();
  O* po = out.data<O>();
  const int64_t n = out.numel();
  if (n == 0) return;
  if (a.numel() == n && b.numel() == n && c.numel() == n) {
    parallel_ranges(n, grain, [&](int64_t s, int64_t e) {
      const A* __restrict x = pa + s;
      const B* __restrict y = pb + s;
      const C* __restrict z = pc + s;
      O* __restrict w = po + s;
      for (int64_t i = 0; i < e - s; ++i) w[i] = store<O>(op(load(x[i]), load(y[i]), load(z[i])));
    });
    return;
  }
  const auto plan = plan_broadcast<3>({&a.shape(), &b.shape(), &c.shape()}, out.shape());
  const int64_t ia = plan.inner_stride(0), ib = plan.inner_stride(1), ic = plan.inner_stride(2);
  parallel_ranges(n, grain, [&](int64_t s, int64_t e) {
    for_each_run(plan, s, e, [&](const std::array<int64_t, 3>& off, int64_t o, int64_t len) {
      const A* __restrict x = pa + off[0];
      const B* __restrict y = pb + off[1];
      const C* __restrict z = pc + off[2];
      O* __restrict w = po + o;
      for (int64_t i = 0; i < len; ++i) w[i] = store<O>(op(load(x[i * ia]), load(y[i * ib]), load(z[i * ic])));
    });
  });
}

}  // namespace dj::elementwise
