// NvrtcLibrary: dlopen of libnvrtc, symbol resolution, the search order (see the header).
#include "jit/cuda/NvrtcLibrary.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "runtime/Log.h"

// Set by jit/cuda/CMakeLists.txt from the toolkit built against; the fallbacks keep
// the file compiling on its own.
#ifndef DJ_NVRTC_SONAME
#define DJ_NVRTC_SONAME "libnvrtc.so.13"
#endif
#ifndef DJ_NVRTC_TOOLKIT_LIBRARY
#define DJ_NVRTC_TOOLKIT_LIBRARY ""
#endif

namespace dj::jit::cuda {
namespace {

// The file the loader mapped for `library`, found through one of its symbols; the
// opened name when dladdr cannot say (a soname alone does not tell which copy won).
std::string mapped_path(void* symbol, const std::string& library) {
  Dl_info info{};
  if (dladdr(symbol, &info) != 0 && info.dli_fname && *info.dli_fname) return info.dli_fname;
  return library;
}

// NVRTC opens libnvrtc-builtins.so.M.m by soname on its first compile. The toolkit's
// libnvrtc carries no RUNPATH, so that search ignores NVRTC's own directory: with the
// toolkit outside ld.so.cache and LD_LIBRARY_PATH, compiles fail with "failed to open
// libnvrtc-builtins.so.13.0" although libnvrtc itself was found by path. Loading the
// builtins that sit beside libnvrtc first makes NVRTC's dlopen match the loaded copy
// by soname. Returns the file loaded, or "" (none there: NVRTC searches as usual).
std::string load_builtins_beside(const std::string& nvrtc_path, int major, int minor) {
  const size_t slash = nvrtc_path.rfind('/');
  if (slash == std::string::npos) return {};
  const std::string builtins = nvrtc_path.substr(0, slash + 1) + "libnvrtc-builtins.so." + std::to_string(major) +
                               "." + std::to_string(minor);
  if (access(builtins.c_str(), R_OK) != 0) return {};
  if (!dlopen(builtins.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    const char* why = dlerror();
    DJ_LOG_DEBUG("NVRTC builtins '" << builtins << "' did not load: " << (why ? why : "dlopen failed"));
    return {};
  }
  return builtins;
}

Expected<NvrtcLibrary> load_nvrtc() {
  NvrtcLibrary api;
  void* handle = nullptr;
  std::string tried;  // "'name': why; ..." for the error when nothing opens
  for (const std::string& candidate : nvrtc_library_candidates()) {
    // RTLD_LOCAL: NVRTC's symbols stay out of the global namespace, so nothing else
    // in the process (another copy of NVRTC in a Python wheel, say) binds to them.
    handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) {
      api.library = candidate;
      break;
    }
    const char* why = dlerror();
    if (!tried.empty()) tried += "; ";
    tried += "'" + candidate + "': " + (why ? why : "dlopen failed");
  }
  if (!handle) {
    return make_error(StatusCode::Unsupported, "NVRTC library not found: ", tried,
                      " (install the CUDA toolkit's NVRTC or set DJ_NVRTC_LIBRARY to libnvrtc's path)");
  }

#define DJ_NVRTC_RESOLVE_ENTRY(name)                                                            \
  {                                                                                             \
    dlerror(); /* clear a stale error */                                                        \
    void* fn = dlsym(handle, #name);                                                            \
    if (!fn) {                                                                                  \
      const char* why = dlerror();                                                              \
      return make_error(StatusCode::Unsupported, "NVRTC library '", api.library, "' lacks symbol ", \
                        #name, " (", why ? why : "dlsym failed",                                \
                        "; DynaJIT needs NVRTC 11.2 or newer)");                                \
    }                                                                                           \
    api.name = reinterpret_cast<decltype(api.name)>(fn);                                        \
  }
  DJ_NVRTC_FUNCTIONS(DJ_NVRTC_RESOLVE_ENTRY)
#undef DJ_NVRTC_RESOLVE_ENTRY

  api.path = mapped_path(reinterpret_cast<void*>(api.nvrtcVersion), api.library);
  int major = 0, minor = 0;
  if (api.nvrtcVersion(&major, &minor) == NVRTC_SUCCESS) {
    api.builtins = load_builtins_beside(api.path, major, minor);
    DJ_LOG_DEBUG("NVRTC " << major << "." << minor << " loaded from '" << api.path << "', builtins "
                          << (api.builtins.empty() ? "left to NVRTC's own search" : "'" + api.builtins + "'"));
  }
  return api;
}

}  // namespace

std::vector<std::string> nvrtc_library_candidates() {
  const char* env = std::getenv("DJ_NVRTC_LIBRARY");
  if (env && *env) return {std::string(env)};
  std::vector<std::string> candidates = {DJ_NVRTC_SONAME, "libnvrtc.so"};
  const std::string toolkit_copy = nvrtc_toolkit_library();
  if (!toolkit_copy.empty() && std::find(candidates.begin(), candidates.end(), toolkit_copy) == candidates.end())
    candidates.push_back(toolkit_copy);
  return candidates;
}

std::string nvrtc_toolkit_library() { return DJ_NVRTC_TOOLKIT_LIBRARY; }

Expected<const NvrtcLibrary*> nvrtc_library() {
  // Leaked on purpose: NVRTC stays loaded until the process ends, and compiles on
  // other threads may still be running during static destruction.
  static std::once_flag once;
  static const NvrtcLibrary* loaded = nullptr;
  static Status* failure = nullptr;
  std::call_once(once, [] {
    Expected<NvrtcLibrary> api = load_nvrtc();
    if (api.ok()) {
      loaded = new NvrtcLibrary(std::move(api).value());
    } else {
      failure = new Status(api.status());
    }
  });
  if (failure) return *failure;
  return loaded;
}

}  // namespace dj::jit::cuda
