// Broadcast shape computation.
#include "runtime/ops/Broadcast.h"

#include <algorithm>

namespace dj {

Expected<Shape> broadcast_shapes(const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const auto& s : shapes) {
    size_t off = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[off + i];
      int64_t d = s[i];
      if (d == o || d == 1) continue;
      if (o == 1) { o = d; continue; }
      std::string all;
      for (const auto& x : shapes) all += shape_to_string(x) + " ";
      return make_error(StatusCode::InvalidArgument, "shapes cannot be broadcast: ", all);
    }
  }
  return out;
}

std::optional<SymShape> broadcast_sym_shapes(const std::vector<std::optional<SymShape>>& shapes) {
  size_t rank = 0;
  for (const auto& s : shapes) {
    if (!s) return std::nullopt;
    rank = std::max(rank, s->size());
  }
  SymShape out(rank, SymExpr(1));
  for (const auto& s : shapes) {
    size_t off = rank - s->size();
    for (size_t i = 0; i < s->size(); ++i) {
      SymExpr& o = out[off + i];
      const SymExpr& d = (*s)[i];
      if (d.is_const() && d.const_value() == 1) continue;
      if (o.is_const() && o.const_value() == 1) { o = d; continue; }
      if (!o.is_const() && d.is_const()) o = d;  // a constant pins the symbolic dim
    }
  }
  return out;
}

Strides broadcast_strides(const Shape& in_shape, const Shape& out_shape) {
  Strides out(out_shape.size(), 0);
  Strides in_strides = contiguous_strides(in_shape);
  size_t off = out_shape.size() - in_shape.size();
  for (size_t i = 0; i < in_shape.size(); ++i)
    out[off + i] = (in_shape[i] == 1 && out_shape[off + i] != 1) ? 0 : in_strides[i];
  return out;
}

}  // namespace dj
