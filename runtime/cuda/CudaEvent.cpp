// CudaEvent: cuEventCreate / Record / Synchronize / ElapsedTime / Destroy.
#include "runtime/cuda/CudaEvent.h"

#ifdef DJ_HAVE_CUDA

#include "runtime/Log.h"

namespace dj {

Expected<CudaEvent> CudaEvent::create(CudaContext& context) {
  DJ_RETURN_IF_ERROR(context.make_current());
  CUevent event = nullptr;
  // CU_EVENT_DEFAULT keeps timing enabled (CU_EVENT_DISABLE_TIMING would not).
  DJ_CU_RETURN_IF_ERROR(context.driver(), cuEventCreate(&event, CU_EVENT_DEFAULT));
  return CudaEvent(context, event);
}

CudaEvent::~CudaEvent() {
  if (!event_) return;
  Status s = context_->make_current();
  if (s.ok()) {
    const CUresult destroyed = context_->driver().cuEventDestroy(event_);
    if (destroyed != CUDA_SUCCESS) s = cuda_call_status(context_->driver(), destroyed, "cuEventDestroy");
  }
  if (!s.ok()) DJ_LOG_WARN("destroying a CUDA event: " << s.message());
}

Status CudaEvent::record(CUstream stream) {
  DJ_RETURN_IF_ERROR(context_->make_current());
  DJ_CU_RETURN_IF_ERROR(context_->driver(), cuEventRecord(event_, stream));
  return Status::ok_status();
}

Status CudaEvent::synchronize() {
  DJ_RETURN_IF_ERROR(context_->make_current());
  DJ_CU_RETURN_IF_ERROR(context_->driver(), cuEventSynchronize(event_));
  return Status::ok_status();
}

Expected<float> CudaEvent::elapsed_ms(const CudaEvent& start, const CudaEvent& end) {
  DJ_RETURN_IF_ERROR(start.context_->make_current());
  float ms = 0.0f;
  DJ_CU_RETURN_IF_ERROR(start.context_->driver(), cuEventElapsedTime(&ms, start.event_, end.event_));
  return ms;
}

}  // namespace dj

#endif  // DJ_HAVE_CUDA
