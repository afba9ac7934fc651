// NvrtcCompiler: CUDA C source -> cubin (SASS for one sm_XX) and PTX, with NVRTC.
// Needs the NVRTC library only: no GPU, no driver. NVRTC is not linked: it is
// dlopen'ed on first use (NvrtcLibrary.h), so binaries start without the toolkit and
// every function here reports a missing NVRTC instead of failing to load.
//
// One NVRTC program per call. Compiled for the real architecture (-arch=sm_XX),
// a program yields the cubin and the PTX both; measured with NVRTC 13.0, that PTX
// is byte for byte what -arch=compute_XX gives (.target sm_XX, loadable by the
// driver's JIT on sm_XX and newer), at ~42 ms for both against ~65 ms for two
// programs. Asked for PTX only, it compiles for compute_XX (~22 ms).
//
// Thread safety: NVRTC allows concurrent calls on distinct programs, and each
// call here creates, uses and destroys its own, so nvrtc_compile may be called
// from any number of threads at once.
#pragma once

#include <string>
#include <vector>

#include "runtime/Status.h"

namespace dj::jit::cuda {

struct NvrtcOptions {
  int sm = 90;              // compute capability major * 10 + minor
  bool want_cubin = true;
  bool want_ptx = true;
  bool fast_math = false;   // --use_fast_math (approximate exp/div/sqrt, flush denormals)
  // Predefine what the CUDA contract's vocabulary has but NVRTC without headers
  // lacks: the macro INFINITY (as CUDA's math_constants.h spells +inf). Generated
  // kernels need it; turn it off for sources that include a header defining it.
  bool contract_macros = true;
  std::vector<std::string> extra;  // further NVRTC options, passed as they are
};

struct NvrtcOutput {
  std::vector<char> cubin;  // an ELF image for `arch`; empty unless asked for
  std::string ptx;          // empty unless asked for
  std::string log;          // NVRTC's log (warnings), possibly empty
  double compile_ms = 0;    // wall time of the whole call
  std::string arch;         // "sm_90" (cubin compiled) or "compute_90" (PTX only)
};

// Compile errors come back as InvalidArgument whose message holds the NVRTC log;
// an unsupported sm as Unsupported naming the supported ones; a missing or too old
// NVRTC library as Unsupported naming the library and the loader's reason.
Expected<NvrtcOutput> nvrtc_compile(const std::string& source, const std::string& program_name,
                                    const NvrtcOptions& options = {});

// "13.0": the NVRTC library loaded. "unavailable" when NVRTC cannot be loaded
// (nvrtc_library() says why); "unknown" if the library cannot tell its version.
std::string nvrtc_version();

// The sm values this NVRTC can compile for, ascending (e.g. 75 80 86 ... 90 ... 121);
// empty when NVRTC cannot be loaded.
std::vector<int> nvrtc_supported_archs();

}  // namespace dj::jit::cuda
