// NvrtcLibrary: the NVRTC API, reached through dlopen, never linked.
//
// Every binary that links dj_cuda_jit (libdynajit.so, `dj`, the Python module) must
// start on a machine without the CUDA toolkit, so libnvrtc is opened at run time,
// the first time something compiles or asks for NVRTC's version. nvrtc_library()
// loads it and resolves the function table exactly once per process
// (std::call_once); later calls return the same table or the same error. The
// library is never closed.
//
// Search order (nvrtc_library_candidates()):
//   1. the file named by the environment variable DJ_NVRTC_LIBRARY, if set, and
//      nothing else (tests point it at a missing file);
//   2. the soname of the toolkit built against ("libnvrtc.so.13"), then
//      "libnvrtc.so", through the dynamic loader's usual search;
//   3. the build's toolkit copy by absolute path (e.g.
//      /usr/local/cuda/lib64/libnvrtc.so.13), so a build machine needs no
//      LD_LIBRARY_PATH.
// The first file that opens is used; if it lacks a symbol, that is the error.
//
// libnvrtc-builtins: NVRTC dlopens it by soname on its first compile, and the
// toolkit's libnvrtc has no RUNPATH, so NVRTC does NOT look beside itself (only
// LD_LIBRARY_PATH, ld.so.cache, system dirs). The loader therefore also opens the
// libnvrtc-builtins.so.<major>.<minor> next to the libnvrtc it loaded, if one is
// there; NVRTC's own dlopen then finds that copy by soname.
//
// Types and prototypes come from the toolkit's nvrtc.h (compile time only): each
// entry is declared from the header's own prototype (decltype(&::nvrtcX)) and looked
// up under the same name, so the table binds the ABI a linked program would bind.
//
// Compiles only where jit/cuda does (the toolkit's headers are present).
#pragma once

#include <nvrtc.h>

#include <string>
#include <vector>

#include "runtime/Status.h"

namespace dj::jit::cuda {

// The NVRTC entry points NvrtcCompiler uses.
#define DJ_NVRTC_FUNCTIONS(X)                                                                  \
  X(nvrtcGetErrorString) X(nvrtcVersion) X(nvrtcGetNumSupportedArchs) X(nvrtcGetSupportedArchs) \
  X(nvrtcCreateProgram) X(nvrtcDestroyProgram) X(nvrtcCompileProgram)                          \
  X(nvrtcGetProgramLogSize) X(nvrtcGetProgramLog) X(nvrtcGetPTXSize) X(nvrtcGetPTX)            \
  X(nvrtcGetCUBINSize) X(nvrtcGetCUBIN)

#define DJ_NVRTC_DECLARE_ENTRY(name) decltype(&::name) name = nullptr;
struct NvrtcLibrary {
  DJ_NVRTC_FUNCTIONS(DJ_NVRTC_DECLARE_ENTRY)
  std::string library;  // the name that was opened (a soname or a path), for messages
  std::string path;     // the file the loader actually mapped, from dladdr
  std::string builtins; // libnvrtc-builtins loaded from beside `path`, or "" (see above)
};
#undef DJ_NVRTC_DECLARE_ENTRY

// The process's NVRTC: loaded and resolved once. Errors:
// Unsupported "NVRTC library not found: '<candidate>': <dlerror>; ..." (every candidate
// tried, each with the loader's reason), or
// Unsupported "NVRTC library '<lib>' lacks symbol nvrtcX (<dlerror>; ...)" (an NVRTC
// too old, or not NVRTC at all).
Expected<const NvrtcLibrary*> nvrtc_library();

// The names nvrtc_library() tries, in order: {DJ_NVRTC_LIBRARY} if that is set, else
// {"libnvrtc.so.13", "libnvrtc.so", nvrtc_toolkit_library()} (the last if not empty).
std::vector<std::string> nvrtc_library_candidates();

// The absolute path of the build's toolkit NVRTC ("/usr/local/cuda/lib64/libnvrtc.so.13");
// empty if CMake found none.
std::string nvrtc_toolkit_library();

}  // namespace dj::jit::cuda
