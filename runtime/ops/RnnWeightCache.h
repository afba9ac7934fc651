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
// Invariants: an entry holds a reference to the source tensor, so its memory
// cannot be freed and reused by another tensor while the entry lives (the key
// stays unambiguous); tensors of the runtime are never written after they are
// made. Borrowed tensors (caller memory, which the caller may rewrite) are never
// cached. The cache is bounded (kMaxBytes of prepared data, least recently used
// out first) and thread-safe; a returned buffer stays valid while held.
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
