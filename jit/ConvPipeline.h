// ConvPipeline: f32 2-D convolution (ONNX Conv, NCHW) with a fused epilogue, as a
// scheduled Halide Func.
//
//   out(x, y, co, n) = epilogue(relu?(bias(co) + sum_{ci, ky, kx}
//        in(x*sw + kx*dw - pad_left, y*sh + ky*dh - pad_top, g(co)*Cg + ci, n) * w(kx, ky, ci, co)))
//
// Halide order (dim 0 innermost, HalideTensorBuffer reverses the tensor's dims): the
// input [N, C, H, W] is in(x, y, c, n), weights [Co, C/group, KH, KW] are
// w(kx, ky, ci, co), bias [Co] is bias(co), the output [N, Co, OH, OW] is
// out(x, y, co, n). g(co) = co / (Co/group), Cg = C/group. Reads outside the input's
// [0, W) x [0, H) are zero (the pads); the input Func is only read inside it.
// Every extent is compiled in as a constant: a kernel serves one ConvShape, and its
// asserts reject buffers of other sizes (unless asserts are off).
// Schedules, picked from the shape (both are correct for every valid shape):
//   RegisterTiled  output tiles of one vector of x (16 lanes with AVX-512) x 2 rows x
//                  8 output channels held in registers while the whole reduction runs
//                  over them (input channels innermost, in blocks that stay in L1),
//                  tasks over (n, channel blocks, row blocks). The input is copied once
//                  per call (a heap buffer) with the zero pads in place, so no tap
//                  checks bounds, and for strides split into stride phases, so every
//                  tap is a dense vector load (a 1x1/2 conv copies a quarter of its
//                  input). Only a 1x1/1 conv without pads reads its input in place.
//                  Tiles shift inwards at the edges; an output narrower than a vector
//                  (14x14, 7x7) is computed a full vector wide and stored masked.
//                  Every conv but the tiny ones (dense, grouped and depthwise).
//   Simple         tiny convs (below ~10^5 multiply-adds) and outputs under 4 columns:
//                  vectorized over x with guarded tails, parallel over (n, co).
// The input Func is inlined into the copy (or into the inner loop when there is no
// copy): a costly producer should be scheduled by the caller (e.g. compute_root).
// Parallel loops are Halide's, which OrcSession routes through TBB.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "Halide.h"
#include "runtime/Status.h"

namespace dj::jit {

struct ConvShape {
  int n = 1, c = 1, h = 1, w = 1;  // input [N, C, H, W]
  int co = 1, kh = 1, kw = 1;      // weights [Co, C/group, KH, KW]
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int group = 1;

  int out_h() const { return (h + pad_top + pad_bottom - dilation_h * (kh - 1) - 1) / stride_h + 1; }
  int out_w() const { return (w + pad_left + pad_right - dilation_w * (kw - 1) - 1) / stride_w + 1; }
  // Multiply-adds of one call (2 flops each).
  int64_t macs() const;
  std::string to_string() const;  // "1x32x112x112 * 64x32x3x3 s2 d1 p1,1,1,1 g1"
};

// Ok when the shape is a valid ONNX Conv that fits Halide's 32-bit indexing.
Status check_conv_shape(const ConvShape& shape);

enum class ConvSchedule { Auto, RegisterTiled, Simple };
const char* conv_schedule_name(ConvSchedule schedule);
ConvSchedule choose_conv_schedule(const ConvShape& shape);

struct ConvDefinition {
  Halide::Func input;    // input(x, y, c, n), read only inside [0, W) x [0, H)
  Halide::Func weights;  // weights(kx, ky, ci, co)
  Halide::Func bias;     // bias(co); leave undefined for none
  bool relu = false;
  // Applied last, e.g. a residual add and a ReLU: epilogue(value, x, y, co, n).
  // Must stay elementwise (it is recomputed where output tiles overlap).
  std::function<Halide::Expr(Halide::Expr value, Halide::Var x, Halide::Var y, Halide::Var co, Halide::Var n)>
      epilogue;
};

struct ConvPipeline {
  Halide::Func out;  // out(x, y, co, n), bounds fixed to [0,OW)x[0,OH)x[0,Co)x[0,N)
  ConvSchedule schedule = ConvSchedule::Auto;
};

// `force` overrides the choice (benchmarks and tests). Fails on an invalid shape or
// undefined / non-4-D input or weights Funcs.
Expected<ConvPipeline> build_conv2d(const ConvDefinition& def, const ConvShape& shape,
                                    ConvSchedule force = ConvSchedule::Auto);

}  // namespace dj::jit
