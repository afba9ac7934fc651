// NvrtcCompiler: one NVRTC program per compile (see the header).
#include "jit/cuda/NvrtcCompiler.h"

#include <algorithm>
#include <chrono>

#include "jit/cuda/NvrtcLibrary.h"

namespace dj::jit::cuda {
namespace {

// Destroys the program on every path out of nvrtc_compile.
class ProgramGuard {
 public:
  ProgramGuard(const NvrtcLibrary& nvrtc, nvrtcProgram program) : nvrtc_(nvrtc), program_(program) {}
  ~ProgramGuard() { nvrtc_.nvrtcDestroyProgram(&program_); }
  ProgramGuard(const ProgramGuard&) = delete;
  ProgramGuard& operator=(const ProgramGuard&) = delete;

 private:
  const NvrtcLibrary& nvrtc_;
  nvrtcProgram program_;
};

Status nvrtc_error(const NvrtcLibrary& nvrtc, const char* call, nvrtcResult result, const std::string& program_name) {
  return make_error(StatusCode::Internal, call, " failed for '", program_name, "': ", nvrtc.nvrtcGetErrorString(result));
}

std::string program_log(const NvrtcLibrary& nvrtc, nvrtcProgram program) {
  size_t size = 0;
  if (nvrtc.nvrtcGetProgramLogSize(program, &size) != NVRTC_SUCCESS || size <= 1) return {};
  std::string log(size, '\0');
  if (nvrtc.nvrtcGetProgramLog(program, log.data()) != NVRTC_SUCCESS) return {};
  log.resize(size - 1);  // the size counts the terminating NUL
  return log;
}

std::string version_of(const NvrtcLibrary& nvrtc) {
  int major = 0, minor = 0;
  if (nvrtc.nvrtcVersion(&major, &minor) != NVRTC_SUCCESS) return "unknown";
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<int> supported_archs_of(const NvrtcLibrary& nvrtc) {
  int count = 0;
  if (nvrtc.nvrtcGetNumSupportedArchs(&count) != NVRTC_SUCCESS || count <= 0) return {};
  std::vector<int> archs(static_cast<size_t>(count));
  if (nvrtc.nvrtcGetSupportedArchs(archs.data()) != NVRTC_SUCCESS) return {};
  std::sort(archs.begin(), archs.end());
  return archs;
}

}  // namespace

std::string nvrtc_version() {
  Expected<const NvrtcLibrary*> nvrtc = nvrtc_library();
  return nvrtc.ok() ? version_of(**nvrtc) : "unavailable";
}

std::vector<int> nvrtc_supported_archs() {
  Expected<const NvrtcLibrary*> nvrtc = nvrtc_library();
  return nvrtc.ok() ? supported_archs_of(**nvrtc) : std::vector<int>{};
}

Expected<NvrtcOutput> nvrtc_compile(const std::string& source, const std::string& program_name,
                                    const NvrtcOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  DJ_CHECK(options.want_cubin || options.want_ptx, InvalidArgument, "nvrtc_compile('", program_name,
           "'): asked for neither a cubin nor PTX");
  Expected<const NvrtcLibrary*> loaded = nvrtc_library();
  if (!loaded.ok()) {
    return make_error(loaded.status().code(), "cannot compile '", program_name, "': ", loaded.status().message());
  }
  const NvrtcLibrary& nvrtc = **loaded;
  const std::vector<int> archs = supported_archs_of(nvrtc);
  if (std::find(archs.begin(), archs.end(), options.sm) == archs.end()) {
    std::string list;
    for (int a : archs) {
      if (!list.empty()) list += ' ';
      list += std::to_string(a);
    }
    return make_error(StatusCode::Unsupported, "NVRTC ", version_of(nvrtc), " cannot compile for sm_", options.sm,
                      "; it supports ", list);
  }

  NvrtcOutput out;
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
  out.arch = options.want_cubin ? "sm_" : "compute_";
  out.arch += std::to_string(options.sm);
  std::vector<std::string> flags = {"-arch=" + out.arch};
  if (options.fast_math) flags.push_back("--use_fast_math");
  if (options.contract_macros) flags.push_back("--define-macro=INFINITY=(__int_as_float(0x7f800000))");
  flags.insert(flags.end(), options.extra.begin(), options.extra.end());
  std::vector<const char*> argv;
  for (const std::string& f : flags) argv.push_back(f.c_str());

  nvrtcProgram program = nullptr;
  nvrtcResult result =
      nvrtc.nvrtcCreateProgram(&program, source.c_str(), (program_name + ".cu").c_str(), 0, nullptr, nullptr);
  if (result != NVRTC_SUCCESS) return nvrtc_error(nvrtc, "nvrtcCreateProgram", result, program_name);
  ProgramGuard guard(nvrtc, program);

  result = nvrtc.nvrtcCompileProgram(program, static_cast<int>(argv.size()), argv.data());
  out.log = program_log(nvrtc, program);
  if (result != NVRTC_SUCCESS) {
    std::string options_text;
    for (const std::string& f : flags) options_text += " " + f;
    return make_error(StatusCode::InvalidArgument, "NVRTC could not compile '", program_name, "' (", options_text.substr(1),
                      "): ", nvrtc.nvrtcGetErrorString(result), "\n", out.log);
  }

  if (options.want_cubin) {
    size_t size = 0;
    result = nvrtc.nvrtcGetCUBINSize(program, &size);
    if (result != NVRTC_SUCCESS) return nvrtc_error(nvrtc, "nvrtcGetCUBINSize", result, program_name);
    out.cubin.resize(size);
    result = nvrtc.nvrtcGetCUBIN(program, out.cubin.data());
    if (result != NVRTC_SUCCESS) return nvrtc_error(nvrtc, "nvrtcGetCUBIN", result, program_name);
  }
  if (options.want_ptx) {
    size_t size = 0;
    result = nvrtc.nvrtcGetPTXSize(program, &size);
    if (result != NVRTC_SUCCESS) return nvrtc_error(nvrtc, "nvrtcGetPTXSize", result, program_name);
    out.ptx.assign(size, '\0');
    result = nvrtc.nvrtcGetPTX(program, out.ptx.data());
    if (result != NVRTC_SUCCESS) return nvrtc_error(nvrtc, "nvrtcGetPTX", result, program_name);
    if (!out.ptx.empty() && out.ptx.back() == '\0') out.ptx.pop_back();  // the size counts the NUL
  }
  out.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace dj::jit::cuda
