// ConvPipeline: every schedule against a direct double-precision loop (ONNX Conv
// semantics) over kernels, strides, asymmetric pads, dilation, groups, odd sizes and
// the epilogue (bias, ReLU, a residual Add + ReLU).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "jit/ConvPipeline.h"
#include "jit/KernelCompiler.h"
#include "tests/jit/JitTestSupport.h"

namespace dj::jit {
namespace {

using testing::random_tensor;

struct ConvCase {
  std::string name;  // a C identifier
  ConvShape shape;
  bool bias = false;
  bool relu = false;
  bool residual = false;  // epilogue: relu(value + residual)
};

struct ConvKernelParams {
  Halide::ImageParam input{Halide::Float(32), 4, "input"};      // [N, C, H, W]: input(x, y, c, n)
  Halide::ImageParam weights{Halide::Float(32), 4, "weights"};  // [Co, C/g, KH, KW]: weights(kx, ky, ci, co)
  Halide::ImageParam bias{Halide::Float(32), 1, "bias"};
  Halide::ImageParam residual{Halide::Float(32), 4, "residual"};  // like the output
};

Expected<CompiledKernel> compile_conv(const ConvCase& c, ConvSchedule force, ConvSchedule* chosen) {
  ConvKernelParams p;
  ConvDefinition def;
  def.input = p.input;
  def.weights = p.weights;
  std::vector<Halide::Argument> args{p.input, p.weights};
  if (c.bias) {
    def.bias = p.bias;
    args.push_back(p.bias);
  }
  def.relu = c.relu;
  if (c.residual) {
    Halide::ImageParam residual = p.residual;
    def.epilogue = [residual](Halide::Expr v, Halide::Var x, Halide::Var y, Halide::Var co, Halide::Var n) {
      return Halide::max(v + residual(x, y, co, n), 0.0f);
    };
    args.push_back(p.residual);
  }
  auto pipeline = build_conv2d(def, c.shape, force);
  if (!pipeline.ok()) return pipeline.status();
  if (chosen) *chosen = pipeline->schedule;
  std::string name = c.name + "_" + conv_schedule_name(force);
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return compile_pipeline(PipelineSpec{Halide::Pipeline(pipeline->out), args, name});
}

struct Reference {
  Tensor out;
  Tensor scale;  // per element: |bias| + sum |x * w| + |residual|, the size of the terms
};

Reference reference(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& res) {
  const ConvShape& s = c.shape;
  const int oh = s.out_h(), ow = s.out_w(), cg = s.c / s.group, mg = s.co / s.group;
  Reference ref{Tensor::empty(DType::F32, {s.n, s.co, oh, ow}), Tensor::empty(DType::F32, {s.n, s.co, oh, ow})};
  const float* xd = x.data<float>();
  const float* wd = w.data<float>();
  float* od = ref.out.data<float>();
  float* sd = ref.scale.data<float>();
  for (int n = 0; n < s.n; ++n)
    for (int co = 0; co < s.co; ++co)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double acc = c.bias ? b.data<float>()[co] : 0.0, scale = std::fabs(acc);
          for (int ci = 0; ci < cg; ++ci)
            for (int ky = 0; ky < s.kh; ++ky)
              for (int kx = 0; kx < s.kw; ++kx) {
                const int iy = oy * s.stride_h + ky * s.dilation_h - s.pad_top;
                const int ix = ox * s.stride_w + kx * s.dilation_w - s.pad_left;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                const int channel = (co / mg) * cg + ci;
                const double term = double(xd[((int64_t(n) * s.c + channel) * s.h + iy) * s.w + ix]) *
                                    wd[((int64_t(co) * cg + ci) * s.kh + ky) * s.kw + kx];
                acc += term;
                scale += std::fabs(term);
              }
          if (c.relu) acc = std::max(acc, 0.0);
          const int64_t at = ((int64_t(n) * s.co + co) * oh + oy) * ow + ox;
          if (c.residual) {
            acc = std::max(acc + res.data<float>()[at], 0.0);
            scale += std::fabs(res.data<float>()[at]);
          }
          od[at] = static_cast<float>(acc);
          sd[at] = static_cast<float>(scale);
        }
  return ref;
}

// Each element within 1e-5 of the size of its terms (f32 sums of a few hundred terms
// stay well inside; a wrong tap or a missing pad is off by a whole term).
void expect_conv_matches(const CompiledKernel& kernel, const ConvCase& c, uint32_t seed) {
  const ConvShape& s = c.shape;
  Tensor x = random_tensor({s.n, s.c, s.h, s.w}, seed);
  Tensor w = random_tensor({s.co, s.c / s.group, s.kh, s.kw}, seed + 1);
  Tensor b = random_tensor({s.co}, seed + 2);
  Tensor res = random_tensor({s.n, s.co, s.out_h(), s.out_w()}, seed + 3);
  std::vector<Tensor> inputs{x, w};
  if (c.bias) inputs.push_back(b);
  if (c.residual) inputs.push_back(res);
  Tensor out = Tensor::zeros(DType::F32, {s.n, s.co, s.out_h(), s.out_w()});
  Status st = kernel.run(inputs, std::span<const Tensor>(&out, 1));
  ASSERT_TRUE(st.ok()) << st.to_string();
  Reference ref = reference(c, x, w, b, res);
  double worst = 0;
  int64_t worst_at = -1;
  for (int64_t i = 0; i < out.numel(); ++i) {
    const double err = std::fabs(double(out.data<float>()[i]) - ref.out.data<float>()[i]);
    const double allowed = 1e-5 * ref.scale.data<float>()[i] + 1e-6;
    if (!(err <= allowed) && (worst_at < 0 || err > worst)) worst = err, worst_at = i;
  }
  EXPECT_LT(worst_at, 0) << "first worst element " << worst_at << " off by " << worst << " (got "
                         << (worst_at >= 0 ? out.data<float>()[worst_at] : 0.0f) << ", want "
                         << (worst_at >= 0 ? ref.out.data<float>()[worst_at] : 0.0f) << ")";
}

ConvShape shape(int n, int c, int h, int w, int co, int k, int stride = 1, int pad = 0, int group = 1) {
  ConvShape s;
  s.n = n, s.c = c, s.h = h, s.w = w, s.co = co, s.kh = s.kw = k;
  s.stride_h = s.stride_w = stride;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = pad;
  s.group = group;
  return s;
}

std::vector<ConvCase> geometry_cases() {
  std::vector<ConvCase> cases;
  cases.push_back({"pointwise_s1_odd", shape(1, 17, 7, 7, 3, 1), true, false, false});
  cases.push_back({"pointwise_s1", shape(1, 32, 33, 33, 64, 1), true, true, false});
  cases.push_back({"pointwise_s2_batch2", shape(2, 32, 33, 33, 64, 1, 2), false, false, false});
  cases.push_back({"k3_s1_c3", shape(1, 3, 33, 33, 17, 3, 1, 1), true, true, false});
  cases.push_back({"k3_s2_c17", shape(1, 17, 33, 33, 32, 3, 2, 1), true, true, false});
  cases.push_back({"k3_s1_residual_batch2", shape(2, 16, 28, 28, 32, 3, 1, 1), true, false, true});
  cases.push_back({"k3_s1_narrow", shape(1, 64, 14, 14, 64, 3, 1, 1), true, true, true});
  cases.push_back({"k3_s2_narrow", shape(1, 32, 14, 14, 48, 3, 2, 1), false, true, false});
  cases.push_back({"k3_1x1_image", shape(1, 4, 1, 1, 5, 3, 1, 1), true, false, false});
  cases.push_back({"k3_no_pad_7x7", shape(1, 6, 7, 7, 10, 3), false, false, false});
  cases.push_back({"k7_s2_stem", shape(1, 3, 33, 33, 16, 7, 2, 3), true, true, false});
  ConvShape asym = shape(1, 5, 13, 17, 9, 5);
  asym.pad_top = 2, asym.pad_left = 1, asym.pad_bottom = 0, asym.pad_right = 3;
  cases.push_back({"k5_asymmetric_pads", asym, true, false, false});
  ConvShape same_s2 = shape(1, 16, 20, 21, 24, 3, 2);  // TensorFlow "SAME" at stride 2: pads after only
  same_s2.pad_bottom = same_s2.pad_right = 1;
  cases.push_back({"k3_s2_pads_after", same_s2, true, true, false});
  ConvShape asym_s2 = shape(2, 5, 17, 13, 19, 5, 2);
  asym_s2.pad_top = 1, asym_s2.pad_left = 2, asym_s2.pad_bottom = 2, asym_s2.pad_right = 0;
  cases.push_back({"k5_s2_asymmetric_pads", asym_s2, false, false, true});
  ConvShape dil_s2 = shape(1, 12, 31, 31, 8, 3, 2, 2);
  dil_s2.dilation_h = dil_s2.dilation_w = 2;
  cases.push_back({"k3_s2_dilation2", dil_s2, true, false, false});
  ConvShape pw_pad = shape(1, 16, 15, 15, 16, 1, 2, 1);  // 1x1 with pads: border outputs are the bias
  cases.push_back({"pointwise_s2_padded", pw_pad, true, false, false});
  ConvShape dil = shape(1, 8, 33, 33, 16, 3, 1, 2);
  dil.dilation_h = dil.dilation_w = 2;
  cases.push_back({"k3_dilation2", dil, false, true, false});
  ConvShape rect = shape(2, 7, 9, 20, 12, 1);
  rect.kh = 1, rect.kw = 3, rect.stride_h = 2, rect.stride_w = 1, rect.pad_left = 1, rect.pad_right = 1;
  cases.push_back({"k1x3_strides_2_1", rect, true, false, false});
  cases.push_back({"depthwise_s1", shape(1, 17, 33, 33, 17, 3, 1, 1, 17), true, true, false});
  cases.push_back({"depthwise_s2_batch2", shape(2, 32, 33, 33, 32, 3, 2, 1, 32), false, false, true});
  cases.push_back({"grouped_2", shape(1, 8, 11, 11, 6, 3, 1, 1, 2), true, false, false});
  return cases;
}

TEST(ConvPipeline, EveryScheduleMatchesReference) {
  uint32_t seed = 100;
  for (const ConvCase& c : geometry_cases()) {
    for (ConvSchedule force : {ConvSchedule::Auto, ConvSchedule::RegisterTiled, ConvSchedule::Simple}) {
      SCOPED_TRACE(c.name + " " + c.shape.to_string() + " forced " + conv_schedule_name(force));
      ConvSchedule chosen = ConvSchedule::Auto;
      auto kernel = compile_conv(c, force, &chosen);
      ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
      SCOPED_TRACE(std::string("ran ") + conv_schedule_name(chosen));
      EXPECT_NE(chosen, ConvSchedule::Auto);
      if (force != ConvSchedule::Auto) {
        EXPECT_EQ(chosen, force);
      }
      expect_conv_matches(*kernel, c, seed += 4);
    }
  }
}

TEST(ConvPipeline, AutoPicksTiledSchedulesForResNetLayers) {
  EXPECT_EQ(choose_conv_schedule(shape(1, 32, 112, 112, 32, 3, 1, 1)), ConvSchedule::RegisterTiled);
  EXPECT_EQ(choose_conv_schedule(shape(1, 32, 112, 112, 64, 1, 2)), ConvSchedule::RegisterTiled);
  EXPECT_EQ(choose_conv_schedule(shape(1, 3, 224, 224, 32, 3, 2, 1)), ConvSchedule::RegisterTiled);
  EXPECT_EQ(choose_conv_schedule(shape(1, 32, 56, 56, 32, 3, 1, 1, 32)), ConvSchedule::RegisterTiled);  // depthwise
  EXPECT_EQ(choose_conv_schedule(shape(1, 4, 8, 8, 4, 3, 1, 1)), ConvSchedule::Simple);                 // tiny
  EXPECT_EQ(choose_conv_schedule(shape(1, 64, 3, 3, 64, 3, 1, 1)), ConvSchedule::Simple);               // 3 columns
}

TEST(ConvPipeline, ReportsCompileTimes) {
  ConvCase c{"timed", shape(1, 16, 20, 20, 32, 3, 1, 1), true, true, false};
  auto kernel = compile_conv(c, ConvSchedule::Auto, nullptr);
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  EXPECT_GT(kernel->times.lower_ms, 0);
  EXPECT_GT(kernel->times.llvm_ms, 0);
  EXPECT_GT(kernel->times.object_ms, 0);
  EXPECT_GT(kernel->times.total_ms(), kernel->times.lower_ms);
}

TEST(ConvPipeline, KernelRejectsOtherSizes) {
  ConvCase c{"fixed_size", shape(1, 8, 16, 16, 16, 3, 1, 1), false, false, false};
  auto kernel = compile_conv(c, ConvSchedule::Auto, nullptr);
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  // One column fewer than the kernel was built for.
  Tensor x = random_tensor({1, 8, 16, 15}, 1), w = random_tensor({16, 8, 3, 3}, 2);
  Tensor out = Tensor::zeros(DType::F32, {1, 16, 16, 15});
  Tensor inputs[] = {x, w};
  Status st = kernel->run(inputs, std::span<const Tensor>(&out, 1));
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(st.message().empty());
}

TEST(ConvPipeline, InvalidShapesAreRejectedBeforeBuilding) {
  ConvDefinition def;  // never read: the shape check comes first
  ConvShape bad_group = shape(1, 6, 8, 8, 4, 3, 1, 1, 4);
  auto p1 = build_conv2d(def, bad_group);
  ASSERT_FALSE(p1.ok());
  EXPECT_NE(p1.status().message().find("group"), std::string::npos) << p1.status().message();
  ConvShape too_small = shape(1, 2, 2, 2, 2, 5);  // 5x5 window over a 2x2 image, no pads
  auto p2 = build_conv2d(def, too_small);
  ASSERT_FALSE(p2.ok());
  EXPECT_NE(p2.status().message().find("empty output"), std::string::npos) << p2.status().message();
  ConvShape zero_stride = shape(1, 2, 8, 8, 2, 3);
  zero_stride.stride_w = 0;
  EXPECT_FALSE(build_conv2d(def, zero_stride).ok());
  // A valid shape, but no Funcs to read.
  auto p3 = build_conv2d(def, shape(1, 2, 8, 8, 2, 3));
  ASSERT_FALSE(p3.ok());
  EXPECT_EQ(p3.status().code(), StatusCode::InvalidArgument);
}

}  // namespace
}  // namespace dj::jit
