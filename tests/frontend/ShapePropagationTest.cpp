// Load-time shape propagation on the bundled dynamic models: which dims are
// constant, which are model symbols, which are only known after running.
#include <gtest/gtest.h>

#include "frontend/OnnxLoader.h"

namespace dj {
namespace {

Model load_bundled(const std::string& name) {
  auto m = load_model_file(std::string(DJ_SOURCE_DIR) + "/models/" + name);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return std::move(m).value();
}

const ValueInfo& output(const Model& m, size_t i) { return m.graph->value(m.graph->outputs[i]); }

}  // namespace

TEST(ShapePropagationTest, EncoderKeepsBatchAndSeqSymbolicThroughReshapes) {
  // Heads are split with Shape -> Gather -> Concat -> Reshape from the runtime shape;
  // propagation must still see [batch, seq, 32] at the end.
  Model m = load_bundled("tiny_encoder.onnx");
  const ValueInfo& hidden = output(m, 0);
  ASSERT_TRUE(hidden.shape.has_value());
  EXPECT_EQ(sym_shape_to_string(*hidden.shape), "[batch,seq,32]");
  EXPECT_EQ((*hidden.shape)[0].classify(), DimClass::Symbolic);
  EXPECT_EQ((*hidden.shape)[2].classify(), DimClass::Constant);
  // And every intermediate value of the main graph has a known rank.
  for (const Node& n : m.graph->nodes)
    for (ValueId v : n.outputs)
      EXPECT_TRUE(m.graph->value(v).shape.has_value()) << "no shape for " << m.graph->value(v).name;
}

TEST(ShapePropagationTest, NonZeroRoutingGivesDataDependentDims) {
  Model m = load_bundled("moe_router.onnx");
  int data_dependent = 0;
  for (const Node& n : m.graph->nodes) {
    if (n.op_type != "NonZero") continue;
    const ValueInfo& out = m.graph->value(n.outputs[0]);
    ASSERT_TRUE(out.shape.has_value());
    ASSERT_EQ(out.shape->size(), 2u);
    EXPECT_EQ((*out.shape)[0].const_value(), 1);
    EXPECT_EQ((*out.shape)[1].classify(), DimClass::DataDependent);
    ++data_dependent;
  }
  EXPECT_EQ(data_dependent, 4);  // one per expert
  // The scatter back restores the static [tokens, 16].
  EXPECT_EQ(sym_shape_to_string(*output(m, 0).shape), "[tokens,16]");
}

TEST(ShapePropagationTest, MlpOutputIsBatchByFour) {
  Model m = load_bundled("dynamic_mlp.onnx");
  EXPECT_EQ(sym_shape_to_string(*output(m, 0).shape), "[batch,4]");
}

}  // namespace dj
