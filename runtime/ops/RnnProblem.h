// RnnProblem: what LSTM, GRU and RNN share — their attributes (direction,
// hidden_size, layout, clip, activations), the checks of their inputs, packing
// the inputs into compute-type buffers, and writing results back.
//
// Invariants of a packed problem: every buffer is in layout 0 (time-major:
// X [seq, batch, input], states [num_directions, batch, hidden]) whatever the
// node's `layout`; absent optional inputs are zeros (B, initial_h,
// initial_c, P) or the full length (sequence_lens). The compute type C is double
// for f64 inputs and float for f32/f16/bf16. Weights are in the form C's products
// read (RnnGateProduct.h), prepared once per weight tensor (RnnWeightCache.h).
//
// Input order (ONNX): X, W, R, B, sequence_lens, initial_h, initial_c (LSTM), P (LSTM).
// Output order: Y [seq, num_directions, batch, hidden], Y_h, Y_c (LSTM).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"
#include "runtime/ops/RnnActivation.h"
#include "runtime/ops/RnnGateProduct.h"

namespace dj {

struct RnnConfig {
  const char* op = "";
  int gates = 1;                  // 4 for LSTM, 3 for GRU, 1 for RNN
  int64_t hidden = 0;             // 0 until known (the attribute, else R's last dim)
  int num_directions = 1;
  bool reverse = false;           // direction == "reverse"
  int64_t layout = 0;
  bool has_clip = false;
  float clip = 0;
  int activations_per_direction = 1;
  std::vector<RnnActivation> activations;  // num_directions * activations_per_direction
  const RnnActivation& activation(int direction, int i) const {
    return activations[static_cast<size_t>(direction * activations_per_direction + i)];
  }
};

// Reads the attributes; default_activations are the per-direction defaults
// (e.g. {"Sigmoid", "Tanh", "Tanh"} for LSTM).
Expected<RnnConfig> parse_rnn_config(const Node& node, const char* op, int gates,
                                     const std::vector<std::string>& default_activations);

template <typename C>
struct RnnPacked {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0;
  int num_directions = 1;
  int gates = 1;
  std::vector<C> x;             // [seq, batch, input]
  RnnGateWeights<C> w;          // W: depth input
  RnnGateWeights<C> r;          // R: depth hidden
  std::vector<C> bias;          // [num_directions, 2*G*hidden]: Wb then Rb
  std::vector<int64_t> seq_lens;  // [batch]
  bool full_length = true;      // every sequence has length seq
  std::vector<C> initial_h;     // [num_directions, batch, hidden]
  std::vector<C> initial_c;     // LSTM: [num_directions, batch, hidden]
  std::vector<C> peephole;      // LSTM: [num_directions, 3*hidden]
  bool has_peephole = false;    // P given and not all zeros

  int64_t gate_width() const { return hidden * gates; }
  bool active(int64_t t, int64_t b) const { return full_length || t < seq_lens[static_cast<size_t>(b)]; }
};

// Checks and packs the inputs of ctx (fills cfg.hidden if the attribute was absent).
template <typename C>
Expected<RnnPacked<C>> pack_rnn_inputs(const KernelContext& ctx, RnnConfig& cfg);

template <typename C>
struct RnnResult {
  std::vector<C> y;    // [seq, num_directions, batch, hidden] (only when Y is wanted)
  std::vector<C> y_h;  // [num_directions, batch, hidden]
  std::vector<C> y_c;  // LSTM: [num_directions, batch, hidden]
};

// Writes Y, Y_h and (if y_c is filled) Y_c in the node's layout and `dtype`.
template <typename C>
void write_rnn_outputs(KernelContext& ctx, const RnnConfig& cfg, const RnnPacked<C>& p, const RnnResult<C>& r,
                       DType dtype);

// The input projection of every time step of direction d at once:
//   out[seq*batch, G*hidden] = X W_d^T + Wb_d + Rb_d[:rb_columns]
// (the recurrence biases of the first rb_columns gate columns are folded in; GRU
// with linear_before_reset keeps its hidden-gate Rb out of this sum).
template <typename C>
std::vector<C> project_inputs(const RnnPacked<C>& p, int d, int64_t rb_columns);

// The load-time shape function shared by the three ops.
Status infer_rnn_shapes(ShapeContext& ctx);

}  // namespace dj
