// Conv: 1-D/2-D/3-D convolution with groups, pads / auto_pad, strides, dilations
// and an optional bias.
//
// f32 takes one of three paths, all run as 3-D (ConvGeometry's normalize_to_3d):
//   pointwise (1x1, stride 1, no pad): Y[n,g] = W[g] * X[n,g], one batched GEMM;
//   one input channel per group (depthwise, with or without a multiplier): direct
//     loops, one output plane per task, the inner loop over a contiguous output row;
//   otherwise im2col + GEMM per (image, group), over chunks of output positions so
//     the column buffer stays bounded (kColumnBudget floats).
// f16/bf16 are staged through f32 (ConvFloatStaging.h); f64 runs a plain direct loop,
// as does conv_i32 (the integer core of ConvInteger and QLinearConv).
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <memory>
#include <cstring>
#include <type_traits>
#include <vector>

#include "runtime/ops/ConvFloatStaging.h"
#include "runtime/ops/ConvGeometry.h"
#include "runtime/ops/ConvPoolKernels.h"
#include "runtime/ops/GemmKernel.h"
#include "runtime/ops/GemmWeightCache.h"

namespace dj {
namespace {

constexpr int64_t kColumnBudget = 1 << 21;  // floats in one im2col chunk (8 MiB)
constexpr int64_t kParallelWork = 1 << 15;  // MACs below which a conv runs serially

struct ConvProblem {
  int64_t N = 0, C = 0, M = 0, G = 1, Cg = 0, Mg = 0;
  WindowGeometry g;  // normalized to 3-D
  Shape out_shape;   // [N, M, out...] in the op's own rank
  int64_t in_vol = 0, out_vol = 0, kvol = 0;
};

Expected<ConvProblem> plan_conv(const Node& node, const Shape& x, const Shape& w) {
  DJ_CHECK(x.size() >= 3, InvalidArgument, "Conv: X must be [N, C, spatial...], got ", shape_to_string(x));
  DJ_CHECK(w.size() == x.size(), InvalidArgument, "Conv: W ", shape_to_string(w), " must have the rank of X ",
           shape_to_string(x));
  const size_t r = x.size() - 2;
  DJ_CHECK(r <= 3, Unsupported, "Conv: ", r, " spatial dims (at most 3 are supported)");
  ConvProblem p;
  p.N = x[0];
  p.C = x[1];
  p.M = w[0];
  p.G = node.attr_int("group", 1);
  DJ_CHECK(p.G >= 1, InvalidArgument, "Conv: group must be >= 1, got ", p.G);
  p.Cg = w[1];
  DJ_CHECK(p.C == p.Cg * p.G, InvalidArgument, "Conv: X has ", p.C, " channels but W ", shape_to_string(w),
           " with group ", p.G, " expects ", p.Cg * p.G);
  DJ_CHECK(p.M % p.G == 0, InvalidArgument, "Conv: ", p.M, " output channels do not divide into ", p.G, " groups");
  p.Mg = p.M / p.G;
  const std::vector<int64_t> w_kernel(w.begin() + 2, w.end());
  DJ_ASSIGN_OR_RETURN(WindowAttrs attrs, read_window_attrs(node, "Conv", r, w_kernel));
  DJ_CHECK(attrs.kernel == w_kernel, InvalidArgument, "Conv: kernel_shape does not match W ", shape_to_string(w));
  attrs.ceil_mode = false;
  DJ_ASSIGN_OR_RETURN(p.g, forward_geometry(attrs, "Conv", std::vector<int64_t>(x.begin() + 2, x.end())));
  p.out_shape = {p.N, p.M};
  p.out_shape.insert(p.out_shape.end(), p.g.out.begin(), p.g.out.end());
  normalize_to_3d(p.g);
  p.in_vol = p.g.in[0] * p.g.in[1] * p.g.in[2];
  p.out_vol = p.g.out[0] * p.g.out[1] * p.g.out[2];
  p.kvol = p.g.kernel[0] * p.g.kernel[1] * p.g.kernel[2];
  return p;
}

// The output range [lo, hi) whose input index o*stride + offset lies in [0, size).
inline void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t out, int64_t& lo, int64_t& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = size - offset <= 0 ? 0 : (size - offset - 1) / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

// Columns [p0, p1) (flattened output positions) of the im2col matrix of channels
// [c0, c1) of one group's input: row (c, kd, kh, kw) of `col` has p1-p0 entries.
void im2col_range(const ConvProblem& p, const float* x, int64_t c0, int64_t c1, int64_t p0, int64_t p1, float* col) {
  const WindowGeometry& g = p.g;
  const int64_t Ho = g.out[1], Wo = g.out[2];
  const int64_t Di = g.in[0], Hi = g.in[1], Wi = g.in[2];
  const int64_t np = p1 - p0;
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          float* dst = col + (((c * g.kernel[0] + kd) * g.kernel[1] + kh) * g.kernel[2] + kw) * np;
          const int64_t w_off = kw * g.dilation[2] - g.pad_begin[2];
          int64_t lo, hi;
          valid_range(w_off, g.stride[2], Wi, Wo, lo, hi);
          int64_t od = p0 / (Ho * Wo), oh = (p0 / Wo) % Ho, ow = p0 % Wo;
          for (int64_t pos = p0; pos < p1;) {
            const int64_t run = std::min(Wo - ow, p1 - pos);
            const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
            const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
            if (id < 0 || id >= Di || ih < 0 || ih >= Hi) {
              std::fill(dst, dst + run, 0.0f);
            } else {
              const float* src = x + ((c * Di + id) * Hi + ih) * Wi + w_off;
              const int64_t a = std::clamp(lo, ow, ow + run), b = std::clamp(hi, a, ow + run);
              std::fill(dst, dst + (a - ow), 0.0f);
              if (g.stride[2] == 1) {
                std::memcpy(dst + (a - ow), src + a, static_cast<size_t>(b - a) * sizeof(float));
              } else {
                for (int64_t o = a; o < b; ++o) dst[o - ow] = src[o * g.stride[2]];
              }
              std::fill(dst + (b - ow), dst + run, 0.0f);
            }
            dst += run;
            pos += run;
            ow = 0;
            if (++oh == Ho) {
              oh = 0;
              ++od;
            }
          }
        }
}

// One output plane of a conv whose group has a single input channel `xc`:
// y += sum over taps of w[tap] * shifted input. `y` holds the bias (or 0) on entry.
void direct_single_channel_plane(const ConvProblem& p, const float* xc, const float* w, float* y) {
  const WindowGeometry& g = p.g;
  const int64_t Do = g.out[0], Ho = g.out[1], Wo = g.out[2];
  const int64_t Di = g.in[0], Hi = g.in[1], Wi = g.in[2];
  const int64_t sw = g.stride[2];
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
        const float wt = w[(kd * g.kernel[1] + kh) * g.kernel[2] + kw];
        const int64_t w_off = kw * g.dilation[2] - g.pad_begin[2];
        int64_t lo, hi;
        valid_range(w_off, sw, Wi, Wo, lo, hi);
        for (int64_t od = 0; od < Do; ++od) {
          const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
          if (id < 0 || id >= Di) continue;
          for (int64_t oh = 0; oh < Ho; ++oh) {
            const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
            if (ih < 0 || ih >= Hi) continue;
            const float* src = xc + (id * Hi + ih) * Wi + w_off;
            float* dst = y + (od * Ho + oh) * Wo;
            if (sw == 1) {
              for (int64_t o = lo; o < hi; ++o) dst[o] += wt * src[o];
            } else {
              for (int64_t o = lo; o < hi; ++o) dst[o] += wt * src[o * sw];
            }
          }
        }
      }
}

thread_local std::vector<float> t_columns;

// `packed_w`: the weights as the GEMM's packed left operand (one group only), or null.
void conv_f32(const ConvProblem& p, const float* x, const float* w, const float* bias, float* y,
              const PackedGemmA* packed_w) {
  const int64_t planes = p.N * p.M;
  const int threads = tbb::this_task_arena::max_concurrency();
  const int64_t macs = p.N * p.M * p.out_vol * p.Cg * p.kvol;
  const bool parallel = macs >= kParallelWork && threads > 1;
  // Bias first: every path accumulates onto it (beta = 1) or overwrites (beta = 0).
  if (bias)
    for (int64_t plane = 0; plane < planes; ++plane) std::fill(y + plane * p.out_vol, y + (plane + 1) * p.out_vol, bias[plane % p.M]);
  const float beta = bias ? 1.0f : 0.0f;

  const bool pointwise = p.kvol == 1 && p.g.stride == std::vector<int64_t>{1, 1, 1} &&
                         p.g.pad_begin == std::vector<int64_t>{0, 0, 0} && p.in_vol == p.out_vol;
  if (pointwise) {
    const int64_t batch = p.N * p.G;
    std::vector<int64_t> a_off(batch), b_off(batch), c_off(batch);
    for (int64_t n = 0; n < p.N; ++n)
      for (int64_t gi = 0; gi < p.G; ++gi) {
        a_off[n * p.G + gi] = gi * p.Mg * p.Cg;
        b_off[n * p.G + gi] = (n * p.C + gi * p.Cg) * p.in_vol;
        c_off[n * p.G + gi] = (n * p.M + gi * p.Mg) * p.out_vol;
      }
    const bool one = batch == 1;  // one product: offsets all zero, the packed weights apply
    gemm_f32_batched_with(gemm_isa_kernels(), parallel, batch, p.Mg, p.out_vol, p.Cg, 1.0f, {w, p.Cg, 1},
                          one ? nullptr : a_off.data(), {x, p.in_vol, 1}, one ? nullptr : b_off.data(), beta, y,
                          p.out_vol, one ? nullptr : c_off.data(), nullptr, one ? packed_w : nullptr);
    return;
  }

  if (p.Cg == 1) {
    if (!bias) std::fill(y, y + planes * p.out_vol, 0.0f);
    auto run = [&](int64_t plane) {
      const int64_t n = plane / p.M, m = plane % p.M, gi = m / p.Mg;
      direct_single_channel_plane(p, x + (n * p.C + gi) * p.in_vol, w + m * p.kvol, y + plane * p.out_vol);
    };
    if (parallel) {
      tbb::parallel_for(tbb::blocked_range<int64_t>(0, planes), [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t i = r.begin(); i != r.end(); ++i) run(i);
      });
    } else {
      for (int64_t i = 0; i < planes; ++i) run(i);
    }
    return;
  }

  const int64_t K = p.Cg * p.kvol;
  const int64_t chunk = std::clamp<int64_t>(kColumnBudget / std::max<int64_t>(K, 1), 64, p.out_vol);
  const int64_t tasks = p.N * p.G;
  // Many (image, group) pairs: one per thread, each serial inside. Few: one at a
  // time, with the im2col and the GEMM parallel inside.
  const bool outer_parallel = parallel && tasks >= 2 * threads;
  std::unique_ptr<float[]> shared_columns;  // for the tasks run one at a time (not zeroed: im2col writes it all)
  size_t shared_capacity = 0;
  auto run_task = [&](int64_t t, bool inner_parallel) {
    const int64_t n = t / p.G, gi = t % p.G;
    const float* xg = x + (n * p.C + gi * p.Cg) * p.in_vol;
    const float* wg = w + gi * p.Mg * K;
    float* yg = y + (n * p.M + gi * p.Mg) * p.out_vol;
    // A task that waits on TBB (inner_parallel) may have other tasks run on its
    // thread meanwhile, so only serial tasks may use the thread's buffer.
    const size_t col_floats = static_cast<size_t>(K * chunk);
    float* col = nullptr;
    if (inner_parallel) {
      if (shared_capacity < col_floats) {
        shared_columns.reset(new float[col_floats]);
        shared_capacity = col_floats;
      }
      col = shared_columns.get();
    } else {
      if (t_columns.size() < col_floats) t_columns.resize(col_floats);
      col = t_columns.data();
    }
    for (int64_t p0 = 0; p0 < p.out_vol; p0 += chunk) {
      const int64_t p1 = std::min(p.out_vol, p0 + chunk), np = p1 - p0;
      if (inner_parallel && K * np >= kParallelWork) {
        tbb::parallel_for(tbb::blocked_range<int64_t>(0, p.Cg), [&](const tbb::blocked_range<int64_t>& r) {
          im2col_range(p, xg, r.begin(), r.end(), p0, p1, col);
        });
      } else {
        im2col_range(p, xg, 0, p.Cg, p0, p1, col);
      }
      gemm_f32_batched_with(gemm_isa_kernels(), inner_parallel, 1, p.Mg, np, K, 1.0f, {wg, K, 1}, nullptr,
                            {col, np, 1}, nullptr, beta, yg + p0, p.out_vol, nullptr, nullptr,
                            p.G == 1 ? packed_w : nullptr);
    }
  };
  if (outer_parallel) {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, tasks), [&](const tbb::blocked_range<int64_t>& r) {
      for (int64_t t = r.begin(); t != r.end(); ++t) run_task(t, false);
    });
  } else {
    for (int64_t t = 0; t < tasks; ++t) run_task(t, parallel);
  }
}

// Plain direct convolution (f64, and i32 for the quantized convs): every output
// element sums its window, integers in 64 bits.
template <typename T>
void conv_direct(const ConvProblem& p, const T* x, const T* w, const T* bias, T* y) {
  using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, T>;
  const WindowGeometry& g = p.g;
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t m = 0; m < p.M; ++m) {
      const int64_t gi = m / p.Mg;
      T* out = y + (n * p.M + m) * p.out_vol;
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh)
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            Acc s = bias ? static_cast<Acc>(bias[m]) : Acc(0);
            for (int64_t c = 0; c < p.Cg; ++c) {
              const T* xc = x + (n * p.C + gi * p.Cg + c) * p.in_vol;
              const T* wc = w + (m * p.Cg + c) * p.kvol;
              for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
                const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
                if (id < 0 || id >= g.in[0]) continue;
                for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                  const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
                  if (ih < 0 || ih >= g.in[1]) continue;
                  for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                    const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
                    if (iw < 0 || iw >= g.in[2]) continue;
                    s += static_cast<Acc>(xc[(id * g.in[1] + ih) * g.in[2] + iw]) *
                         static_cast<Acc>(wc[(kd * g.kernel[1] + kh) * g.kernel[2] + kw]);
                  }
                }
              }
            }
            out[(od * g.out[1] + oh) * g.out[2] + ow] = static_cast<T>(s);
          }
    }
}

}  // namespace

Status conv_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const DType dt = x.dtype();
  DJ_CHECK(w.dtype() == dt, InvalidArgument, "Conv: X is ", dtype_name(dt), " but W is ", dtype_name(w.dtype()));
  DJ_CHECK(dt == DType::F32 || dt == DType::F16 || dt == DType::BF16 || dt == DType::F64, Unsupported,
           "Conv: dtype ", dtype_name(dt), " is not supported");
  DJ_ASSIGN_OR_RETURN(ConvProblem p, plan_conv(ctx.node(), x.shape(), w.shape()));
  const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (b) {
    DJ_CHECK(b->dtype() == dt && b->numel() == p.M, InvalidArgument, "Conv: B must be ", dtype_name(dt), "[", p.M,
             "], got ", b->describe());
  }
  if (shape_numel(p.out_shape) == 0) {
    ctx.allocate_output(0, dt, p.out_shape);
    return Status::ok_status();
  }
  if (dt == DType::F64) {
    Tensor& y = ctx.allocate_output(0, dt, p.out_shape);
    conv_direct<double>(p, x.data<double>(), w.data<double>(), b ? b->data<double>() : nullptr, y.data<double>());
    return Status::ok_status();
  }
  const Tensor xf = widen_to_f32(x), wf = widen_to_f32(w), bf = b ? widen_to_f32(*b) : Tensor();
  Tensor yf = Tensor::empty(DType::F32, p.out_shape);
  // Constant weights of a one-group Conv: packed once as the GEMM's left operand.
  const auto packed_w = p.G == 1 ? packed_gemm_left_weights(wf, p.M, p.Cg * p.kvol) : nullptr;
  conv_f32(p, xf.data<float>(), wf.data<float>(), b ? bf.data<float>() : nullptr, yf.data<float>(), packed_w.get());
  ctx.set_output(0, narrow_from_f32(yf, dt));
  return Status::ok_status();
}

Expected<Tensor> conv_i32(const Node& node, const Tensor& x, const Tensor& w, const Tensor* bias) {
  DJ_ASSIGN_OR_RETURN(ConvProblem p, plan_conv(node, x.shape(), w.shape()));
  if (bias) {
    DJ_CHECK(bias->dtype() == DType::I32 && bias->numel() == p.M, InvalidArgument, "the bias must be i32[", p.M,
             "], got ", bias->describe());
  }
  Tensor y = Tensor::empty(DType::I32, p.out_shape);
  if (y.numel() > 0)
    conv_direct<int32_t>(p, x.data<int32_t>(), w.data<int32_t>(), bias ? bias->data<int32_t>() : nullptr,
                         y.data<int32_t>());
  return y;
}

std::optional<SymShape> conv_output_sym_shape(ShapeContext& ctx, const std::optional<SymShape>& xs,
                                              const std::optional<SymShape>& ws) {
  if (!xs || !ws || xs->size() < 3 || ws->size() != xs->size()) return std::nullopt;
  const size_t r = xs->size() - 2;
  std::vector<int64_t> w_kernel;
  for (size_t i = 2; i < ws->size(); ++i) w_kernel.push_back((*ws)[i].is_const() ? (*ws)[i].const_value() : -1);
  SymShape out{(*xs)[0], (*ws)[0]};
  const bool kernel_known = ctx.node().has_attr("kernel_shape") ||
                            std::find(w_kernel.begin(), w_kernel.end(), -1) == w_kernel.end();
  Expected<WindowAttrs> attrs =
      read_window_attrs(ctx.node(), "Conv", r, kernel_known ? w_kernel : std::vector<int64_t>(r, 1));
  if (!attrs.ok()) return std::nullopt;  // the kernel reports it
  if (!kernel_known) {
    for (size_t i = 0; i < r; ++i) out.push_back(ctx.fresh_dim("conv"));
    return out;
  }
  attrs->ceil_mode = false;
  auto spatial = forward_output_sym(*attrs, SymShape(xs->begin() + 2, xs->end()));
  if (!spatial) return std::nullopt;
  out.insert(out.end(), spatial->begin(), spatial->end());
  return out;
}

Status conv_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), conv_output_sym_shape(ctx, ctx.input_shape(0), ctx.input_shape(1)));
  return Status::ok_status();
}

}  // namespace dj
