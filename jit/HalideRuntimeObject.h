// HalideRuntimeObject: the Halide standalone runtime compiled to an object file for
// the host target (HostTarget.h), as bytes. Kernels are compiled with NoRuntime and
// resolve halide_* symbols against this one object, loaded once per process.
// Costs ~0.7 s of Halide/LLVM work: a code cache should store the bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/Status.h"

namespace dj::jit {

Expected<std::vector<uint8_t>> compile_halide_runtime_object();

}  // namespace dj::jit
