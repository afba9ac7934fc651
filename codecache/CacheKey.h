// CacheKey: the content address of one compiled specialization in the code cache.
//
// key = SHA-256 over (format tag, region fingerprint, signature words, the
// specialization's other choices, target, toolchain versions). Anything that can
// change the emitted code must be in it: the caller puts the tier, the branch path
// and planner/lowering options in `specialization`, host_target().key in `target`
// and the DynaJIT/LLVM/Halide versions in `versions`. Equal parts <=> equal key
// (fields are length-prefixed, so no two part lists produce one byte stream).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codecache/Sha256.h"

namespace dj::codecache {

struct CacheKeyParts {
  Digest256 region;                // fingerprint_region()
  std::vector<int64_t> signature;  // the guard's SignatureWords (Region::inputs order)
  std::string specialization;      // tier, branch path, plan/lowering options ("exact;fastmath=1")
  std::string target;              // jit::host_target().key
  std::string versions;            // "dynajit 0.1.0; llvm 14.0.6; halide 14.0.0"
};

Digest256 compute_cache_key(const CacheKeyParts& parts);

// The key under which the Halide runtime object for (target, versions) is stored.
Digest256 runtime_object_key(const std::string& target, const std::string& versions);

}  // namespace dj::codecache
