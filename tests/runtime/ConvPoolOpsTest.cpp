// Conv, ConvTranspose and the pooling ops against hand-computed values and naive
// direct loops (in double) over groups, pads, auto_pad, strides and dilations.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"

namespace dj {
namespace {

Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::Ints;
  a.ints = std::move(v);
  return a;
}
Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::Int;
  a.i = v;
  return a;
}
Attribute string_attr(const std::string& v) {
  Attribute a;
  a.kind = Attribute::Kind::String;
  a.s = v;
  return a;
}

using Attrs = std::map<std::string, Attribute>;

Expected<std::vector<Tensor>> run_op(const std::string& op, std::vector<Tensor> inputs, Attrs attrs,
                                     int outputs = 1) {
  Node node;
  node.name = "test_" + op;
  node.op_type = op;
  node.attributes = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i].defined() ? static_cast<ValueId>(i) : kNoValue);
  for (int i = 0; i < outputs; ++i) node.outputs.push_back(static_cast<ValueId>(inputs.size() + i));
  const OpSchema* schema = OpRegistry::builtin().find("", op);
  if (!schema) return Status(StatusCode::Unsupported, op + " is not registered");
  KernelContext ctx(node, 17, std::move(inputs), nullptr);
  Status s = schema->kernel(ctx);
  if (!s.ok()) return s;
  return ctx.outputs();
}

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (auto& x : v) x = dist(gen);
  return Tensor::from_vector(v, shape);
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.numel()); }

void expect_close(const Tensor& t, const std::vector<double>& ref, double tol, const std::string& what) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(ref.size())) << what;
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(t.data<float>()[i], ref[i], tol * (1 + std::fabs(ref[i]))) << what << " at flat index " << i;
}

// Spatial dims padded to 3 (leading 1s) for the naive loops.
std::vector<int64_t> to3(std::vector<int64_t> v, int64_t fill) {
  while (v.size() < 3) v.insert(v.begin(), fill);
  return v;
}

struct ConvSpec {
  Shape x, w;  // [N, C, s...], [M, C/group, k...]
  int64_t group = 1;
  std::vector<int64_t> stride, dilation, pads;  // empty: defaults
  std::string auto_pad;
  bool bias = false;
};

// Direct convolution in double with explicit begin pads; returns Y and its shape.
std::vector<double> naive_conv(const Tensor& x, const Tensor& w, const Tensor* b, int64_t group,
                               std::vector<int64_t> stride, std::vector<int64_t> dil, std::vector<int64_t> pad_begin,
                               std::vector<int64_t> out) {
  const int64_t N = x.dim(0), C = x.dim(1), M = w.dim(0), Cg = w.dim(1), Mg = M / group;
  const auto in = to3(Shape(x.shape().begin() + 2, x.shape().end()), 1);
  const auto k = to3(Shape(w.shape().begin() + 2, w.shape().end()), 1);
  stride = to3(stride, 1);
  dil = to3(dil, 1);
  pad_begin = to3(pad_begin, 0);
  out = to3(out, 1);
  std::vector<double> y;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t o0 = 0; o0 < out[0]; ++o0)
        for (int64_t o1 = 0; o1 < out[1]; ++o1)
          for (int64_t o2 = 0; o2 < out[2]; ++o2) {
            double s = b ? b->data<float>()[m] : 0.0;
            for (int64_t c = 0; c < Cg; ++c)
              for (int64_t a0 = 0; a0 < k[0]; ++a0)
                for (int64_t a1 = 0; a1 < k[1]; ++a1)
                  for (int64_t a2 = 0; a2 < k[2]; ++a2) {
                    const int64_t i0 = o0 * stride[0] - pad_begin[0] + a0 * dil[0];
                    const int64_t i1 = o1 * stride[1] - pad_begin[1] + a1 * dil[1];
                    const int64_t i2 = o2 * stride[2] - pad_begin[2] + a2 * dil[2];
                    if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2]) continue;
                    const int64_t ci = (m / Mg) * Cg + c;
                    s += static_cast<double>(x.data<float>()[(((n * C + ci) * in[0] + i0) * in[1] + i1) * in[2] + i2]) *
                         w.data<float>()[(((m * Cg + c) * k[0] + a0) * k[1] + a1) * k[2] + a2];
                  }
            y.push_back(s);
          }
  return y;
}

// Runs Conv for `spec` and compares with the naive loop, using the expected output
// sizes and begin pads computed here from the ONNX formulas.
void check_conv(const ConvSpec& spec, uint32_t seed) {
  const size_t r = spec.x.size() - 2;
  Tensor x = random_tensor(spec.x, seed), w = random_tensor(spec.w, seed + 1);
  Tensor b = random_tensor({spec.w[0]}, seed + 2);
  std::vector<int64_t> stride = spec.stride.empty() ? std::vector<int64_t>(r, 1) : spec.stride;
  std::vector<int64_t> dil = spec.dilation.empty() ? std::vector<int64_t>(r, 1) : spec.dilation;
  std::vector<int64_t> pads = spec.pads.empty() ? std::vector<int64_t>(2 * r, 0) : spec.pads;
  std::vector<int64_t> pad_begin(r), out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t in = spec.x[2 + i], eff = (spec.w[2 + i] - 1) * dil[i] + 1;
    if (spec.auto_pad == "SAME_UPPER" || spec.auto_pad == "SAME_LOWER") {
      out[i] = (in + stride[i] - 1) / stride[i];
      const int64_t total = std::max<int64_t>(0, (out[i] - 1) * stride[i] + eff - in);
      pad_begin[i] = spec.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (spec.auto_pad == "VALID") {
      out[i] = (in - eff) / stride[i] + 1;
      pad_begin[i] = 0;
    } else {
      out[i] = (in + pads[i] + pads[i + r] - eff) / stride[i] + 1;
      pad_begin[i] = pads[i];
    }
  }
  Attrs attrs{{"group", int_attr(spec.group)}};
  if (!spec.stride.empty()) attrs["strides"] = ints_attr(spec.stride);
  if (!spec.dilation.empty()) attrs["dilations"] = ints_attr(spec.dilation);
  if (!spec.pads.empty()) attrs["pads"] = ints_attr(spec.pads);
  if (!spec.auto_pad.empty()) attrs["auto_pad"] = string_attr(spec.auto_pad);
  auto y = run_op("Conv", spec.bias ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w}, attrs);
  const std::string what = "Conv x" + shape_to_string(spec.x) + " w" + shape_to_string(spec.w) + " group " +
                           std::to_string(spec.group) + " " + spec.auto_pad;
  ASSERT_TRUE(y.ok()) << what << ": " << y.status().to_string();
  Shape expected_shape{spec.x[0], spec.w[0]};
  expected_shape.insert(expected_shape.end(), out.begin(), out.end());
  ASSERT_EQ((*y)[0].shape(), expected_shape) << what;
  expect_close((*y)[0], naive_conv(x, w, spec.bias ? &b : nullptr, spec.group, stride, dil, pad_begin, out), 1e-4,
               what);
}

TEST(ConvOpTest, HandComputed2x2) {
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 3, 3});
  Tensor w = Tensor::from_vector<float>({1, 1, 1, 1}, {1, 1, 2, 2});
  auto y = run_op("Conv", {x, w}, {});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ((*y)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values((*y)[0]), (std::vector<float>{8, 12, 20, 24}));
  // Same with a pad of 1 all round and a bias of 10: the corner sees only x[0,0].
  Tensor b = Tensor::from_vector<float>({10}, {1});
  auto yp = run_op("Conv", {x, w, b}, {{"pads", ints_attr({1, 1, 1, 1})}});
  ASSERT_TRUE(yp.ok());
  EXPECT_EQ((*yp)[0].shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ((*yp)[0].data<float>()[0], 10.0f);
  EXPECT_EQ((*yp)[0].data<float>()[5], 18.0f);
  EXPECT_EQ((*yp)[0].data<float>()[15], 18.0f);
}

TEST(ConvOpTest, MatchesNaiveAcrossGeometries) {
  const ConvSpec specs[] = {
      // group 2, asymmetric pads, mixed strides and dilations, bias
      {{2, 4, 9, 11}, {6, 2, 3, 3}, 2, {2, 1}, {1, 2}, {1, 0, 2, 1}, "", true},
      // depthwise and depthwise with a multiplier of 2
      {{2, 3, 8, 7}, {3, 1, 3, 3}, 3, {1, 1}, {}, {1, 1, 1, 1}, "", true},
      {{1, 3, 8, 7}, {6, 1, 3, 2}, 3, {2, 2}, {2, 1}, {0, 1, 2, 0}, "", false},
      // pointwise, plain and grouped
      {{2, 8, 5, 6}, {7, 8, 1, 1}, 1, {}, {}, {}, "", true},
      {{2, 8, 5, 6}, {6, 4, 1, 1}, 2, {}, {}, {}, "", false},
      // 1x1 with a stride is not pointwise
      {{1, 4, 7, 7}, {3, 4, 1, 1}, 1, {2, 2}, {}, {}, "", false},
      // auto_pad
      {{1, 3, 7, 8}, {4, 3, 3, 2}, 1, {2, 2}, {}, {}, "SAME_UPPER", true},
      {{1, 3, 7, 8}, {4, 3, 4, 3}, 1, {2, 3}, {}, {}, "SAME_LOWER", false},
      {{1, 3, 7, 8}, {4, 3, 3, 3}, 1, {2, 2}, {}, {}, "VALID", false},
      // 1-D and 3-D
      {{3, 5, 17}, {4, 5, 4}, 1, {3}, {2}, {2, 1}, "", true},
      {{1, 4, 5, 6, 7}, {6, 2, 2, 3, 2}, 2, {1, 2, 1}, {2, 1, 1}, {1, 0, 1, 0, 1, 1}, "", true},
      // big enough for the parallel paths and several im2col chunks' worth of GEMM tiles
      {{2, 16, 40, 40}, {24, 16, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, "", true},
      {{1, 64, 96, 96}, {8, 64, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, "", false},
      {{8, 32, 20, 20}, {32, 1, 3, 3}, 32, {}, {}, {1, 1, 1, 1}, "", true},
  };
  uint32_t seed = 100;
  for (const ConvSpec& s : specs) {
    check_conv(s, seed);
    seed += 10;
  }
}

TEST(ConvOpTest, ConstantWeightsPackedOnceGiveTheSameResult) {
  // A model constant's weights go to the GEMM pre-packed (GemmWeightCache): same
  // blocking and summation order, so the same bits as weights packed per call.
  struct Case {
    Shape x, w;
    Attrs attrs;
  };
  const Case cases[] = {
      {{1, 16, 20, 20}, {200, 16, 3, 3}, {{"pads", ints_attr({1, 1, 1, 1})}}},  // im2col, rows past one MC block
      {{1, 32, 9, 9}, {48, 32, 1, 1}, {}},                                       // pointwise: one GEMM
      {{2, 8, 7, 7}, {12, 8, 3, 3}, {{"strides", ints_attr({2, 2})}}},           // two images
  };
  uint32_t seed = 70;
  for (const Case& c : cases) {
    Tensor x = random_tensor(c.x, seed++);
    Tensor w = random_tensor(c.w, seed++);
    Tensor b = random_tensor({c.w[0]}, seed++);
    auto per_call = run_op("Conv", {x, w, b}, c.attrs);
    ASSERT_TRUE(per_call.ok()) << per_call.status().to_string();
    Tensor constant_w = w.clone();
    constant_w.mark_model_constant();
    for (int again = 0; again < 2; ++again) {  // packs, then finds the packed weights
      auto packed = run_op("Conv", {x, constant_w, b}, c.attrs);
      ASSERT_TRUE(packed.ok()) << packed.status().to_string();
      const Tensor& got = (*packed)[0];
      const Tensor& want = (*per_call)[0];
      ASSERT_EQ(got.shape(), want.shape());
      for (int64_t i = 0; i < got.numel(); ++i)
        ASSERT_EQ(got.data<float>()[i], want.data<float>()[i]) << shape_to_string(c.w) << " at " << i;
    }
  }
}

TEST(ConvOpTest, HalfPrecisionStagesThroughFloat) {
  Tensor x = random_tensor({1, 2, 5, 5}, 1), w = random_tensor({3, 2, 3, 3}, 2);
  auto ref = run_op("Conv", {x, w}, {{"pads", ints_attr({1, 1, 1, 1})}});
  ASSERT_TRUE(ref.ok());
  auto to_half = [](const Tensor& t) {
    Tensor h = Tensor::empty(DType::F16, t.shape());
    for (int64_t i = 0; i < t.numel(); ++i) h.data<half>()[i] = half(t.data<float>()[i]);
    return h;
  };
  auto y = run_op("Conv", {to_half(x), to_half(w)}, {{"pads", ints_attr({1, 1, 1, 1})}});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  ASSERT_EQ((*y)[0].dtype(), DType::F16);
  for (int64_t i = 0; i < (*ref)[0].numel(); ++i)
    EXPECT_NEAR(static_cast<float>((*y)[0].data<half>()[i]), (*ref)[0].data<float>()[i], 2e-2);
}

TEST(ConvOpTest, RejectsChannelMismatch) {
  auto y = run_op("Conv", {random_tensor({1, 4, 5, 5}, 1), random_tensor({2, 3, 3, 3}, 2)}, {});
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(y.status().message().find("channels"), std::string::npos) << y.status().message();
}

TEST(ConvOpTest, ShapeFunctionIsSymbolic) {
  Node node;
  node.op_type = "Conv";
  node.attributes["strides"] = ints_attr({2, 2});
  node.attributes["pads"] = ints_attr({1, 1, 1, 1});
  ValueInfo x, w, y;
  x.dtype = w.dtype = DType::F32;
  x.shape = SymShape{SymExpr::symbol("batch"), SymExpr(3), SymExpr::symbol("h"), SymExpr(32)};
  w.shape = SymShape{SymExpr(16), SymExpr(3), SymExpr(3), SymExpr(3)};
  int counter = 0;
  ShapeContext ctx(node, 17, {&x, &w}, {&y}, &counter);
  ASSERT_TRUE(OpRegistry::builtin().find("", "Conv")->infer(ctx).ok());
  ASSERT_TRUE(y.shape.has_value());
  ASSERT_EQ(y.shape->size(), 4u);
  EXPECT_EQ((*y.shape)[1].const_value(), 16);
  EXPECT_EQ((*y.shape)[3].const_value(), 16);
  EXPECT_EQ((*y.shape)[2].evaluate({{"h", 31}}).value(), 16);  // (31 + 2 - 3) / 2 + 1
  EXPECT_EQ((*y.shape)[2].evaluate({{"h", 32}}).value(), 16);
}

// ---------------------------------------------------------------- ConvTranspose

// Scatter definition: y[n, g*Mg+m, i*s - pad + k*d] += x[n, g*Cg+c, i] * w[g*Cg+c, m, k].
std::vector<double> naive_conv_transpose(const Tensor& x, const Tensor& w, const Tensor* b, int64_t group,
                                         std::vector<int64_t> stride, std::vector<int64_t> dil,
                                         std::vector<int64_t> pad_begin, std::vector<int64_t> out) {
  const int64_t N = x.dim(0), C = x.dim(1), Mg = w.dim(1), M = Mg * group, Cg = C / group;
  const auto in = to3(Shape(x.shape().begin() + 2, x.shape().end()), 1);
  const auto k = to3(Shape(w.shape().begin() + 2, w.shape().end()), 1);
  stride = to3(stride, 1);
  dil = to3(dil, 1);
  pad_begin = to3(pad_begin, 0);
  out = to3(out, 1);
  const int64_t ovol = out[0] * out[1] * out[2];
  std::vector<double> y(static_cast<size_t>(N * M * ovol), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t i = 0; i < ovol; ++i) y[(n * M + m) * ovol + i] = b ? b->data<float>()[m] : 0.0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t m = 0; m < Mg; ++m)
        for (int64_t i0 = 0; i0 < in[0]; ++i0)
          for (int64_t i1 = 0; i1 < in[1]; ++i1)
            for (int64_t i2 = 0; i2 < in[2]; ++i2)
              for (int64_t a0 = 0; a0 < k[0]; ++a0)
                for (int64_t a1 = 0; a1 < k[1]; ++a1)
                  for (int64_t a2 = 0; a2 < k[2]; ++a2) {
                    const int64_t o0 = i0 * stride[0] - pad_begin[0] + a0 * dil[0];
                    const int64_t o1 = i1 * stride[1] - pad_begin[1] + a1 * dil[1];
                    const int64_t o2 = i2 * stride[2] - pad_begin[2] + a2 * dil[2];
                    if (o0 < 0 || o0 >= out[0] || o1 < 0 || o1 >= out[1] || o2 < 0 || o2 >= out[2]) continue;
                    const int64_t mo = (c / Cg) * Mg + m;
                    y[(n * M + mo) * ovol + (o0 * out[1] + o1) * out[2] + o2] +=
                        static_cast<double>(x.data<float>()[(((n * C + c) * in[0] + i0) * in[1] + i1) * in[2] + i2]) *
                        w.data<float>()[(((c * Mg + m) * k[0] + a0) * k[1] + a1) * k[2] + a2];
                  }
  return y;
}

TEST(ConvTransposeOpTest, HandComputed1D) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, {1, 1, 3});
  Tensor w = Tensor::from_vector<float>({1, 1}, {1, 1, 2});
  auto y = run_op("ConvTranspose", {x, w}, {});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ((*y)[0].shape(), (Shape{1, 1, 4}));
  EXPECT_EQ(values((*y)[0]), (std::vector<float>{1, 3, 5, 3}));
  auto ys = run_op("ConvTranspose", {x, w}, {{"strides", ints_attr({2})}});
  ASSERT_TRUE(ys.ok());
  EXPECT_EQ(values((*ys)[0]), (std::vector<float>{1, 1, 2, 2, 3, 3}));
}

TEST(ConvTransposeOpTest, MatchesNaive) {
  struct Case {
    Shape x, w;
    int64_t group;
    std::vector<int64_t> stride, dil, pads, out_pad;
    bool bias;
  };
  const Case cases[] = {
      {{2, 4, 5, 6}, {4, 3, 3, 3}, 1, {2, 2}, {1, 1}, {1, 0, 1, 1}, {1, 0}, true},
      {{1, 4, 5, 4}, {4, 2, 2, 3}, 2, {1, 3}, {2, 1}, {0, 1, 0, 0}, {0, 2}, false},
      {{2, 3, 7}, {3, 5, 4}, 1, {3}, {1}, {1, 2}, {0}, true},
      {{1, 2, 3, 4, 3}, {2, 2, 2, 2, 2}, 1, {2, 1, 2}, {1, 1, 1}, {0, 0, 0, 0, 0, 0}, {0, 0, 1}, true},
      {{2, 32, 16, 16}, {32, 16, 4, 4}, 1, {2, 2}, {1, 1}, {1, 1, 1, 1}, {0, 0}, true},
  };
  uint32_t seed = 500;
  for (const Case& c : cases) {
    const size_t r = c.x.size() - 2;
    Tensor x = random_tensor(c.x, seed++), w = random_tensor(c.w, seed++);
    Tensor b = random_tensor({c.w[1] * c.group}, seed++);
    std::vector<int64_t> pad_begin(c.pads.begin(), c.pads.begin() + static_cast<long>(r)), out(r);
    for (size_t i = 0; i < r; ++i)
      out[i] = c.stride[i] * (c.x[2 + i] - 1) + c.out_pad[i] + (c.w[2 + i] - 1) * c.dil[i] + 1 - c.pads[i] - c.pads[i + r];
    auto y = run_op("ConvTranspose", c.bias ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w},
                    {{"group", int_attr(c.group)},
                     {"strides", ints_attr(c.stride)},
                     {"dilations", ints_attr(c.dil)},
                     {"pads", ints_attr(c.pads)},
                     {"output_padding", ints_attr(c.out_pad)}});
    const std::string what = "ConvTranspose x" + shape_to_string(c.x) + " w" + shape_to_string(c.w);
    ASSERT_TRUE(y.ok()) << what << ": " << y.status().to_string();
    Shape expected{c.x[0], c.w[1] * c.group};
    expected.insert(expected.end(), out.begin(), out.end());
    ASSERT_EQ((*y)[0].shape(), expected) << what;
    expect_close((*y)[0], naive_conv_transpose(x, w, c.bias ? &b : nullptr, c.group, c.stride, c.dil, pad_begin, out),
                 1e-4, what);
  }
}

TEST(ConvTransposeOpTest, OutputShapeAndSameUpper) {
  // 3 -> full 7 with stride 2 and kernel 3; SAME_UPPER asks for 6 and drops the last.
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, {1, 1, 3});
  Tensor w = Tensor::from_vector<float>({1, 1, 1}, {1, 1, 3});
  auto same = run_op("ConvTranspose", {x, w}, {{"strides", ints_attr({2})}, {"auto_pad", string_attr("SAME_UPPER")}});
  ASSERT_TRUE(same.ok()) << same.status().to_string();
  EXPECT_EQ(values((*same)[0]), (std::vector<float>{1, 1, 3, 2, 5, 3}));
  // output_shape larger than the full result: zeros at the end.
  auto big = run_op("ConvTranspose", {x, w}, {{"strides", ints_attr({2})}, {"output_shape", ints_attr({8})}});
  ASSERT_TRUE(big.ok()) << big.status().to_string();
  EXPECT_EQ(values((*big)[0]), (std::vector<float>{1, 1, 3, 2, 5, 3, 3, 0}));
}

// ---------------------------------------------------------------- pools

TEST(PoolOpTest, MaxPoolHandComputed) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {1, 1, 4, 4});
  auto y = run_op("MaxPool", {x}, {{"kernel_shape", ints_attr({2, 2})}, {"strides", ints_attr({2, 2})}}, 2);
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ((*y)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values((*y)[0]), (std::vector<float>{6, 8, 14, 16}));
  const int64_t* idx = (*y)[1].data<int64_t>();
  EXPECT_EQ((std::vector<int64_t>(idx, idx + 4)), (std::vector<int64_t>{5, 7, 13, 15}));

  // Column-major indices: (h, w) -> h + w * H.
  auto yc = run_op("MaxPool", {x},
                   {{"kernel_shape", ints_attr({2, 2})}, {"strides", ints_attr({2, 2})}, {"storage_order", int_attr(1)}},
                   2);
  ASSERT_TRUE(yc.ok());
  const int64_t* idc = (*yc)[1].data<int64_t>();
  EXPECT_EQ((std::vector<int64_t>(idc, idc + 4)), (std::vector<int64_t>{5, 13, 7, 15}));

  // ceil_mode: 4 wide, kernel 3, stride 2 -> 2 windows, the second clipped.
  auto ceil = run_op("MaxPool", {x}, {{"kernel_shape", ints_attr({3, 3})}, {"strides", ints_attr({2, 2})}, {"ceil_mode", int_attr(1)}});
  ASSERT_TRUE(ceil.ok());
  EXPECT_EQ((*ceil)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values((*ceil)[0]), (std::vector<float>{11, 12, 15, 16}));

  // Dilation 2 with a 2x2 kernel over 4x4: taps (0,0),(0,2),(2,0),(2,2) from each corner.
  auto dil = run_op("MaxPool", {x}, {{"kernel_shape", ints_attr({2, 2})}, {"dilations", ints_attr({2, 2})}});
  ASSERT_TRUE(dil.ok());
  EXPECT_EQ(values((*dil)[0]), (std::vector<float>{11, 12, 15, 16}));

  // Padding never wins, even against negative values.
  Tensor neg = Tensor::from_vector<float>({-1, -2, -3, -4}, {1, 1, 2, 2});
  auto padded = run_op("MaxPool", {neg}, {{"kernel_shape", ints_attr({2, 2})}, {"pads", ints_attr({1, 1, 1, 1})}});
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(values((*padded)[0]), (std::vector<float>{-1, -1, -2, -1, -1, -2, -3, -3, -4}));
}

TEST(PoolOpTest, MaxPoolIntegerAndSameUpper) {
  Tensor x = Tensor::from_vector<uint8_t>({1, 9, 3, 4, 5, 200, 7, 8, 2}, {1, 1, 3, 3});
  auto y = run_op("MaxPool", {x}, {{"kernel_shape", ints_attr({2, 2})}, {"auto_pad", string_attr("SAME_UPPER")}});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ((*y)[0].shape(), (Shape{1, 1, 3, 3}));
  const uint8_t* d = (*y)[0].data<uint8_t>();
  EXPECT_EQ((std::vector<uint8_t>(d, d + 9)), (std::vector<uint8_t>{9, 200, 200, 8, 200, 200, 8, 8, 2}));
}

TEST(PoolOpTest, AveragePoolCountIncludePad) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Attrs base{{"kernel_shape", ints_attr({3, 3})}, {"pads", ints_attr({1, 1, 1, 1})}};
  auto excl = run_op("AveragePool", {x}, base);
  ASSERT_TRUE(excl.ok()) << excl.status().to_string();
  EXPECT_EQ((*excl)[0].shape(), (Shape{1, 1, 3, 3}));
  // Corner: (1+2+4+5)/4; edge: (1+2+3+4+5+6)/6; centre: 45/9.
  expect_close((*excl)[0], {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7}, 1e-6, "exclude pad");
  Attrs incl = base;
  incl["count_include_pad"] = int_attr(1);
  auto inc = run_op("AveragePool", {x}, incl);
  ASSERT_TRUE(inc.ok());
  expect_close((*inc)[0], {12.0 / 9, 21.0 / 9, 16.0 / 9, 27.0 / 9, 5, 33.0 / 9, 24.0 / 9, 39.0 / 9, 28.0 / 9}, 1e-6,
               "include pad");
}

TEST(PoolOpTest, AveragePool1DAnd3D) {
  Tensor x1 = Tensor::from_vector<float>({1, 2, 3, 4, 5}, {1, 1, 5});
  auto y1 = run_op("AveragePool", {x1}, {{"kernel_shape", ints_attr({2})}, {"strides", ints_attr({2})}});
  ASSERT_TRUE(y1.ok());
  expect_close((*y1)[0], {1.5, 3.5}, 1e-6, "1-D");
  Tensor x3 = random_tensor({1, 2, 4, 4, 4}, 9);
  auto y3 = run_op("AveragePool", {x3}, {{"kernel_shape", ints_attr({2, 2, 2})}, {"strides", ints_attr({2, 2, 2})}});
  ASSERT_TRUE(y3.ok());
  ASSERT_EQ((*y3)[0].shape(), (Shape{1, 2, 2, 2, 2}));
  std::vector<double> ref;
  for (int c = 0; c < 2; ++c)
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        for (int d = 0; d < 2; ++d) {
          double s = 0;
          for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 2; ++j)
              for (int k = 0; k < 2; ++k) s += x3.data<float>()[c * 64 + (2 * a + i) * 16 + (2 * b + j) * 4 + 2 * d + k];
          ref.push_back(s / 8);
        }
  expect_close((*y3)[0], ref, 1e-5, "3-D");
}

TEST(PoolOpTest, GlobalPools) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, -1, -2, -3, -4, 0, 0, 0, 9}, {1, 3, 2, 2});
  auto avg = run_op("GlobalAveragePool", {x}, {});
  ASSERT_TRUE(avg.ok());
  EXPECT_EQ((*avg)[0].shape(), (Shape{1, 3, 1, 1}));
  expect_close((*avg)[0], {2.5, -2.5, 2.25}, 1e-6, "global average");
  auto mx = run_op("GlobalMaxPool", {x}, {});
  ASSERT_TRUE(mx.ok());
  expect_close((*mx)[0], {4, -1, 9}, 0, "global max");
  auto lp = run_op("GlobalLpPool", {x}, {});
  ASSERT_TRUE(lp.ok());
  expect_close((*lp)[0], {std::sqrt(30.0), std::sqrt(30.0), 9}, 1e-6, "global L2");
}

TEST(PoolOpTest, MaxUnpoolInvertsMaxPoolIndices) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {1, 1, 4, 4});
  Attrs attrs{{"kernel_shape", ints_attr({2, 2})}, {"strides", ints_attr({2, 2})}};
  auto pooled = run_op("MaxPool", {x}, attrs, 2);
  ASSERT_TRUE(pooled.ok());
  auto y = run_op("MaxUnpool", {(*pooled)[0], (*pooled)[1]}, attrs);
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ((*y)[0].shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(values((*y)[0]), (std::vector<float>{0, 0, 0, 0, 0, 6, 0, 8, 0, 0, 0, 0, 0, 14, 0, 16}));
  // A larger output_shape keeps the unpooled layout and extends it with zeros.
  Tensor shape = Tensor::from_vector<int64_t>({1, 1, 5, 5}, {4});
  auto big = run_op("MaxUnpool", {(*pooled)[0], (*pooled)[1], shape}, attrs);
  ASSERT_TRUE(big.ok()) << big.status().to_string();
  EXPECT_EQ(values((*big)[0]),
            (std::vector<float>{0, 0, 0, 0, 0, 0, 6, 0, 8, 0, 0, 0, 0, 0, 0, 0, 14, 0, 16, 0, 0, 0, 0, 0, 0}));
  // An index past the unpooled tensor is an error, not a write.
  Tensor bad = Tensor::from_vector<int64_t>({0, 1, 2, 99}, {1, 1, 2, 2});
  auto err = run_op("MaxUnpool", {(*pooled)[0], bad}, attrs);
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().code(), StatusCode::InvalidArgument);
}

TEST(PoolOpTest, ShapeFunctionWithSymbolicDims) {
  Node node;
  node.op_type = "MaxPool";
  node.attributes["kernel_shape"] = ints_attr({3, 3});
  node.attributes["strides"] = ints_attr({2, 2});
  node.attributes["auto_pad"] = string_attr("SAME_UPPER");
  node.outputs = {1, 2};
  ValueInfo x, y, idx;
  x.dtype = DType::F32;
  x.shape = SymShape{SymExpr(1), SymExpr(8), SymExpr::symbol("h"), SymExpr(15)};
  int counter = 0;
  ShapeContext ctx(node, 17, {&x}, {&y, &idx}, &counter);
  ASSERT_TRUE(OpRegistry::builtin().find("", "MaxPool")->infer(ctx).ok());
  ASSERT_TRUE(y.shape.has_value());
  EXPECT_EQ((*y.shape)[3].const_value(), 8);
  EXPECT_EQ((*y.shape)[2].evaluate({{"h", 9}}).value(), 5);
  EXPECT_EQ(idx.dtype, DType::I64);
}

}  // namespace
}  // namespace dj
