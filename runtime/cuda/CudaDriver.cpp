// CudaDriver: dlopen of libcuda, symbol resolution, cuInit, error text.
#include "runtime/cuda/CudaDriver.h"

#ifdef DJ_HAVE_CUDA

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string_view>

#include "runtime/Log.h"

namespace dj {
namespace {

#define DJ_CUDA_SYMBOL_STRING_INNER(name) #name
#define DJ_CUDA_SYMBOL_STRING(name) DJ_CUDA_SYMBOL_STRING_INNER(name)

// Older exports with the same signature, for entries whose versioned name is newer
// than drivers still in use. cuEventElapsedTime_v2 appeared in CUDA 12.8 (r570).
const char* fallback_symbol(const char* symbol) {
  std::string_view s(symbol);
  if (s == "cuEventElapsedTime_v2") return "cuEventElapsedTime";
  return nullptr;
}

Status resolve_symbol(void* library, const std::string& library_name, const char* symbol, void** out) {
  dlerror();  // clear a stale error so the one below is ours
  *out = dlsym(library, symbol);
  if (!*out) {
    if (const char* older = fallback_symbol(symbol)) {
      *out = dlsym(library, older);
      if (*out) return Status::ok_status();
    }
    return make_error(StatusCode::Unsupported, "CUDA driver '", library_name, "' lacks symbol ", symbol,
                      " (the driver is older than DynaJIT needs; update the NVIDIA driver)");
  }
  return Status::ok_status();
}

Expected<CudaDriverApi> load_driver() {
  CudaDriverApi api;
  api.library = cuda_driver_library_name();
  // RTLD_LOCAL: the driver's symbols stay out of the global namespace; nothing else
  // in the process should bind to them by accident.
  void* library = dlopen(api.library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* why = dlerror();
    return make_error(StatusCode::Unsupported, "CUDA driver library '", api.library, "' not found: ",
                      why ? why : "dlopen failed");
  }
#define DJ_CUDA_RESOLVE_ENTRY(name)                                                            \
  {                                                                                            \
    void* fn = nullptr;                                                                        \
    DJ_RETURN_IF_ERROR(resolve_symbol(library, api.library, DJ_CUDA_SYMBOL_STRING(name), &fn)); \
    api.name = reinterpret_cast<decltype(api.name)>(fn);                                       \
  }
  DJ_CUDA_DRIVER_FUNCTIONS(DJ_CUDA_RESOLVE_ENTRY)
#undef DJ_CUDA_RESOLVE_ENTRY

  const CUresult init = api.cuInit(0);
  if (init != CUDA_SUCCESS) {
    return make_error(StatusCode::Unsupported, "CUDA driver '", api.library,
                      "' present but cuInit failed with ", cuda_result_text(&api, init));
  }
  int version = 0;
  if (api.cuDriverGetVersion(&version) == CUDA_SUCCESS) {
    DJ_LOG_DEBUG("CUDA driver '" << api.library << "' loaded, driver API version " << version / 1000 << "."
                                 << (version % 1000) / 10);
  }
  return api;
}

}  // namespace

std::string cuda_driver_library_name() {
  const char* env = std::getenv("DJ_CUDA_DRIVER_LIBRARY");
  return (env && *env) ? std::string(env) : std::string("libcuda.so.1");
}

Expected<const CudaDriverApi*> cuda_driver() {
  // Leaked on purpose: the driver stays loaded until the process ends, and thread-local
  // streams are destroyed through this table during exit.
  static std::once_flag once;
  static const CudaDriverApi* loaded = nullptr;
  static Status* failure = nullptr;
  std::call_once(once, [] {
    Expected<CudaDriverApi> api = load_driver();
    if (api.ok()) {
      loaded = new CudaDriverApi(std::move(api).value());
    } else {
      failure = new Status(api.status());
    }
  });
  if (failure) return *failure;
  return loaded;
}

std::string cuda_result_text(const CudaDriverApi* api, CUresult result) {
  const char* name = nullptr;
  const char* description = nullptr;
  if (api && api->cuGetErrorName && api->cuGetErrorName(result, &name) != CUDA_SUCCESS) name = nullptr;
  if (api && api->cuGetErrorString && api->cuGetErrorString(result, &description) != CUDA_SUCCESS)
    description = nullptr;
  std::string text = name ? name : cuda_result_name(result);
  text += ": ";
  text += description ? description : "(the driver gave no description)";
  return text;
}

Status cuda_call_status(const CudaDriverApi& api, CUresult result, const char* call) {
  if (result == CUDA_SUCCESS) return Status::ok_status();
  const StatusCode code = result == CUDA_ERROR_OUT_OF_MEMORY ? StatusCode::OutOfMemory : StatusCode::Internal;
  return make_error(code, call, " failed with ", cuda_result_text(&api, result));
}

}  // namespace dj

#endif  // DJ_HAVE_CUDA
