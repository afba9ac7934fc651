// CudaEvent: a CUDA event for timing GPU work on a stream (benchmarks, `dj bench`).
//
// record() marks a point in a stream; synchronize() waits until the GPU reaches it;
// elapsed_ms(start, end) is the GPU time between two recorded and completed events
// (the driver answers CUDA_ERROR_NOT_READY otherwise, which comes back as an error).
// Move-only; the event is destroyed with the object.
#pragma once

#ifdef DJ_HAVE_CUDA

#include <cuda.h>

#include "runtime/Status.h"
#include "runtime/cuda/CudaContext.h"

namespace dj {

class CudaEvent {
 public:
  static Expected<CudaEvent> create(CudaContext& context);
  CudaEvent(CudaEvent&& other) noexcept : context_(other.context_), event_(other.event_) { other.event_ = nullptr; }
  CudaEvent& operator=(CudaEvent&&) = delete;
  CudaEvent(const CudaEvent&) = delete;
  ~CudaEvent();

  Status record(CUstream stream);
  Status synchronize();
  static Expected<float> elapsed_ms(const CudaEvent& start, const CudaEvent& end);

 private:
  CudaEvent(CudaContext& context, CUevent event) : context_(&context), event_(event) {}
  CudaContext* context_;
  CUevent event_;
};

}  // namespace dj

#endif  // DJ_HAVE_CUDA
