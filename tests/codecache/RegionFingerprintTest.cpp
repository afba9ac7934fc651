// Region fingerprints: equal for a model whose node, value, graph and symbol names
// all differ but which computes the same thing; different when a weight, an
// attribute, an op, a dtype or the wiring differs. Stable across loads of the
// bundled models, and distinct for their distinct regions.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "codecache/RegionFingerprint.h"
#include "frontend/OnnxLoader.h"

namespace dj::codecache {
namespace {

struct Loaded {
  Model model;
  std::shared_ptr<const RegionPlan> plan;
  std::vector<Digest256> regions;
  Digest256 model_fingerprint;
};

Loaded load(const std::string& text) {
  auto m = load_onnx_text(text);
  EXPECT_TRUE(m.ok()) << m.status().message() << "\n" << text;
  Loaded l{std::move(m).value(), nullptr, {}, {}};
  l.plan = RegionPlan::build(l.model);
  for (const Region& r : l.plan->regions()) l.regions.push_back(fingerprint_region(r, l.model.opset));
  l.model_fingerprint = fingerprint_model(l.model, *l.plan);
  return l;
}

// A MatMul+Add+Relu, a data-dependent NonZero cut, then a Softmax: three regions.
// Placeholders: $X $W $B $Y $H names, $N symbol, $WV weight values, $AX softmax axis,
// $T input type, $G graph name, $OP activation.
std::string mlp(std::map<std::string, std::string> subst) {
  std::string text = R"(
<ir_version: 8, opset_import: ["" : 17]>
$G ($T[$N, 4] $X) => (float[$N, 3] $Y, int64[2, Z] nz)
<float[4, 3] $W = {$WV}, float[3] $B = {0.5, -0.5, 0.25}>
{
  $H = MatMul($X, $W)
  $H2 = Add($H, $B)
  $H3 = $OP($H2)
  nz = NonZero($H3)
  $Y = Softmax <axis = $AX> ($H3)
}
)";
  std::map<std::string, std::string> defaults = {
      {"$G", "agraph"}, {"$T", "float"}, {"$N", "batch"}, {"$X", "x"}, {"$W", "w"}, {"$B", "b"},
      {"$Y", "y"},      {"$H2", "h2"},   {"$H3", "h3"},   {"$H", "h"}, {"$OP", "Relu"}, {"$AX", "-1"},
      {"$WV", "1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0"}};
  for (auto& [k, v] : subst) defaults[k] = v;
  // Longest placeholders first, so $H2 is not read as $H followed by "2".
  std::vector<std::pair<std::string, std::string>> ordered(defaults.begin(), defaults.end());
  std::sort(ordered.begin(), ordered.end(), [](auto& a, auto& b) { return a.first.size() > b.first.size(); });
  for (auto& [k, v] : ordered)
    for (size_t pos; (pos = text.find(k)) != std::string::npos;) text.replace(pos, k.size(), v);
  return text;
}

TEST(RegionFingerprint, RenamedModelHasTheSameFingerprints) {
  Loaded a = load(mlp({}));
  Loaded b = load(mlp({{"$G", "other_graph"}, {"$N", "rows"}, {"$X", "input_0"}, {"$W", "weight_q"},
                       {"$B", "bias_z"}, {"$Y", "probs"}, {"$H", "t1"}, {"$H2", "t2"}, {"$H3", "t3"}}));
  ASSERT_EQ(a.regions.size(), b.regions.size());
  ASSERT_GE(a.regions.size(), 2u) << "the NonZero should cut the graph";
  for (size_t i = 0; i < a.regions.size(); ++i) EXPECT_EQ(a.regions[i], b.regions[i]) << "region " << i;
  EXPECT_EQ(a.model_fingerprint, b.model_fingerprint);
  // And the same text twice gives the same, too (no pointer or address in the hash).
  EXPECT_EQ(load(mlp({})).model_fingerprint, a.model_fingerprint);
}

TEST(RegionFingerprint, OneDifferentWeightChangesOnlyItsRegion) {
  Loaded a = load(mlp({}));
  Loaded b = load(mlp({{"$WV", "1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.5"}}));
  ASSERT_EQ(a.regions.size(), b.regions.size());
  EXPECT_NE(a.regions[0], b.regions[0]) << "region 0 holds the MatMul weight";
  for (size_t i = 1; i < a.regions.size(); ++i) EXPECT_EQ(a.regions[i], b.regions[i]) << "region " << i;
  EXPECT_NE(a.model_fingerprint, b.model_fingerprint);
}

TEST(RegionFingerprint, AttributesOpsDtypesAndWiringMatter) {
  Loaded base = load(mlp({}));
  Loaded axis = load(mlp({{"$AX", "1"}}));  // same meaning for rank 2, but a different attribute value
  Loaded op = load(mlp({{"$OP", "Sigmoid"}}));
  EXPECT_NE(base.regions.back(), axis.regions.back()) << "softmax axis";
  EXPECT_EQ(base.regions.front(), axis.regions.front());
  EXPECT_NE(base.regions.front(), op.regions.front()) << "Relu vs Sigmoid";
  const char* relu_f32 = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[n, 4] x) => (float[n, 4] z) { z = Relu(x) })";
  const char* relu_f64 = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (double[n, 4] x) => (double[n, 4] z) { z = Relu(x) })";
  EXPECT_NE(load(relu_f32).regions.front(), load(relu_f64).regions.front()) << "float vs double";
  // Wiring. A region is a function of its inputs *in Region::inputs order* (first
  // read), which is also the order of the signature and of the compiled code's
  // arguments: z = Sub(x, y) and z = Sub(y, x) are both "input 0 minus input 1",
  // the same code, so their regions share a fingerprint; the models do not.
  const char* sub_xy = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[4] x, float[4] y) => (float[4] z) { z = Sub(x, y) })";
  const char* sub_yx = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[4] x, float[4] y) => (float[4] z) { z = Sub(y, x) })";
  EXPECT_EQ(load(sub_xy).regions.front(), load(sub_yx).regions.front());
  EXPECT_NE(load(sub_xy).model_fingerprint, load(sub_yx).model_fingerprint);
  // Same ops, same inputs, one operand wired differently: (x+y)-x vs (x+y)-y.
  const char* minus_x = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[4] x, float[4] y) => (float[4] z) { t = Add(x, y) z = Sub(t, x) })";
  const char* minus_y = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[4] x, float[4] y) => (float[4] z) { t = Add(x, y) z = Sub(t, y) })";
  EXPECT_NE(load(minus_x).regions.front(), load(minus_y).regions.front());
  // A static dim and a symbolic one differ; two symbol names for one dim do not.
  const char* fixed = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[8, 4] x) => (float[8, 4] z) { z = Relu(x) })";
  const char* sym_a = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[n, 4] x) => (float[n, 4] z) { z = Relu(x) })";
  const char* sym_b = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[m, 4] x) => (float[m, 4] z) { z = Relu(x) })";
  EXPECT_NE(load(fixed).regions.front(), load(sym_a).regions.front());
  EXPECT_EQ(load(sym_a).regions.front(), load(sym_b).regions.front());
  // Opset is part of the meaning of an op.
  const char* opset16 = R"(<ir_version: 8, opset_import: ["" : 16]>
agraph (float[n, 4] x) => (float[n, 4] z) { z = Relu(x) })";
  EXPECT_NE(load(opset16).regions.front(), load(sym_a).regions.front());
}

TEST(RegionFingerprint, ConstantNodeContentsMatter) {
  const char* c1 = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[n, 2] x) => (float[n, 2] z) { c = Constant <value = float[2] {1.0, 2.0}> () z = Mul(x, c) })";
  const char* c2 = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[n, 2] x) => (float[n, 2] z) { k = Constant <value = float[2] {1.0, 2.0}> () z = Mul(x, k) })";
  const char* c3 = R"(<ir_version: 8, opset_import: ["" : 17]>
agraph (float[n, 2] x) => (float[n, 2] z) { c = Constant <value = float[2] {1.0, -2.0}> () z = Mul(x, c) })";
  EXPECT_EQ(load(c1).regions.front(), load(c2).regions.front());
  EXPECT_NE(load(c1).regions.front(), load(c3).regions.front());
}

std::vector<std::string> ops_of(const Region& r) {
  std::vector<std::string> ops;
  for (int32_t n = r.first_node; n < r.end_node; ++n) ops.push_back(r.graph->nodes[static_cast<size_t>(n)].op_type);
  return ops;
}

TEST(RegionFingerprint, BundledModelsAreStableAndTheirDistinctRegionsDiffer) {
  for (const char* name : {"dynamic_mlp", "tiny_encoder", "early_exit", "moe_router", "greedy_loop"}) {
    const std::string path = std::string(DJ_SOURCE_DIR) + "/models/" + name + ".onnx";
    auto m1 = load_model_file(path);
    auto m2 = load_model_file(path);
    ASSERT_TRUE(m1.ok() && m2.ok()) << name;
    auto p1 = RegionPlan::build(m1.value());
    auto p2 = RegionPlan::build(m2.value());
    ASSERT_EQ(p1->size(), p2->size());
    std::map<Digest256, int32_t> first_with;
    for (size_t i = 0; i < p1->size(); ++i) {
      Digest256 d = fingerprint_region(p1->region(static_cast<int32_t>(i)), m1.value().opset);
      EXPECT_EQ(d, fingerprint_region(p2->region(static_cast<int32_t>(i)), m2.value().opset)) << name << " R" << i;
      // Two regions may share a fingerprint only if they run the same op sequence.
      auto [it, fresh] = first_with.emplace(d, static_cast<int32_t>(i));
      if (!fresh) {
        EXPECT_EQ(ops_of(p1->region(it->second)), ops_of(p1->region(static_cast<int32_t>(i)))) << name;
      }
    }
    EXPECT_EQ(fingerprint_model(m1.value(), *p1), fingerprint_model(m2.value(), *p2)) << name;
  }
  auto a = load_model_file(std::string(DJ_SOURCE_DIR) + "/models/dynamic_mlp.onnx");
  auto b = load_model_file(std::string(DJ_SOURCE_DIR) + "/models/tiny_encoder.onnx");
  EXPECT_NE(fingerprint_model(a.value(), *RegionPlan::build(a.value())),
            fingerprint_model(b.value(), *RegionPlan::build(b.value())));
}

}  // namespace
}  // namespace dj::codecache
