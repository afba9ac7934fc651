// EmulatedModule.h — runs generated CUDA C source text on the host CPU (test-only).
//
// compile() wraps the source in a translation unit: #include "CudaEmulation.h", the source
// (as file "emulated_kernel.cu", so compiler messages and deadlock reports name its lines),
// then per kernel an exported trampoline
//   extern "C" void dj_emu_entry_NAME(const void* params, unsigned gx, unsigned gy,
//                                     unsigned gz, unsigned bx, unsigned by, unsigned bz)
// that runs dj_emu::launch with a lambda calling NAME(*static_cast<const PARAMS*>(params)).
// It builds that with the host C++ compiler (-std=c++20 -O1 -shared -fPIC), dlopens the
// shared object and resolves every entry. Compile errors come back with the compiler's
// output. Within a process, modules are cached by their full text (source, kernel names,
// parameter type, compiler and flags): compiling the same text twice returns the same module.
// Modules are never unloaded: their thread_local scheduler state may still be alive on other
// threads, and the cache keeps them for the process anyway.
//
// Kernels must follow the contract: `extern "C" __global__ void NAME(PARAMS p)` with one
// parameter struct passed by value. launch() may be called from several threads at once;
// each thread runs its own launches.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/Status.h"

namespace dj::emu {

// How to build emulated modules.
struct HostCompiler {
  std::string path;                      // the C++ compiler, e.g. CMake's CMAKE_CXX_COMPILER
  std::string include_dir;               // the folder holding CudaEmulation.h
  std::vector<std::string> extra_flags;  // after the fixed flags, e.g. -DDJ_EMU_USE_UCONTEXT
};

// The compiler and header folder this build was configured with (compile definitions of the
// dj_cuda_emulation library).
HostCompiler configured_host_compiler();

struct LaunchDims {
  unsigned x = 1, y = 1, z = 1;
};

class EmulatedModule {
 public:
  static Expected<std::shared_ptr<const EmulatedModule>> compile(
      const std::string& cuda_source, const std::vector<std::string>& kernel_names,
      const std::string& params_type, const HostCompiler& compiler);

  // Runs kernel `name` over grid x block with the parameter struct at `params`. Errors: an
  // unknown kernel, an invalid launch shape, a fault or deadlock inside the kernel.
  Status launch(std::string_view name, LaunchDims grid, LaunchDims block, const void* params) const;

  const std::vector<std::string>& kernel_names() const { return names_; }

  EmulatedModule(const EmulatedModule&) = delete;
  EmulatedModule& operator=(const EmulatedModule&) = delete;

 private:
  using EntryFn = void (*)(const void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned);
  using LastErrorFn = const char* (*)();
  EmulatedModule() = default;
  static Expected<std::shared_ptr<const EmulatedModule>> build(
      const std::string& cuda_source, const std::vector<std::string>& kernel_names,
      const std::string& params_type, const HostCompiler& compiler);

  std::vector<std::string> names_;
  std::vector<EntryFn> entries_;  // parallel to names_
  LastErrorFn last_error_ = nullptr;
};

// The translation unit compile() builds for this source (exposed for tests and debugging).
std::string emulation_translation_unit(const std::string& cuda_source,
                                       const std::vector<std::string>& kernel_names,
                                       const std::string& params_type);

}  // namespace dj::emu
