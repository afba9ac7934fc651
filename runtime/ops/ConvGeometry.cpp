// Window attributes and output-size arithmetic for Conv and pooling (see ConvGeometry.h).
#include "runtime/ops/ConvGeometry.h"

#include <algorithm>

namespace dj {

Expected<WindowAttrs> read_window_attrs(const Node& node, const char* op, size_t spatial_rank,
                                        const std::vector<int64_t>& kernel_from_weight) {
  WindowAttrs a;
  const size_t r = spatial_rank;
  a.kernel = node.has_attr("kernel_shape") ? node.attr_ints("kernel_shape") : kernel_from_weight;
  DJ_CHECK(a.kernel.size() == r, InvalidArgument, op, ": kernel_shape has ", a.kernel.size(),
           " dims but the input has ", r, " spatial dims");
  a.stride = node.attr_ints("strides", std::vector<int64_t>(r, 1));
  a.dilation = node.attr_ints("dilations", std::vector<int64_t>(r, 1));
  std::vector<int64_t> pads = node.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
  DJ_CHECK(a.stride.size() == r, InvalidArgument, op, ": strides has ", a.stride.size(), " entries, expected ", r);
  DJ_CHECK(a.dilation.size() == r, InvalidArgument, op, ": dilations has ", a.dilation.size(), " entries, expected ",
           r);
  DJ_CHECK(pads.size() == 2 * r, InvalidArgument, op, ": pads has ", pads.size(), " entries, expected ", 2 * r);
  for (size_t i = 0; i < r; ++i) {
    DJ_CHECK(a.kernel[i] >= 1, InvalidArgument, op, ": kernel size ", a.kernel[i], " in dim ", i, " must be >= 1");
    DJ_CHECK(a.stride[i] >= 1, InvalidArgument, op, ": stride ", a.stride[i], " in dim ", i, " must be >= 1");
    DJ_CHECK(a.dilation[i] >= 1, InvalidArgument, op, ": dilation ", a.dilation[i], " in dim ", i, " must be >= 1");
    DJ_CHECK(pads[i] >= 0 && pads[i + r] >= 0, InvalidArgument, op, ": negative pad in dim ", i);
  }
  a.pad_begin.assign(pads.begin(), pads.begin() + static_cast<long>(r));
  a.pad_end.assign(pads.begin() + static_cast<long>(r), pads.end());
  a.auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (a.auto_pad.empty()) a.auto_pad = "NOTSET";
  DJ_CHECK(a.auto_pad == "NOTSET" || a.auto_pad == "VALID" || a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER",
           InvalidArgument, op, ": unknown auto_pad '", a.auto_pad, "'");
  a.ceil_mode = node.attr_int("ceil_mode", 0) != 0;
  return a;
}

Expected<WindowGeometry> forward_geometry(const WindowAttrs& a, const char* op, const std::vector<int64_t>& in) {
  WindowGeometry g;
  const size_t r = a.kernel.size();
  DJ_CHECK(in.size() == r, InvalidArgument, op, ": input has ", in.size(), " spatial dims, kernel has ", r);
  g.in = in;
  g.kernel = a.kernel;
  g.stride = a.stride;
  g.dilation = a.dilation;
  g.pad_begin = a.pad_begin;
  g.pad_end = a.pad_end;
  g.out.resize(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t eff_k = (a.kernel[i] - 1) * a.dilation[i] + 1;
    const int64_t s = a.stride[i];
    if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      g.out[i] = (in[i] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (g.out[i] - 1) * s + eff_k - in[i]);
      const int64_t small = total / 2;
      g.pad_begin[i] = a.auto_pad == "SAME_UPPER" ? small : total - small;
      g.pad_end[i] = total - g.pad_begin[i];
      continue;
    }
    if (a.auto_pad == "VALID") g.pad_begin[i] = g.pad_end[i] = 0;
    const int64_t span = in[i] + g.pad_begin[i] + g.pad_end[i] - eff_k;
    DJ_CHECK(span >= 0, InvalidArgument, op, ": the window (", eff_k, " after dilation) is larger than the padded input (",
             in[i] + g.pad_begin[i] + g.pad_end[i], ") in spatial dim ", i);
    if (a.ceil_mode) {
      g.out[i] = (span + s - 1) / s + 1;
      if ((g.out[i] - 1) * s >= in[i] + g.pad_begin[i]) --g.out[i];  // last window would start in the end pad
    } else {
      g.out[i] = span / s + 1;
    }
  }
  return g;
}

std::optional<std::vector<SymExpr>> forward_output_sym(const WindowAttrs& a, const std::vector<SymExpr>& in) {
  const size_t r = a.kernel.size();
  if (in.size() != r) return std::nullopt;
  std::vector<SymExpr> out;
  for (size_t i = 0; i < r; ++i) {
    if (in[i].is_const()) {
      std::vector<int64_t> one_in{in[i].const_value()};
      WindowAttrs one{{a.kernel[i]}, {a.stride[i]}, {a.dilation[i]}, {a.pad_begin[i]}, {a.pad_end[i]}, a.auto_pad,
                      a.ceil_mode};
      Expected<WindowGeometry> g = forward_geometry(one, "", one_in);
      if (!g.ok()) return std::nullopt;
      out.push_back(SymExpr(g->out[0]));
      continue;
    }
    const int64_t eff_k = (a.kernel[i] - 1) * a.dilation[i] + 1;
    const SymExpr s(a.stride[i]);
    if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      out.push_back(SymExpr::ceil_div(in[i], s));
    } else if (a.ceil_mode) {
      return std::nullopt;  // the dropped-last-window rule needs the value
    } else {
      const int64_t pads = a.auto_pad == "VALID" ? 0 : a.pad_begin[i] + a.pad_end[i];
      out.push_back(SymExpr::floor_div(in[i] + SymExpr(pads - eff_k), s) + SymExpr(1));
    }
  }
  return out;
}

void normalize_to_3d(WindowGeometry& g) {
  while (g.in.size() < 3) {
    g.in.insert(g.in.begin(), 1);
    g.kernel.insert(g.kernel.begin(), 1);
    g.stride.insert(g.stride.begin(), 1);
    g.dilation.insert(g.dilation.begin(), 1);
    g.pad_begin.insert(g.pad_begin.begin(), 0);
    g.pad_end.insert(g.pad_end.begin(), 0);
    g.out.insert(g.out.begin(), 1);
  }
}

}  // namespace dj
