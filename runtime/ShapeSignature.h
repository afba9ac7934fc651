// ShapeSignature: the concrete dtypes and shapes a region's inputs had on one
// execution, flattened to integers — the key the tracer counts by and, later, the
// key of a shape specialization and its guards.
//
// Encoding: for each input in Region::inputs order, one word (dtype << 8 | rank)
// followed by its dims. An undefined input (omitted optional) is the word -1.
// Words are compared exactly; the hash is only a fast filter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/Tensor.h"

namespace dj {

using SignatureWords = std::vector<int64_t>;

// One input of this dtype and shape (what a tensor of them would append).
inline void append_signature(SignatureWords& words, DType dtype, const Shape& shape) {
  words.push_back((static_cast<int64_t>(dtype) << 8) | static_cast<int64_t>(shape.size()));
  words.insert(words.end(), shape.begin(), shape.end());
}

inline void append_signature(SignatureWords& words, const Tensor& t) {
  if (!t.defined()) {
    words.push_back(-1);
    return;
  }
  append_signature(words, t.dtype(), t.shape());
}

inline uint64_t hash_signature(const int64_t* words, size_t n) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over 64-bit words, mixed
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<uint64_t>(words[i]) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 1099511628211ull;
  }
  return h;
}

// One input's entry in signature words: its dims are words[dims_offset, dims_offset + rank).
struct SignatureInput {
  bool present = false;  // false: an omitted optional input (the word -1)
  DType dtype = DType::F32;
  size_t rank = 0;
  size_t dims_offset = 0;
};

// Calls visit(const SignatureInput&) for each input in order; visit returns false
// to stop early. Returns false if the words end in the middle of an entry. The one
// place that knows the encoding besides append_signature.
template <typename Visit>
bool for_each_signature_input(const int64_t* words, size_t n, Visit&& visit) {
  size_t at = 0;
  while (at < n) {
    SignatureInput in;
    const int64_t head = words[at++];
    if (head >= 0) {
      in.present = true;
      in.dtype = static_cast<DType>(head >> 8);
      in.rank = static_cast<size_t>(head & 0xff);
      in.dims_offset = at;
      if (at + in.rank > n) return false;
      at += in.rank;
    }
    if (!visit(in)) return true;
  }
  return true;
}

// "4x16:f32, scalar:i64" — one entry per region input (a negative dim, a generic
// guard's wildcard, prints as '*').
std::string signature_to_string(const int64_t* words, size_t n);
inline std::string signature_to_string(const SignatureWords& w) { return signature_to_string(w.data(), w.size()); }

}  // namespace dj
