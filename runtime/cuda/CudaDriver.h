// CudaDriver: the CUDA driver API, reached through dlopen, never linked.
//
// DynaJIT binaries must start on machines without a GPU driver, so libcuda is
// opened at run time: `dlopen("libcuda.so.1")`, or the file named by the
// environment variable DJ_CUDA_DRIVER_LIBRARY (tests point it at a missing file or
// at the toolkit's stub). cuda_driver() loads the library, resolves the function
// table and calls cuInit(0) exactly once per process (std::call_once); later calls
// return the same table or the same error. The library is never closed.
//
// Symbols: cuda.h #defines many entry points to versioned names (cuMemAlloc ->
// cuMemAlloc_v2, cuStreamDestroy -> cuStreamDestroy_v2, cuEventElapsedTime ->
// cuEventElapsedTime_v2, ...). Each table entry is declared from the header's own
// prototype and looked up under the header's macro-expanded name, so the table binds
// exactly the ABI a program linked against libcuda would bind. The one entry newer
// than the drivers we must support (cuEventElapsedTime_v2, CUDA 12.8) falls back to
// its older export with the same signature. (cuGetProcAddress would also work, but its
// CUDA 12+ signature is itself versioned; plain dlsym of the header's names is simpler
// and is what the static linker would have done.)
//
// Errors: every failed call becomes a dj::Status naming the call and the CUDA error
// as "NAME: description" (cuda_call_status). When the driver cannot name an error
// (the stub library answers every call with CUDA_ERROR_STUB_LIBRARY) the name comes
// from cuda_result_name(), a table compiled from cuda.h.
//
// Compiles to nothing without DJ_HAVE_CUDA (no toolkit headers).
#pragma once

#ifdef DJ_HAVE_CUDA

#include <cuda.h>

#include <string>

#include "runtime/Status.h"

namespace dj {

// The driver entry points the CUDA backend uses. X(name) is the header's name; the
// macro expansion of `name` (e.g. cuMemAlloc_v2) is both the member and the symbol.
#define DJ_CUDA_DRIVER_FUNCTIONS(X)                                                         \
  X(cuGetErrorName) X(cuGetErrorString) X(cuInit) X(cuDriverGetVersion)                     \
  X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName) X(cuDeviceGetAttribute)             \
  X(cuDeviceTotalMem) X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease)              \
  X(cuCtxSetCurrent) X(cuMemGetInfo) X(cuStreamCreate) X(cuStreamSynchronize)               \
  X(cuStreamDestroy) X(cuMemAlloc) X(cuMemFree) X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync)   \
  X(cuMemcpyDtoDAsync) X(cuMemsetD8Async) X(cuModuleLoadData) X(cuModuleLoadDataEx)         \
  X(cuModuleGetFunction) X(cuModuleUnload) X(cuLaunchKernel) X(cuEventCreate)               \
  X(cuEventRecord) X(cuEventSynchronize) X(cuEventElapsedTime) X(cuEventDestroy)

#define DJ_CUDA_DRIVER_DECLARE_ENTRY(name) decltype(&::name) name = nullptr;
struct CudaDriverApi {
  DJ_CUDA_DRIVER_FUNCTIONS(DJ_CUDA_DRIVER_DECLARE_ENTRY)
  std::string library;  // the file that was opened, for messages
};
#undef DJ_CUDA_DRIVER_DECLARE_ENTRY

// The process's driver: loaded, resolved and initialized (cuInit) once. Errors:
// Unsupported "CUDA driver library 'libcuda.so.1' not found: <dlerror>",
// Unsupported "CUDA driver '<lib>' lacks symbol cuX" (driver too old), or
// Unsupported "CUDA driver '<lib>' present but cuInit failed with NAME: description".
Expected<const CudaDriverApi*> cuda_driver();

// The library name cuda_driver() opens: DJ_CUDA_DRIVER_LIBRARY if set, else "libcuda.so.1".
std::string cuda_driver_library_name();

// "CUDA_ERROR_OUT_OF_MEMORY", from cuda.h's enum; "CUresult <n>" for unknown codes.
const char* cuda_result_name(CUresult result);

// "NAME: description" for a CUresult, asking the driver first (api may be null).
std::string cuda_result_text(const CudaDriverApi* api, CUresult result);

// Ok for CUDA_SUCCESS; otherwise "<call> failed with NAME: description", with
// OutOfMemory for CUDA_ERROR_OUT_OF_MEMORY and Internal for everything else.
Status cuda_call_status(const CudaDriverApi& api, CUresult result, const char* call);

}  // namespace dj

// Runs a driver call through `api` (a CudaDriverApi&) and returns its Status on failure:
//   DJ_CU_RETURN_IF_ERROR(api, cuMemAlloc(&ptr, bytes));
#define DJ_CU_RETURN_IF_ERROR(api, call)                                             \
  do {                                                                               \
    const ::CUresult dj_cu_result_ = (api).call;                                     \
    if (dj_cu_result_ != CUDA_SUCCESS) return ::dj::cuda_call_status((api), dj_cu_result_, #call); \
  } while (0)

#endif  // DJ_HAVE_CUDA
