// PreparedWeights: model weights in the forms kernels read them — transposed,
// packed in panels — made once per weight tensor instead of on every call, in one
// process-wide LRU shared by every kernel that prepares weights (RnnWeightCache.h,
// GemmWeightCache.h).
//
// Why: preparing a weight can cost as much as using it. An LSTM with hidden 512 has
// a 4 MB R whose transpose cost more than a 40-step recurrence; the GEMM of a
// mixture-of-experts layer with 32 tokens per expert spent 37% of its time packing
// its constant 256x1024 weight into panels.
//
// Invariants: an entry holds a reference to the source tensor, so its memory
// cannot be freed and reused by another tensor while the entry lives (the key —
// data address, dtype, shape, form — stays unambiguous); tensors of the runtime are
// never written after they are made. Borrowed tensors (caller memory, which the
// caller may rewrite) are never cached. The cache is bounded (kMaxBytes of prepared
// data, least recently used out first; a form larger than that is made and not
// kept) and thread-safe; a returned form stays valid while held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "runtime/Tensor.h"

namespace dj {

// Which prepared form: `kind` is a client's own constant (distinct across clients),
// `a`, `b`, `c` its parameters (gates, lanes, a transpose flag, an ISA's panel width).
struct PreparedForm {
  int kind = 0;
  int64_t a = 0, b = 0, c = 0;
  bool operator==(const PreparedForm&) const = default;
};

// Form kinds, one per client.
enum PreparedKind : int { kRnnTransposedF32 = 1, kRnnTransposedF64, kRnnPanels, kGemmPanels, kGemmPanelsA };

// The prepared form of `w` (made contiguous first) from the cache, or made by `make`
// (which reports the bytes it holds) and kept.
std::shared_ptr<const void> prepared_weights(
    const Tensor& w, const PreparedForm& form,
    const std::function<std::shared_ptr<const void>(const Tensor& contiguous, size_t& bytes)>& make);

// Entries held now, and of them those of one kind (for tests).
size_t prepared_weight_entries();
size_t prepared_weight_entries(int kind);

}  // namespace dj
