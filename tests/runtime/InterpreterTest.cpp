// The interpreter: runs graphs, names the failing node, turns allocation
// failures into OutOfMemory, binds subgraph captures, releases dead values.
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include "frontend/OnnxLoader.h"
#include "runtime/Allocator.h"

namespace dj {
namespace {

std::shared_ptr<const Model> load_text(const char* text) {
  auto m = load_onnx_text(text);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return std::make_shared<const Model>(std::move(m).value());
}

// Restores the allocator cap when a test ends.
struct MemoryCapScope {
  explicit MemoryCapScope(int64_t bytes) : saved(CpuAllocator::limit()) { CpuAllocator::set_limit(bytes); }
  ~MemoryCapScope() { CpuAllocator::set_limit(saved); }
  int64_t saved;
};

}  // namespace

TEST(InterpreterTest, RunsAChainAndComputesValues) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float[n] x) => (float[n] y) {
  two = Constant <value = float {2.0}> ()
  d = Mul(x, two)
  y = Relu(d)
}
)");
  Interpreter interp(model);
  auto out = interp.run({Tensor::from_vector<float>({-1.5f, 0.f, 3.f}, {3})});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const float* y = (*out)[0].data<float>();
  EXPECT_FLOAT_EQ(y[0], 0.f);
  EXPECT_FLOAT_EQ(y[1], 0.f);
  EXPECT_FLOAT_EQ(y[2], 6.f);
}

TEST(InterpreterTest, KernelErrorsNameTheNode) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float[a] x, float[b] z) => (float[c] y) {
  y = Add(x, z)
}
)");
  Interpreter interp(model);
  auto out = interp.run({Tensor::zeros(DType::F32, {3}), Tensor::zeros(DType::F32, {4})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(out.status().message().find("(Add)"), std::string::npos) << out.status().message();
}

TEST(InterpreterTest, OutOfMemoryIsAStatusNotACrash) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (int64[2] shape) => (float[a, b] y) {
  y = ConstantOfShape <value = float {1.0}> (shape)
}
)");
  Interpreter interp(model);
  MemoryCapScope cap(64 << 20);  // 64 MB cap; ask for 4 GB
  auto out = interp.run({Tensor::from_vector<int64_t>({1 << 16, 1 << 14}, {2})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::OutOfMemory);
  EXPECT_NE(out.status().message().find("ConstantOfShape"), std::string::npos) << out.status().message();
}

TEST(InterpreterTest, IfBranchesReadCapturedOuterValues) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (bool c, float[n] x) => (float[n] y) {
  sq = Mul(x, x)
  y = If(c) <
    then_branch = g1 () => (float[n] t) { t = Identity(sq) },
    else_branch = g2 () => (float[n] e) { e = Neg(x) }
  >
}
)");
  Interpreter interp(model);
  Tensor x = Tensor::from_vector<float>({1.f, -2.f, 3.f}, {3});
  auto taken = interp.run({Tensor::scalar<bool>(true), x});
  ASSERT_TRUE(taken.ok()) << taken.status().to_string();
  EXPECT_FLOAT_EQ((*taken)[0].data<float>()[1], 4.f);
  auto other = interp.run({Tensor::scalar<bool>(false), x});
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  EXPECT_FLOAT_EQ((*other)[0].data<float>()[1], 2.f);
}

TEST(InterpreterTest, IntermediateValuesAreReleased) {
  auto model = load_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float[n] x) => (float[n] y) {
  a = Relu(x)
  b = Neg(a)
  c = Abs(b)
  y = Neg(c)
}
)");
  Interpreter interp(model);
  Tensor x = Tensor::zeros(DType::F32, {1 << 20});  // 4 MB
  int64_t before = CpuAllocator::live_bytes();
  {
    auto out = interp.run({x});
    ASSERT_TRUE(out.ok());
    // Only the output is still alive: a, b, c were released after their last use.
    EXPECT_LE(CpuAllocator::live_bytes() - before, (int64_t{4} << 20) + 4096);
  }
  EXPECT_LE(CpuAllocator::live_bytes() - before, 4096);
}

}  // namespace dj
