// CudaMemorySource: the raw device memory under CudaDeviceAllocator — cuMemAlloc,
// cuMemFree and cuStreamSynchronize in one CUDA context.
//
// Each call makes the context current on the calling thread first (cuCtxSetCurrent
// is per thread and cheap), so the allocator may be used from any thread.
// cuMemAlloc's CUDA_ERROR_OUT_OF_MEMORY becomes StatusCode::OutOfMemory, which is
// what makes the allocator empty its cache and retry.
#pragma once

#ifdef DJ_HAVE_CUDA

#include <cuda.h>

#include "runtime/cuda/CudaDeviceAllocator.h"
#include "runtime/cuda/CudaDriver.h"

namespace dj {

class CudaMemorySource final : public DeviceMemorySource {
 public:
  CudaMemorySource(const CudaDriverApi& api, CUcontext context) : api_(api), context_(context) {}

  Expected<DevicePtr> allocate(size_t bytes) override;
  Status release(DevicePtr ptr, size_t bytes) override;
  Status synchronize(StreamKey stream) override;

 private:
  const CudaDriverApi& api_;
  CUcontext context_;
};

}  // namespace dj

#endif  // DJ_HAVE_CUDA
