// HalideRuntimeObject: the embedded runtime object, or compile_standalone_runtime into a
// temporary file and read it back (see HalideRuntimeObject.h).
#include "jit/HalideRuntimeObject.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>

#include "Halide.h"
#include "jit/HostTarget.h"
#include "jit/KernelCompiler.h"
#include "runtime/Log.h"

#ifdef DJ_EMBEDDED_HALIDE_RUNTIME
// Defined by the assembly file the build generates (jit/embed/HalideRuntimeGenerator.cpp).
extern "C" const uint8_t dj_embedded_halide_runtime_begin[];
extern "C" const uint8_t dj_embedded_halide_runtime_end[];
extern "C" const char dj_embedded_halide_runtime_target[];
#endif

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

std::string embedded_halide_runtime_target() {
#ifdef DJ_EMBEDDED_HALIDE_RUNTIME
  return dj_embedded_halide_runtime_target;
#else
  return "";
#endif
}

std::optional<std::span<const uint8_t>> embedded_halide_runtime_object() {
#ifdef DJ_EMBEDDED_HALIDE_RUNTIME
  if (const char* mode = std::getenv("DJ_HALIDE_RUNTIME"); mode && std::strcmp(mode, "compile") == 0) return std::nullopt;
  const Halide::Target& host = host_halide_target();
  const Halide::Target embedded(dj_embedded_halide_runtime_target);
  if (embedded.os != host.os || embedded.arch != host.arch || embedded.bits != host.bits) return std::nullopt;
  const size_t size = static_cast<size_t>(dj_embedded_halide_runtime_end - dj_embedded_halide_runtime_begin);
  if (size == 0) return std::nullopt;
  return std::span<const uint8_t>(dj_embedded_halide_runtime_begin, size);
#else
  return std::nullopt;
#endif
}

Expected<std::vector<uint8_t>> halide_runtime_object() {
  if (auto embedded = embedded_halide_runtime_object()) {
    DJ_LOG_INFO("jit: Halide runtime embedded at build time (" << embedded_halide_runtime_target() << ", "
                                                                << embedded->size() << " bytes)");
    return std::vector<uint8_t>(embedded->begin(), embedded->end());
  }
  return compile_halide_runtime_object();
}

}  // namespace dj::jit
