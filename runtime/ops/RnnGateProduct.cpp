// The gate products of the recurrent ops (see RnnGateProduct.h).
#include "runtime/ops/RnnGateProduct.h"

#include <tbb/blocked_range2d.h>

#include <type_traits>

#include "runtime/ops/RnnIsa.h"
#include "runtime/ops/RnnMatmul.h"
#include "runtime/ops/RnnWeightCache.h"

namespace dj {

namespace {
constexpr int64_t kDoubleUnitBlock = 64;
constexpr int64_t kProjectRowBlock = 64;  // rows of X per projection task
}  // namespace

void rnn_accumulate_panels(const RnnIsaKernels& isa, const RnnPanelWeights& w, int64_t d, int64_t u0, int64_t u1,
                           int g0, int g1, const float* a, int64_t lda, int64_t rows, float* const* gate_out,
                           int64_t ldc) {
  const RnnPanelLayout& l = w.layout();
  const int64_t upp = l.units_per_panel();
  const int64_t p0 = u0 / upp, p1 = (u1 + upp - 1) / upp;
  if (rows <= 0 || p1 <= p0) return;
  // At most 4 vector slots per kernel call (a panel row holds 3 or 4, RnnPanelWeights.h).
  const int gates_per_call = std::max(1, 4 / l.unit_vecs);
  for (int g = g0; g < g1; g += gates_per_call) {
    const int ge = std::min(g1, g + gates_per_call);
    RnnPanelCall c;
    c.rows = rows;
    c.depth = l.depth;
    c.a = a;
    c.lda = lda;
    c.panels = w.direction(d) + p0 * l.panel_floats();
    c.panel_count = p1 - p0;
    c.panel_floats = l.panel_floats();
    c.row_floats = l.row_floats();
    c.unit_vecs = l.unit_vecs;
    c.first_vec = g * l.unit_vecs;
    c.vecs = (ge - g) * l.unit_vecs;
    for (int i = 0; i < c.vecs; ++i) {
      const int slot = c.first_vec + i;
      c.out[i] = gate_out[slot / l.unit_vecs - g0] + (slot % l.unit_vecs) * l.lanes + p0 * upp;
    }
    c.ldc = ldc;
    c.units_per_panel = upp;
    c.valid_units = u1 - p0 * upp;
    isa.panel_product(c);
  }
}

namespace {

void project_panels(const RnnGateWeights<float>& w, int64_t d, const float* x, int64_t rows, float* out) {
  const RnnPanelLayout& l = w.panels->layout();
  const int64_t hd = l.hidden, gw = hd * l.gates, upp = l.units_per_panel();
  // Rows [r0, r1) of X times the units of panels [p0, p1).
  auto block = [&](int64_t r0, int64_t r1, int64_t p0, int64_t p1) {
    float* gate_out[4];
    for (int g = 0; g < l.gates; ++g) gate_out[g] = out + r0 * gw + g * hd;
    rnn_accumulate_panels(rnn_isa_kernels(), *w.panels, d, p0 * upp, std::min(hd, p1 * upp), 0, l.gates,
                          x + r0 * l.depth, l.depth, r1 - r0, gate_out, gw);
  };
  const double macs = double(rows) * double(l.depth) * double(gw);
  if (macs < kRnnParallelMacs || tbb::this_task_arena::max_concurrency() < 2) {
    block(0, rows, 0, l.panels());
    return;
  }
  tbb::parallel_for(tbb::blocked_range2d<int64_t>(0, rows, kProjectRowBlock, 0, l.panels(), 1),
                    [&](const tbb::blocked_range2d<int64_t>& r) {
                      block(r.rows().begin(), r.rows().end(), r.cols().begin(), r.cols().end());
                    });
}

}  // namespace

template <typename C>
RnnGateWeights<C> rnn_gate_weights(const Tensor& w, int gates) {
  if constexpr (std::is_same_v<C, float>) {
    return {panel_rnn_weights(w, gates, rnn_isa_kernels().lanes)};
  } else {
    return {transposed_rnn_weights<C>(w), w.dim(2), w.dim(1) / gates, gates};
  }
}

template <typename C>
int64_t rnn_unit_block(const RnnGateWeights<C>& w) {
  if constexpr (std::is_same_v<C, float>) return w.panels->layout().units_per_panel();
  else return kDoubleUnitBlock;
}

template <typename C>
void rnn_accumulate_gates(const RnnGateWeights<C>& w, int64_t d, int64_t u0, int64_t u1, int g0, int g1, const C* a,
                          int64_t lda, int64_t rows, C* const* gate_out, int64_t ldc) {
  if constexpr (std::is_same_v<C, float>) {
    rnn_accumulate_panels(rnn_isa_kernels(), *w.panels, d, u0, u1, g0, g1, a, lda, rows, gate_out, ldc);
  } else {
    const int64_t gw = w.hidden * w.gates;
    const C* wt = w.transposed->data() + d * w.depth * gw;
    for (int g = g0; g < g1; ++g)
      rnn_matmul_accumulate(a, lda, wt + g * w.hidden + u0, gw, gate_out[g - g0] + u0, ldc, rows, w.depth, u1 - u0);
  }
}

template <typename C>
void rnn_project_gates(const RnnGateWeights<C>& w, int64_t d, const C* x, int64_t rows, C* out) {
  if constexpr (std::is_same_v<C, float>) {
    project_panels(w, d, x, rows, out);
  } else {
    const int64_t gw = w.hidden * w.gates;
    rnn_matmul_accumulate(x, w.depth, w.transposed->data() + d * w.depth * gw, gw, out, gw, rows, w.depth, gw);
  }
}

template RnnGateWeights<float> rnn_gate_weights<float>(const Tensor&, int);
template RnnGateWeights<double> rnn_gate_weights<double>(const Tensor&, int);
template int64_t rnn_unit_block<float>(const RnnGateWeights<float>&);
template int64_t rnn_unit_block<double>(const RnnGateWeights<double>&);
template void rnn_accumulate_gates<float>(const RnnGateWeights<float>&, int64_t, int64_t, int64_t, int, int,
                                          const float*, int64_t, int64_t, float* const*, int64_t);
template void rnn_accumulate_gates<double>(const RnnGateWeights<double>&, int64_t, int64_t, int64_t, int, int,
                                           const double*, int64_t, int64_t, double* const*, int64_t);
template void rnn_project_gates<float>(const RnnGateWeights<float>&, int64_t, const float*, int64_t, float*);
template void rnn_project_gates<double>(const RnnGateWeights<double>&, int64_t, const double*, int64_t, double*);

}  // namespace dj
