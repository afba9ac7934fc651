// Traces through an If (PathTrace.h) against the interpreter: the early_exit
// model's block region, once hot, runs on through its If into the branch the
// traced runs took; a flip of the condition side-exits to the interpreter; shapes
// the path was not built for miss its guard. Every run is compared with the
// reference interpreter (JitUnderTest, tolerance in BundledModelSupport.h).
#include <gtest/gtest.h>

#include "runtime/Interpreter.h"
#include "specializer/PathTrace.h"
#include "specializer/Specializer.h"
#include "tests/support/JitUnderTest.h"

namespace dj::specializer {
namespace {

using test::JitUnderTest;
using test::random_f32;

// early_exit: small inputs go through both blocks (else_branch); large ones exit
// after the first (then_branch). The model's second output says which.
bool exits_early(JitUnderTest& t, const Tensor& x) {
  auto out = t.reference->run({x});
  EXPECT_TRUE(out.ok());
  return out.ok() && (*out)[1].item<bool>();
}

std::shared_ptr<const SpecializedRegion> path_spec(JitUnderTest& t, int64_t batch) {
  for (const auto& s : t.specializer->specializations(0))
    if (s->path() && !s->is_generic() && s->guard()[1] == batch) return s;
  return nullptr;
}

TEST(PathTrace, RunsThroughTheTakenBranchAndSideExitsWhenTheConditionFlips) {
  JitUnderTest t("early_exit");
  const Tensor full = random_f32({4, 16}, 11, 0.05f);
  const Tensor early = random_f32({4, 16}, 12, 100.0f);
  ASSERT_FALSE(exits_early(t, full));
  ASSERT_TRUE(exits_early(t, early));

  t.check({full}, 2, "full path, tracing");  // hot on the 2nd run: compiled, with a path into else_branch
  auto spec = path_spec(t, 4);
  ASSERT_NE(spec, nullptr) << "no path was made";
  EXPECT_EQ(spec->path()->branch, 1);
  EXPECT_NE(spec->info().path.find("else_branch"), std::string::npos) << spec->info().path;
  EXPECT_EQ(t.specializer->stats().paths, 1u);

  t.check({full}, 3, "full path, compiled");
  EXPECT_EQ(spec->path_runs(), 3u);
  EXPECT_EQ(spec->side_exits(), 0u);

  // The condition flips: the region still runs compiled, then leaves at the If.
  t.check({early}, 3, "early exit after the path was compiled");
  EXPECT_EQ(spec->path_runs(), 3u);
  EXPECT_EQ(spec->side_exits(), 3u);

  t.check({full}, 2, "back on the path");
  EXPECT_EQ(spec->path_runs(), 5u);
  // The tracer still sees the If's branches, path runs included.
  uint64_t taken[2] = {0, 0};
  for (const SignatureStats& s : t.jit->tracer()->region_stats(1).signatures) {
    taken[0] += s.branch_counts[0];
    taken[1] += s.branch_counts[1];
  }
  EXPECT_EQ(taken[0], 3u);  // the side exits: the interpreter ran the If
  EXPECT_EQ(taken[1], 7u);  // 2 traced + 5 on the path

  // A batch the path was not built for misses the head's guard: interpreted, right.
  t.check({random_f32({7, 16}, 13, 0.05f)}, 1, "unseen batch");
}

TEST(PathTrace, ThenBranchPath) {
  // then_branch is one Identity: the path hands the first block's logits on.
  JitUnderTest t("early_exit");
  const Tensor early = random_f32({2, 16}, 21, 100.0f);
  ASSERT_TRUE(exits_early(t, early));
  t.check({early}, 4, "early exits");
  auto spec = path_spec(t, 2);
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->path()->branch, 0);
  ASSERT_NE(spec->path()->body_code, nullptr);
  EXPECT_EQ(spec->path_runs(), 2u);
  t.check({random_f32({2, 16}, 22, 0.05f)}, 2, "full path: side exits");
  EXPECT_EQ(spec->side_exits(), 2u);
}

TEST(PathTrace, MixedBranchesMakeNoPath) {
  JitUnderTest t("early_exit");
  const Tensor full = random_f32({3, 16}, 31, 0.05f);
  const Tensor early = random_f32({3, 16}, 32, 1000.0f);
  ASSERT_TRUE(exits_early(t, early));
  // Alternating branches with one shape: when the block gets hot (6th run) each
  // branch has half of the If's runs, short of the 75% a path needs.
  HotnessPolicy later;
  later.min_count = 6;
  later.min_total_ms = 1e9;
  t.jit->tracer()->set_hotness(later);
  for (int k = 0; k < 4; ++k) {
    t.check({full}, 1, "full");
    t.check({early}, 1, "early");
  }
  EXPECT_GT(t.compiled_executions(), 0u);
  EXPECT_EQ(path_spec(t, 3), nullptr);
  EXPECT_EQ(t.specializer->stats().paths, 0u);
}

TEST(PathTrace, PlanNamesWhyThereIsNoPath) {
  auto model = test::load_bundled("dynamic_mlp");  // one region, no If after it
  InterpreterOptions o;
  Interpreter interp(model, o);
  const Region& r = interp.regions().region(0);
  SignatureWords sig;
  append_signature(sig, DType::F32, {2, 16});
  auto plan = plan_fusion(r, sig);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto tail = plan_path_tail(interp.regions(), *plan, 0);
  ASSERT_FALSE(tail.ok());
  EXPECT_NE(tail.status().message().find("not an If"), std::string::npos) << tail.status().message();
}

}  // namespace
}  // namespace dj::specializer
