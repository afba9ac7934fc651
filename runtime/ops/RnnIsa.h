// RnnIsa: the table of per-instruction-set f32 kernels of the recurrent ops and
// the choice among them.
//
// What a table holds: the product of a few rows of activations with weights
// packed in unit panels (RnnPanelWeights.h), vectorized sigmoid and tanh, and the
// fused per-unit state updates of LSTM and GRU with their default activations.
// Each table is compiled in its own translation unit (RnnIsaAvx512.cpp,
// RnnIsaAvx2.cpp, RnnIsaGeneric.cpp) from RnnIsaKernels.h; rnn_isa_kernels() picks
// the widest one the running CPU supports, once per process, so the binary stays
// runnable on any x86-64 (and elsewhere with the generic one). The runtime is built
// without -march, so the baseline SSE2 loops alone would be a quarter of AVX-512.
//
// Accuracy of the activations (Cephes expf/tanhf, on whole vectors): sigmoid and tanh
// within 1.4e-7 relative of libm over [-30, 30] (tests/runtime/RnnIsaTest.cpp checks
// 1e-6); NaN stays NaN, +-inf saturate, tanh(-0) = -0.
#pragma once

#include <cstdint>

namespace dj {

// out_v[m * ldc + u] += sum_k a[m * lda + k] * panel[p][k][v][u]
// for the `vecs` vector slots v = first_vec .. first_vec + vecs - 1 of every panel p
// in [0, panel_count), rows m in [0, rows). `out[i]` points at row 0, unit 0 of the
// first panel for slot first_vec + i; each later panel adds `units_per_panel` to it.
// Only the first `valid_units` units (counted from the first panel's unit 0) are
// stored; slot v of a panel covers units (v % unit_vecs) * lanes + [0, lanes).
struct RnnPanelCall {
  int64_t rows = 0;
  int64_t depth = 0;  // K
  const float* a = nullptr;
  int64_t lda = 0;
  const float* panels = nullptr;  // first panel of the range
  int64_t panel_count = 0;
  int64_t panel_floats = 0;       // floats per panel: depth * row_floats
  int64_t row_floats = 0;         // floats per k in a panel: vector slots * lanes
  int unit_vecs = 1;              // vector slots per gate in a panel row
  int first_vec = 0;
  int vecs = 0;                   // 1..4
  float* out[4] = {};
  int64_t ldc = 0;
  int64_t units_per_panel = 0;    // unit_vecs * lanes
  int64_t valid_units = 0;
};

// One batch row of an LSTM step over n units, activations Sigmoid/Tanh/Tanh and no
// clip: gi, go, gf, gc are the gate pre-activations (input and recurrence products
// and biases), peepholes pi, po, pf (all null when absent), c the cell state
// (updated in place), h the new hidden state, y (may be null) a copy of h.
struct RnnLstmCell {
  int64_t n = 0;
  const float *gi = nullptr, *go = nullptr, *gf = nullptr, *gc = nullptr;
  const float *pi = nullptr, *po = nullptr, *pf = nullptr;
  bool input_forget = false;
  float* c = nullptr;
  float* h = nullptr;
  float* y = nullptr;
};

// One batch row of a GRU step over n units, activations Sigmoid/Tanh and no clip:
//   z = sigmoid(gz);  hh = tanh(gh + sigmoid(gr) * rh)   (rh: Ht-1 Rh^T + Rbh; linear_before_reset)
//                     hh = tanh(gh)                       (rh null: gh already holds (r.Ht-1) Rh^T)
//   h = (1 - z) * hh + z * h_prev;   y (may be null) = h.
struct RnnGruCell {
  int64_t n = 0;
  const float *gz = nullptr, *gr = nullptr, *gh = nullptr, *rh = nullptr;
  const float* h_prev = nullptr;
  float* h = nullptr;
  float* y = nullptr;
};

struct RnnIsaKernels {
  const char* name = "";
  int lanes = 0;  // floats per vector
  void (*panel_product)(const RnnPanelCall& call) = nullptr;
  void (*sigmoid)(float* v, int64_t n) = nullptr;
  void (*tanh)(float* v, int64_t n) = nullptr;
  void (*lstm_cell)(const RnnLstmCell& cell) = nullptr;
  void (*gru_cell)(const RnnGruCell& cell) = nullptr;
  // out[j] = sigmoid(r[j]) * h[j]: the reset-gated state of a GRU without
  // linear_before_reset (default activation, no clip).
  void (*gru_reset)(const float* r, const float* h, float* out, int64_t n) = nullptr;
};

const RnnIsaKernels& rnn_isa_kernels();

// The tables themselves; the wide ones exist only on x86-64 and return nullptr
// elsewhere or when the CPU lacks the instructions. For tests and benchmarks.
const RnnIsaKernels* rnn_kernels_avx512();
const RnnIsaKernels* rnn_kernels_avx2();
const RnnIsaKernels* rnn_kernels_generic();

}  // namespace dj
