// RnnGateProduct: the two matrix products of a recurrent op over its gate weights,
// in whatever form the compute type reads them, and how a step's work is split.
//
//   input projection:  out[rows, G*hidden] += X[rows, K] W_d^T            (all steps at once)
//   recurrence:        out_g[m, u] += sum_k a[m, k] R_d^T[k, g*hidden + u]  (one step,
//                      gates [g0, g1), units [u0, u1) only)
//
// f32 reads weights packed in unit panels (RnnPanelWeights.h) through the ISA
// kernels of RnnIsa.h: no packing per call, no packing per step. Other compute types
// (f64) read W^T / R^T through RnnMatmul.h's loop.
//
// A step splits by blocks of hidden units (rnn_for_unit_blocks): one block is all
// the gate columns of its units, so a task computes its units' gate products and then
// their state update, and no two tasks write the same element. The unit split
// changes who computes an element, never its summation order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "runtime/Tensor.h"
#include "runtime/ops/RnnPanelWeights.h"

namespace dj {

// Weights of every direction, [dirs, G*hidden, K] in the ONNX layout, as read by C.
template <typename C>
struct RnnGateWeights {
  std::shared_ptr<const std::vector<C>> transposed;  // [dirs, K, G*hidden]
  int64_t depth = 0, hidden = 0;
  int gates = 1;
};
template <>
struct RnnGateWeights<float> {
  std::shared_ptr<const RnnPanelWeights> panels;
};

// From the (cached) weight tensor `w` with `gates` gates.
template <typename C>
RnnGateWeights<C> rnn_gate_weights(const Tensor& w, int gates);

// The unit block of the step split: a panel's units for f32.
template <typename C>
int64_t rnn_unit_block(const RnnGateWeights<C>& w);

// gate_out[i] points at row 0, unit 0 of gate g0 + i; rows are ldc apart. u0 is a
// multiple of rnn_unit_block(w); u1 <= hidden.
template <typename C>
void rnn_accumulate_gates(const RnnGateWeights<C>& w, int64_t d, int64_t u0, int64_t u1, int g0, int g1, const C* a,
                          int64_t lda, int64_t rows, C* const* gate_out, int64_t ldc);

// The f32 form of rnn_accumulate_gates with an explicit kernel table (tests compare
// every ISA the CPU runs); `w` must be packed for isa.lanes.
struct RnnIsaKernels;
void rnn_accumulate_panels(const RnnIsaKernels& isa, const RnnPanelWeights& w, int64_t d, int64_t u0, int64_t u1,
                           int g0, int g1, const float* a, int64_t lda, int64_t rows, float* const* gate_out,
                           int64_t ldc);

// out[rows, G*hidden] += x[rows, K] W_d^T, TBB-parallel when large.
template <typename C>
void rnn_project_gates(const RnnGateWeights<C>& w, int64_t d, const C* x, int64_t rows, C* out);

// True when the product of `a` ([rows, depth], leading dim lda) with f32 weights `w`
// adds exactly nothing: a is all zeros and no weight is inf or NaN. A step may then
// skip it — the first step from a zero (or absent) initial state, the common case,
// which would otherwise stream all of R for nothing. Always false for f64, whose
// path stays as it was.
template <typename C>
bool rnn_product_vanishes(const RnnGateWeights<C>& w, const C* a, int64_t rows, int64_t depth, int64_t lda) {
  if constexpr (std::is_same_v<C, float>) {
    if (!w.panels->all_finite()) return false;
    for (int64_t m = 0; m < rows; ++m)
      for (int64_t k = 0; k < depth; ++k)
        if (a[m * lda + k] != 0.0f) return false;
    return true;
  } else {
    return false;
  }
}

// A step's multiply-adds below this run on the calling thread: a TBB dispatch and
// join costs a few microseconds, which a hidden-64 LSTM step does not repay.
constexpr double kRnnParallelMacs = double(1 << 17);

// body(u0, u1) over [0, hidden) in blocks of `block` units: one call when `macs`
// (the step's multiply-adds) is too small to share, else a few TBB tasks.
template <typename Body>
void rnn_for_unit_blocks(int64_t hidden, int64_t block, double macs, const Body& body) {
  const int64_t blocks = (hidden + block - 1) / block;
  const int threads = tbb::this_task_arena::max_concurrency();
  if (threads < 2 || blocks < 2 || macs < kRnnParallelMacs) {
    body(int64_t{0}, hidden);
    return;
  }
  // Two tasks per thread: balance when another process holds a core for a while.
  const int64_t tasks = std::min<int64_t>(blocks, 2 * int64_t{threads});
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, tasks, 1),
      [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t t = r.begin(); t != r.end(); ++t) {
          const int64_t b0 = blocks * t / tasks, b1 = blocks * (t + 1) / tasks;
          body(b0 * block, std::min(hidden, b1 * block));
        }
      },
      tbb::simple_partitioner());
}

}  // namespace dj
