// dj_cuda_probe: resolves a device request (or loads cuBLASLt) in a fresh process and
// prints the outcome. The CUDA driver is loaded once per process, so the tests run
// this program with a different DJ_CUDA_DRIVER_LIBRARY / DJ_CUBLASLT_LIBRARY each time.
//   dj_cuda_probe device cpu|cuda|auto   -> "device: cuda" or "error: <status>"
//   dj_cuda_probe cublaslt               -> "cublaslt: <version> <library>" or "error: <status>"
#include <cstdio>
#include <cstring>

#include "runtime/Device.h"
#include "runtime/cuda/CublasLt.h"

int main(int argc, char** argv) {
  if (argc == 3 && !std::strcmp(argv[1], "device")) {
    dj::Expected<dj::DeviceRequest> request = dj::parse_device_request(argv[2]);
    if (!request.ok()) {
      std::printf("error: %s\n", request.status().to_string().c_str());
      return 2;
    }
    dj::Expected<dj::DeviceKind> kind = dj::resolve_device(request.value());
    if (!kind.ok()) {
      std::printf("error: %s\n", kind.status().to_string().c_str());
      return 1;
    }
    std::printf("device: %s\n", dj::device_kind_name(kind.value()));
    return 0;
  }
  if (argc == 2 && !std::strcmp(argv[1], "cublaslt")) {
    dj::Expected<dj::CublasLt*> lt = dj::CublasLt::get();
    if (!lt.ok()) {
      std::printf("error: %s\n", lt.status().to_string().c_str());
      return 1;
    }
    std::printf("cublaslt: %zu %s\n", lt.value()->version(), lt.value()->library().c_str());
    return 0;
  }
  std::fprintf(stderr, "usage: dj_cuda_probe device cpu|cuda|auto | dj_cuda_probe cublaslt\n");
  return 2;
}
