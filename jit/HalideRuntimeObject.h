// HalideRuntimeObject: the Halide standalone runtime as object-file bytes. Kernels are
// compiled with NoRuntime and resolve halide_* symbols against this one object,
// loaded once per process (OrcSession).
//
// Where the bytes come from, first match wins (halide_runtime_object()):
// 1. the object embedded at build time (jit/embed/HalideRuntimeGenerator.cpp), made
//    for the build machine's baseline target (OS, architecture, word size, no
//    optional CPU features), used when the host has the same OS/arch/bits. Kernels
//    for any feature set link against it, as Halide's multi-target AOT builds link
//    one runtime built for the lowest target. DJ_HALIDE_RUNTIME=compile skips it.
// 2. compile_halide_runtime_object(): compile_standalone_runtime for the host
//    target (HostTarget.h), ~0.7 s of Halide/LLVM work; a code cache stores these
//    bytes (SpecializationCache) so only the first process of a cache pays it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/Status.h"

namespace dj::jit {

Expected<std::vector<uint8_t>> compile_halide_runtime_object();

// The embedded object when this build has one, it fits the host and
// DJ_HALIDE_RUNTIME is not "compile"; nullopt otherwise.
std::optional<std::span<const uint8_t>> embedded_halide_runtime_object();
// The Halide target string the embedded object was compiled for ("" when none).
std::string embedded_halide_runtime_target();

// The embedded object if usable, else compile_halide_runtime_object().
Expected<std::vector<uint8_t>> halide_runtime_object();

}  // namespace dj::jit
