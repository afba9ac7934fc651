// SoftmaxPipeline: rows of several lengths (tails) and ranks against a double reference.
#include <gtest/gtest.h>

#include "jit/KernelCompiler.h"
#include "jit/SoftmaxPipeline.h"
#include "tests/jit/JitTestSupport.h"

namespace dj::jit {
namespace {

Tensor softmax_reference(const Tensor& x) {
  const int64_t n = x.dim(-1), rows = x.numel() / n;
  Tensor out = Tensor::empty(DType::F32, x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x.data<float>() + r * n;
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double(in[i]));
    for (int64_t i = 0; i < n; ++i) sum += std::exp(in[i] - mx);
    for (int64_t i = 0; i < n; ++i) out.data<float>()[r * n + i] = static_cast<float>(std::exp(in[i] - mx) / sum);
  }
  return out;
}

Expected<CompiledKernel> compile_softmax(int rank, const std::vector<int64_t>& extents, const std::string& name) {
  Halide::ImageParam x(Halide::Float(32), rank, "x");
  Halide::Func out = build_softmax_last_axis(x, x.dim(0).extent(), extents);
  return compile_pipeline(PipelineSpec{Halide::Pipeline(out), {x}, name});
}

void expect_softmax(const CompiledKernel& kernel, const Shape& shape) {
  SCOPED_TRACE(shape_to_string(shape));
  Tensor x = testing::random_tensor(shape, 21, -20, 20);
  Tensor out = Tensor::zeros(DType::F32, shape);
  Status st = kernel.run(std::span<const Tensor>(&x, 1), std::span<const Tensor>(&out, 1));
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_LT(testing::max_abs_diff(out, softmax_reference(x)), 1e-6);
}

TEST(SoftmaxPipeline, ShapeSpecializedRows) {
  const std::vector<Shape> shapes = {{1}, {5}, {1000}, {5, 7}, {3, 4, 100}, {64, 1}, {2, 1024}, {300, 17}};
  int index = 0;
  for (const Shape& shape : shapes) {
    auto kernel = compile_softmax(static_cast<int>(shape.size()), std::vector<int64_t>(shape.rbegin(), shape.rend()),
                                  "softmax_" + std::to_string(index++));
    ASSERT_TRUE(kernel.ok()) << shape_to_string(shape) << ": " << kernel.status().to_string();
    expect_softmax(*kernel, shape);
  }
}

TEST(SoftmaxPipeline, ShapeGenericRows) {
  auto kernel = compile_softmax(2, {}, "softmax_generic");
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  // Short and long rows, one-element rows, and row counts that leave partial tasks.
  for (Shape shape : std::vector<Shape>{{1, 1}, {3, 15}, {9, 16}, {4, 33}, {1000, 250}, {1000, 10}, {5000, 1}})
    expect_softmax(*kernel, shape);
}

TEST(SoftmaxPipeline, LargeLogitsDoNotOverflow) {
  auto kernel = compile_softmax(2, {8, 2}, "softmax_large");
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  Tensor x = Tensor::from_vector<float>({1000, 999, 998, 0, -1e30f, 5, 88, 89,  //
                                         -1000, -1001, 1, 2, 3, 4, 5, 6},
                                        {2, 8});
  Tensor out = Tensor::zeros(DType::F32, {2, 8});
  ASSERT_TRUE(kernel->run(std::span<const Tensor>(&x, 1), std::span<const Tensor>(&out, 1)).ok());
  EXPECT_LT(testing::max_abs_diff(out, softmax_reference(x)), 1e-6);
}

}  // namespace
}  // namespace dj::jit
