// CudaMemorySource: cuMemAlloc / cuMemFree / cuStreamSynchronize behind DeviceMemorySource.
#include "runtime/cuda/CudaMemorySource.h"

#ifdef DJ_HAVE_CUDA

namespace dj {

Expected<DevicePtr> CudaMemorySource::allocate(size_t bytes) {
  DJ_CU_RETURN_IF_ERROR(api_, cuCtxSetCurrent(context_));
  CUdeviceptr ptr = 0;
  DJ_CU_RETURN_IF_ERROR(api_, cuMemAlloc(&ptr, bytes));
  return static_cast<DevicePtr>(ptr);
}

Status CudaMemorySource::release(DevicePtr ptr, size_t) {
  DJ_CU_RETURN_IF_ERROR(api_, cuCtxSetCurrent(context_));
  DJ_CU_RETURN_IF_ERROR(api_, cuMemFree(static_cast<CUdeviceptr>(ptr)));
  return Status::ok_status();
}

Status CudaMemorySource::synchronize(StreamKey stream) {
  DJ_CU_RETURN_IF_ERROR(api_, cuCtxSetCurrent(context_));
  DJ_CU_RETURN_IF_ERROR(api_, cuStreamSynchronize(reinterpret_cast<CUstream>(stream)));
  return Status::ok_status();
}

}  // namespace dj

#endif  // DJ_HAVE_CUDA
