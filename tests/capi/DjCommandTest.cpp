// The `dj` command end to end: runs the built binary (skipped when it has not
// been built) on a small text model and checks exit codes, what it prints, and
// the .npy files it saves against an independent reference.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bindings/cli/NpyFile.h"
#include "tests/capi/CApiTestSupport.h"
#include "tests/capi/CommandRunner.h"

namespace dj::testing {
namespace {

class DjCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = DJ_BINARY_DIR "/dj";
    if (!std::filesystem::exists(binary_)) GTEST_SKIP() << binary_ << " is not built";
    dir_ = std::filesystem::temp_directory_path() / ("dj_cmd_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    model_ = (dir_ / "mlp.onnxtxt").string();
    std::ofstream(model_) << kMlpText;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  CommandResult dj(const std::string& args) {
    return run_shell_command(binary_ + " " + args, (dir_ / "stderr.txt").string());
  }

  std::string binary_;
  std::filesystem::path dir_;
  std::string model_;
};

TEST_F(DjCommand, Help) {
  CommandResult top = dj("--help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_HAS(top.out, "usage: dj");
  CommandResult run = dj("run --help");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_HAS(run.out, "--input NAME=SHAPE[:DTYPE]");
  EXPECT_HAS(run.out, "--save-outputs");
}

TEST_F(DjCommand, RunsNpyInputAndSavesOutputs) {
  const int64_t batch = 3;
  std::vector<float> x = mlp_input(batch, 11);
  const std::string x_path = (dir_ / "x.npy").string();
  ASSERT_TRUE(write_npy(x_path, Tensor::from_vector<float>(x, {batch, 4})).ok());
  const std::string out_dir = (dir_ / "out").string();
  CommandResult r = dj("run " + model_ + " --input x=" + x_path + " --repeat 3 --save-outputs " + out_dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "x: f32[3,4]");
  EXPECT_HAS(r.out, "y: f32[3,3]");
  EXPECT_HAS(r.out, "median of 3 runs");
  EXPECT_HAS(r.out, "peak RSS");
  auto y = read_npy(out_dir + "/y.npy");
  ASSERT_TRUE(y.ok()) << y.status().message();
  ASSERT_EQ(y->shape(), (Shape{batch, 3}));
  EXPECT_EQ(std::vector<float>(y->data<float>(), y->data<float>() + y->numel()), mlp_reference(x, batch));
}

TEST_F(DjCommand, MadeUpInputsAreAnnounced) {
  CommandResult r = dj("run " + model_ + " --seed 5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.err, "dj: note: symbolic dim 'batch'");
  EXPECT_HAS(r.out, "x: f32[1,4]");
  CommandResult d = dj("run " + model_ + " --dim batch=6");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_HAS(d.out, "y: f32[6,3]");
  EXPECT_EQ(d.err.find("dj: note"), std::string::npos) << d.err;
}

TEST_F(DjCommand, ErrorsAreReportedWithExitCodes) {
  CommandResult missing = dj("run /nonexistent/m.onnx");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err.rfind("dj: error: ", 0), 0u) << missing.err;
  EXPECT_HAS(missing.err, "/nonexistent/m.onnx");

  CommandResult shape = dj("run " + model_ + " --input x=2x5");
  EXPECT_EQ(shape.exit_code, 1);
  EXPECT_HAS(shape.err, "dj: error: ");
  EXPECT_HAS(shape.err, "[2,5]");

  CommandResult unknown = dj("run " + model_ + " --input z=2x4");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_HAS(unknown.err, "'z'");

  CommandResult usage = dj("run " + model_ + " --bogus");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_HAS(usage.err, "unknown option '--bogus'");
  EXPECT_EQ(dj("frobnicate").exit_code, 2);
}

TEST_F(DjCommand, InfoShowsSymbolicShapesAndOps) {
  CommandResult r = dj("info " + model_ + " --nodes");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "x: f32[batch,4]");
  EXPECT_HAS(r.out, "y: f32[batch,3]");
  EXPECT_HAS(r.out, "MatMul: 1");
  EXPECT_HAS(r.out, "opset 17");
  EXPECT_HAS(r.out, "-> h f32[batch,3]");
}

}  // namespace
}  // namespace dj::testing

namespace dj::testing {
namespace {

// --device: cuda without a usable driver is an error naming why (the driver path is
// pointed at nothing, so this holds on GPU machines too); auto falls back to the CPU
// and says so at DJ_LOG=info; anything else is a usage error.
TEST_F(DjCommand, DeviceChoice) {
  const std::string no_driver = "DJ_CUDA_DRIVER_LIBRARY=/nonexistent/libcuda.so.1 ";
  CommandResult cuda = run_shell_command(no_driver + binary_ + " run " + model_ + " --device cuda",
                                         (dir_ / "stderr.txt").string());
  EXPECT_EQ(cuda.exit_code, 1);
  EXPECT_HAS(cuda.err, "/nonexistent/libcuda.so.1");
  EXPECT_HAS(cuda.err, "not found");
  CommandResult from_env = run_shell_command(no_driver + "DJ_DEVICE=cuda " + binary_ + " run " + model_,
                                             (dir_ / "stderr.txt").string());
  EXPECT_EQ(from_env.exit_code, 1);
  EXPECT_HAS(from_env.err, "not found");
  CommandResult fallback = run_shell_command(no_driver + "DJ_LOG=info " + binary_ + " run " + model_ + " --device auto",
                                             (dir_ / "stderr.txt").string());
  EXPECT_EQ(fallback.exit_code, 0) << fallback.err;
  EXPECT_HAS(fallback.err, "device auto: using cpu");
  EXPECT_HAS(fallback.out, "outputs:");
  CommandResult cpu = dj("run " + model_ + " --device cpu");
  EXPECT_EQ(cpu.exit_code, 0) << cpu.err;
  CommandResult bad = dj("run " + model_ + " --device tpu");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_HAS(bad.err, "expected one of: cpu, cuda, auto");
}

}  // namespace
}  // namespace dj::testing
