// Conv groups (FusionPlan.h) compiled through jit/ConvPipeline, against the
// interpreter on a residual block written in ONNX text: a strided Conv with bias
// and ReLU, a Conv whose residual Add and ReLU fold into it, a 1x1 projection
// shortcut, and a depthwise Conv with asymmetric pads. Resolutions and batches
// sweep, unseen shapes included (exact plans only: the generic tier leaves Convs
// to the reference kernel). Tolerance: BundledModelSupport.h's.
#include <gtest/gtest.h>

#include <cmath>

#include "frontend/OnnxLoader.h"
#include "specializer/Specializer.h"
#include "tests/support/JitUnderTest.h"

namespace dj::specializer {
namespace {

using test::JitUnderTest;
using test::random_f32;

std::string numbers(size_t n, float step) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(std::sin(static_cast<float>(i) * step) * 0.2f);
  return s;
}

std::shared_ptr<const Model> residual_block() {
  std::string text = R"(<ir_version: 8, opset_import: ["" : 17]>
block (float[n, 3, h, w] x) => (float[n, 8, oh, ow] y, float[n, 8, oh, ow] d) <
    float[8, 3, 3, 3] w1 = {%216%}, float[8] b1 = {%8%}, float[8, 8, 3, 3] w2 = {%576%}, float[8] b2 = {%8%},
    float[8, 3, 1, 1] ws = {%24%}, float[8, 1, 3, 3] wd = {%72%}> {
  c1 = Conv <kernel_shape: ints = [3, 3], strides: ints = [2, 2], pads: ints = [1, 1, 1, 1]> (x, w1, b1)
  r1 = Relu(c1)
  c2 = Conv <kernel_shape: ints = [3, 3], pads: ints = [1, 1, 1, 1]> (r1, w2, b2)
  s = Conv <strides: ints = [2, 2]> (x, ws)
  a = Add(c2, s)
  y = Relu(a)
  d = Conv <group: int = 8, kernel_shape: ints = [3, 3], pads: ints = [0, 1, 2, 1]> (y, wd)
})";
  for (int count : {216, 8, 576, 24, 72}) {
    const std::string tag = "%" + std::to_string(count) + "%";
    for (size_t at; (at = text.find(tag)) != std::string::npos;)
      text.replace(at, tag.size(), numbers(static_cast<size_t>(count), 0.3f + 0.01f * static_cast<float>(at % 7)));
  }
  auto m = load_onnx_text(text);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::make_shared<const Model>(std::move(m).value());
}

TEST(FusedConv, ResidualBlockMatchesTheInterpreter) {
  JitUnderTest t(residual_block());
  int seed = 0;
  for (int64_t n : {1, 2})
    for (int64_t size : {9, 16, 33}) t.check({random_f32({n, 3, size, size + 2}, ++seed, 1.0f)}, 3, "n" + std::to_string(n) + " " + std::to_string(size));
  ASSERT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  const std::string plan = specs[0]->info().plan_text;
  EXPECT_NE(plan.find("conv: Conv Relu"), std::string::npos) << plan;
  EXPECT_NE(plan.find("conv: Conv Add Relu"), std::string::npos) << plan;  // the residual folded into c2
  EXPECT_EQ(specs[0]->info().interpreted_ops, 0u) << plan;
  EXPECT_GT(t.compiled_executions(), 0u);
  t.check({random_f32({1, 3, 12, 7}, 99, 1.0f)}, 1, "unseen");
}

}  // namespace
}  // namespace dj::specializer
