// Byte spans of tensors and of a model's constants (see CApiByteSpans.h).
#include "bindings/c/CApiByteSpans.h"

#include <algorithm>

namespace dj::capi {

ByteSpan byte_span(const Tensor& t) {
  if (!t.defined() || t.numel() == 0 || !t.raw_data()) return {};
  // Element offsets reachable from element 0: the lowest and highest over all indices.
  int64_t lo = 0, hi = 0;
  for (int d = 0; d < t.rank(); ++d) {
    int64_t reach = (t.shape()[d] - 1) * t.strides()[d];
    if (reach < 0) lo += reach; else hi += reach;
  }
  const int64_t es = static_cast<int64_t>(dtype_size(t.dtype()));
  const uintptr_t base = reinterpret_cast<uintptr_t>(t.raw_data());
  return {base + static_cast<uintptr_t>(lo * es), base + static_cast<uintptr_t>((hi + 1) * es)};
}

void ByteSpanSet::add(const ByteSpan& span) {
  if (!span.empty()) spans_.push_back(span);
}

void ByteSpanSet::finalize() {
  std::sort(spans_.begin(), spans_.end(), [](const ByteSpan& a, const ByteSpan& b) { return a.begin < b.begin; });
  std::vector<ByteSpan> merged;
  for (const ByteSpan& s : spans_) {
    if (!merged.empty() && s.begin <= merged.back().end)
      merged.back().end = std::max(merged.back().end, s.end);
    else
      merged.push_back(s);
  }
  spans_ = std::move(merged);
}

bool ByteSpanSet::overlaps(const ByteSpan& span) const {
  if (span.empty()) return false;
  // The first span that ends after span.begin is the only candidate (spans are disjoint and sorted).
  auto it = std::upper_bound(spans_.begin(), spans_.end(), span.begin,
                             [](uintptr_t value, const ByteSpan& s) { return value < s.end; });
  return it != spans_.end() && it->overlaps(span);
}

namespace {

void collect(const Graph& graph, ByteSpanSet& out) {
  for (const ValueInfo& v : graph.values) out.add(byte_span(v.constant));
  for (const Node& node : graph.nodes) {
    for (const auto& [key, attr] : node.attributes) {
      out.add(byte_span(attr.t));
      if (attr.g) collect(*attr.g, out);
    }
  }
}

}  // namespace

ByteSpanSet collect_constant_spans(const Graph& graph) {
  ByteSpanSet set;
  collect(graph, set);
  set.finalize();
  return set;
}

}  // namespace dj::capi
