// Device: which device runs a model — the request (cpu | cuda | auto) and its
// resolution against what this process can actually use.
//
// resolve_device() is the one place that decides: Cpu -> Cpu; Cuda -> Cuda when a
// usable GPU is present, else an Unsupported error saying why (this build has no CUDA
// support / the driver library is missing / cuInit failed with NAME: description / no
// devices); Auto -> Cuda when usable, else Cpu, with the reason logged at info.
// The answer does not change during a process (the CUDA context is created once), so
// callers may resolve once at load time. Compiles without the CUDA toolkit (then
// DJ_HAVE_CUDA is undefined and a Cuda request says "built without CUDA support").
#pragma once

#include <string_view>

#include "runtime/Status.h"

namespace dj {

enum class DeviceKind { Cpu, Cuda };
const char* device_kind_name(DeviceKind kind);  // "cpu", "cuda"

enum class DeviceRequest { Cpu, Cuda, Auto };
const char* device_request_name(DeviceRequest request);  // "cpu", "cuda", "auto"

// "cpu", "cuda" or "auto"; anything else is InvalidArgument naming the accepted values.
Expected<DeviceRequest> parse_device_request(std::string_view text);

// DJ_DEVICE when set and valid; `fallback` when unset. An invalid value is logged
// (warn) and `fallback` used, since the environment is not the caller's argument.
DeviceRequest device_request_from_env(DeviceRequest fallback);

Expected<DeviceKind> resolve_device(DeviceRequest request);

}  // namespace dj
