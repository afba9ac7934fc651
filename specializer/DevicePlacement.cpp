// DevicePlacement: resolve the device, make its backend, attach (see DevicePlacement.h).
#include "specializer/DevicePlacement.h"

#include "runtime/Log.h"
#if DJ_HAVE_CUDA
#include "specializer/CudaDriverBackend.h"
#endif

namespace dj::specializer {

Expected<std::shared_ptr<Specializer>> attach_on_device(const Interpreter& interpreter, SpecializerOptions options,
                                                        DeviceRequest request) {
  DJ_ASSIGN_OR_RETURN(DeviceKind device, resolve_device(request));
  if (!options.enabled) {
    if (device != DeviceKind::Cpu)
      DJ_LOG_WARN("the JIT is off: every run is interpreted on the CPU, nothing runs on the "
                  << device_kind_name(device));
    return std::shared_ptr<Specializer>();
  }
  if (device == DeviceKind::Cuda) {
#if DJ_HAVE_CUDA
    DJ_ASSIGN_OR_RETURN(options.gpu, make_cuda_driver_backend());
    DJ_LOG_INFO("jit: hot regions compile for " << options.gpu->description());
#else
    return Status(StatusCode::Unsupported, "this build of DynaJIT has no CUDA support");
#endif
  }
  return Specializer::attach(interpreter, options);
}

}  // namespace dj::specializer
