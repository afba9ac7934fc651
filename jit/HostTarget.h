// HostTarget: the Halide target that kernels are compiled for on this machine.
//
// Detected once per process at run time (never at build time: CI may run on another
// CPU than the build). Invariants: the same process always sees the same target;
// `key` is a stable string (Halide's target string, e.g. "x86-64-linux-avx512_cannonlake-...")
// that a code cache puts in its key, because objects are CPU-specific. Features the CPU
// lacks are stripped: Halide 14 calls an AVX-512 Zen 4 "avx512_sapphirerapids", which
// implies AMX; without AMX in CPUID we step down to avx512_cannonlake (f32 code is the
// same), so no schedule can ever emit AMX.
// This header is light (no Halide.h): runtime-facing code may include it.
#pragma once

#include <string>

namespace Halide {
struct Target;
}

namespace dj::jit {

struct HostTarget {
  std::string key;            // Halide target string of the kernels (without per-kernel features)
  std::string cpu_note;       // what was changed from Halide's own guess, "" if nothing
  int float_vector_lanes = 4; // f32 lanes of the widest SIMD the target uses (16 with AVX-512)
};

const HostTarget& host_target();

// The Halide::Target behind host_target() (defined in HostTarget.cpp; include Halide.h to use).
const Halide::Target& host_halide_target();

}  // namespace dj::jit
