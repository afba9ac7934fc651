// SpecializationCache: the specializer's use of the on-disk code cache
// (codecache/) — keys for (region, signature, tier), loading a specialization's
// kernels instead of compiling them, storing freshly compiled ones, the model's
// entries for DJ_WARM_CACHE, and the Halide runtime object.
//
// Key = SHA-256 of: the region's canonical IR fingerprint (names ignored, weights
// included), the guard words, the tier and the lowering format, the host target
// key (CPU features) and the toolchain versions. A hit loads objects with
// jit::load_object: no Halide lowering, no LLVM optimization, only ORC linking.
// A damaged or foreign entry is counted and removed by the store and the region
// is compiled again (and re-stored) — never loaded. Thread-safe.
//
// GPU specializations (opened with a GpuBackend): the target is the backend's
// cache_target() (arch + NVRTC version) instead of the CPU features, each kernel
// object holds its cubin (bytes) and PTX (metadata), and a hit loads them through
// the backend (cuModuleLoadData) with no NVRTC call; views and specs are
// recomputed from the plan, which is a function of the key.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "codecache/CodeCache.h"
#include "runtime/Interpreter.h"
#include "specializer/CachedKernels.h"
#include "specializer/SpecializedRegion.h"

namespace dj::specializer {

class SpecializationCache {
 public:
  // Null when the cache is off (DJ_CACHE=off) or its directory was refused (a
  // warning says why). Also makes the cache the source of the Halide runtime object
  // for this process (once per process).
  // `dir`: empty for DJ_CACHE_DIR / the default (and DJ_CACHE=off); else this directory.
  // `gpu`: cache this backend's CUDA kernels instead of CPU objects.
  static std::unique_ptr<SpecializationCache> open(const Interpreter& interpreter, const std::string& dir = "",
                                                   std::shared_ptr<GpuBackend> gpu = nullptr);

  codecache::Digest256 key(int32_t region, const SignatureWords& signature, bool generic);
  // A specialization built from the cached kernels of `key`, or null (miss, or a
  // damaged/foreign entry, which the store has counted and removed).
  std::shared_ptr<SpecializedRegion> load(const FusionPlan& plan, const codecache::Digest256& key);
  // The same from an entry already read (warm start).
  std::shared_ptr<SpecializedRegion> build_from_entry(const FusionPlan& plan, const codecache::CacheEntry& entry);
  void store(const codecache::Digest256& key, const SpecializedRegion& spec, const SignatureWords& signature,
             bool generic);
  // This model's entries with their headers, for DJ_WARM_CACHE (unreadable ones skipped).
  struct Stored {
    codecache::Digest256 key;
    EntryHeader header;
    codecache::CacheEntry entry;
  };
  std::vector<Stored> model_entries();

  codecache::CodeCache& store_handle() { return *cache_; }
  const std::string& model_hex();

 private:
  SpecializationCache(const Interpreter& interpreter, std::shared_ptr<codecache::CodeCache> cache,
                      std::shared_ptr<GpuBackend> gpu, std::string target);
  Expected<LoweredGroup> load_gpu_kernel(const FusionPlan& plan, const FusionGroup& group, const codecache::CacheObject& object);
  const Interpreter& interpreter_;
  std::shared_ptr<codecache::CodeCache> cache_;
  std::shared_ptr<GpuBackend> gpu_;
  std::string target_;  // the CPU's target key, or the GPU backend's cache_target()
  // Fingerprints hash the weights: computed once, on first need (not at load).
  void ensure_fingerprints();
  std::mutex mutex_;
  bool fingerprinted_ = false;
  std::vector<codecache::Digest256> region_fingerprints_;
  std::string model_hex_;
};

// "dynajit 0.1.0, halide 14, llvm 14": part of every key and entry.
const std::string& toolchain_versions();

}  // namespace dj::specializer
