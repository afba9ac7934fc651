// HostTarget: run-time detection of the kernel target (see HostTarget.h).
#include "jit/HostTarget.h"

#include <cpuid.h>

#include "Halide.h"

namespace dj::jit {
namespace {

// CPUID leaf 7, sub-leaf 0, EDX bit 24: AMX-TILE.
bool cpu_has_amx_tile() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return (edx >> 24) & 1u;
}

struct DetectedTarget {
  Halide::Target target;
  HostTarget info;
};

DetectedTarget detect() {
  DetectedTarget d;
  d.target = Halide::get_host_target();
  if (d.target.has_feature(Halide::Target::AVX512_SapphireRapids) && !cpu_has_amx_tile()) {
    d.target = d.target.without_feature(Halide::Target::AVX512_SapphireRapids)
                   .with_feature(Halide::Target::AVX512_Cannonlake);
    d.info.cpu_note = "CPU reports no AMX: avx512_sapphirerapids stepped down to avx512_cannonlake";
  }
  d.info.key = d.target.to_string();
  d.info.float_vector_lanes = d.target.natural_vector_size<float>();
  return d;
}

const DetectedTarget& detected() {
  static const DetectedTarget d = detect();
  return d;
}

}  // namespace

const HostTarget& host_target() { return detected().info; }
const Halide::Target& host_halide_target() { return detected().target; }

}  // namespace dj::jit
