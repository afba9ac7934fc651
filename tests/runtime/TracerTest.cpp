// Tracer tests on the bundled models, whose dynamic behaviour is known from their
// reference data: If branch counts (early_exit), Loop trip-count histograms
// (greedy_loop), the MoE dispatch histogram (moe_router) against the model's own
// `expert` output, signature counts (tiny_encoder), hot events, thread safety and
// the bound on stored signatures.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "frontend/OnnxLoader.h"
#include "frontend/OnnxTensor.h"
#include "runtime/Interpreter.h"
#include "runtime/TraceReport.h"

namespace dj {
namespace {

std::shared_ptr<const Model> load_bundled(const std::string& name) {
  auto m = load_model_file(std::string(DJ_SOURCE_DIR) + "/models/" + name + ".onnx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::make_shared<const Model>(std::move(m).value());
}

InterpreterOptions traced(size_t max_signatures = 64) {
  InterpreterOptions o;
  o.trace = true;
  o.trace_options.max_signatures = max_signatures;
  return o;
}

Tensor testdata(const std::string& model, int set, const std::string& file) {
  auto t = read_tensor_pb_file(std::string(DJ_SOURCE_DIR) + "/models/testdata/" + model + "/test_data_set_" +
                               std::to_string(set) + "/" + file);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(t).value();
}

Tensor random_f32(const Shape& shape, uint64_t seed, float scale = 1.0f) {
  Tensor t = Tensor::empty(DType::F32, shape);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// The single region of `kind` whose first op is `op` in graph `path`.
const Region& find_region(const RegionPlan& plan, RegionKind kind, const std::string& op) {
  for (const Region& r : plan.regions())
    if (r.kind == kind && r.graph->nodes[static_cast<size_t>(r.first_node)].op_type == op) return r;
  ADD_FAILURE() << "no " << region_kind_name(kind) << " region starting with " << op;
  return plan.regions().front();
}

TEST(Tracer, EarlyExitCountsEachIfBranch) {
  auto model = load_bundled("early_exit");
  Interpreter interp(model, traced());
  // The data sets take both branches; each one's expected output `exited_early`
  // (computed by ONNX Runtime) is the independent truth for which.
  const int repeats[4] = {3, 2, 4, 1};
  std::map<std::string, std::pair<uint64_t, uint64_t>> expected;  // signature -> (then, else)
  uint64_t then_total = 0, else_total = 0;
  for (int set = 0; set < 4; ++set) {
    Tensor x = testdata("early_exit", set, "input_0.pb");
    bool early = testdata("early_exit", set, "output_1.pb").item<bool>();
    for (int k = 0; k < repeats[set]; ++k) ASSERT_TRUE(interp.run({x}).ok());
    (early ? then_total : else_total) += static_cast<uint64_t>(repeats[set]);
  }
  ASSERT_GT(then_total, 0u);  // the data sets cover both branches
  ASSERT_GT(else_total, 0u);
  const Region& if_region = find_region(interp.regions(), RegionKind::Control, "If");
  RegionStats stats = interp.tracer()->region_stats(if_region.id);
  uint64_t then_seen = 0, else_seen = 0, runs = 0;
  for (const SignatureStats& s : stats.signatures) {
    then_seen += s.branch_counts[0];
    else_seen += s.branch_counts[1];
    runs += s.count;
    // One signature per batch size, and each batch size always takes one branch.
    EXPECT_TRUE(s.branch_counts[0] == 0 || s.branch_counts[1] == 0) << signature_to_string(s.signature);
  }
  EXPECT_EQ(then_seen, then_total);
  EXPECT_EQ(else_seen, else_total);
  EXPECT_EQ(runs, 10u);
  EXPECT_EQ(stats.signatures.size(), 4u);
  // The branch subgraphs got regions of their own, run exactly as often.
  ASSERT_EQ(if_region.child_regions.size(), 2u);
  uint64_t child_runs = 0;
  for (int32_t child : if_region.child_regions) child_runs += interp.tracer()->region_stats(child).count;
  EXPECT_EQ(child_runs, 10u);
}

TEST(Tracer, GreedyLoopTripCountHistogram) {
  auto model = load_bundled("greedy_loop");
  Interpreter interp(model, traced());
  // Trip counts come from the reference output's `tokens` length (steps taken).
  std::map<int64_t, uint64_t> expected;
  const int repeats[4] = {2, 1, 3, 2};
  for (int set = 0; set < 4; ++set) {
    Tensor h0 = testdata("greedy_loop", set, "input_0.pb");
    Tensor steps = testdata("greedy_loop", set, "input_1.pb");
    int64_t taken = testdata("greedy_loop", set, "output_1.pb").dim(0);
    for (int k = 0; k < repeats[set]; ++k) {
      auto out = interp.run({h0, steps});
      ASSERT_TRUE(out.ok()) << out.status().message();
      ASSERT_EQ((*out)[1].dim(0), taken);
    }
    expected[taken] += static_cast<uint64_t>(repeats[set]);
  }
  ASSERT_GE(expected.size(), 3u);  // zero-trip, to-the-limit and EOS stops differ
  const Region& loop = find_region(interp.regions(), RegionKind::Control, "Loop");
  std::map<int64_t, uint64_t> seen;
  for (const SignatureStats& s : interp.tracer()->region_stats(loop.id).signatures)
    for (const auto& [trips, count] : s.trips) seen[trips] += count;
  EXPECT_EQ(seen, expected);
  // The body's regions ran once per iteration in total.
  uint64_t iterations = 0;
  for (const auto& [trips, count] : expected) iterations += static_cast<uint64_t>(trips) * count;
  ASSERT_FALSE(loop.child_regions.empty());
  EXPECT_EQ(interp.tracer()->region_stats(loop.child_regions[0]).count, iterations);
}

TEST(Tracer, MoeDispatchHistogramMatchesTheGateOutput) {
  auto model = load_bundled("moe_router");
  Interpreter interp(model, traced());
  const Region* router_region = nullptr;
  for (const Region& r : interp.regions().regions())
    if (!r.routers.empty()) router_region = &r;
  ASSERT_NE(router_region, nullptr) << "the ArgMax gate was not recognised as a router";
  ASSERT_EQ(router_region->routers.size(), 1u);
  EXPECT_EQ(router_region->routers[0].num_experts, std::optional<int64_t>(4));

  std::vector<uint64_t> expected(4, 0);
  std::vector<uint64_t> last(4, 0);
  const int64_t token_counts[] = {1, 5, 64, 300, 17, 128};
  for (size_t call = 0; call < std::size(token_counts); ++call) {
    Tensor x = random_f32({token_counts[call], 16}, 100 + call, 3.0f);
    auto out = interp.run({x});
    ASSERT_TRUE(out.ok()) << out.status().message();
    const Tensor& expert = (*out)[1];  // the model's own gate decision per token
    std::fill(last.begin(), last.end(), 0);
    for (int64_t t = 0; t < expert.numel(); ++t) {
      int64_t e = expert.data<int64_t>()[t];
      ASSERT_TRUE(e >= 0 && e < 4);
      expected[static_cast<size_t>(e)] += 1;
      last[static_cast<size_t>(e)] += 1;
    }
  }
  RegionStats stats = interp.tracer()->region_stats(router_region->id);
  ASSERT_EQ(stats.routers.size(), 1u);
  const RouterStats& rs = stats.routers[0];
  EXPECT_EQ(rs.calls, std::size(token_counts));
  EXPECT_EQ(rs.rows_per_expert, expected);
  EXPECT_EQ(rs.rows, 1u + 5 + 64 + 300 + 17 + 128);
  ASSERT_FALSE(rs.recent.empty());
  EXPECT_EQ(rs.recent.back(), last);
  // With 1 token, three of the four experts got nothing on that call.
  uint64_t empty_total = 0;
  for (uint64_t c : rs.empty_expert_calls) empty_total += c;
  EXPECT_GE(empty_total, 3u);
}

TEST(Tracer, VariableLengthSequenceSignatureCounts) {
  auto model = load_bundled("tiny_encoder");
  Interpreter interp(model, traced());
  const std::vector<std::pair<Shape, int>> plan = {{{1, 7, 32}, 5}, {{2, 33, 32}, 3}, {{1, 128, 32}, 1},
                                                   {{4, 7, 32}, 2}};
  for (const auto& [shape, times] : plan)
    for (int k = 0; k < times; ++k) ASSERT_TRUE(interp.run({random_f32(shape, k)}).ok());
  // tiny_encoder's shapes are all functions of (batch, seq): one compute region.
  const auto& regions = interp.regions().regions_of(model->graph.get());
  ASSERT_EQ(regions.size(), 1u);
  const Region& r = interp.regions().region(regions[0]);
  EXPECT_EQ(r.kind, RegionKind::Compute);
  EXPECT_TRUE(r.shapes_closed);
  RegionStats stats = interp.tracer()->region_stats(r.id);
  std::map<std::string, uint64_t> seen;
  for (const SignatureStats& s : stats.signatures) seen[signature_to_string(s.signature)] = s.count;
  std::map<std::string, uint64_t> expected = {
      {"1x7x32:f32", 5}, {"2x33x32:f32", 3}, {"1x128x32:f32", 1}, {"4x7x32:f32", 2}};
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(interp.tracer()->runs(), 11u);
}

TEST(Tracer, DataDependentOpsStartRegionsOfTheirOwn) {
  auto model = load_bundled("moe_router");
  Interpreter interp(model, traced());
  int nonzero_regions = 0;
  for (const Region& r : interp.regions().regions()) {
    if (r.kind != RegionKind::DataDependent) continue;
    EXPECT_EQ(r.num_nodes(), 1);
    if (r.graph->nodes[static_cast<size_t>(r.first_node)].op_type == "NonZero") ++nonzero_regions;
  }
  EXPECT_EQ(nonzero_regions, 4);  // one per expert
}

class CountingListener : public HotRegionListener {
 public:
  void on_hot(const HotEvent& e) override {
    events.fetch_add(1);
    last_count = e.count;
  }
  std::atomic<int> events{0};
  uint64_t last_count = 0;
};

TEST(Tracer, HotEventFiresOncePerSignatureAtTheThreshold) {
  auto model = load_bundled("dynamic_mlp");
  InterpreterOptions o = traced();
  o.trace_options.hotness.min_count = 3;
  o.trace_options.hotness.min_total_ms = 1e9;
  Interpreter interp(model, o);
  auto listener = std::make_shared<CountingListener>();
  interp.tracer()->set_listener(listener);
  Tensor a = random_f32({4, 16}, 1), b = random_f32({9, 16}, 2);
  for (int k = 0; k < 2; ++k) ASSERT_TRUE(interp.run({a}).ok());
  EXPECT_EQ(listener->events.load(), 0);
  ASSERT_TRUE(interp.run({a}).ok());
  EXPECT_EQ(listener->events.load(), 1);
  EXPECT_EQ(listener->last_count, 3u);
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(interp.run({a}).ok());
  EXPECT_EQ(listener->events.load(), 1);
  for (int k = 0; k < 3; ++k) ASSERT_TRUE(interp.run({b}).ok());
  EXPECT_EQ(listener->events.load(), 2);
  HotnessPolicy five{5, 1e9};
  auto hot = interp.tracer()->hot_signatures(five);
  ASSERT_EQ(hot.size(), 1u);
  EXPECT_EQ(signature_to_string(hot[0].signature), "4x16:f32");
  EXPECT_EQ(hot[0].count, 8u);
}

TEST(Tracer, ConcurrentRunsAreAllCounted) {
  auto model = load_bundled("tiny_encoder");
  Interpreter interp(model, traced());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 25; ++k) ASSERT_TRUE(interp.run({random_f32({1, 3 + (t % 2), 32}, k)}).ok());
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(interp.tracer()->runs(), 100u);
  RegionStats s = interp.tracer()->region_stats(0);
  EXPECT_EQ(s.count, 100u);
  ASSERT_EQ(s.signatures.size(), 2u);
  EXPECT_EQ(s.signatures[0].count + s.signatures[1].count, 100u);
}

TEST(Tracer, SignatureStoreStaysBoundedUnderDistinctShapes) {
  // 100,000 distinct signatures into a region that keeps 32.
  auto model = load_bundled("dynamic_mlp");
  auto plan = RegionPlan::build(*model);
  TraceOptions o;
  o.max_signatures = 32;
  Tracer tracer(plan, o);
  SignatureWords w;
  for (int64_t i = 0; i < 100000; ++i) {
    w.clear();
    append_signature(w, Tensor::borrow(nullptr, DType::F32, {i + 1, 16}));
    tracer.record(RegionObservation{0, w.data(), w.size(), 0, 10, -1, -1});
  }
  RegionStats s = tracer.region_stats(0);
  EXPECT_EQ(s.signatures.size(), 32u);
  EXPECT_EQ(s.evicted_signatures, 100000u - 32u);
  EXPECT_EQ(s.evicted_count, 100000u - 32u);
  EXPECT_EQ(s.count, 100000u);
  // The survivors are the most recent ones.
  for (const SignatureStats& sig : s.signatures) EXPECT_GT(sig.signature[1], 100000 - 32);
  // And a recurring signature survives a flood of one-off shapes (LRU, not FIFO).
  Tracer lru(plan, o);
  SignatureWords hot;
  append_signature(hot, Tensor::borrow(nullptr, DType::F32, {7, 16}));
  for (int64_t i = 0; i < 5000; ++i) {
    w.clear();
    append_signature(w, Tensor::borrow(nullptr, DType::F32, {1000 + i, 16}));
    lru.record(RegionObservation{0, w.data(), w.size(), 0, 10, -1, -1});
    if (i % 8 == 0) lru.record(RegionObservation{0, hot.data(), hot.size(), 0, 10, -1, -1});
  }
  bool kept = false;
  for (const SignatureStats& sig : lru.region_stats(0).signatures)
    if (sig.signature == hot) kept = sig.count == 625;
  EXPECT_TRUE(kept);
}

TEST(Tracer, InterpreterRunsWithManyShapesStayBounded) {
  auto model = load_bundled("dynamic_mlp");
  Interpreter interp(model, traced(16));
  for (int64_t b = 1; b <= 300; ++b) ASSERT_TRUE(interp.run({random_f32({b, 16}, b)}).ok());
  RegionStats s = interp.tracer()->region_stats(0);
  EXPECT_EQ(s.signatures.size(), 16u);
  EXPECT_EQ(s.evicted_signatures, 300u - 16u);
}

TEST(Tracer, StatsJsonNamesRegionsSignaturesAndBranches) {
  auto model = load_bundled("early_exit");
  Interpreter interp(model, traced());
  ASSERT_TRUE(interp.run({testdata("early_exit", 0, "input_0.pb")}).ok());
  std::string json = trace_stats_json(*model, interp.regions(), interp.tracer());
  EXPECT_NE(json.find("\"kind\":\"control\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"branches\":{\"then\":1,\"else\":0}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"runs\":1"), std::string::npos) << json;
}

TEST(Tracer, TimelineKeepsTheLastEvents) {
  auto model = load_bundled("dynamic_mlp");
  InterpreterOptions o = traced();
  o.trace_options.timeline_capacity = 5;
  Interpreter interp(model, o);
  for (int k = 0; k < 8; ++k) ASSERT_TRUE(interp.run({random_f32({2, 16}, k)}).ok());
  auto events = interp.tracer()->timeline();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events.back().run, 8u);
  EXPECT_EQ(events.front().run, 4u);
  for (size_t i = 1; i < events.size(); ++i) EXPECT_GE(events[i].start_ns, events[i - 1].start_ns);
  std::string chrome = timeline_chrome_json(interp.regions(), events);
  EXPECT_NE(chrome.find("\"traceEvents\":["), std::string::npos);
  EXPECT_NE(chrome.find("\"ph\":\"X\""), std::string::npos);
}

TEST(Tracer, OffMeansNoTracer) {
  auto model = load_bundled("dynamic_mlp");
  InterpreterOptions o;
  o.trace = false;
  Interpreter interp(model, o);
  EXPECT_EQ(interp.tracer(), nullptr);
  ASSERT_TRUE(interp.run({random_f32({2, 16}, 0)}).ok());
}

}  // namespace
}  // namespace dj
