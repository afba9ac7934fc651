// Elementwise kernels: every op, concrete and generic, flat (float4) and indexed
// paths, broadcasting, 32- and 64-bit indices — generated and compiled for sm_90.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "jit/cuda/CudaElementwiseOps.h"
#include "tests/jit_cuda/CudaJitTestSupport.h"

namespace dj::jit::cuda {
namespace {

using testing::compile_and_check;
using testing::elementwise_spec;
using testing::generate_or_fail;

bool contains(const std::string& text, const std::string& piece) { return text.find(piece) != std::string::npos; }

// What each op's definition must say (the CPU reference's semantics).
const std::map<std::string, std::string> kExpected = {
    {"Relu", "(x0 < 0.0f ? 0.0f : x0)"},
    {"Sigmoid", "(1.0f / (1.0f + expf(-x0)))"},
    {"Tanh", "tanhf(x0)"},
    {"Exp", "expf(x0)"},
    {"Log", "logf(x0)"},
    {"Neg", "(-x0)"},
    {"Abs", "fabsf(x0)"},
    {"Sqrt", "sqrtf(x0)"},
    {"Erf", "erff(x0)"},
    {"Identity", "= x0;"},
    {"Reciprocal", "(1.0f / x0)"},
    {"Floor", "floorf(x0)"},
    {"Ceil", "ceilf(x0)"},
    {"LeakyRelu", "(x0 < 0.0f ? (0.200000003f) * x0 : x0)"},
    {"Add", "(x0 + x1)"},
    {"Sub", "(x0 - x1)"},
    {"Mul", "(x0 * x1)"},
    {"Div", "(x0 / x1)"},
    {"Max", "((x0 > x1 || x0 != x0) ? x0 : x1)"},
    {"Min", "((x0 < x1 || x0 != x0) ? x0 : x1)"},
};

TEST(NvrtcElementwise, EveryOpCompilesWithItsReferenceSemantics) {
  ASSERT_EQ(supported_elementwise_ops().size(), kExpected.size());
  for (const std::string& op : supported_elementwise_ops()) {
    SCOPED_TRACE(op);
    ElementwiseStep step{op, {0}, 0.2f};
    if (elementwise_op_arity(op) == 2) step.operands = {0, 1};
    auto spec = elementwise_spec("op_" + op, {3, 100}, {{3, 100}, {100}}, {step, {"Add", {2, 1}}});
    CudaKernelSource kernel = generate_or_fail(spec);
    ASSERT_TRUE(kExpected.count(op));
    EXPECT_TRUE(contains(kernel.source, kExpected.at(op))) << kernel.source;
    compile_and_check(kernel);
  }
}

TEST(NvrtcElementwise, AllOpsInOneChain) {
  std::vector<ElementwiseStep> steps;
  int last = 0;  // input 0, then each step's result
  for (const std::string& op : supported_elementwise_ops()) {
    ElementwiseStep step{op, {last}, 0.1f};
    if (elementwise_op_arity(op) == 2) step.operands = {last, 1 + static_cast<int>(steps.size()) % 2};
    steps.push_back(step);
    last = 3 + static_cast<int>(steps.size()) - 1;
  }
  for (bool generic : {false, true}) {
    auto spec = elementwise_spec(generic ? "chain_generic" : "chain", {2, 3, 4}, {{2, 3, 4}, {3, 1}, {4}}, steps,
                                 generic);
    CudaKernelSource kernel = generate_or_fail(spec);
    EXPECT_TRUE(contains(kernel.source, "const float t" + std::to_string(steps.size() - 1)));
    compile_and_check(kernel);
  }
}

TEST(NvrtcElementwise, FlatShapesTakeTheFloat4Path) {
  const std::vector<ElementwiseStep> mul_add = {{"Mul", {0, 1}}, {"Add", {2, 0}}};
  struct Case {
    Shape out;
    std::vector<Shape> inputs;
    bool flat;
  };
  const std::vector<Case> cases = {
      {{1024}, {{1024}, {1024}}, true},           // same shapes
      {{64, 256}, {{64, 256}, {1}}, true},        // a scalar operand
      {{7, 3, 5}, {{7, 3, 5}, {1, 1, 1}}, true},  // numel % 4 != 0: float4 bulk, scalar tail
      {{1}, {{1}, {}}, true},                     // one element
      {{}, {{}, {}}, true},                       // rank 0
      {{1, 5, 1, 8}, {{5, 1, 8}, {1, 5, 1, 8}}, true},  // unit dims of the output are no broadcast
      {{5, 1, 8}, {{5, 1, 8}, {1, 8}}, false},    // a row broadcast: index math
  };
  int index = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_to_string(c.out));
    CudaKernelSource kernel = generate_or_fail(elementwise_spec("flat_" + std::to_string(index++), c.out, c.inputs, mul_add));
    EXPECT_EQ(contains(kernel.source, "reinterpret_cast<float4*>(out)[v]"), c.flat) << kernel.source;
    EXPECT_EQ(contains(kernel.source, " r = i;"), !c.flat) << kernel.source;
    compile_and_check(kernel);
  }
}

TEST(NvrtcElementwise, BroadcastShapesTakeTheIndexPath) {
  const std::vector<ElementwiseStep> sub = {{"Sub", {0, 1}}};
  struct Case {
    Shape out;
    std::vector<Shape> inputs;
    std::string expect;  // a piece of the baked index math
  };
  const std::vector<Case> cases = {
      {{8, 5, 7}, {{8, 5, 7}, {5, 1}}, "r /= 7u;"},            // broadcast inner and outer dims
      {{4, 6}, {{4, 1}, {1, 6}}, "in0[c0]"},                   // outer product
      {{2, 3, 4, 5, 6, 7}, {{2, 3, 4, 5, 6, 7}, {4, 1, 1, 7}}, "r /= 30u;"},  // rank 6 coalesced to 4
      {{3, 1, 4}, {{3, 1, 1}, {4}}, "in1[c1]"},                // unit dims dropped
  };
  int index = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_to_string(c.out));
    CudaKernelSource kernel = generate_or_fail(elementwise_spec("index_" + std::to_string(index++), c.out, c.inputs, sub));
    EXPECT_FALSE(contains(kernel.source, "float4")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "for (unsigned i = first32;")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, c.expect)) << kernel.source;
    compile_and_check(kernel);
  }
}

TEST(NvrtcElementwise, HugeOutputsUse64BitIndices) {
  // 2^31 + 2^30 elements: past 32-bit range. (Generation only needs the shape.)
  const Shape out = {3, int64_t(1) << 30};
  CudaKernelSource kernel =
      generate_or_fail(elementwise_spec("huge_index", out, {out, {3, 1}}, {{"Add", {0, 1}}}));
  EXPECT_TRUE(contains(kernel.source, "for (long long i = first;")) << kernel.source;
  EXPECT_TRUE(contains(kernel.source, "r /= 1073741824LL;")) << kernel.source;
  EXPECT_FALSE(contains(kernel.source, "unsigned i")) << kernel.source;
  compile_and_check(kernel);

  CudaKernelSource flat = generate_or_fail(elementwise_spec("huge_flat", out, {out, {1}}, {{"Add", {0, 1}}}));
  EXPECT_TRUE(contains(flat.source, "const long long n = 3221225472LL;")) << flat.source;
  compile_and_check(flat);
}

TEST(NvrtcElementwise, GenericKernels) {
  const std::vector<ElementwiseStep> chain = {{"Mul", {0, 1}}, {"Sigmoid", {2}}, {"Add", {3, 0}}};
  {  // no flags: both paths, chosen at run time; 32- and 64-bit index loops
    auto kernel = generate_or_fail(elementwise_spec("generic_any", {2, 3, 4}, {{2, 3, 4}, {3, 1}}, chain, true));
    EXPECT_TRUE(contains(kernel.source, "if (p.extent[2] == n) {")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "p.in_stride[1][2]")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "if (n <= 1073741824LL) {")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "for (long long i = first;")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "reinterpret_cast<float4*>(out)[v]")) << kernel.source;
    compile_and_check(kernel);
  }
  {  // flags say: input 0 full, input 1 a single element -> the flat path only
    auto spec = elementwise_spec("generic_flat", {2, 3, 4}, {{2, 3, 4}, {1}}, chain, true);
    spec.input_broadcast = {{false, false, false}, {true, true, true}};
    auto kernel = generate_or_fail(spec);
    EXPECT_FALSE(contains(kernel.source, " r = i;")) << kernel.source;
    EXPECT_FALSE(contains(kernel.source, "p.in_stride")) << kernel.source;
    EXPECT_TRUE(contains(kernel.source, "make_float4(in1[0], in1[0], in1[0], in1[0])")) << kernel.source;
    compile_and_check(kernel);
  }
  {  // flags with a row broadcast: index path for the runtime strides of input 1
    auto spec = elementwise_spec("generic_rows", {5, 8}, {{5, 8}, {8}}, chain, true);
    spec.input_broadcast = {{false, false}, {true, false}};
    auto kernel = generate_or_fail(spec);
    EXPECT_TRUE(contains(kernel.source, "p.in_stride[1][0]")) << kernel.source;
    EXPECT_FALSE(contains(kernel.source, "p.in_stride[0][0]")) << kernel.source;  // input 0 is full
    compile_and_check(kernel);
  }
  {  // rank 0 and rank 1 generic kernels are flat by construction
    compile_and_check(generate_or_fail(elementwise_spec("generic_rank0", {}, {{}, {}}, chain, true)));
    auto rank1 = generate_or_fail(elementwise_spec("generic_rank1", {9}, {{9}, {1}}, chain, true));
    EXPECT_FALSE(contains(rank1.source, " r = i;")) << rank1.source;
    compile_and_check(rank1);
  }
  {  // eight inputs, rank 6
    std::vector<Shape> inputs(8, Shape{2, 1, 3, 1, 4, 5});
    inputs[3] = {5};
    std::vector<ElementwiseStep> sum;
    int last = 0;
    for (int i = 1; i < 8; ++i) {
      sum.push_back({"Add", {last, i}});
      last = 8 + i - 1;
    }
    compile_and_check(generate_or_fail(elementwise_spec("generic_wide", {2, 6, 3, 7, 4, 5}, inputs, sum, true)));
  }
}

TEST(NvrtcElementwise, InvalidSpecsAreRefusedWithTheReason) {
  const std::vector<ElementwiseStep> add = {{"Add", {0, 1}}};
  auto message = [](const CudaKernelSpec& spec) {
    auto kernel = generate_cuda_kernel(spec);
    EXPECT_FALSE(kernel.ok()) << spec.name;
    return kernel.ok() ? std::string() : kernel.status().message();
  };
  EXPECT_NE(message(elementwise_spec("bad_op", {4}, {{4}}, {{"Gelu", {0}}})).find("'Gelu'"), std::string::npos);
  EXPECT_NE(message(elementwise_spec("forward", {4}, {{4}, {4}}, {{"Add", {0, 2}}})).find("operand 2"),
            std::string::npos);
  EXPECT_NE(message(elementwise_spec("arity", {4}, {{4}}, {{"Add", {0}}})).find("takes 2"), std::string::npos);
  EXPECT_NE(message(elementwise_spec("nobcast", {4, 5}, {{4, 5}, {4}}, add)).find("does not broadcast"),
            std::string::npos);
  EXPECT_NE(message(elementwise_spec("rank7", {1, 2, 1, 2, 1, 2, 1}, {{1}, {1}}, add)).find("rank 7"),
            std::string::npos);
  EXPECT_NE(message(elementwise_spec("nine", {4}, std::vector<Shape>(9, Shape{4}), add)).find("at most 8"),
            std::string::npos);
  EXPECT_NE(message(elementwise_spec("nosteps", {4}, {{4}}, {})).find("at least one step"), std::string::npos);
  EXPECT_NE(message(elementwise_spec("noinputs", {4}, {}, add)).find("at least one input"), std::string::npos);
  EXPECT_NE(message(elementwise_spec("9lives", {4}, {{4}, {4}}, add)).find("not a valid C identifier"),
            std::string::npos);
  EXPECT_NE(message(elementwise_spec("a-b", {4}, {{4}, {4}}, add)).find("not a valid C identifier"), std::string::npos);
  EXPECT_NE(message(elementwise_spec("x__y", {4}, {{4}, {4}}, add)).find("not a valid C identifier"), std::string::npos);
  EXPECT_NE(message(elementwise_spec("leaky", {4}, {{4}}, {{"LeakyRelu", {0}, INFINITY}})).find("non-finite alpha"),
            std::string::npos);
  auto flags = elementwise_spec("flags", {4, 5}, {{4, 5}, {5}}, add, true);
  flags.input_broadcast = {{false, false}};
  EXPECT_NE(message(flags).find("input_broadcast has 1 entries"), std::string::npos);
}

TEST(NvrtcElementwise, FloatLiteralsRoundTrip) {
  for (float v : {0.01f, 0.2f, 1.0f, -3.0f, 1e-5f, 123456792.0f, 2e-38f, 3.4028235e38f, -0.0f}) {
    const std::string text = float_literal(v);
    ASSERT_EQ(text.back(), 'f') << text;
    EXPECT_EQ(std::stof(text.substr(0, text.size() - 1)), v) << text;
    EXPECT_NE(text.find_first_of(".e"), std::string::npos) << text << " would be an integer literal";
  }
  EXPECT_EQ(float_literal(2.0f), "2.0f");
  EXPECT_EQ(float_literal(0.5f), "0.5f");
}

}  // namespace
}  // namespace dj::jit::cuda
