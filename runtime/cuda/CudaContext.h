// CudaContext: the process's CUDA device — its primary context, its properties, one
// stream per calling thread, and the device memory allocator.
//
// Device: ordinal 0, or DJ_CUDA_DEVICE=N. CudaContext::get() creates the context once
// per process (std::call_once) and returns the same pointer, or the same error, ever
// after; the object is never destroyed (the driver releases the primary context at
// exit, and thread-local streams are retired through it during exit).
//
// Context: the device's primary context (cuDevicePrimaryCtxRetain), the one the CUDA
// runtime uses too, so cuBLASLt and NVRTC-loaded modules share allocations with us.
// A CUDA context is current per *thread*; make_current() binds it to the calling
// thread and every entry point below does so before its driver calls.
//
// Streams: one non-blocking stream per calling thread, created on the thread's first
// thread_stream() and destroyed (after a synchronize, with its cached blocks released)
// when the thread exits. Why per thread rather than one stream behind a mutex: dj_run
// is called concurrently from many threads, and each run's work is independent, so
// separate streams let the GPU overlap them and keep the launch path lock-free. A run
// stays on its thread, so its device buffers stay on that thread's stream, which is
// the rule CudaDeviceAllocator's stream-ordered reuse needs. A buffer handed to
// another thread must be synchronized first (download_tensor does).
#pragma once

#ifdef DJ_HAVE_CUDA

#include <cuda.h>

#include <cstddef>
#include <memory>
#include <string>

#include "runtime/Status.h"
#include "runtime/cuda/CudaDeviceAllocator.h"
#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/CudaMemorySource.h"

namespace dj {

struct CudaDeviceProperties {
  int ordinal = 0;
  std::string name;                   // "NVIDIA H100 80GB HBM3"
  int sm_major = 0, sm_minor = 0;     // compute capability
  int sm_count = 0;                   // streaming multiprocessors
  int max_threads_per_block = 0;
  int max_shared_memory_per_block = 0;  // bytes, without opting in to more
  size_t total_memory_bytes = 0;
  int driver_version = 0;             // cuDriverGetVersion: 12040 = 12.4

  std::string arch() const;           // "sm_90": NVRTC's --gpu-architecture and cache keys
  std::string describe() const;       // one line for logs and `dj` output
};

class CudaContext {
 public:
  // The process's device context, created on first call. Errors say why no GPU is
  // usable: the driver library is missing, cuInit failed, there are no devices, or
  // DJ_CUDA_DEVICE names a device that does not exist.
  static Expected<CudaContext*> get();

  const CudaDriverApi& driver() const { return api_; }
  const CudaDeviceProperties& properties() const { return properties_; }
  CUcontext context() const { return context_; }
  CUdevice device() const { return device_; }

  // Makes the context current on the calling thread.
  Status make_current() const;
  // The calling thread's stream, created on first use (the context is made current).
  Expected<CUstream> thread_stream();
  // Waits for the calling thread's stream.
  Status synchronize_thread_stream();

  CudaDeviceAllocator& allocator() { return *allocator_; }

  // Device bytes free and total right now (cuMemGetInfo).
  Expected<std::pair<size_t, size_t>> memory_info() const;

  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

 private:
  friend struct ThreadStream;
  CudaContext(const CudaDriverApi& api, CUdevice device, CUcontext context, CudaDeviceProperties properties);
  static Expected<CudaContext*> create();
  void retire_stream(CUstream stream);

  const CudaDriverApi& api_;
  CUdevice device_;
  CUcontext context_;
  CudaDeviceProperties properties_;
  std::unique_ptr<CudaMemorySource> memory_source_;
  std::unique_ptr<CudaDeviceAllocator> allocator_;
};

}  // namespace dj

#endif  // DJ_HAVE_CUDA
