// Pooling: MaxPool (with the optional Indices output), AveragePool, LpPool and the
// global forms, over 1-D/2-D/3-D windows.
//
// Every pool runs as 3-D (ConvGeometry's normalize_to_3d), one (n, c) plane per
// task. For each output position the window's in-bounds tap range is computed per
// dim first, so the inner loops carry no bounds checks. Padding never wins a max,
// counts toward an average only with count_include_pad (and then only up to the
// padded input's edge, not the ceil_mode overhang), and adds 0 to an Lp sum.
// MaxPool keeps the first maximum in scan order; its Indices are flat offsets into
// X (row-major spatial order, or column-major with storage_order = 1).
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "runtime/ops/ConvGeometry.h"
#include "runtime/ops/ConvPoolKernels.h"

namespace dj {
namespace {

constexpr int64_t kParallelWork = 1 << 15;

struct PoolProblem {
  int64_t N = 0, C = 0;
  WindowGeometry g;  // 3-D
  Shape out_shape;
  int64_t in_vol = 0, out_vol = 0;
};

Expected<PoolProblem> plan_pool(const Node& node, const char* op, const Shape& x) {
  DJ_CHECK(x.size() >= 3, InvalidArgument, op, ": X must be [N, C, spatial...], got ", shape_to_string(x));
  const size_t r = x.size() - 2;
  DJ_CHECK(r <= 3, Unsupported, op, ": ", r, " spatial dims (at most 3 are supported)");
  DJ_CHECK(node.has_attr("kernel_shape"), InvalidModel, op, ": missing the kernel_shape attribute");
  DJ_ASSIGN_OR_RETURN(WindowAttrs attrs, read_window_attrs(node, op, r));
  PoolProblem p;
  p.N = x[0];
  p.C = x[1];
  DJ_ASSIGN_OR_RETURN(p.g, forward_geometry(attrs, op, std::vector<int64_t>(x.begin() + 2, x.end())));
  p.out_shape = {p.N, p.C};
  p.out_shape.insert(p.out_shape.end(), p.g.out.begin(), p.g.out.end());
  normalize_to_3d(p.g);
  p.in_vol = p.g.in[0] * p.g.in[1] * p.g.in[2];
  p.out_vol = p.g.out[0] * p.g.out[1] * p.g.out[2];
  return p;
}

// Taps [lo, hi) of one dim whose input index start + k*dilation lies in [0, size).
inline void tap_range(int64_t start, int64_t dilation, int64_t kernel, int64_t size, int64_t& lo, int64_t& hi) {
  lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  hi = size - start <= 0 ? 0 : std::min(kernel, (size - start - 1) / dilation + 1);
  hi = std::max(hi, lo);
}

// Calls visit(out_index, window) for every output position of a plane; the window
// gives per dim the first input index, the dilation and the in-bounds tap range.
struct Window {
  int64_t start[3], lo[3], hi[3];
  int64_t taps_in_padded_input;  // taps inside [-pad_begin, in + pad_end): count_include_pad's divisor
};

template <typename Visit>
void for_each_window(const WindowGeometry& g, Visit&& visit) {
  Window w;
  int64_t o = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++o) {
        const int64_t pos[3] = {od, oh, ow};
        w.taps_in_padded_input = 1;
        for (int d = 0; d < 3; ++d) {
          w.start[d] = pos[d] * g.stride[d] - g.pad_begin[d];
          tap_range(w.start[d], g.dilation[d], g.kernel[d], g.in[d], w.lo[d], w.hi[d]);
          int64_t plo, phi;
          tap_range(w.start[d] + g.pad_begin[d], g.dilation[d], g.kernel[d], g.in[d] + g.pad_begin[d] + g.pad_end[d],
                    plo, phi);
          w.taps_in_padded_input *= phi - plo;
        }
        visit(o, w);
      }
}

template <typename Body>
void for_each_plane(const PoolProblem& p, int64_t work_per_plane, Body&& body) {
  const int64_t planes = p.N * p.C;
  if (planes * work_per_plane < kParallelWork) {
    for (int64_t i = 0; i < planes; ++i) body(i);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, planes), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i != r.end(); ++i) body(i);
  });
}

int64_t kernel_volume(const WindowGeometry& g) { return g.kernel[0] * g.kernel[1] * g.kernel[2]; }

template <typename T>
void max_pool(const PoolProblem& p, bool column_major, const T* x, T* y, int64_t* indices) {
  using C = typename ComputeType<T>::type;
  const WindowGeometry& g = p.g;
  for_each_plane(p, p.out_vol * kernel_volume(g), [&](int64_t plane) {
    const T* xp = x + plane * p.in_vol;
    T* yp = y + plane * p.out_vol;
    int64_t* ip = indices ? indices + plane * p.out_vol : nullptr;
    for_each_window(g, [&](int64_t o, const Window& w) {
      C best = std::numeric_limits<C>::has_infinity ? -std::numeric_limits<C>::infinity() : std::numeric_limits<C>::lowest();
      int64_t best_at = -1;
      for (int64_t kd = w.lo[0]; kd < w.hi[0]; ++kd) {
        const int64_t id = w.start[0] + kd * g.dilation[0];
        for (int64_t kh = w.lo[1]; kh < w.hi[1]; ++kh) {
          const int64_t ih = w.start[1] + kh * g.dilation[1];
          const T* row = xp + (id * g.in[1] + ih) * g.in[2];
          for (int64_t kw = w.lo[2]; kw < w.hi[2]; ++kw) {
            const int64_t iw = w.start[2] + kw * g.dilation[2];
            const C v = static_cast<C>(row[iw]);
            if (v > best || best_at < 0) {
              best = v;
              best_at = column_major ? id + ih * g.in[0] + iw * g.in[0] * g.in[1] : (id * g.in[1] + ih) * g.in[2] + iw;
            }
          }
        }
      }
      yp[o] = T(best);
      if (ip) ip[o] = best_at < 0 ? -1 : plane * p.in_vol + best_at;
    });
  });
}

// AveragePool (power 1, divided) and LpPool (power p, p-th root).
template <typename T>
void sum_pool(const PoolProblem& p, const T* x, T* y, bool average, bool count_include_pad, float power) {
  using C = typename ComputeType<T>::type;
  const WindowGeometry& g = p.g;
  for_each_plane(p, p.out_vol * kernel_volume(g), [&](int64_t plane) {
    const T* xp = x + plane * p.in_vol;
    T* yp = y + plane * p.out_vol;
    for_each_window(g, [&](int64_t o, const Window& w) {
      C s = 0;
      for (int64_t kd = w.lo[0]; kd < w.hi[0]; ++kd) {
        const int64_t id = w.start[0] + kd * g.dilation[0];
        for (int64_t kh = w.lo[1]; kh < w.hi[1]; ++kh) {
          const T* row = xp + (id * g.in[1] + w.start[1] + kh * g.dilation[1]) * g.in[2];
          for (int64_t kw = w.lo[2]; kw < w.hi[2]; ++kw) {
            const C v = static_cast<C>(row[w.start[2] + kw * g.dilation[2]]);
            if (average) s += v;
            else s += power == 2.0f ? v * v : static_cast<C>(std::pow(std::fabs(v), power));
          }
        }
      }
      if (average) {
        const int64_t valid = (w.hi[0] - w.lo[0]) * (w.hi[1] - w.lo[1]) * (w.hi[2] - w.lo[2]);
        const int64_t count = count_include_pad ? w.taps_in_padded_input : valid;
        yp[o] = T(count > 0 ? s / static_cast<C>(count) : C(0));
      } else {
        yp[o] = T(power == 2.0f ? std::sqrt(s) : static_cast<C>(std::pow(s, 1.0 / power)));
      }
    });
  });
}

enum class PoolKind { Max, Average, Lp };

Status run_pool(KernelContext& ctx, PoolKind kind, const char* op) {
  const Tensor& x = ctx.input(0);
  DJ_ASSIGN_OR_RETURN(PoolProblem p, plan_pool(ctx.node(), op, x.shape()));
  Tensor& y = ctx.allocate_output(0, x.dtype(), p.out_shape);
  int64_t* indices = nullptr;
  if (kind == PoolKind::Max && ctx.wants_output(1))
    indices = ctx.allocate_output(1, DType::I64, p.out_shape).data<int64_t>();
  if (y.numel() == 0) return Status::ok_status();
  bool ok = false;
  if (kind == PoolKind::Max) {
    const bool column_major = ctx.node().attr_int("storage_order", 0) != 0;
    ok = dispatch_dtype(x.dtype(), NumericTypes{}, [&](auto tag) {
      using T = decltype(tag);
      max_pool<T>(p, column_major, x.data<T>(), y.data<T>(), indices);
    });
  } else {
    const bool count_include_pad = ctx.node().attr_int("count_include_pad", 0) != 0;
    const float power = static_cast<float>(ctx.node().attr_int("p", 2));
    ok = dispatch_dtype(x.dtype(), FloatTypes{}, [&](auto tag) {
      using T = decltype(tag);
      sum_pool<T>(p, x.data<T>(), y.data<T>(), kind == PoolKind::Average, count_include_pad, power);
    });
  }
  DJ_CHECK(ok, Unsupported, op, ": dtype ", dtype_name(x.dtype()), " is not supported");
  return Status::ok_status();
}

// ---------------------------------------------------------------- global pools

enum class GlobalKind { Average, Max, Lp };

template <typename T>
void global_pool(const T* x, T* y, int64_t planes, int64_t vol, GlobalKind kind, float power) {
  using C = typename ComputeType<T>::type;
  auto plane_result = [&](const T* xp) -> C {
    if (kind == GlobalKind::Max) {
      C best = static_cast<C>(xp[0]);
      for (int64_t i = 1; i < vol; ++i) best = std::max(best, static_cast<C>(xp[i]));
      return best;
    }
    // Eight independent partial sums: vectorizes without reassociating one chain.
    constexpr int kLanes = 8;
    C part[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= vol; i += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const C v = static_cast<C>(xp[i + l]);
        part[l] += kind == GlobalKind::Average ? v : power == 2.0f ? v * v : static_cast<C>(std::pow(std::fabs(v), power));
      }
    C s = 0;
    for (int l = 0; l < kLanes; ++l) s += part[l];
    for (; i < vol; ++i) {
      const C v = static_cast<C>(xp[i]);
      s += kind == GlobalKind::Average ? v : power == 2.0f ? v * v : static_cast<C>(std::pow(std::fabs(v), power));
    }
    if (kind == GlobalKind::Average) return s / static_cast<C>(vol);
    return power == 2.0f ? std::sqrt(s) : static_cast<C>(std::pow(s, 1.0 / power));
  };
  auto run = [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) y[i] = T(plane_result(x + i * vol));
  };
  if (planes * vol < kParallelWork) {
    run(0, planes);
  } else {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, planes),
                      [&](const tbb::blocked_range<int64_t>& r) { run(r.begin(), r.end()); });
  }
}

Status run_global_pool(KernelContext& ctx, GlobalKind kind, const char* op) {
  const Tensor& x = ctx.input(0);
  DJ_CHECK(x.rank() >= 3, InvalidArgument, op, ": X must be [N, C, spatial...], got ", x.describe());
  Shape out_shape = x.shape();
  std::fill(out_shape.begin() + 2, out_shape.end(), 1);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t vol = planes == 0 ? 0 : x.numel() / planes;
  DJ_CHECK(vol > 0 || planes == 0, InvalidArgument, op, ": empty spatial extent in ", x.describe());
  Tensor& y = ctx.allocate_output(0, x.dtype(), out_shape);
  if (planes == 0) return Status::ok_status();
  const float power = static_cast<float>(ctx.node().attr_int("p", 2));
  bool ok = dispatch_dtype(x.dtype(), FloatTypes{}, [&](auto tag) {
    using T = decltype(tag);
    global_pool<T>(x.data<T>(), y.data<T>(), planes, vol, kind, power);
  });
  DJ_CHECK(ok, Unsupported, op, ": dtype ", dtype_name(x.dtype()), " is not supported");
  return Status::ok_status();
}

}  // namespace

Status max_pool_kernel(KernelContext& ctx) { return run_pool(ctx, PoolKind::Max, "MaxPool"); }
Status average_pool_kernel(KernelContext& ctx) { return run_pool(ctx, PoolKind::Average, "AveragePool"); }
Status lp_pool_kernel(KernelContext& ctx) { return run_pool(ctx, PoolKind::Lp, "LpPool"); }

Status global_average_pool_kernel(KernelContext& ctx) {
  return run_global_pool(ctx, GlobalKind::Average, "GlobalAveragePool");
}
Status global_max_pool_kernel(KernelContext& ctx) { return run_global_pool(ctx, GlobalKind::Max, "GlobalMaxPool"); }
Status global_lp_pool_kernel(KernelContext& ctx) { return run_global_pool(ctx, GlobalKind::Lp, "GlobalLpPool"); }

Status pool_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  if (ctx.num_outputs() > 1) ctx.set_output(1, DType::I64, std::nullopt);
  const auto& xs = ctx.input_shape(0);
  if (!xs || xs->size() < 3 || !ctx.node().has_attr("kernel_shape")) return Status::ok_status();
  Expected<WindowAttrs> attrs = read_window_attrs(ctx.node(), ctx.node().op_type.c_str(), xs->size() - 2);
  if (!attrs.ok()) return Status::ok_status();  // the kernel reports it
  auto spatial = forward_output_sym(*attrs, SymShape(xs->begin() + 2, xs->end()));
  if (!spatial) return Status::ok_status();
  SymShape out{(*xs)[0], (*xs)[1]};
  out.insert(out.end(), spatial->begin(), spatial->end());
  ctx.set_output(0, std::nullopt, out);
  if (ctx.num_outputs() > 1) ctx.set_output(1, std::nullopt, out);
  return Status::ok_status();
}

Status global_pool_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& xs = ctx.input_shape(0);
  if (!xs || xs->size() < 3) return Status::ok_status();
  SymShape out = *xs;
  std::fill(out.begin() + 2, out.end(), SymExpr(1));
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

}  // namespace dj
