// Resize (opset 10-17 forms) and Upsample (opset 7-9): nearest, linear and
// cubic interpolation with ONNX's coordinate transformation modes.
//
// Each axis gets a plan: for every output index, the input indices it reads
// and their weights (1 tap for nearest, 2 for linear, 4 for cubic). Nearest is
// a pure gather (copy_by_axis_maps, by element size, any dtype). Linear and
// cubic interpolate separably, one axis at a time, in double (ONNX's reference
// computes in float64), then round to the output dtype (ints truncate, as the
// reference's astype does). Coordinates follow the reference exactly, including
// its use of the real-valued output width scale*in for align_corners and
// tf_crop_and_resize; out-of-range taps read the edge value (the reference pads
// with edge values). antialias and axes (opset 18) are not implemented.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "runtime/OpRegistry.h"
#include "runtime/ops/DataMovementCopy.h"
#include "runtime/ops/ShapeFamily.h"
#include "runtime/ops/ShapeValues.h"

namespace dj {

namespace {

enum class Interp { Nearest, Linear, Cubic };
enum class Coord { HalfPixel, HalfPixelSymmetric, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNN, TfCropAndResize };
enum class Rounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };

struct ResizeParams {
  Interp interp = Interp::Nearest;
  Coord coord = Coord::HalfPixel;
  Rounding rounding = Rounding::RoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
};

Expected<ResizeParams> resize_params(const Node& node, int64_t opset) {
  ResizeParams p;
  const bool upsample = node.op_type == "Upsample";
  std::string mode = node.attr_string("mode", "nearest");
  if (mode == "nearest") p.interp = Interp::Nearest;
  else if (mode == "linear" || mode == "bilinear") p.interp = Interp::Linear;
  else if (mode == "cubic" || mode == "bicubic") p.interp = Interp::Cubic;
  else return make_error(StatusCode::Unsupported, node.op_type, ": mode '", mode, "' not supported");
  if (upsample || opset < 11) {
    // Upsample and Resize-10: x/scale, nearest rounds down.
    p.coord = Coord::Asymmetric;
    p.rounding = Rounding::Floor;
    return p;
  }
  std::string c = node.attr_string("coordinate_transformation_mode", "half_pixel");
  if (c == "half_pixel") p.coord = Coord::HalfPixel;
  else if (c == "half_pixel_symmetric") p.coord = Coord::HalfPixelSymmetric;
  else if (c == "pytorch_half_pixel") p.coord = Coord::PytorchHalfPixel;
  else if (c == "align_corners") p.coord = Coord::AlignCorners;
  else if (c == "asymmetric") p.coord = Coord::Asymmetric;
  else if (c == "tf_half_pixel_for_nn") p.coord = Coord::TfHalfPixelForNN;
  else if (c == "tf_crop_and_resize") p.coord = Coord::TfCropAndResize;
  else return make_error(StatusCode::Unsupported, "Resize: coordinate_transformation_mode '", c, "' not supported");
  std::string n = node.attr_string("nearest_mode", "round_prefer_floor");
  if (n == "round_prefer_floor") p.rounding = Rounding::RoundPreferFloor;
  else if (n == "round_prefer_ceil") p.rounding = Rounding::RoundPreferCeil;
  else if (n == "floor") p.rounding = Rounding::Floor;
  else if (n == "ceil") p.rounding = Rounding::Ceil;
  else return make_error(StatusCode::Unsupported, "Resize: nearest_mode '", n, "' not supported");
  p.cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
  p.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
  p.extrapolation = node.attr_float("extrapolation_value", 0.0f);
  if (node.attr_int("antialias", 0) != 0) return Status(StatusCode::Unsupported, "Resize: antialias not supported");
  if (node.has_attr("axes")) return Status(StatusCode::Unsupported, "Resize: axes attribute not supported");
  return p;
}

// One axis: for each output index, `taps` (input index, weight) pairs.
struct AxisPlan {
  int taps = 1;
  std::vector<int64_t> index;   // out * taps, clamped into [0, in); -1 only for nearest outside the roi
  std::vector<double> weight;   // out * taps (unused for nearest)
  std::vector<uint8_t> outside; // per output index: tf_crop_and_resize extrapolates
  bool any_outside = false;
  bool identity = false;
};

std::vector<double> cubic_weights(double r, double A) {
  return {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A, ((A + 2) * r - (A + 3)) * r * r + 1,
          ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1,
          ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A};
}

AxisPlan plan_axis(int64_t in, int64_t out, double scale, const ResizeParams& p, double roi_start, double roi_end) {
  AxisPlan plan;
  plan.taps = p.interp == Interp::Nearest ? 1 : p.interp == Interp::Linear ? 2 : 4;
  plan.index.assign(static_cast<size_t>(out * plan.taps), 0);
  plan.weight.assign(static_cast<size_t>(out * plan.taps), 0.0);
  plan.outside.assign(static_cast<size_t>(out), 0);
  const double out_width = scale * static_cast<double>(in);  // real-valued, as the reference
  bool identity = in == out;
  for (int64_t x = 0; x < out; ++x) {
    const double xd = static_cast<double>(x);
    double xo = 0;
    switch (p.coord) {
      case Coord::HalfPixel: xo = (xd + 0.5) / scale - 0.5; break;
      case Coord::HalfPixelSymmetric: {
        const double adjustment = static_cast<double>(out) / out_width, center = static_cast<double>(in) / 2;
        xo = center * (1 - adjustment) + (xd + 0.5) / scale - 0.5;
        break;
      }
      case Coord::PytorchHalfPixel: xo = out_width == 1 ? -0.5 : (xd + 0.5) / scale - 0.5; break;
      case Coord::AlignCorners: xo = out_width == 1 ? 0.0 : xd * static_cast<double>(in - 1) / (out_width - 1); break;
      case Coord::Asymmetric: xo = xd / scale; break;
      case Coord::TfHalfPixelForNN: xo = (xd + 0.5) / scale; break;
      case Coord::TfCropAndResize: {
        const double span = (roi_end - roi_start) * static_cast<double>(in - 1);
        xo = out_width == 1 ? span / 2 : xd * span / (out_width - 1);
        xo += roi_start * static_cast<double>(in - 1);
        if (xo < 0 || xo > static_cast<double>(in - 1)) {
          plan.outside[x] = 1;
          plan.any_outside = true;
          identity = false;
          if (p.interp == Interp::Nearest) plan.index[x] = -1;
          continue;
        }
        break;
      }
    }
    const double fl = std::floor(xo), r = xo - fl;
    const int64_t base = static_cast<int64_t>(fl);
    auto clamp_index = [&](int64_t i) { return std::clamp<int64_t>(i, 0, in - 1); };
    int64_t* idx = plan.index.data() + x * plan.taps;
    double* w = plan.weight.data() + x * plan.taps;
    if (p.interp == Interp::Nearest) {
      int64_t i = base;
      if (r != 0) {
        switch (p.rounding) {
          case Rounding::RoundPreferFloor: i = r <= 0.5 ? base : base + 1; break;
          case Rounding::RoundPreferCeil: i = r < 0.5 ? base : base + 1; break;
          case Rounding::Floor: i = base; break;
          case Rounding::Ceil: i = base + 1; break;
        }
      }
      idx[0] = clamp_index(i);
      w[0] = 1;
      identity = identity && idx[0] == x;
      continue;
    }
    std::vector<double> coeffs = p.interp == Interp::Linear ? std::vector<double>{1 - r, r} : cubic_weights(r, p.cubic_a);
    const int64_t first = p.interp == Interp::Linear ? base : base - 1;
    if (p.exclude_outside) {
      double sum = 0;
      for (int t = 0; t < plan.taps; ++t) {
        if (first + t < 0 || first + t >= in) coeffs[t] = 0;
        sum += coeffs[t];
      }
      if (sum != 0)
        for (double& c : coeffs) c /= sum;
    }
    double on_x = 0;
    bool others_zero = true;
    for (int t = 0; t < plan.taps; ++t) {
      idx[t] = clamp_index(first + t);
      w[t] = coeffs[t];
      if (idx[t] == x) {
        on_x += w[t];
      } else if (w[t] != 0) {
        others_zero = false;
      }
    }
    identity = identity && others_zero && on_x == 1.0;
  }
  plan.identity = identity;
  return plan;
}

// Interpolates `src` (shape `shape`) along `axis` into a new buffer.
std::vector<double> interpolate_axis(const std::vector<double>& src, Shape& shape, size_t axis, const AxisPlan& plan,
                                     int64_t out) {
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d < axis) outer *= shape[d];
    if (d > axis) inner *= shape[d];
  }
  const int64_t in = shape[axis];
  std::vector<double> dst(static_cast<size_t>(outer * out * inner), 0.0);
  auto rows = [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t o = row / out, x = row % out;
      double* d = dst.data() + row * inner;
      for (int t = 0; t < plan.taps; ++t) {
        const double w = plan.weight[x * plan.taps + t];
        if (w == 0) continue;
        const double* s = src.data() + (o * in + plan.index[x * plan.taps + t]) * inner;
        for (int64_t j = 0; j < inner; ++j) d[j] += w * s[j];
      }
    }
  };
  if (static_cast<int64_t>(dst.size()) >= kParallelElements) {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, outer * out),
                      [&](const tbb::blocked_range<int64_t>& r) { rows(r.begin(), r.end()); });
  } else {
    rows(0, outer * out);
  }
  shape[axis] = out;
  return dst;
}

struct ResizeTarget {
  Shape out;
  std::vector<double> scales;
  std::vector<double> roi;  // starts then ends, or empty
};

Expected<ResizeTarget> resize_target(const KernelContext& ctx, const Shape& in) {
  const int64_t r = static_cast<int64_t>(in.size());
  const bool upsample = ctx.node().op_type == "Upsample";
  const bool v10 = upsample || ctx.opset() < 11;
  ResizeTarget t;
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (upsample && !ctx.has_input(1)) {
    for (float f : ctx.node().attr_floats("scales")) scales.push_back(f);
  } else {
    const size_t scales_at = v10 ? 1 : 2;
    if (ctx.has_input(scales_at)) {
      const Tensor& s = ctx.input(scales_at);
      dispatch_dtype(s.dtype(), FloatTypes{}, [&](auto tag) {
        using T = decltype(tag);
        for (int64_t i = 0; i < s.numel(); ++i) scales.push_back(static_cast<double>(static_cast<float>(s.data<T>()[i])));
      });
    }
    if (!v10 && ctx.has_input(3)) sizes = ctx.input(3).to_int64_vector();
    if (!v10 && ctx.has_input(1) && ctx.input(1).numel() > 0) {
      Tensor roi = ctx.input(1);
      dispatch_dtype(roi.dtype(), FloatTypes{}, [&](auto tag) {
        using T = decltype(tag);
        for (int64_t i = 0; i < roi.numel(); ++i) t.roi.push_back(static_cast<double>(static_cast<float>(roi.data<T>()[i])));
      });
    }
  }
  if (!sizes.empty()) {
    if (static_cast<int64_t>(sizes.size()) != r)
      return make_error(StatusCode::InvalidArgument, "Resize: ", sizes.size(), " sizes for rank ", r);
    for (int64_t d = 0; d < r; ++d) {
      if (sizes[d] < 0) return make_error(StatusCode::InvalidArgument, "Resize: negative size ", sizes[d]);
      t.out.push_back(sizes[d]);
      t.scales.push_back(in[d] ? static_cast<double>(sizes[d]) / static_cast<double>(in[d]) : 1.0);
    }
  } else {
    if (static_cast<int64_t>(scales.size()) != r)
      return make_error(StatusCode::InvalidArgument, ctx.node().op_type, ": ", scales.size(), " scales for rank ", r,
                        " (and no sizes)");
    for (int64_t d = 0; d < r; ++d) {
      if (!(scales[d] > 0)) return make_error(StatusCode::InvalidArgument, "Resize: scale ", scales[d], " is not positive");
      t.out.push_back(static_cast<int64_t>(std::floor(scales[d] * static_cast<double>(in[d]))));
      t.scales.push_back(scales[d]);
    }
  }
  if (!t.roi.empty() && static_cast<int64_t>(t.roi.size()) != 2 * r) t.roi.clear();
  return t;
}

Status resize_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DJ_ASSIGN_OR_RETURN(ResizeParams p, resize_params(ctx.node(), ctx.opset()));
  DJ_ASSIGN_OR_RETURN(ResizeTarget target, resize_target(ctx, x.shape()));
  const size_t r = x.shape().size();
  if (p.coord == Coord::TfCropAndResize && target.roi.empty())
    return Status(StatusCode::InvalidArgument, "Resize: tf_crop_and_resize needs roi with 2*rank values");
  for (size_t d = 0; d < r; ++d)
    if (x.shape()[d] == 0 && target.out[d] > 0)
      return make_error(StatusCode::InvalidArgument, "Resize: cannot resize empty axis ", d, " to ", target.out[d]);
  std::vector<AxisPlan> plans;
  for (size_t d = 0; d < r; ++d) {
    double rs = target.roi.empty() ? 0.0 : target.roi[d], re = target.roi.empty() ? 1.0 : target.roi[d + r];
    plans.push_back(plan_axis(x.shape()[d], target.out[d], target.scales[d], p, rs, re));
  }
  Tensor& out = ctx.allocate_output(0, x.dtype(), target.out);
  if (out.numel() == 0) return Status::ok_status();

  if (p.interp == Interp::Nearest) {
    std::vector<std::vector<int64_t>> maps;
    for (const auto& plan : plans) maps.push_back(plan.index);
    std::vector<char> fill(dtype_size(x.dtype()), 0);
    dispatch_dtype(x.dtype(), AllTypes{}, [&](auto tag) {
      using T = decltype(tag);
      T v = static_cast<T>(static_cast<float>(p.extrapolation));
      std::memcpy(fill.data(), &v, sizeof(T));
    });
    copy_by_axis_maps(x.raw_data(), x.shape(), maps, out.raw_data(), dtype_size(x.dtype()), fill.data());
    return Status::ok_status();
  }

  Status status;
  bool ok = dispatch_dtype(x.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = typename ComputeType<T>::type;
    const T* src = x.data<T>();
    std::vector<double> buf(static_cast<size_t>(x.numel()));
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<double>(static_cast<C>(src[i]));
    Shape shape = x.shape();
    for (size_t d = 0; d < r; ++d)
      if (!plans[d].identity) buf = interpolate_axis(buf, shape, d, plans[d], target.out[d]);
    bool extrapolate = false;
    for (const auto& plan : plans) extrapolate = extrapolate || plan.any_outside;
    if (extrapolate) {
      std::vector<int64_t> idx(r, 0);
      for (size_t i = 0; i < buf.size(); ++i) {
        bool outside = false;
        for (size_t d = 0; d < r; ++d) outside = outside || plans[d].outside[idx[d]];
        if (outside) buf[i] = p.extrapolation;
        for (size_t d = r; d-- > 0;) {
          if (++idx[d] < target.out[d]) break;
          idx[d] = 0;
        }
      }
    }
    T* o = out.data<T>();
    for (size_t i = 0; i < buf.size(); ++i) o[i] = static_cast<T>(static_cast<C>(buf[i]));
  });
  if (!ok) return make_error(StatusCode::Unsupported, "Resize: ", dtype_name(x.dtype()), " not supported for linear/cubic");
  return status;
}

Status resize_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& in = ctx.input_shape(0);
  if (!in) return Status::ok_status();
  const size_t r = in->size();
  const bool v10 = ctx.node().op_type == "Upsample" || ctx.opset() < 11;
  if (!v10 && ctx.input(3)) {
    auto sizes = known_elements(ctx.input(3));
    SymShape out;
    for (size_t d = 0; d < r; ++d) out.push_back(sizes && sizes->size() == r ? (*sizes)[d] : ctx.fresh_dim("resize"));
    ctx.set_output(0, std::nullopt, out);
    return Status::ok_status();
  }
  std::vector<double> scales;
  if (ctx.node().op_type == "Upsample" && !ctx.input(1)) {
    for (float f : ctx.node().attr_floats("scales")) scales.push_back(f);
  } else if (const Tensor* s = ctx.input_constant(v10 ? 1 : 2); s && s->dtype() == DType::F32) {
    for (int64_t i = 0; i < s->numel(); ++i) scales.push_back(s->data<float>()[i]);
  }
  SymShape out;
  for (size_t d = 0; d < r; ++d) {
    const SymExpr& dim = (*in)[d];
    if (scales.size() != r) {
      out.push_back(ctx.fresh_dim("resize"));
    } else if (dim.is_const()) {
      out.emplace_back(static_cast<int64_t>(std::floor(scales[d] * static_cast<double>(dim.const_value()))));
    } else if (scales[d] == std::floor(scales[d])) {
      out.push_back(dim * SymExpr(static_cast<int64_t>(scales[d])));
    } else {
      out.push_back(ctx.fresh_dim("resize"));
    }
  }
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

}  // namespace

void register_resize_ops(OpRegistry& r) {
  r.add({"Resize", resize_kernel, resize_infer});
  r.add({"Upsample", resize_kernel, resize_infer});
}

}  // namespace dj
