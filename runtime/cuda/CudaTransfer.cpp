// CudaTransfer: tensor uploads/downloads and device copies through the driver API.
#include "runtime/cuda/CudaTransfer.h"

#ifdef DJ_HAVE_CUDA

namespace dj {

Status upload_tensor(CudaContext& context, const Tensor& host, DevicePtr dst, size_t dst_capacity, CUstream stream) {
  DJ_CHECK(host.defined(), InvalidArgument, "upload of an undefined tensor");
  const Tensor packed = host.contiguous();
  const size_t bytes = packed.nbytes();
  DJ_CHECK(bytes <= dst_capacity, InvalidArgument, "upload of ", host.describe(), " (", bytes,
           " bytes) into a device buffer of ", dst_capacity, " bytes");
  if (bytes == 0) return Status::ok_status();
  DJ_RETURN_IF_ERROR(context.make_current());
  DJ_CU_RETURN_IF_ERROR(context.driver(), cuMemcpyHtoDAsync(static_cast<CUdeviceptr>(dst), packed.raw_data(), bytes, stream));
  return Status::ok_status();
}

Expected<DeviceBuffer> upload_to_new_buffer(CudaContext& context, const Tensor& host, CUstream stream) {
  DJ_CHECK(host.defined(), InvalidArgument, "upload of an undefined tensor");
  DJ_ASSIGN_OR_RETURN(DeviceBuffer buffer,
                      DeviceBuffer::allocate(context.allocator(), host.nbytes(), reinterpret_cast<StreamKey>(stream)));
  DJ_RETURN_IF_ERROR(upload_tensor(context, host, buffer.ptr(), buffer.capacity(), stream));
  return buffer;
}

Status download_into(CudaContext& context, DevicePtr src, size_t src_capacity, void* host, size_t bytes,
                     CUstream stream) {
  DJ_CHECK(bytes <= src_capacity, InvalidArgument, "download of ", bytes, " bytes from a device buffer of ",
           src_capacity, " bytes");
  DJ_RETURN_IF_ERROR(context.make_current());
  if (bytes > 0) {
    DJ_CU_RETURN_IF_ERROR(context.driver(), cuMemcpyDtoHAsync(host, static_cast<CUdeviceptr>(src), bytes, stream));
  }
  // Also surfaces errors of kernels queued before the copy (they are reported here).
  DJ_CU_RETURN_IF_ERROR(context.driver(), cuStreamSynchronize(stream));
  return Status::ok_status();
}

Expected<Tensor> download_tensor(CudaContext& context, DevicePtr src, size_t src_capacity, DType dtype,
                                 const Shape& shape, CUstream stream) {
  DJ_ASSIGN_OR_RETURN(Tensor host, Tensor::try_empty(dtype, shape));
  DJ_RETURN_IF_ERROR(download_into(context, src, src_capacity, host.raw_data(), host.nbytes(), stream)
                         .with_context("download of " + host.describe() + ": "));
  return host;
}

Status copy_device_to_device(CudaContext& context, DevicePtr dst, DevicePtr src, size_t bytes, CUstream stream) {
  if (bytes == 0) return Status::ok_status();
  DJ_RETURN_IF_ERROR(context.make_current());
  DJ_CU_RETURN_IF_ERROR(context.driver(), cuMemcpyDtoDAsync(static_cast<CUdeviceptr>(dst),
                                                            static_cast<CUdeviceptr>(src), bytes, stream));
  return Status::ok_status();
}

Status fill_device_bytes(CudaContext& context, DevicePtr dst, unsigned char value, size_t bytes, CUstream stream) {
  if (bytes == 0) return Status::ok_status();
  DJ_RETURN_IF_ERROR(context.make_current());
  DJ_CU_RETURN_IF_ERROR(context.driver(), cuMemsetD8Async(static_cast<CUdeviceptr>(dst), value, bytes, stream));
  return Status::ok_status();
}

}  // namespace dj

#endif  // DJ_HAVE_CUDA
