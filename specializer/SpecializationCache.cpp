// SpecializationCache: keys, load, store and warm-start listing over codecache/.
#include "specializer/SpecializationCache.h"

#include <chrono>

#include "codecache/CacheKey.h"
#include "codecache/RegionFingerprint.h"
#include "jit/HalideRuntimeObject.h"
#include "jit/HostTarget.h"
#include "runtime/Log.h"
#if DJ_HAVE_CUDA
#include "specializer/CudaGroupLowering.h"
#endif

#ifndef DJ_TOOLCHAIN_VERSIONS
#define DJ_TOOLCHAIN_VERSIONS "dynajit dev, halide 14, llvm 14"
#endif

namespace dj::specializer {
namespace {

// Bump when the lowering or the metadata format changes what a key's code means.
constexpr const char* kLoweringFormat = "lowering 13";  // 2: LayerNorm groups; 3: shared object files; 4: residual epilogues, batched GEMMs; 5: reduction prologues, ONNX Gemm; 6: the same fusions on the GPU; 7: row reductions with 4 accumulators, exp with a degree-5 polynomial; 8: load-time constants stepped over (GELU as one kernel), Identity of a weight a constant; 9: register-tiled batched GEMMs; 10: transposes folded into batched GEMM operands; 11: generic rows per task from the run's row length; 12: 11 reverted (it compiled generic kernels 40% slower); 13: transposes folded only into register-tiled batched GEMMs

void use_cache_for_halide_runtime(std::shared_ptr<codecache::CodeCache> cache) {
  static std::once_flag once;
  std::call_once(once, [&] {
    // Best effort: if the ORC session already exists, it has its runtime.
    (void)jit::OrcSession::set_runtime_object_source([cache]() -> Expected<std::vector<uint8_t>> {
      // The build's embedded runtime costs nothing; the cache only matters without it.
      if (jit::embedded_halide_runtime_object()) return jit::halide_runtime_object();
      codecache::LookupResult hit = cache->lookup_runtime_object();
      if (hit.outcome == codecache::LookupOutcome::Hit && !hit.entry.objects.empty()) {
        DJ_LOG_INFO("jit: Halide runtime loaded from the code cache");
        return hit.entry.objects.front().bytes;
      }
      auto started = std::chrono::steady_clock::now();
      DJ_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, jit::compile_halide_runtime_object());
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      Status stored = cache->store_runtime_object(bytes, ms);
      if (!stored.ok()) DJ_LOG_WARN("code cache: the Halide runtime was not stored: " << stored.message());
      return bytes;
    });
  });
}

}  // namespace

const std::string& toolchain_versions() {
  static const std::string versions = DJ_TOOLCHAIN_VERSIONS;
  return versions;
}

std::unique_ptr<SpecializationCache> SpecializationCache::open(const Interpreter& interpreter, const std::string& dir,
                                                               std::shared_ptr<GpuBackend> gpu) {
  std::string target = jit::host_target().key;
#if DJ_HAVE_CUDA
  if (gpu) target = gpu->cache_target();
#endif
  std::shared_ptr<codecache::CodeCache> cache;
  if (dir.empty()) {
    cache = codecache::CodeCache::open_from_environment(target, toolchain_versions());
  } else {
    codecache::CodeCacheOptions o = codecache::CodeCacheOptions::from_environment();
    o.dir = dir;
    o.target = target;
    o.versions = toolchain_versions();
    auto opened = codecache::CodeCache::open(o);
    if (opened.ok())
      cache = opened.value();
    else
      DJ_LOG_WARN("code cache disabled: " << opened.status().message());
  }
  if (!cache) return nullptr;
  if (!gpu) use_cache_for_halide_runtime(cache);
  return std::unique_ptr<SpecializationCache>(
      new SpecializationCache(interpreter, std::move(cache), std::move(gpu), std::move(target)));
}

SpecializationCache::SpecializationCache(const Interpreter& interpreter, std::shared_ptr<codecache::CodeCache> cache,
                                         std::shared_ptr<GpuBackend> gpu, std::string target)
    : interpreter_(interpreter), cache_(std::move(cache)), gpu_(std::move(gpu)), target_(std::move(target)) {}

void SpecializationCache::ensure_fingerprints() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fingerprinted_) return;
  const RegionPlan& plan = interpreter_.regions();
  region_fingerprints_.reserve(plan.size());
  for (const Region& r : plan.regions())
    region_fingerprints_.push_back(codecache::fingerprint_region(r, interpreter_.model().opset));
  model_hex_ = codecache::fingerprint_model(interpreter_.model(), plan, region_fingerprints_).hex();
  fingerprinted_ = true;
}

const std::string& SpecializationCache::model_hex() {
  ensure_fingerprints();
  return model_hex_;
}

codecache::Digest256 SpecializationCache::key(int32_t region, const SignatureWords& signature, bool generic) {
  ensure_fingerprints();  // immutable afterwards: read without the lock
  codecache::CacheKeyParts parts;
  parts.region = region_fingerprints_[static_cast<size_t>(region)];
  parts.signature = signature;
  parts.specialization = std::string(generic ? "generic" : "exact") + "; " + kLoweringFormat + (gpu_ ? "; cuda" : "");
  parts.target = target_;
  parts.versions = toolchain_versions();
  return codecache::compute_cache_key(parts);
}

std::shared_ptr<SpecializedRegion> SpecializationCache::load(const FusionPlan& plan, const codecache::Digest256& key) {
  codecache::LookupResult found = cache_->lookup(key);
  if (found.outcome == codecache::LookupOutcome::Miss) return nullptr;
  if (found.outcome != codecache::LookupOutcome::Hit) {
    DJ_LOG_WARN("code cache: entry " << key.short_hex() << " is " << codecache::lookup_outcome_name(found.outcome)
                                     << " (" << found.problem << "); compiling again");
    return nullptr;
  }
  return build_from_entry(plan, found.entry);
}

std::shared_ptr<SpecializedRegion> SpecializationCache::build_from_entry(const FusionPlan& plan,
                                                                         const codecache::CacheEntry& entry) {
  const codecache::Digest256& key = entry.key;
  const auto& objects = entry.objects;
  // CPU kernels: every object file loaded once, before the region is assembled.
  Expected<std::vector<LoweredGroup>> cpu_kernels = std::vector<LoweredGroup>{};
  if (!gpu_) cpu_kernels = kernels_from_cache_objects(objects, target_);
  if (!cpu_kernels.ok()) {
    DJ_LOG_WARN("code cache: entry " << key.short_hex() << " cannot be loaded (" << cpu_kernels.status().message()
                                     << "); compiling again");
    return nullptr;
  }
  auto built = SpecializedRegion::build(
      plan, interpreter_.model().opset,
      [&](const FusionGroup& group, size_t index) -> Expected<LoweredGroup> {
        if (index >= objects.size()) return Status(StatusCode::InvalidArgument, "the entry has too few kernels");
        if (!gpu_) return std::move((*cpu_kernels)[index]);
        return load_gpu_kernel(plan, group, objects[index]);
      },
      gpu_);
  if (!built.ok()) {
    DJ_LOG_WARN("code cache: entry " << key.short_hex() << " does not fit this region (" << built.status().message()
                                     << "); compiling again");
    return nullptr;
  }
  if ((*built)->kernels().size() != objects.size()) {
    DJ_LOG_WARN("code cache: entry " << key.short_hex() << " has extra kernels; compiling again");
    return nullptr;
  }
  return *built;
}

Expected<LoweredGroup> SpecializationCache::load_gpu_kernel(const FusionPlan& plan, const FusionGroup& group,
                                                            const codecache::CacheObject& object) {
#if DJ_HAVE_CUDA
  jit::cuda::NvrtcOutput binary;
  binary.cubin.assign(object.bytes.begin(), object.bytes.end());
  binary.ptx = object.metadata;
  binary.arch = "sm_" + std::to_string(gpu_->sm());
  return lower_group_cuda(plan, group, object.name, *gpu_, &binary);
#else
  return Status(StatusCode::Unsupported, "no CUDA support in this build");
#endif
}

void SpecializationCache::store(const codecache::Digest256& key, const SpecializedRegion& spec,
                                const SignatureWords& signature, bool generic) {
  codecache::CacheEntry entry;
  entry.key = key;
  entry.model = model_hex();
  entry.description = "R" + std::to_string(spec.info().region) + " " + spec.guard_text() + (generic ? " generic" : " exact");
  entry.metadata = encode_entry_header(EntryHeader{spec.info().region, signature, generic});
  entry.compile_ms = spec.info().compile_ms;
  if (!gpu_) entry.objects = kernels_to_cache_objects(spec.kernels());
#if DJ_HAVE_CUDA
  for (const LoweredGroup& g : spec.kernels()) {
    if (!g.gpu) continue;
    // The cubin, and the PTX for other arches / `code R ptx`.
    codecache::CacheObject object;
    object.name = g.gpu->spec.name;
    object.metadata = g.gpu->binary.ptx;
    object.bytes.assign(g.gpu->binary.cubin.begin(), g.gpu->binary.cubin.end());
    entry.objects.push_back(std::move(object));
  }
#endif
  Status st = cache_->store(std::move(entry));
  if (!st.ok()) DJ_LOG_INFO("code cache: not stored: " << st.message());
}

std::vector<SpecializationCache::Stored> SpecializationCache::model_entries() {
  std::vector<Stored> out;
  for (const codecache::Digest256& key : cache_->model_entries(model_hex())) {
    codecache::LookupResult found = cache_->lookup(key);
    if (found.outcome != codecache::LookupOutcome::Hit) continue;
    auto header = decode_entry_header(found.entry.metadata);
    if (header.ok()) out.push_back(Stored{key, *header, std::move(found.entry)});
  }
  return out;
}

}  // namespace dj::specializer
