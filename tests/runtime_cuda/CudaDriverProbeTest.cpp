// Driver loading and device resolution without a GPU. The driver is loaded once per
// process, so each case runs dj_cuda_probe in a fresh process with its own
// DJ_CUDA_DRIVER_LIBRARY: a missing file, the toolkit's stub libcuda (every call
// answers CUDA_ERROR_STUB_LIBRARY), and the same for cuBLASLt.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/capi/CommandRunner.h"

namespace dj {
namespace {

using testing::CommandResult;

CommandResult probe(const std::string& env, const std::string& args) {
  const std::string scratch =
      (std::filesystem::temp_directory_path() / ("dj_cuda_probe_" + std::to_string(::getpid()) + ".err")).string();
  CommandResult r = testing::run_shell_command("env " + env + " " DJ_CUDA_PROBE_BINARY " " + args, scratch);
  std::filesystem::remove(scratch);
  return r;
}

const std::string kMissingDriver = "/nonexistent/dynajit-test/libcuda.so.1";

TEST(CudaDriverProbe, MissingDriverLibraryIsNamed) {
  CommandResult r = probe("DJ_CUDA_DRIVER_LIBRARY=" + kMissingDriver, "device cuda");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_HAS(r.out, "error: unsupported: CUDA driver library '" + kMissingDriver + "' not found");
}

TEST(CudaDriverProbe, StubDriverReportsTheCuInitFailure) {
  if (!std::filesystem::exists(DJ_CUDA_STUB_DRIVER)) GTEST_SKIP() << "no stub libcuda at " DJ_CUDA_STUB_DRIVER;
  CommandResult r = probe("DJ_CUDA_DRIVER_LIBRARY=" DJ_CUDA_STUB_DRIVER, "device cuda");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_HAS(r.out, "CUDA driver '" DJ_CUDA_STUB_DRIVER "' present but cuInit failed with CUDA_ERROR_STUB_LIBRARY: ");
}

TEST(CudaDriverProbe, AutoFallsBackToCpuAndLogsWhy) {
  CommandResult r = probe("DJ_LOG=info DJ_CUDA_DRIVER_LIBRARY=" + kMissingDriver, "device auto");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "device: cpu\n");
  EXPECT_HAS(r.err, "dynajit[info] device auto: using cpu (CUDA driver library '" + kMissingDriver + "' not found");
}

TEST(CudaDriverProbe, AutoWithTheStubFallsBackToCpu) {
  if (!std::filesystem::exists(DJ_CUDA_STUB_DRIVER)) GTEST_SKIP() << "no stub libcuda at " DJ_CUDA_STUB_DRIVER;
  CommandResult r = probe("DJ_LOG=info DJ_CUDA_DRIVER_LIBRARY=" DJ_CUDA_STUB_DRIVER, "device auto");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "device: cpu\n");
  EXPECT_HAS(r.err, "CUDA_ERROR_STUB_LIBRARY");
}

TEST(CudaDriverProbe, AutoIsQuietAtTheDefaultLogLevel) {
  CommandResult r = probe("DJ_LOG=warn DJ_CUDA_DRIVER_LIBRARY=" + kMissingDriver, "device auto");
  EXPECT_EQ(r.out, "device: cpu\n");
  EXPECT_EQ(r.err, "");
}

TEST(CudaDriverProbe, CpuNeverLoadsTheDriver) {
  CommandResult r = probe("DJ_LOG=debug DJ_CUDA_DRIVER_LIBRARY=" + kMissingDriver, "device cpu");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "device: cpu\n");
  EXPECT_EQ(r.err.find("libcuda"), std::string::npos) << r.err;
}

TEST(CudaDriverProbe, MissingCublasLtIsNamed) {
  CommandResult r = probe("DJ_CUBLASLT_LIBRARY=/nonexistent/libcublasLt.so.13", "cublaslt");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_HAS(r.out, "error: unsupported: cuBLASLt library not found (/nonexistent/libcublasLt.so.13: ");
}

TEST(CudaDriverProbe, CublasLtWithoutADeviceSaysSo) {
  if (!std::filesystem::exists(DJ_CUBLASLT_TOOLKIT_LIBRARY))
    GTEST_SKIP() << "no cuBLASLt at " DJ_CUBLASLT_TOOLKIT_LIBRARY;
  // The library itself loads (symbols and version check pass); the device is what is missing.
  CommandResult r = probe("DJ_CUBLASLT_LIBRARY=" DJ_CUBLASLT_TOOLKIT_LIBRARY " DJ_CUDA_DRIVER_LIBRARY=" + kMissingDriver,
                          "cublaslt");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_HAS(r.out, "error: unsupported: cuBLASLt needs a CUDA device: CUDA driver library '" + kMissingDriver +
                        "' not found");
}

TEST(CudaDriverProbe, BadRequestIsRejected) {
  CommandResult r = probe("", "device gpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.out, "unknown device 'gpu'; expected one of: cpu, cuda, auto");
}

}  // namespace
}  // namespace dj
