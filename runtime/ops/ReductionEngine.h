// ReductionEngine: the one loop nest behind every Reduce* op (and the statistics
// of the normalization ops): combine map(x) over the reduced elements of each
// output, in an accumulator type Acc, and hand each result to a store functor.
//
//   run_reduction<Acc, Combine>(x, layout, map, shift, store)
//     map(Acc x, Acc shift) -> Acc   per element (identity, |x|, x^2, exp(x - shift))
//     Combine::identity(), Combine::apply(a, b)   associative (sum, prod, max, min)
//     store(k, acc)   called once per output k in [0, layout.num_outputs())
//     shift: nullptr, or one value per output passed to map (ReduceLogSumExp's max)
//
// Invariants: results do not depend on the thread count (the reduce dim is cut
// into fixed-size chunks whose partials are combined in order). Rows (inner == 1)
// use kLanes independent accumulators so the compiler can vectorize the loop and
// float sums lose less precision; float/double max/min rows use explicit vectors,
// and float exp(x - shift) sums the ISA-dispatched loops of ReductionExpRows.h.
// Columns (inner > 1) combine whole rows of `inner` elements, also vectorizable.
// Large work runs on TBB.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "runtime/DType.h"
#include "runtime/ops/ReductionExpRows.h"
#include "runtime/ops/ReductionLayout.h"
#include "runtime/ops/ReductionVectorMath.h"

namespace dj {

// Below this many input elements a reduction runs on the calling thread.
constexpr int64_t kReduceParallelElements = 32768;

// Element of storage type T converted to the accumulator type A (f16/bf16 via float).
template <typename A, typename T>
inline A load_as(T v) {
  return static_cast<A>(static_cast<typename ComputeType<T>::type>(v));
}
// Accumulator value stored as T (f16/bf16 round from float).
template <typename T, typename A>
inline T store_as(A v) {
  if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) return T(static_cast<float>(v));
  else return static_cast<T>(v);
}

template <typename A>
struct SumCombine {
  static A identity() { return A(0); }
  static A apply(A a, A b) { return a + b; }
};
template <typename A>
struct ProdCombine {
  static A identity() { return A(1); }
  static A apply(A a, A b) { return a * b; }
};
// Max/Min propagate NaN like numpy: once an operand is NaN the result stays NaN.
// The float form is a mask select so that the lane loops vectorize.
template <typename A>
struct MaxCombine {
  static A identity() {
    if constexpr (std::numeric_limits<A>::has_infinity) return -std::numeric_limits<A>::infinity();
    else return std::numeric_limits<A>::lowest();
  }
  static A apply(A a, A b) {
    if constexpr (std::is_floating_point_v<A>) return select_float<A>((b > a) | (b != b), b, a);
    else return b > a ? b : a;
  }
};
template <typename A>
struct MinCombine {
  static A identity() {
    if constexpr (std::numeric_limits<A>::has_infinity) return std::numeric_limits<A>::infinity();
    else return std::numeric_limits<A>::max();
  }
  static A apply(A a, A b) {
    if constexpr (std::is_floating_point_v<A>) return select_float<A>((b < a) | (b != b), b, a);
    else return b < a ? b : a;
  }
};

struct IdentityMap {
  template <typename A> A operator()(A x, A) const { return x; }
};
struct AbsMap {
  template <typename A> A operator()(A x, A) const {
    if constexpr (std::is_unsigned_v<A>) return x;
    else return x < A(0) ? -x : x;
  }
};
struct SquareMap {
  template <typename A> A operator()(A x, A) const { return x * x; }
};
// exp(x - shift): ReduceLogSumExp and LogSoftmax after subtracting the max.
// Float rows of it run in the ISA-dispatched loops of ReductionExpRows.h.
struct ExpShiftMap {
  template <typename A> A operator()(A x, A shift) const { return exp_any<A>(x - shift); }
};

namespace reduction_detail {

constexpr int kLanes = 8;
constexpr int64_t kChunkElements = 16384;  // elements of one (row chunk) task
constexpr int64_t kInnerBlock = 2048;      // column accumulators per task

template <typename Combine>
constexpr bool is_min_max_v = false;
template <typename A>
constexpr bool is_min_max_v<MaxCombine<A>> = true;
template <typename A>
constexpr bool is_min_max_v<MinCombine<A>> = true;

// Max/min of a float or double row with explicit 16-byte vectors: GCC's vectorizer
// scalarizes the NaN-propagating select of the generic lane loop below.
template <typename A, bool IsMax>
inline A min_max_row(const A* p, int64_t n, A acc) {
  using V = std::conditional_t<sizeof(A) == 4, f32x4, f64x2>;
  using I = std::conditional_t<sizeof(A) == 4, i32x4, i64x2>;
  constexpr int L = static_cast<int>(sizeof(V) / sizeof(A));
  using Combine = std::conditional_t<IsMax, MaxCombine<A>, MinCombine<A>>;
  V a0, a1;
  for (int j = 0; j < L; ++j) a0[j] = a1[j] = Combine::identity();
  auto step = [](V a, V b) {
    const I take = (IsMax ? (b > a) : (b < a)) | (b != b);
    return reinterpret_cast<V>((reinterpret_cast<I>(b) & take) | (reinterpret_cast<I>(a) & ~take));
  };
  int64_t r = 0;
  for (; r + 2 * L <= n; r += 2 * L) {
    V b0, b1;
    std::memcpy(&b0, p + r, sizeof(V));
    std::memcpy(&b1, p + r + L, sizeof(V));
    a0 = step(a0, b0);
    a1 = step(a1, b1);
  }
  for (; r < n; ++r) acc = Combine::apply(acc, p[r]);
  for (int j = 0; j < L; ++j) acc = Combine::apply(Combine::apply(acc, a0[j]), a1[j]);
  return acc;
}

// Combine map(p[r]) for r in [0, n) into acc.
template <typename A, typename Combine, typename T, typename Map>
inline A reduce_row(const T* p, int64_t n, A shift, const Map& map, A acc) {
  if constexpr (std::is_same_v<T, A> && std::is_floating_point_v<A> && is_min_max_v<Combine> &&
                std::is_same_v<Map, IdentityMap>) {
    return min_max_row<A, std::is_same_v<Combine, MaxCombine<A>>>(p, n, acc);
  }
  if constexpr (std::is_same_v<T, float> && std::is_same_v<A, float> && std::is_same_v<Combine, SumCombine<A>> &&
                std::is_same_v<Map, ExpShiftMap>) {
    return acc + exp_row_kernels().exp_sum(p, n, shift);
  }
  A lanes[kLanes];
  for (int j = 0; j < kLanes; ++j) lanes[j] = Combine::identity();
  int64_t r = 0;
  for (; r + kLanes <= n; r += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] = Combine::apply(lanes[j], map(load_as<A>(p[r + j]), shift));
  for (; r < n; ++r) acc = Combine::apply(acc, map(load_as<A>(p[r]), shift));
  for (int j = 0; j < kLanes; ++j) acc = Combine::apply(acc, lanes[j]);
  return acc;
}

// acc[i] = combine over r in [0, rows) of map(p[r*stride + i], shift[i]), i < width.
template <typename A, typename Combine, typename T, typename Map>
inline void reduce_columns(const T* p, int64_t rows, int64_t stride, int64_t width, const A* shift,
                           const Map& map, A* acc) {
  for (int64_t i = 0; i < width; ++i) acc[i] = Combine::identity();
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = p + r * stride;
    if (shift) {
      for (int64_t i = 0; i < width; ++i) acc[i] = Combine::apply(acc[i], map(load_as<A>(row[i]), shift[i]));
    } else {
      for (int64_t i = 0; i < width; ++i) acc[i] = Combine::apply(acc[i], map(load_as<A>(row[i]), A(0)));
    }
  }
}

template <typename Body>
inline void for_range(int64_t n, bool parallel, const Body& body) {
  if (n <= 0) return;
  if (parallel && n > 1) {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n),
                      [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
  } else {
    body(0, n);
  }
}

}  // namespace reduction_detail

template <typename A, typename Combine, typename T, typename Map, typename Store>
void run_reduction(const T* x, const ReduceLayout& layout, const Map& map, const A* shift, const Store& store) {
  using namespace reduction_detail;
  const int64_t outputs = layout.num_outputs();
  const int64_t count = layout.reduce_count();
  const bool parallel = outputs * std::max<int64_t>(count, 1) >= kReduceParallelElements;

  if (!layout.blocked) {
    const int64_t* kept = layout.kept_offsets.data();
    const int64_t* red = layout.reduce_offsets.data();
    for_range(outputs, parallel, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        const T* base = x + kept[k];
        const A s = shift ? shift[k] : A(0);
        A acc = Combine::identity();
        for (int64_t r = 0; r < count; ++r) acc = Combine::apply(acc, map(load_as<A>(base[red[r]]), s));
        store(k, acc);
      }
    });
    return;
  }

  const int64_t outer = layout.outer, reduce = layout.reduce, inner = layout.inner;
  const int64_t block = inner == 1 ? 1 : std::min(inner, kInnerBlock);
  const int64_t iblocks = (inner + block - 1) / block;
  const int64_t rchunk = std::max<int64_t>(1, kChunkElements / block);
  const int64_t rchunks = std::max<int64_t>(1, (reduce + rchunk - 1) / rchunk);

  // Fast path: each task owns whole outputs.
  if (rchunks == 1 || !parallel) {
    if (inner == 1) {
      for_range(outer, parallel, [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o)
          store(o, reduce_row<A, Combine>(x + o * reduce, reduce, shift ? shift[o] : A(0), map, Combine::identity()));
      });
    } else {
      for_range(outer * iblocks, parallel, [&](int64_t t0, int64_t t1) {
        std::vector<A> acc(static_cast<size_t>(block));
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t o = t / iblocks, i0 = (t % iblocks) * block, width = std::min(block, inner - i0);
          reduce_columns<A, Combine>(x + o * reduce * inner + i0, reduce, inner, width,
                                     shift ? shift + o * inner + i0 : nullptr, map, acc.data());
          for (int64_t i = 0; i < width; ++i) store(o * inner + i0 + i, acc[static_cast<size_t>(i)]);
        }
      });
    }
    return;
  }

  // Long reductions: partials per (output, reduce chunk), combined in chunk order.
  std::vector<A> partial(static_cast<size_t>(outer * rchunks * inner));
  for_range(outer * rchunks * iblocks, true, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t ib = t % iblocks, rc = (t / iblocks) % rchunks, o = t / (iblocks * rchunks);
      const int64_t r0 = rc * rchunk, rows = std::min(rchunk, reduce - r0);
      const int64_t i0 = ib * block, width = std::min(block, inner - i0);
      A* dst = partial.data() + (o * rchunks + rc) * inner + i0;
      if (inner == 1) {
        *dst = reduce_row<A, Combine>(x + o * reduce + r0, rows, shift ? shift[o] : A(0), map, Combine::identity());
      } else {
        reduce_columns<A, Combine>(x + (o * reduce + r0) * inner + i0, rows, inner, width,
                                   shift ? shift + o * inner + i0 : nullptr, map, dst);
      }
    }
  });
  for_range(outer, outer * inner * rchunks >= kReduceParallelElements, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        A acc = partial[static_cast<size_t>(o * rchunks * inner + i)];
        for (int64_t rc = 1; rc < rchunks; ++rc)
          acc = Combine::apply(acc, partial[static_cast<size_t>((o * rchunks + rc) * inner + i)]);
        store(o * inner + i, acc);
      }
  });
}

}  // namespace dj
