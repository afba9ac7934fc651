// HalideRuntimeObject: compile_standalone_runtime into a temporary file, read it back.
#include "jit/HalideRuntimeObject.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>

#include "Halide.h"
#include "jit/HostTarget.h"
#include "jit/KernelCompiler.h"

namespace dj::jit {

Expected<std::vector<uint8_t>> compile_halide_runtime_object() {
  // Halide only writes the runtime to a file; use a private temporary one.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/dj_halide_runtime_XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) return make_error(StatusCode::IoError, "cannot create a temporary file for the Halide runtime at ", path);
  close(fd);
  std::string object_path = path + ".o";
  try {
    std::lock_guard<std::mutex> lock(halide_compile_mutex());
    Halide::compile_standalone_runtime(object_path, host_halide_target());
  } catch (const Halide::Error& e) {
    std::remove(path.c_str());
    std::remove(object_path.c_str());
    return make_error(StatusCode::Internal, "Halide failed to compile its runtime: ", e.what());
  }
  std::ifstream in(object_path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  std::remove(path.c_str());
  std::remove(object_path.c_str());
  if (bytes.empty()) return make_error(StatusCode::IoError, "the Halide runtime object at ", object_path, " is empty");
  return bytes;
}

}  // namespace dj::jit
