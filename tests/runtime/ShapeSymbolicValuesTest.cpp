// Load-time shape functions of the shape family: symbolic dims travel through
// shape tensors (Shape -> Gather/Slice/Concat/Unsqueeze -> Reshape, Expand,
// ConstantOfShape, Range) and come back as SymShapes; Reshape's -1 cancels
// common factors; data-dependent sizes get fresh DataDependent symbols.
#include <gtest/gtest.h>

#include <climits>

#include "runtime/ShapeInference.h"
#include "tests/runtime/ShapeOpsTestSupport.h"

namespace dj {
namespace {

using namespace shape_test;

SymExpr sym(const char* name) { return SymExpr::symbol(name); }

// A hand-built graph: values by name, nodes resolved against the builtin registry.
struct GraphBuilder {
  Graph g;

  ValueId input(const std::string& name, DType t, SymShape shape) {
    ValueId v = g.add_value(name);
    g.value(v).dtype = t;
    g.value(v).shape = std::move(shape);
    g.inputs.push_back(v);
    return v;
  }
  ValueId constant(const std::string& name, Tensor t) {
    ValueId v = g.add_value(name);
    g.value(v).dtype = t.dtype();
    g.value(v).shape = SymShape(t.shape().begin(), t.shape().end());
    g.value(v).constant = t;
    g.initializers.push_back(v);
    return v;
  }
  ValueId node(const std::string& op, std::vector<ValueId> inputs, std::map<std::string, Attribute> attrs = {}) {
    Node n;
    n.name = op + std::to_string(g.nodes.size());
    n.op_type = op;
    n.inputs = std::move(inputs);
    n.attributes = std::move(attrs);
    n.schema = OpRegistry::builtin().find("", op);
    EXPECT_NE(n.schema, nullptr) << op;
    ValueId out = g.add_value(n.name + "_out");
    n.outputs = {out};
    g.nodes.push_back(std::move(n));
    return out;
  }
  const ValueInfo& info(ValueId v) const { return g.value(v); }
  std::string shape_of(ValueId v) const {
    const auto& s = g.value(v).shape;
    return s ? sym_shape_to_string(*s) : "<unknown>";
  }
  std::string elements_of(ValueId v) const {
    const auto& e = g.value(v).sym_values;
    return e ? sym_shape_to_string(*e) : "<unknown>";
  }
};

TEST(ShapeSymbolicValuesTest, ShapeGatherConcatReshapeKeepsSymbols) {
  GraphBuilder b;
  ValueId x = b.input("x", DType::F32, {sym("batch"), sym("seq"), 64});
  ValueId s = b.node("Shape", {x});
  ValueId d0 = b.node("Gather", {s, b.constant("i0", i64s({0}))});
  ValueId d1 = b.node("Gather", {s, b.constant("i1", i64s({1}))});
  ValueId spec = b.node("Concat", {d0, d1, b.constant("tail", i64s({8, -1}))}, {{"axis", int_attr(0)}});
  ValueId y = b.node("Reshape", {x, spec});
  infer_shapes(b.g, 17);
  EXPECT_EQ(b.shape_of(s), "[3]");
  EXPECT_EQ(b.elements_of(s), "[batch,seq,64]");
  EXPECT_EQ(b.elements_of(d1), "[seq]");
  EXPECT_EQ(b.elements_of(spec), "[batch,seq,8,-1]");
  EXPECT_EQ(b.shape_of(y), "[batch,seq,8,8]");  // (batch*seq*64) / (batch*seq*8) cancels to 8
  EXPECT_EQ(b.info(y).dtype, DType::F32);
}

TEST(ShapeSymbolicValuesTest, ReshapeMinusOneKeepsSymbolicQuotient) {
  GraphBuilder b;
  ValueId x = b.input("x", DType::F16, {sym("batch"), sym("seq"), 64});
  ValueId s = b.node("Shape", {x}, {{"end", int_attr(1)}});  // opset 15 slice of the shape: [batch]
  ValueId spec = b.node("Concat", {s, b.constant("m1", i64s({-1}))}, {{"axis", int_attr(0)}});
  ValueId y = b.node("Reshape", {x, spec});
  ValueId z = b.node("Reshape", {x, b.constant("c", i64s({0, 0, 4, 16}))});
  ValueId f = b.node("Flatten", {x}, {{"axis", int_attr(2)}});
  infer_shapes(b.g, 17);
  EXPECT_EQ(b.shape_of(y), "[batch,seq*64]");
  EXPECT_EQ(b.shape_of(z), "[batch,seq,4,16]");
  EXPECT_EQ(b.shape_of(f), "[batch*seq,64]");
}

TEST(ShapeSymbolicValuesTest, ScalarGatherUnsqueezeRangeExpandConstantOfShape) {
  GraphBuilder b;
  ValueId x = b.input("x", DType::F32, {sym("batch"), sym("seq")});
  ValueId s = b.node("Shape", {x});
  ValueId seq = b.node("Gather", {s, b.constant("one", Tensor::scalar<int64_t>(1))});
  ValueId seq1 = b.node("Unsqueeze", {seq, b.constant("ax", i64s({0}))});
  ValueId r = b.node("Range", {b.constant("zero", Tensor::scalar<int64_t>(0)), seq, b.constant("step", Tensor::scalar<int64_t>(1))});
  ValueId c = b.node("ConstantOfShape", {s}, {{"value", tensor_attr(i64({1}, {1}))}});
  ValueId e = b.node("Expand", {b.constant("v", f32({1}, {1, 1})), s});
  ValueId t = b.node("Tile", {x, b.constant("reps", i64s({2, 1}))});
  infer_shapes(b.g, 17);
  EXPECT_EQ(b.shape_of(seq), "[]");
  EXPECT_EQ(b.elements_of(seq), "[seq]");
  EXPECT_EQ(b.elements_of(seq1), "[seq]");
  EXPECT_EQ(b.shape_of(r), "[seq]");
  EXPECT_EQ(b.info(r).dtype, DType::I64);
  EXPECT_EQ(b.shape_of(c), "[batch,seq]");
  EXPECT_EQ(b.info(c).dtype, DType::I64);
  EXPECT_EQ(b.shape_of(e), "[batch,seq]");
  EXPECT_EQ(b.shape_of(t), "[batch*2,seq]");
}

TEST(ShapeSymbolicValuesTest, SliceLengthsAreExactSymbolically) {
  GraphBuilder b;
  ValueId x = b.input("x", DType::F32, {sym("batch"), sym("seq"), 64});
  auto slice = [&](int64_t start, int64_t end, int64_t axis, int64_t step) {
    return b.node("Slice", {x, b.constant("s", i64s({start})), b.constant("e", i64s({end})),
                            b.constant("a", i64s({axis})), b.constant("st", i64s({step}))});
  };
  ValueId all = slice(0, INT64_MAX, 1, 1);
  ValueId tail = slice(1, INT64_MAX, 1, 1);
  ValueId last = slice(-1, INT64_MAX, -2, 1);
  ValueId rev = slice(-1, INT64_MIN, 1, -1);
  ValueId consts = slice(4, -4, 2, 2);
  ValueId s = b.node("Shape", {x});
  ValueId first2 = b.node("Slice", {s, b.constant("s0", i64s({0})), b.constant("e2", i64s({2}))});
  infer_shapes(b.g, 17);
  EXPECT_EQ(b.shape_of(all), "[batch,seq,64]");
  EXPECT_EQ(b.shape_of(tail), "[batch,max((seq-1),0),64]");
  EXPECT_EQ(b.shape_of(last), "[batch,min(1,seq),64]");
  EXPECT_EQ(b.shape_of(rev), "[batch,seq,64]");
  EXPECT_EQ(b.shape_of(consts), "[batch,seq,28]");
  EXPECT_EQ(b.elements_of(first2), "[batch,seq]");
}

TEST(ShapeSymbolicValuesTest, DataDependentOpsGetFreshSymbols) {
  GraphBuilder b;
  ValueId x = b.input("x", DType::F32, {sym("batch"), 4});
  ValueId nz = b.node("NonZero", {x});
  ValueId cond = b.input("cond", DType::Bool, {sym("n")});
  ValueId cp = b.node("Compress", {x, cond}, {{"axis", int_attr(0)}});
  ValueId sq = b.node("Squeeze", {x});  // batch might be 1: rank unknown
  infer_shapes(b.g, 17);
  ASSERT_TRUE(b.info(nz).shape.has_value());
  const SymShape& s = *b.info(nz).shape;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].to_string(), "2");
  EXPECT_TRUE(s[1].is_data_dependent()) << s[1].to_string();
  ASSERT_TRUE(b.info(cp).shape.has_value());
  EXPECT_TRUE((*b.info(cp).shape)[0].is_data_dependent());
  EXPECT_EQ((*b.info(cp).shape)[1].to_string(), "4");
  EXPECT_FALSE(b.info(sq).shape.has_value());
}

TEST(ShapeSymbolicValuesTest, ShapeFunctionThroughShapeContextDirectly) {
  // The contract without infer_shapes: one Transpose node, inputs/outputs by pointer.
  Node n;
  n.op_type = "Transpose";
  n.attributes["perm"] = ints_attr({2, 0, 1});
  ValueInfo in, out;
  in.dtype = DType::Bool;
  in.shape = SymShape{sym("batch"), 3, sym("seq")};
  int counter = 0;
  ShapeContext ctx(n, 17, {&in}, {&out}, &counter);
  const OpSchema* schema = OpRegistry::builtin().find("", "Transpose");
  ASSERT_TRUE(schema && schema->infer);
  ASSERT_TRUE(schema->infer(ctx).ok());
  EXPECT_EQ(out.dtype, DType::Bool);
  ASSERT_TRUE(out.shape.has_value());
  EXPECT_EQ(sym_shape_to_string(*out.shape), "[seq,batch,3]");
}

TEST(ShapeSymbolicValuesTest, ConcatSplitPadGatherShapes) {
  GraphBuilder b;
  ValueId x = b.input("x", DType::F32, {sym("batch"), sym("seq"), 64});
  ValueId y = b.input("y", DType::F32, {sym("batch"), 3, 64});
  ValueId c = b.node("Concat", {x, y}, {{"axis", int_attr(1)}});
  ValueId p = b.node("Pad", {x, b.constant("pads", i64s({0, 1, 0, 0, 2, 0}))});
  ValueId g = b.node("Gather", {x, b.constant("idx", i64({0, 1, 2, 3}, {2, 2}))}, {{"axis", int_attr(2)}});
  ValueId t = b.node("Transpose", {x}, {{"perm", ints_attr({1, 0, 2})}});
  infer_shapes(b.g, 17);
  EXPECT_EQ(b.shape_of(c), "[batch,(seq+3),64]");
  EXPECT_EQ(b.shape_of(p), "[batch,(seq+3),64]");
  EXPECT_EQ(b.shape_of(g), "[batch,seq,2,2]");
  EXPECT_EQ(b.shape_of(t), "[seq,batch,64]");
}

}  // namespace
}  // namespace dj
