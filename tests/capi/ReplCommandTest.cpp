// `dj repl` end to end through -c and stdin: each inspection command on the
// bundled models, bad commands and bad arguments (a clear message, and the REPL
// goes on), the Chrome-trace file, and `dj run --stats`/`--stats-json`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/capi/CommandRunner.h"

namespace dj::testing {
namespace {

class ReplCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = DJ_BINARY_DIR "/dj";
    if (!std::filesystem::exists(binary_)) GTEST_SKIP() << binary_ << " is not built";
    dir_ = std::filesystem::temp_directory_path() / ("dj_repl_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  static std::string model(const std::string& name) { return std::string(DJ_SOURCE_DIR) + "/models/" + name + ".onnx"; }
  CommandResult repl(const std::string& model_name, const std::string& commands) {
    return run_shell_command(binary_ + " repl " + model(model_name) + " -c '" + commands + "'",
                             (dir_ / "stderr.txt").string());
  }
  CommandResult repl_stdin(const std::string& model_name, const std::string& script) {
    const std::string script_path = (dir_ / "script.txt").string();
    std::ofstream(script_path) << script;
    return run_shell_command(binary_ + " repl " + model(model_name) + " < " + script_path,
                             (dir_ / "stderr.txt").string());
  }

  std::string binary_;
  std::filesystem::path dir_;
};

TEST_F(ReplCommand, RunShowsOutputsAndHotCountsSignatures) {
  CommandResult r = repl("dynamic_mlp", "run x=2x16; run x=2x16 seed=5; run x=7x16; hot");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "out probs: f32[2,4]");
  EXPECT_HAS(r.out, "out probs: f32[7,4]");
  // The 2x16 signature was seen twice, 7x16 once.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("R0 +2x16:f32 +2 ")) ) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("R0 +7x16:f32 +1 "))) << r.out;
}

TEST_F(ReplCommand, RegionsAndIrShowSymbolicShapes) {
  CommandResult r = repl("tiny_encoder", "regions; ir R0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "1 regions");
  EXPECT_HAS(r.out, "R0 compute main");
  EXPECT_HAS(r.out, "%tokens:f32[batch,seq,32]");
  EXPECT_HAS(r.out, "shapes: closed over {batch,seq}");
  EXPECT_HAS(r.out, "= LayerNormalization(%tokens:f32[batch,seq,32]");
}

TEST_F(ReplCommand, SweepDrawsSharedSymbolsAndCountsEveryRun) {
  CommandResult r = repl("tiny_encoder", "sweep tokens=[1..2]x[1..8]x32 n=40 seed=3; prof");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "sweep: 40 runs");
  EXPECT_HAS(r.out, "40 runs,");
  EXPECT_TRUE(std::regex_search(r.out, std::regex("R0 +compute +main +40 "))) << r.out;
}

TEST_F(ReplCommand, PathsShowLoopTripsAndIfBranches) {
  CommandResult loop = repl("greedy_loop", "run steps=scalar:i64 seed=1; paths");
  ASSERT_EQ(loop.exit_code, 0) << loop.err;
  EXPECT_HAS(loop.out, "Loop 'loop/Loop_1' (main): 1 executions");
  EXPECT_HAS(loop.out, "trip count histogram");
  CommandResult branch = repl("early_exit", "sweep x=[1..4]x16 n=12; paths");
  ASSERT_EQ(branch.exit_code, 0) << branch.err;
  EXPECT_HAS(branch.out, "If 'exit/If_20' (main): 12 executions");
  EXPECT_HAS(branch.out, "all signatures: then ");
}

TEST_F(ReplCommand, RoutesCountRowsPerExpert) {
  CommandResult r = repl("moe_router", "run x=40x16; routes");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "router ArgMax 'moe/ArgMax_3': 1 calls, 40 rows routed");
  EXPECT_HAS(r.out, "load imbalance");
  CommandResult none = repl("dynamic_mlp", "routes");
  EXPECT_HAS(none.out, "no routers");
}

TEST_F(ReplCommand, TimelineWritesAChromeTrace) {
  const std::string path = (dir_ / "timeline.json").string();
  CommandResult r = repl("early_exit", "run x=2x16; run x=3x16; timeline " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "region events of runs 1..2");
  std::ifstream file(path);
  std::string json((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(json.rfind("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[{", 0), 0u) << json;
  EXPECT_HAS(json, "\"ph\":\"X\"");
  EXPECT_HAS(json, "\"name\":\"R1 control\"");
}

TEST_F(ReplCommand, BadInputCommandsAndArgumentsKeepTheReplRunning) {
  CommandResult r = repl_stdin("dynamic_mlp",
                               "bogus\n"
                               "ir R42\n"
                               "ir\n"
                               "hot zero\n"
                               "sweep x=[9..2]x16\n"
                               "sweep y=1x16\n"
                               "run x=2x15\n"
                               "run x=banana\n"
                               "timeline /nonexistent-dir/t.json\n"
                               "# a comment\n"
                               "\n"
                               "run x=3x16\n"
                               "help ir\n");
  EXPECT_EQ(r.exit_code, 1);  // some commands failed
  EXPECT_HAS(r.err, "error: unknown command 'bogus'");
  EXPECT_HAS(r.err, "error: ir: no region R42: this model has R0..R0");
  EXPECT_HAS(r.err, "error: ir: expected one region, like R3");
  EXPECT_HAS(r.err, "error: hot: expected a positive number of rows, got 'zero'");
  EXPECT_HAS(r.err, "range '[9..2]' is empty");
  EXPECT_HAS(r.err, "the model has no input 'y'");
  EXPECT_HAS(r.err, "error: run: ");  // the shape mismatch, named by the binder
  EXPECT_HAS(r.err, "x");
  EXPECT_HAS(r.err, "error: timeline: ");
  // ...and the commands after the errors still ran.
  EXPECT_HAS(r.out, "out probs: f32[3,4]");
  EXPECT_HAS(r.out, "ir REGION");
}

TEST_F(ReplCommand, HelpAndUsageErrors) {
  CommandResult help = repl("dynamic_mlp", "help");
  ASSERT_EQ(help.exit_code, 0);
  for (const char* cmd : {"run", "sweep", "regions", "ir REGION", "hot", "paths", "routes", "prof", "timeline"})
    EXPECT_HAS(help.out, cmd);
  CommandResult usage = run_shell_command(binary_ + " repl --help", (dir_ / "e.txt").string());
  EXPECT_EQ(usage.exit_code, 0);
  EXPECT_HAS(usage.out, "usage: dj repl MODEL");
  CommandResult missing = run_shell_command(binary_ + " repl", (dir_ / "e.txt").string());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_HAS(missing.err, "no MODEL given");
  CommandResult bad_model = run_shell_command(binary_ + " repl /nonexistent.onnx -c help", (dir_ / "e.txt").string());
  EXPECT_EQ(bad_model.exit_code, 1);
  EXPECT_HAS(bad_model.err, "/nonexistent.onnx");
}

#ifdef DJ_HAVE_JIT
TEST_F(ReplCommand, JitCommandsShowSpecializationsGuardsCodeAndCache) {
  const std::string cache = (dir_ / "cache").string();
  std::filesystem::create_directories(cache);
  std::filesystem::permissions(cache, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  CommandResult r = run_shell_command("DJ_CACHE_DIR=" + cache + " " + binary_ + " repl " + model("dynamic_mlp") +
                                          " -c 'compile R0 x=4x16; specs; guards R0; code R0 plan; cache'",
                                      (dir_ / "stderr.txt").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "compiled R0 [4x16:f32]");
  EXPECT_HAS(r.out, "group 0 gemm: MatMul Add Relu");
  EXPECT_HAS(r.out, "#0:  x f32[4,16]");
  EXPECT_HAS(r.out, "1 cached entries for this model");
  EXPECT_HAS(r.out, "R0 4x16:f32 exact");
  // steps: no timed runs right after the compile, then one line per step, slowest first.
  CommandResult steps = repl("dynamic_mlp", "compile R0 x=4x16; steps R0; run x=4x16 repeat=5; steps R0 #0 2");
  ASSERT_EQ(steps.exit_code, 0) << steps.err;
  EXPECT_HAS(steps.out, "no timed runs of #0 yet");
  EXPECT_HAS(steps.out, "5 timed runs");
  EXPECT_HAS(steps.out, "kernel 0 gemm: MatMul Add Relu");
  EXPECT_HAS(steps.out, "more; 'steps R0 #0 N' shows N");
  CommandResult bad_steps = repl("dynamic_mlp", "compile R0 x=4x16; steps R0 #3");
  EXPECT_EQ(bad_steps.exit_code, 1);
  EXPECT_HAS(bad_steps.err, "no specialization '#3' (R0 has #0..#0)");
  CommandResult bad = repl("dynamic_mlp", "guards R7; code R0");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_HAS(bad.err, "no region R7");
  EXPECT_HAS(bad.err, "R0 has no specializations yet");
}
#endif

TEST_F(ReplCommand, RunStatsPrintsTablesAndJson) {
  CommandResult r = run_shell_command(binary_ + " run " + model("moe_router") + " --input x=30x16 --repeat 3 --stats",
                                      (dir_ / "e.txt").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "3 runs,");
  EXPECT_HAS(r.out, "3 calls, 90 rows routed");
  CommandResult j = run_shell_command(binary_ + " run " + model("dynamic_mlp") + " --input x=5x16 --stats-json",
                                      (dir_ / "e.txt").string());
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_HAS(j.out, "\"signatures\":[{\"signature\":\"5x16:f32\",\"count\":1");
}

}  // namespace
}  // namespace dj::testing
