// CudaTransfer: copies between dj::Tensor host memory and device buffers, on a stream.
//
// Host -> device copies are enqueued with cuMemcpyHtoDAsync. DynaJIT's host tensors
// live in pageable memory (CpuAllocator), for which the driver copies the source into
// a staging buffer before the call returns, so the host tensor may be released as soon
// as upload_tensor returns. (Page-locked caller memory would be read later, when the
// stream reaches the copy: keep such memory alive until the stream is synchronized.)
// Device -> host copies synchronize the stream before returning, so the returned
// tensor is ready to read and the device buffer may be handed to another thread.
// Sizes are checked against the device buffer's capacity before any copy.
#pragma once

#ifdef DJ_HAVE_CUDA

#include <cuda.h>

#include "runtime/Status.h"
#include "runtime/Tensor.h"
#include "runtime/cuda/CudaContext.h"
#include "runtime/cuda/CudaDeviceAllocator.h"

namespace dj {

// Copies the tensor's elements (made contiguous first) to `dst`.
Status upload_tensor(CudaContext& context, const Tensor& host, DevicePtr dst, size_t dst_capacity, CUstream stream);

// Allocates a buffer from the context's allocator (for `stream`) and uploads into it.
Expected<DeviceBuffer> upload_to_new_buffer(CudaContext& context, const Tensor& host, CUstream stream);

// Copies `bytes` from `src` into host memory `host`; synchronizes `stream`.
Status download_into(CudaContext& context, DevicePtr src, size_t src_capacity, void* host, size_t bytes,
                     CUstream stream);
// A new host tensor of `dtype`/`shape` filled from `src`; synchronizes `stream`.
Expected<Tensor> download_tensor(CudaContext& context, DevicePtr src, size_t src_capacity, DType dtype,
                                 const Shape& shape, CUstream stream);

// Device-to-device copy and byte fill, both enqueued on `stream`.
Status copy_device_to_device(CudaContext& context, DevicePtr dst, DevicePtr src, size_t bytes, CUstream stream);
Status fill_device_bytes(CudaContext& context, DevicePtr dst, unsigned char value, size_t bytes, CUstream stream);

}  // namespace dj

#endif  // DJ_HAVE_CUDA
