// RnnWeightCache: the transposed weights (W^T, R^T per direction) of the
// recurrent ops, made once per weight tensor instead of on every call.
//
// Why: an LSTM with hidden 512 has a 4 MB R; converting and transposing W and R
// on each call cost more than the whole recurrence of a 40-step sequence (54% of
// an LSTM run's time in a perf profile). Weights are model constants, so the
// transposed copy is kept, keyed by the tensor's data address, dtype and shape.
//
// Invariants: an entry holds a reference to the source tensor, so its memory
// cannot be freed and reused by another tensor while the entry lives (the key
// stays unambiguous); tensors of the runtime are never written after they are
// made. Borrowed tensors (caller memory, which the caller may rewrite) are never
// cached. The cache is bounded (kMaxBytes of transposed data, least recently
// used out first) and thread-safe; the returned buffer stays valid while held.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/Tensor.h"

namespace dj {

// `w`: [directions, rows, cols] of a float dtype. Returns [directions, cols, rows]
// in compute type C (float or double).
template <typename C>
std::shared_ptr<const std::vector<C>> transposed_rnn_weights(const Tensor& w);

// Entries held now (for tests).
size_t rnn_weight_cache_entries();

}  // namespace dj
