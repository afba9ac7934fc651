// ConvGeometry: the sliding-window arithmetic shared by Conv, ConvTranspose and the
// pooling ops — kernel, strides, dilations, pads (explicit or auto_pad) and output
// sizes, both at run time (int64) and at load time (SymExpr).
//
// Conventions (ONNX): pads are [begin_0.., end_0..]; auto_pad SAME_UPPER puts the
// odd padding at the end, SAME_LOWER at the beginning, VALID pads nothing. With
// ceil_mode (pools), a last window that would start in the end padding is dropped
// (the rule PyTorch and ONNX Runtime use).
//
// Kernels run every op as 3-D: normalize_to_3d() prepends unit dims (kernel 1,
// stride 1, pad 0) so one loop nest serves 1-D, 2-D and 3-D.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Status.h"
#include "runtime/SymExpr.h"

namespace dj {

struct WindowAttrs {
  std::vector<int64_t> kernel, stride, dilation, pad_begin, pad_end;
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
};

// Reads the window attributes of `node` for `spatial_rank` dims. `kernel` is the
// kernel_shape attribute if present, else `kernel_from_weight` (Conv), else an error.
Expected<WindowAttrs> read_window_attrs(const Node& node, const char* op, size_t spatial_rank,
                                        const std::vector<int64_t>& kernel_from_weight = {});

struct WindowGeometry {
  std::vector<int64_t> in, kernel, stride, dilation, pad_begin, pad_end, out;
};

// Output sizes and effective pads of a forward window op (Conv, pools).
Expected<WindowGeometry> forward_geometry(const WindowAttrs& attrs, const char* op, const std::vector<int64_t>& in);

// The same at load time; nullopt for a dim that cannot be expressed (e.g. auto_pad
// with ceil_mode quirks on symbolic sizes never arise, but a kernel larger than a
// constant input does).
std::optional<std::vector<SymExpr>> forward_output_sym(const WindowAttrs& attrs, const std::vector<SymExpr>& in);

// Pads `g` (and every vector in it) to exactly 3 spatial dims by prepending unit dims.
void normalize_to_3d(WindowGeometry& g);

}  // namespace dj
