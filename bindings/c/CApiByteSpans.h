// Byte spans of tensor memory, to tell whether two tensors may share bytes.
//
// dj_run hands out outputs the caller may write to and keep after freeing the
// inputs, so an output that shares memory with an input (Identity, Reshape), a
// model constant (an initializer routed to an output) or another output is copied
// first. A span is conservative: it covers every byte a (possibly strided)
// tensor can touch. ByteSpanSet answers "overlaps any?" in O(log n).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Tensor.h"

namespace dj::capi {

struct ByteSpan {
  uintptr_t begin = 0;
  uintptr_t end = 0;  // exclusive; begin == end for a tensor with no elements
  bool empty() const { return begin == end; }
  bool overlaps(const ByteSpan& o) const { return !empty() && !o.empty() && begin < o.end && o.begin < end; }
};

ByteSpan byte_span(const Tensor& t);

class ByteSpanSet {
 public:
  void add(const ByteSpan& span);
  void finalize();  // sorts and merges; call once after the last add
  bool overlaps(const ByteSpan& span) const;
  size_t size() const { return spans_.size(); }

 private:
  std::vector<ByteSpan> spans_;  // after finalize(): sorted, disjoint
};

// The spans of every constant tensor of `graph` and its subgraphs: initializers,
// Constant outputs and tensor attributes.
ByteSpanSet collect_constant_spans(const Graph& graph);

}  // namespace dj::capi
