// DevicePlacement: the one place where a loaded model gets its JIT for the device
// it asked for (dj_load, `dj run`, `dj repl`, `dj cache warm` all come here).
//
// The request (cpu | cuda | auto, runtime/Device.h) is resolved first, so asking
// for `cuda` on a machine without a usable GPU is an error naming why, even when
// the JIT is off. On the GPU the specializer compiles CUDA kernels through a
// CudaDriverBackend; on the CPU, Halide kernels. Runs are interpreted on the host
// until a region is hot and compiled, on either device.
#pragma once

#include <memory>

#include "runtime/Device.h"
#include "specializer/Specializer.h"

namespace dj::specializer {

// Null (and no error) when options.enabled is false.
Expected<std::shared_ptr<Specializer>> attach_on_device(const Interpreter& interpreter, SpecializerOptions options,
                                                        DeviceRequest request);

}  // namespace dj::specializer
