// RegionDispatch: the interpreter runs installed code only when its guard (the
// exact input signature) matches, falls back to the reference kernels otherwise,
// counts hits, and reports compiled executions to the tracer.
#include <gtest/gtest.h>

#include "frontend/OnnxLoader.h"
#include "runtime/Interpreter.h"

namespace dj {
namespace {

// Stands in for JIT code: fills the output with a marker value so a test can
// tell which path produced it.
class MarkerRegion : public CompiledRegion {
 public:
  MarkerRegion(SignatureWords guard, Shape out_shape, float marker)
      : CompiledRegion(std::move(guard)), out_shape_(std::move(out_shape)), marker_(marker) {}
  Status run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) const override {
    EXPECT_EQ(inputs.size(), 1u);
    Tensor t = Tensor::empty(DType::F32, out_shape_);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = marker_;
    outputs.push_back(t);
    return {};
  }
  std::string describe() const override { return "marker"; }

 private:
  Shape out_shape_;
  float marker_;
};

std::shared_ptr<const Model> mlp() {
  auto m = load_model_file(std::string(DJ_SOURCE_DIR) + "/models/dynamic_mlp.onnx");
  EXPECT_TRUE(m.ok());
  return std::make_shared<const Model>(std::move(m).value());
}

SignatureWords signature_of(DType dtype, const Shape& shape) {
  SignatureWords w;
  append_signature(w, Tensor::borrow(nullptr, dtype, shape));
  return w;
}

TEST(RegionDispatch, GuardHitRunsTheCodeAndAMissFallsBack) {
  auto model = mlp();
  Interpreter interp(model);
  ASSERT_EQ(interp.regions().size(), 1u);
  auto code = std::make_shared<MarkerRegion>(signature_of(DType::F32, {2, 16}), Shape{2, 4}, 42.0f);
  interp.dispatch().install(0, code);

  auto hit = interp.run({Tensor::zeros(DType::F32, {2, 16})});
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ((*hit)[0].data<float>()[0], 42.0f);
  EXPECT_EQ(code->hits(), 1u);

  auto miss = interp.run({Tensor::zeros(DType::F32, {3, 16})});  // another batch: guard fails
  ASSERT_TRUE(miss.ok());
  EXPECT_NE((*miss)[0].data<float>()[0], 42.0f);
  // Softmax rows sum to 1: the reference kernels ran.
  float row = 0;
  for (int j = 0; j < 4; ++j) row += (*miss)[0].data<float>()[j];
  EXPECT_NEAR(row, 1.0f, 1e-5);
  EXPECT_EQ(code->hits(), 1u);

  RegionStats stats = interp.tracer()->region_stats(0);
  EXPECT_EQ(stats.count, 2u);
  EXPECT_EQ(stats.compiled, 1u);
}

TEST(RegionDispatch, SeveralEntriesAndReplacement) {
  auto model = mlp();
  Interpreter interp(model);
  interp.dispatch().install(0, std::make_shared<MarkerRegion>(signature_of(DType::F32, {1, 16}), Shape{1, 4}, 1.0f));
  interp.dispatch().install(0, std::make_shared<MarkerRegion>(signature_of(DType::F32, {5, 16}), Shape{5, 4}, 5.0f));
  // Same guard again: replaces the first.
  interp.dispatch().install(0, std::make_shared<MarkerRegion>(signature_of(DType::F32, {1, 16}), Shape{1, 4}, 7.0f));
  EXPECT_EQ(interp.dispatch().entries(0).size(), 2u);
  EXPECT_EQ((*interp.run({Tensor::zeros(DType::F32, {5, 16})}))[0].data<float>()[0], 5.0f);
  EXPECT_EQ((*interp.run({Tensor::zeros(DType::F32, {1, 16})}))[0].data<float>()[0], 7.0f);
  interp.dispatch().clear();
  EXPECT_NE((*interp.run({Tensor::zeros(DType::F32, {1, 16})}))[0].data<float>()[0], 7.0f);
}

TEST(RegionDispatch, WorksWithTracingOff) {
  auto model = mlp();
  InterpreterOptions o;
  o.trace = false;
  Interpreter interp(model, o);
  interp.dispatch().install(0, std::make_shared<MarkerRegion>(signature_of(DType::F32, {2, 16}), Shape{2, 4}, 3.0f));
  EXPECT_EQ((*interp.run({Tensor::zeros(DType::F32, {2, 16})}))[0].data<float>()[0], 3.0f);
}

}  // namespace
}  // namespace dj
