// Device: parsing device requests and resolving them against the CUDA driver.
#include "runtime/Device.h"

#include <cstdlib>
#include <string>

#include "runtime/Log.h"

#ifdef DJ_HAVE_CUDA
#include "runtime/cuda/CudaContext.h"
#endif

namespace dj {
namespace {
// Ok when the process can run work on a GPU; otherwise why not.
Status cuda_usable() {
#ifdef DJ_HAVE_CUDA
  Expected<CudaContext*> context = CudaContext::get();
  return context.ok() ? Status::ok_status() : context.status();
#else
  return Status(StatusCode::Unsupported, "CUDA requested but DynaJIT was built without CUDA support");
#endif
}
}  // namespace

const char* device_kind_name(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::Cpu: return "cpu";
    case DeviceKind::Cuda: return "cuda";
  }
  return "?";
}

const char* device_request_name(DeviceRequest request) {
  switch (request) {
    case DeviceRequest::Cpu: return "cpu";
    case DeviceRequest::Cuda: return "cuda";
    case DeviceRequest::Auto: return "auto";
  }
  return "?";
}

Expected<DeviceRequest> parse_device_request(std::string_view text) {
  if (text == "cpu") return DeviceRequest::Cpu;
  if (text == "cuda") return DeviceRequest::Cuda;
  if (text == "auto") return DeviceRequest::Auto;
  return make_error(StatusCode::InvalidArgument, "unknown device '", std::string(text),
                    "'; expected one of: cpu, cuda, auto");
}

DeviceRequest device_request_from_env(DeviceRequest fallback) {
  const char* env = std::getenv("DJ_DEVICE");
  if (!env || !*env) return fallback;
  Expected<DeviceRequest> parsed = parse_device_request(env);
  if (!parsed.ok()) {
    DJ_LOG_WARN("DJ_DEVICE: " << parsed.status().message() << "; using " << device_request_name(fallback));
    return fallback;
  }
  return parsed.value();
}

Expected<DeviceKind> resolve_device(DeviceRequest request) {
  switch (request) {
    case DeviceRequest::Cpu:
      return DeviceKind::Cpu;
    case DeviceRequest::Cuda: {
      Status usable = cuda_usable();
      if (!usable.ok()) return usable;
      return DeviceKind::Cuda;
    }
    case DeviceRequest::Auto: {
      Status usable = cuda_usable();
      if (usable.ok()) {
        DJ_LOG_INFO("device auto: using cuda");
        return DeviceKind::Cuda;
      }
      DJ_LOG_INFO("device auto: using cpu (" << usable.message() << ")");
      return DeviceKind::Cpu;
    }
  }
  return make_error(StatusCode::InvalidArgument, "unknown device request ", static_cast<int>(request));
}

}  // namespace dj
