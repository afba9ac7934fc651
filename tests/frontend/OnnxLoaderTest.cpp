// The ONNX loader: text syntax, symbolic dims, captures, and its error messages.
#include "frontend/OnnxLoader.h"

#include <gtest/gtest.h>

#include "runtime/InputBinding.h"
#include "runtime/Interpreter.h"

namespace dj {
namespace {

const char* kReluModel = R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float[batch, 4] x) => (float[batch, 4] y) {
  y = Relu(x)
}
)";

}  // namespace

TEST(OnnxLoaderTest, LoadsTextModelWithSymbolicDims) {
  auto m = load_onnx_text(kReluModel);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const Graph& g = *m->graph;
  ASSERT_EQ(g.inputs.size(), 1u);
  const ValueInfo& x = g.value(g.inputs[0]);
  EXPECT_EQ(x.name, "x");
  ASSERT_TRUE(x.shape.has_value());
  EXPECT_EQ(sym_shape_to_string(*x.shape), "[batch,4]");
  EXPECT_EQ((*x.shape)[0].classify(), DimClass::Symbolic);
  EXPECT_EQ(m->opset, 17);
}

TEST(OnnxLoaderTest, UnknownOpIsNamedWithItsNode) {
  auto m = load_onnx_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float[2] x) => (float[2] y) {
  y = FrobnicateOp <alpha = 1.0> (x)
}
)");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::Unsupported);
  EXPECT_NE(m.status().message().find("unsupported op 'FrobnicateOp'"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("at node 'FrobnicateOp_0'"), std::string::npos) << m.status().message();
}

TEST(OnnxLoaderTest, GarbageBytesAreAnInvalidModel) {
  const char bytes[] = "\x08\x07\x12\x04junk\xff\xff\xff\xff\xff\x01";
  auto m = load_onnx_bytes(bytes, sizeof(bytes) - 1, "junk.onnx");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::InvalidModel);
  EXPECT_NE(m.status().message().find("junk.onnx"), std::string::npos);
}

TEST(OnnxLoaderTest, MissingFileIsAnIoError) {
  auto m = load_model_file("/nonexistent/dir/model.onnx");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::IoError);
  EXPECT_NE(m.status().message().find("/nonexistent/dir/model.onnx"), std::string::npos);
}

TEST(OnnxLoaderTest, DanglingInputIsReported) {
  auto m = load_onnx_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float[2] x) => (float[2] y) {
  y = Relu(nowhere)
}
)");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::InvalidModel);
  EXPECT_NE(m.status().message().find("'nowhere'"), std::string::npos) << m.status().message();
}

TEST(OnnxLoaderTest, BindInputsChecksNamesDtypesRanksAndSymbols) {
  auto m = load_onnx_text(R"(
<ir_version: 8, opset_import: ["" : 17]>
agraph (float[batch, 4] a, float[batch, 4] b) => (float[batch, 4] y) {
  y = Identity(a)
}
)");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const Graph& g = *m->graph;
  Tensor ok = Tensor::zeros(DType::F32, {3, 4});
  EXPECT_TRUE(bind_inputs(g, {{"a", ok}, {"b", ok}}).ok());

  auto missing = bind_inputs(g, {{"a", ok}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing input 'b'"), std::string::npos);

  auto unknown = bind_inputs(g, {{"a", ok}, {"b", ok}, {"c", ok}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown input 'c'"), std::string::npos);

  auto dtype = bind_inputs(g, {{"a", ok}, {"b", Tensor::zeros(DType::I64, {3, 4})}});
  ASSERT_FALSE(dtype.ok());
  EXPECT_NE(dtype.status().message().find("dtype i64"), std::string::npos);

  auto rank = bind_inputs(g, {{"a", ok}, {"b", Tensor::zeros(DType::F32, {12})}});
  ASSERT_FALSE(rank.ok());
  EXPECT_NE(rank.status().message().find("rank 1"), std::string::npos);

  auto fixed = bind_inputs(g, {{"a", ok}, {"b", Tensor::zeros(DType::F32, {3, 5})}});
  ASSERT_FALSE(fixed.ok());
  EXPECT_NE(fixed.status().message().find("dim 1 must be 4"), std::string::npos) << fixed.status().message();

  auto symbol = bind_inputs(g, {{"a", ok}, {"b", Tensor::zeros(DType::F32, {2, 4})}});
  ASSERT_FALSE(symbol.ok());
  EXPECT_NE(symbol.status().message().find("'batch'"), std::string::npos) << symbol.status().message();
}

}  // namespace dj
