// ConvTranspose: the gradient of Conv with respect to its input, as an op — groups,
// strides, dilations, pads / auto_pad, output_padding, output_shape, optional bias.
//
// Per (image, group): columns = W[g]^T * X[n,g] (one GEMM over a chunk of input
// positions), then col2im scatters each column entry to the output position
// i*stride - pad + k*dilation. Output sizes follow the ONNX spec:
//   out = stride*(in-1) + output_padding + (kernel-1)*dilation + 1 - pad_begin - pad_end
// and with output_shape (or SAME_* auto_pad, out = in*stride) the total padding is
// derived, SAME_UPPER putting the odd unit at the end. A negative total (the output
// asked for is larger than the full result) pads with zeros at the end.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <vector>

#include "runtime/ops/ConvFloatStaging.h"
#include "runtime/ops/ConvPoolKernels.h"
#include "runtime/ops/GemmKernel.h"

namespace dj {
namespace {

constexpr int64_t kColumnBudget = 1 << 21;  // floats in one column chunk (8 MiB)
constexpr int64_t kParallelWork = 1 << 15;

struct ConvTransposeProblem {
  int64_t N = 0, C = 0, M = 0, G = 1, Cg = 0, Mg = 0;
  std::vector<int64_t> in, kernel, stride, dilation, pad_begin, out;  // 3-D
  Shape out_shape;
  int64_t in_vol = 0, out_vol = 0, kvol = 0;
};

template <typename Int>
std::vector<int64_t> attr_or(const Node& node, const char* name, size_t r, Int fallback) {
  return node.attr_ints(name, std::vector<int64_t>(r, static_cast<int64_t>(fallback)));
}

// Spatial output sizes and begin pads. `x`, `w` may hold -1 for unknown dims when
// called at load time (then the affected outputs are -1).
Expected<ConvTransposeProblem> plan_conv_transpose(const Node& node, const Shape& x, const Shape& w) {
  DJ_CHECK(x.size() >= 3, InvalidArgument, "ConvTranspose: X must be [N, C, spatial...], got ", shape_to_string(x));
  DJ_CHECK(w.size() == x.size(), InvalidArgument, "ConvTranspose: W ", shape_to_string(w),
           " must have the rank of X ", shape_to_string(x));
  const size_t r = x.size() - 2;
  DJ_CHECK(r <= 3, Unsupported, "ConvTranspose: ", r, " spatial dims (at most 3 are supported)");
  ConvTransposeProblem p;
  p.N = x[0];
  p.C = x[1];
  p.G = node.attr_int("group", 1);
  DJ_CHECK(p.G >= 1, InvalidArgument, "ConvTranspose: group must be >= 1, got ", p.G);
  DJ_CHECK(w[0] == p.C || w[0] < 0 || p.C < 0, InvalidArgument, "ConvTranspose: X has ", p.C,
           " channels but W ", shape_to_string(w), " expects ", w[0]);
  DJ_CHECK(p.C < 0 || p.C % p.G == 0, InvalidArgument, "ConvTranspose: ", p.C, " channels do not divide into ",
           p.G, " groups");
  p.Cg = p.C < 0 ? -1 : p.C / p.G;
  p.Mg = w[1];
  p.M = p.Mg < 0 ? -1 : p.Mg * p.G;
  const std::vector<int64_t> w_kernel(w.begin() + 2, w.end());
  const std::vector<int64_t> kernel = node.has_attr("kernel_shape") ? node.attr_ints("kernel_shape") : w_kernel;
  const auto stride = attr_or(node, "strides", r, 1);
  const auto dilation = attr_or(node, "dilations", r, 1);
  const auto out_pad = attr_or(node, "output_padding", r, 0);
  const auto pads = attr_or(node, "pads", 2 * r, 0);
  std::vector<int64_t> out_shape_attr = node.attr_ints("output_shape");
  if (out_shape_attr.size() == r + 2) out_shape_attr.erase(out_shape_attr.begin(), out_shape_attr.begin() + 2);
  std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  DJ_CHECK(kernel.size() == r && stride.size() == r && dilation.size() == r && out_pad.size() == r &&
               pads.size() == 2 * r && (out_shape_attr.empty() || out_shape_attr.size() == r),
           InvalidArgument, "ConvTranspose: kernel_shape/strides/dilations/output_padding/pads/output_shape do not ",
           "match ", r, " spatial dims");
  p.out_shape = {p.N, p.M};
  for (size_t i = 0; i < r; ++i) {
    DJ_CHECK(kernel[i] >= 1 && stride[i] >= 1 && dilation[i] >= 1, InvalidArgument,
             "ConvTranspose: kernel, stride and dilation must be >= 1 in dim ", i);
    const int64_t in = x[2 + i];
    const int64_t full = stride[i] * (in - 1) + out_pad[i] + (kernel[i] - 1) * dilation[i] + 1;
    int64_t out, begin;
    if (!out_shape_attr.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out = !out_shape_attr.empty() ? out_shape_attr[i] : in * stride[i];
      const int64_t total = full - out;
      begin = total <= 0 ? 0 : auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (auto_pad == "VALID") {
      out = full;
      begin = 0;
    } else {
      out = full - pads[i] - pads[i + r];
      begin = pads[i];
    }
    if (in < 0 && out_shape_attr.empty()) out = -1;
    DJ_CHECK(in < 0 || out >= 0, InvalidArgument, "ConvTranspose: negative output size ", out, " in spatial dim ", i);
    p.in.push_back(in);
    p.kernel.push_back(kernel[i]);
    p.stride.push_back(stride[i]);
    p.dilation.push_back(dilation[i]);
    p.pad_begin.push_back(begin);
    p.out.push_back(out);
    p.out_shape.push_back(out);
  }
  while (p.in.size() < 3) {
    for (auto* v : {&p.in, &p.kernel, &p.stride, &p.dilation, &p.out}) v->insert(v->begin(), 1);
    p.pad_begin.insert(p.pad_begin.begin(), 0);
  }
  p.in_vol = p.in[0] * p.in[1] * p.in[2];
  p.out_vol = p.out[0] * p.out[1] * p.out[2];
  p.kvol = p.kernel[0] * p.kernel[1] * p.kernel[2];
  return p;
}

// The input range [lo, hi) whose output index i*stride + offset lies in [0, size).
inline void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t count, int64_t& lo, int64_t& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = size - offset <= 0 ? 0 : (size - offset - 1) / stride + 1;
  lo = std::min(lo, count);
  hi = std::clamp(hi, lo, count);
}

// Adds rows of output channels [m0, m1) of `col` (columns = input positions [p0, p1))
// into their output planes `y` (one plane per channel of the group).
void col2im_range(const ConvTransposeProblem& p, const float* col, int64_t m0, int64_t m1, int64_t p0, int64_t p1,
                  float* y) {
  const int64_t Ho = p.out[1], Wo = p.out[2], Hi = p.in[1], Wi = p.in[2];
  const int64_t np = p1 - p0;
  for (int64_t m = m0; m < m1; ++m)
    for (int64_t kd = 0; kd < p.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < p.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < p.kernel[2]; ++kw) {
          const float* src = col + (((m * p.kernel[0] + kd) * p.kernel[1] + kh) * p.kernel[2] + kw) * np;
          float* plane = y + m * p.out_vol;
          const int64_t w_off = kw * p.dilation[2] - p.pad_begin[2];
          int64_t lo, hi;
          valid_range(w_off, p.stride[2], Wo, Wi, lo, hi);
          int64_t id = p0 / (Hi * Wi), ih = (p0 / Wi) % Hi, iw = p0 % Wi;
          for (int64_t pos = p0; pos < p1;) {
            const int64_t run = std::min(Wi - iw, p1 - pos);
            const int64_t od = id * p.stride[0] - p.pad_begin[0] + kd * p.dilation[0];
            const int64_t oh = ih * p.stride[1] - p.pad_begin[1] + kh * p.dilation[1];
            if (od >= 0 && od < p.out[0] && oh >= 0 && oh < Ho) {
              float* dst = plane + (od * Ho + oh) * Wo + w_off;
              const int64_t a = std::clamp(lo, iw, iw + run), b = std::clamp(hi, a, iw + run);
              for (int64_t i = a; i < b; ++i) dst[i * p.stride[2]] += src[i - iw];
            }
            src += run;
            pos += run;
            iw = 0;
            if (++ih == Hi) {
              ih = 0;
              ++id;
            }
          }
        }
}

thread_local std::vector<float> t_columns;

void conv_transpose_f32(const ConvTransposeProblem& p, const float* x, const float* w, const float* bias, float* y) {
  const int64_t planes = p.N * p.M;
  for (int64_t plane = 0; plane < planes; ++plane)
    std::fill(y + plane * p.out_vol, y + (plane + 1) * p.out_vol, bias ? bias[plane % p.M] : 0.0f);
  const int threads = tbb::this_task_arena::max_concurrency();
  const bool parallel = p.N * p.M * p.in_vol * p.Cg * p.kvol >= kParallelWork && threads > 1;
  const int64_t rows = p.Mg * p.kvol;
  const int64_t chunk = std::clamp<int64_t>(kColumnBudget / std::max<int64_t>(rows, 1), 64, std::max<int64_t>(p.in_vol, 1));
  const int64_t tasks = p.N * p.G;
  std::vector<float> shared_columns;  // for the tasks run one at a time
  auto run_task = [&](int64_t t, bool inner_parallel) {
    const int64_t n = t / p.G, gi = t % p.G;
    const float* xg = x + (n * p.C + gi * p.Cg) * p.in_vol;
    const float* wg = w + gi * p.Cg * rows;
    float* yg = y + (n * p.M + gi * p.Mg) * p.out_vol;
    // A task that waits on TBB (inner_parallel) may have other tasks run on its
    // thread meanwhile, so only serial tasks may use the thread's buffer.
    std::vector<float>& col = inner_parallel ? shared_columns : t_columns;
    col.resize(static_cast<size_t>(rows * chunk));
    for (int64_t p0 = 0; p0 < p.in_vol; p0 += chunk) {
      const int64_t p1 = std::min(p.in_vol, p0 + chunk), np = p1 - p0;
      // col[i, j] = sum_c W[g*Cg + c, i] * X[c, p0 + j]
      gemm_f32_batched_with(gemm_isa_kernels(), inner_parallel, 1, rows, np, p.Cg, 1.0f, {wg, 1, rows}, nullptr,
                            {xg + p0, p.in_vol, 1}, nullptr, 0.0f, col.data(), np, nullptr);
      if (inner_parallel && rows * np >= kParallelWork) {
        tbb::parallel_for(tbb::blocked_range<int64_t>(0, p.Mg), [&](const tbb::blocked_range<int64_t>& r) {
          col2im_range(p, col.data(), r.begin(), r.end(), p0, p1, yg);
        });
      } else {
        col2im_range(p, col.data(), 0, p.Mg, p0, p1, yg);
      }
    }
  };
  if (parallel && tasks >= 2 * threads) {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, tasks), [&](const tbb::blocked_range<int64_t>& r) {
      for (int64_t t = r.begin(); t != r.end(); ++t) run_task(t, false);
    });
  } else {
    for (int64_t t = 0; t < tasks; ++t) run_task(t, parallel);
  }
}

}  // namespace

Status conv_transpose_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const DType dt = x.dtype();
  DJ_CHECK(w.dtype() == dt, InvalidArgument, "ConvTranspose: X is ", dtype_name(dt), " but W is ",
           dtype_name(w.dtype()));
  DJ_CHECK(dt == DType::F32 || dt == DType::F16 || dt == DType::BF16, Unsupported, "ConvTranspose: dtype ",
           dtype_name(dt), " is not supported");
  DJ_ASSIGN_OR_RETURN(ConvTransposeProblem p, plan_conv_transpose(ctx.node(), x.shape(), w.shape()));
  const std::vector<int64_t> w_kernel(w.shape().begin() + 2, w.shape().end());
  DJ_CHECK(!ctx.node().has_attr("kernel_shape") || ctx.node().attr_ints("kernel_shape") == w_kernel, InvalidArgument,
           "ConvTranspose: kernel_shape does not match W ", w.describe());
  const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (b) {
    DJ_CHECK(b->dtype() == dt && b->numel() == p.M, InvalidArgument, "ConvTranspose: B must be ", dtype_name(dt),
             "[", p.M, "], got ", b->describe());
  }
  if (shape_numel(p.out_shape) == 0) {
    ctx.allocate_output(0, dt, p.out_shape);
    return Status::ok_status();
  }
  const Tensor xf = widen_to_f32(x), wf = widen_to_f32(w), bf = b ? widen_to_f32(*b) : Tensor();
  Tensor yf = Tensor::empty(DType::F32, p.out_shape);
  conv_transpose_f32(p, xf.data<float>(), wf.data<float>(), b ? bf.data<float>() : nullptr, yf.data<float>());
  ctx.set_output(0, narrow_from_f32(yf, dt));
  return Status::ok_status();
}

Status conv_transpose_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& xs = ctx.input_shape(0);
  const auto& ws = ctx.input_shape(1);
  if (!xs || !ws || xs->size() < 3 || ws->size() != xs->size()) return Status::ok_status();
  auto known = [](const SymExpr& e) { return e.is_const() ? e.const_value() : int64_t{-1}; };
  Shape x, w;
  for (const auto& e : *xs) x.push_back(known(e));
  for (const auto& e : *ws) w.push_back(known(e));
  Expected<ConvTransposeProblem> p = plan_conv_transpose(ctx.node(), x, w);
  if (!p.ok()) return Status::ok_status();
  SymShape out{(*xs)[0], p->M >= 0 ? SymExpr(p->M) : ctx.fresh_dim("convt")};
  for (size_t i = 2; i < p->out_shape.size(); ++i)
    out.push_back(p->out_shape[i] >= 0 ? SymExpr(p->out_shape[i]) : ctx.fresh_dim("convt"));
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

}  // namespace dj
