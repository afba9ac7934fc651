// RnnPanelWeights: an f32 weight tensor of a recurrent op (W [dirs, G*hidden, K] or
// R [dirs, G*hidden, hidden]) packed once into unit panels, the layout the product
// kernels of RnnIsa.h stream through.
//
// A panel holds `units_per_panel` = unit_vecs * lanes hidden units of every gate:
// for each k in [0, K), one row of G * unit_vecs vectors of `lanes` floats, vector
// slot j = g * unit_vecs + v holding W[g*hidden + u][k] for the units
// u = p * units_per_panel + v * lanes + [0, lanes). So one panel is all the weights a
// block of units needs in every gate (a step's work splits by unit blocks with no
// write shared between them), and its K rows are one contiguous stream.
//
// Invariants: each direction is ceil(hidden / units_per_panel) panels of
// K * G * units_per_panel floats; units past `hidden` are zero; the buffer is
// 64-byte aligned and immutable once made. unit_vecs is chosen from G so that a
// panel row is 3 or 4 vectors (G=4, 3: 1; G=2: 2; G=1: 4).
#pragma once

#include <cstdint>
#include <memory>

#include "runtime/Tensor.h"

namespace dj {

struct RnnPanelLayout {
  int64_t directions = 1;
  int64_t depth = 0;   // K: the input size for W, hidden for R
  int64_t hidden = 0;
  int gates = 1;
  int lanes = 4;       // floats per vector of the ISA that reads the panels
  int unit_vecs = 1;

  int64_t units_per_panel() const { return int64_t{unit_vecs} * lanes; }
  int64_t panels() const { return (hidden + units_per_panel() - 1) / units_per_panel(); }
  int64_t row_floats() const { return int64_t{gates} * units_per_panel(); }
  int64_t panel_floats() const { return depth * row_floats(); }
  int64_t direction_floats() const { return panels() * panel_floats(); }
};

class RnnPanelWeights {
 public:
  explicit RnnPanelWeights(const RnnPanelLayout& layout);  // throws AllocationError
  const RnnPanelLayout& layout() const { return layout_; }
  const float* direction(int64_t d) const { return data_.get() + d * layout_.direction_floats(); }
  float* mutable_direction(int64_t d) { return data_.get() + d * layout_.direction_floats(); }
  size_t bytes() const { return static_cast<size_t>(layout_.directions * layout_.direction_floats()) * sizeof(float); }
  // No weight is inf or NaN: a product with a zero operand is then exactly zero.
  bool all_finite() const { return all_finite_; }
  void set_all_finite(bool finite) { all_finite_ = finite; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  RnnPanelLayout layout_;
  std::unique_ptr<float, Free> data_;
  bool all_finite_ = false;
};

// Vector slots per gate in a panel row for G gates (see the invariants above).
int rnn_panel_unit_vecs(int gates);

// Packs `w` ([dirs, gates * hidden, K], any float dtype, contiguous) for vectors of
// `lanes` floats.
std::shared_ptr<const RnnPanelWeights> pack_rnn_panels(const Tensor& w, int gates, int lanes);

}  // namespace dj
