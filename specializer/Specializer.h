// Specializer: turns hot (region, signature) pairs into compiled code and installs
// it in the interpreter's dispatch table — the JIT's policy.
//
// It listens to the tracer's hot events (Tracer.h). Each event becomes a job on a
// background jit::CompileQueue: plan the fusion groups for that signature
// (FusionPlan), lower and compile each kernel group (GroupLowering), and install
// the SpecializedRegion under its guard. The interpreter keeps serving the region
// until the install; after it, matching runs take the compiled path and any other
// signature still runs interpreted. Policy:
//   - only Compute regions whose shapes are closed over their inputs, without
//     router sites (their dispatch statistics come from the interpreted path), and
//     whose plan has at least one kernel group;
//   - at most `max_per_region` shape-specialized versions per region
//     (DJ_JIT_MAX_SPECS, default 8). The first hot signature past the cap compiles
//     the region's shape-generic tier instead (one version with symbolic extents
//     and a wildcard guard, FusionPlan.h), which then serves every further shape;
//     later hot signatures are only counted as capped. A region whose shapes keep
//     changing (the tracer's region-level hot event) gets its generic version
//     right away, without waiting for the cap. So a stream of new shapes costs at
//     most max_per_region + 1 compiles per region.
// DJ_JIT=off turns the whole thing off (from_environment); DJ_JIT_THRESHOLD sets
// the tracer's hot count; DJ_JIT_GENERIC=off disables the generic tier;
// DJ_JIT_COMPILE_PRIORITY=normal|low|idle sets the compile thread's CPU priority
// (default low: nice 19, so compiles do not slow the runs they overlap).
// Code cache (SpecializationCache.h): before compiling, the key is looked up on
// disk and a hit is loaded instead (no Halide/LLVM work); a fresh compile is
// stored. With DJ_WARM_CACHE=1, attach() installs every cached specialization of
// this model before returning, so the first run of a cached shape is compiled.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "jit/CompilePriority.h"
#include "runtime/Interpreter.h"
#include "specializer/SpecializationCache.h"
#include "specializer/SpecializedRegion.h"

namespace dj::jit {
class CompileQueue;
}

namespace dj::specializer {

struct SpecializerOptions {
  bool enabled = true;
  size_t max_per_region = 8;
  bool background = true;  // false: compile inside on_hot, on the running thread (tests, `compile`)
  bool listings = false;   // keep Halide stmt / LLVM IR / assembly of each kernel
  bool generic_tier = true;
  // Exact specializations of a region followed by an If go on through it into the
  // branch the traced runs took (PathTrace.h). DJ_JIT_PATHS=off disables.
  bool trace_paths = true;
  double path_min_share = 0.75;  // the branch's share of the If's traced runs that makes a path
  // CPU: a plan whose kernels are all lone elementwise ops (FusionPlan::fuses_anything
  // false) is not compiled; the interpreter runs those ops as fast, and the compile
  // would only take CPU from runs. DJ_JIT_UNFUSED=on compiles them anyway. (On a GPU
  // they are compiled: they keep the region's data on the device.)
  bool compile_unfused_plans = false;
  bool use_cache = true;    // the on-disk code cache (DJ_CACHE=off also disables it)
  bool warm_cache = false;
  // How the compile thread shares the CPU with runs (jit/CompilePriority.h).
  jit::CompilePriority compile_priority = jit::CompilePriority::Low;
  // Set: the model runs on this GPU — kernel groups become CUDA kernels
  // (CudaGroupLowering.h) instead of Halide ones, cached as cubins + PTX.
  std::shared_ptr<GpuBackend> gpu;
  std::string cache_dir;    // empty: DJ_CACHE_DIR or the default  // DJ_WARM_CACHE=1: attach() installs every cached specialization of the model
  // DJ_JIT=off|0 disables; DJ_JIT_MAX_SPECS caps per region.
  static SpecializerOptions from_environment();
};

struct SpecializerStats {
  uint64_t compiled = 0;          // specializations installed (generic ones included)
  uint64_t generic = 0;           // of which shape-generic
  uint64_t failed = 0;            // planning or compiling failed (the region stays interpreted)
  uint64_t capped = 0;            // hot signatures skipped: the region has max_per_region already
  uint64_t not_compilable = 0;    // hot signatures of regions the JIT does not take (see policy)
  uint64_t cache_hits = 0;        // specializations loaded from the code cache instead of compiled
  uint64_t warm_loaded = 0;       // of which installed at attach (DJ_WARM_CACHE=1)
  double compile_ms = 0;          // total time spent compiling (cache hits excluded)
  double cache_load_ms = 0;       // total time spent loading from the cache
  uint64_t paths = 0;             // specializations that go on through an If (PathTrace.h)
};

class Specializer : public HotRegionListener, public std::enable_shared_from_this<Specializer> {
 public:
  // Creates a specializer and makes it the tracer's listener. The interpreter must
  // outlive it; call detach() before destroying the interpreter.
  static std::shared_ptr<Specializer> attach(const Interpreter& interpreter, SpecializerOptions options);
  ~Specializer() override;

  void detach();  // stop listening, cancel queued compiles, finish the running one
  void on_hot(const HotEvent& event) override;

  // Compiles and installs now, on this thread (REPL `compile`, tests).
  Expected<std::shared_ptr<const SpecializedRegion>> compile_now(int32_t region, const SignatureWords& signature);
  void wait_idle() const;  // until no compile is queued or running
  // Like wait_idle, for at most `timeout_ms` (negative: no limit); true when idle.
  bool wait_idle_for(int64_t timeout_ms) const;
  size_t compiles_in_flight() const;  // queued or running now

  SpecializerStats stats() const;
  std::vector<std::string> recent_failures() const;  // the last few failure messages
  std::vector<std::shared_ptr<const SpecializedRegion>> specializations(int32_t region) const;
  const SpecializerOptions& options() const { return options_; }
  const Interpreter& interpreter() const { return interpreter_; }
  bool has_cache() const { return cache_ != nullptr; }
  SpecializationCache* cache() const { return cache_.get(); }

 private:
  Specializer(const Interpreter& interpreter, SpecializerOptions options);
  bool region_is_compilable(int32_t region, std::string& why) const;
  PlanFeatures plan_features() const;  // what this backend's lowering can take
  Expected<std::shared_ptr<const SpecializedRegion>> compile_and_install(int32_t region, const SignatureWords& signature,
                                                                         bool generic);
  Expected<std::shared_ptr<const SpecializedRegion>> plan_and_build(
      int32_t region, const SignatureWords& signature, bool generic, std::chrono::steady_clock::time_point started,
      const std::function<Status(const Status&)>& fail);

  // Makes `spec` (exact, of a region followed by an If) a path into the branch the
  // tracer saw taken at least options_.path_min_share of the time; a no-op otherwise.
  void try_attach_path(const FusionPlan& plan, SpecializedRegion& spec);
  void warm_from_cache();
  Expected<std::shared_ptr<const SpecializedRegion>> install_from_cache(int32_t region, const SignatureWords& signature,
                                                                        bool generic,
                                                                        const codecache::CacheEntry* entry);

  const Interpreter& interpreter_;
  SpecializerOptions options_;
  std::unique_ptr<SpecializationCache> cache_;
  std::unique_ptr<jit::CompileQueue> queue_;
  mutable std::mutex mutex_;
  SpecializerStats stats_;
  std::map<int32_t, size_t> reserved_;  // per region: installed + in flight
  std::set<int32_t> generic_tried_;     // regions whose generic tier was attempted
  std::vector<std::string> failures_;
  std::atomic<bool> detached_{false};
};

}  // namespace dj::specializer
