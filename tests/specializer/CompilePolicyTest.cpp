// What the specializer chooses not to compile, and how its background compiles
// share the machine: a region whose plan fuses nothing (lone elementwise ops) stays
// interpreted unless compile_unfused_plans asks otherwise; wait_idle_for reports
// when the background queue has drained. Every run is compared with a reference
// interpreter (tolerance: BundledModelSupport.h).
#include <gtest/gtest.h>

#include "frontend/OnnxLoader.h"
#include "runtime/Interpreter.h"
#include "specializer/Specializer.h"
#include "tests/support/JitUnderTest.h"

namespace dj::specializer {
namespace {

// Relu's result escapes as a graph output, so Relu and Mul are two one-op kernels.
constexpr const char* kLoneOps = R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y, float[n, 8] a) {
  a = Relu(x)
  y = Mul(a, x)
})";

// Relu and Mul fuse into one kernel.
constexpr const char* kChain = R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 8] x) => (float[n, 8] y) {
  a = Relu(x)
  y = Mul(a, x)
})";

// The model in ONNX text, with a reference interpreter beside it (JitUnderTest).
struct Jit : test::JitUnderTest {
  Jit(const char* text, SpecializerOptions so) : test::JitUnderTest(load(text), std::move(so)) {}
  static std::shared_ptr<const Model> load(const char* text) {
    auto m = load_onnx_text(text);
    EXPECT_TRUE(m.ok()) << m.status().message();
    return std::make_shared<const Model>(std::move(m).value());
  }
};

SpecializerOptions inline_compiles() {
  SpecializerOptions so;
  so.background = false;
  return so;
}

TEST(CompilePolicy, APlanOfLoneElementwiseOpsStaysInterpreted) {
  Jit t(kLoneOps, inline_compiles());
  const Tensor x = test::random_f32({5, 8}, 3, 1.0f);
  t.check({x}, 5, "lone ops");
  EXPECT_TRUE(t.specializer->specializations(0).empty());
  EXPECT_EQ(t.specializer->stats().compiled, 0u);
  EXPECT_GE(t.specializer->stats().not_compilable, 1u);
  EXPECT_EQ(t.compiled_executions(), 0u);
}

TEST(CompilePolicy, CompileUnfusedPlansCompilesThemAnyway) {
  SpecializerOptions so = inline_compiles();
  so.compile_unfused_plans = true;
  Jit t(kLoneOps, so);
  const Tensor x = test::random_f32({5, 8}, 3, 1.0f);
  t.check({x}, 5, "lone ops, compiled");
  ASSERT_EQ(t.specializer->specializations(0).size(), 1u);
  EXPECT_EQ(t.specializer->specializations(0)[0]->kernels().size(), 2u);
  EXPECT_GE(t.compiled_executions(), 3u);
}

TEST(CompilePolicy, AFusedChainIsCompiled) {
  Jit t(kChain, inline_compiles());
  const Tensor x = test::random_f32({5, 8}, 4, 1.0f);
  t.check({x}, 5, "fused chain");
  ASSERT_EQ(t.specializer->specializations(0).size(), 1u);
  EXPECT_GE(t.compiled_executions(), 3u);
}

TEST(CompilePolicy, WaitIdleForReturnsOnceTheBackgroundCompileLanded) {
  SpecializerOptions so;  // background, at the default (low) priority
  EXPECT_EQ(so.compile_priority, jit::CompilePriority::Low);
  Jit t(kChain, so);
  const Tensor x = test::random_f32({6, 8}, 5, 1.0f);
  t.check({x}, 2, "tracing");  // hot on the 2nd run: queued
  EXPECT_TRUE(t.specializer->wait_idle_for(-1));
  EXPECT_EQ(t.specializer->compiles_in_flight(), 0u);
  ASSERT_EQ(t.specializer->specializations(0).size(), 1u);
  EXPECT_TRUE(t.specializer->wait_idle_for(0));  // nothing left: true at once
  t.check({x}, 3, "compiled");
  EXPECT_GE(t.compiled_executions(), 3u);
}

}  // namespace
}  // namespace dj::specializer
