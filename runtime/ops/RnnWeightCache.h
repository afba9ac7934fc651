// RnnWeightCache: the recurrent ops' weights in the forms their kernels read —
// transposed (W^T, R^T per direction; the f64 path) or packed in unit panels
// (RnnPanelWeights.h; the f32 path) — made once per weight tensor instead of on
// every call.
//
// Why: an LSTM with hidden 512 has a 4 MB R; converting and transposing W and R
// on each call cost more than the whole recurrence of a 40-step sequence (54% of
// an LSTM run's time in a perf profile). Weights are model constants, so the
// prepared copy is kept, keyed by the tensor's data address, dtype, shape and the
// form asked for.
//
// The entries live in the process-wide PreparedWeights LRU (its invariants hold).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/Tensor.h"
#include "runtime/ops/RnnPanelWeights.h"

namespace dj {

// `w`: [directions, rows, cols] of a float dtype. Returns [directions, cols, rows]
// in compute type C (float or double).
template <typename C>
std::shared_ptr<const std::vector<C>> transposed_rnn_weights(const Tensor& w);

// `w`: [directions, gates * hidden, K] of a float dtype, packed for `lanes`-float vectors.
std::shared_ptr<const RnnPanelWeights> panel_rnn_weights(const Tensor& w, int gates, int lanes);

// Entries held now (for tests).
size_t rnn_weight_cache_entries();

}  // namespace dj
