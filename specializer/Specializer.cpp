// Specializer: hot events -> background compiles -> installs (see Specializer.h).
#include "specializer/Specializer.h"

#include <chrono>
#include <functional>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "jit/CompileQueue.h"
#include "runtime/Log.h"
#if DJ_HAVE_CUDA
#include "specializer/CudaGroupLowering.h"
#endif

namespace dj::specializer {
namespace {

constexpr size_t kFailuresKept = 16;

}  // namespace

SpecializerOptions SpecializerOptions::from_environment() {
  SpecializerOptions o;
  const char* jit = std::getenv("DJ_JIT");
  if (jit && (std::strcmp(jit, "off") == 0 || std::strcmp(jit, "0") == 0)) o.enabled = false;
  if (const char* w = std::getenv("DJ_WARM_CACHE"); w && std::strcmp(w, "1") == 0) o.warm_cache = true;
  if (const char* g = std::getenv("DJ_JIT_GENERIC"); g && (std::strcmp(g, "off") == 0 || std::strcmp(g, "0") == 0))
    o.generic_tier = false;
  if (const char* p = std::getenv("DJ_JIT_PATHS"); p && (std::strcmp(p, "off") == 0 || std::strcmp(p, "0") == 0))
    o.trace_paths = false;
  if (const char* p = std::getenv("DJ_JIT_COMPILE_PRIORITY"); p && *p) {
    auto parsed = jit::parse_compile_priority(p);
    if (parsed.ok())
      o.compile_priority = *parsed;
    else
      DJ_LOG_WARN("DJ_JIT_COMPILE_PRIORITY: " << parsed.status().message() << "; using "
                                             << jit::compile_priority_name(o.compile_priority));
  }
  if (const char* u = std::getenv("DJ_JIT_UNFUSED"); u && (std::strcmp(u, "on") == 0 || std::strcmp(u, "1") == 0))
    o.compile_unfused_plans = true;
  if (const char* cap = std::getenv("DJ_JIT_MAX_SPECS"); cap && *cap) {
    char* end = nullptr;
    long long v = std::strtoll(cap, &end, 10);
    if (*end == '\0' && v >= 0)
      o.max_per_region = static_cast<size_t>(v);
    else
      DJ_LOG_WARN("DJ_JIT_MAX_SPECS='" << cap << "' is not a non-negative integer; using " << o.max_per_region);
  }
  return o;
}

Specializer::Specializer(const Interpreter& interpreter, SpecializerOptions options)
    : interpreter_(interpreter), options_(options) {
  if (options_.background) queue_ = std::make_unique<jit::CompileQueue>(1, options_.compile_priority);
}

std::shared_ptr<Specializer> Specializer::attach(const Interpreter& interpreter, SpecializerOptions options) {
  std::shared_ptr<Specializer> s(new Specializer(interpreter, options));
  if (options.use_cache) s->cache_ = SpecializationCache::open(interpreter, options.cache_dir, options.gpu);
  if (options.warm_cache && s->cache_) s->warm_from_cache();
  if (interpreter.tracer()) interpreter.tracer()->set_listener(s);
  return s;
}

Specializer::~Specializer() { detach(); }

void Specializer::detach() {
  if (detached_.exchange(true)) return;
  if (interpreter_.tracer()) interpreter_.tracer()->set_listener(nullptr);
  if (queue_) queue_->shutdown();
}

PlanFeatures Specializer::plan_features() const {
  PlanFeatures features;
  if (options_.gpu) features.conv = features.fold_transposes = false;  // the CUDA generator has neither yet
  else features.generic_gemm = false;        // see PlanFeatures::generic_gemm
  return features;
}

bool Specializer::region_is_compilable(int32_t region, std::string& why) const {
  const Region& r = interpreter_.regions().region(region);
  if (r.kind != RegionKind::Compute) {
    why = std::string("a ") + region_kind_name(r.kind) + " region";
  } else if (!r.shapes_closed) {
    why = "its shapes are not closed over its inputs";
  } else if (!r.routers.empty()) {
    why = "it holds a router (its dispatch histogram comes from the interpreted path)";
  } else {
    return true;
  }
  return false;
}

void Specializer::on_hot(const HotEvent& event) {
  if (detached_.load()) return;
  // Already installed under this exact guard (e.g. by a warm start): nothing to do.
  const SignatureWords& w = event.signature;
  if (!event.region_level) {
    const CompiledRegion* c = interpreter_.dispatch().find(event.region, w.data(), w.size(), hash_signature(w.data(), w.size()));
    if (c && !c->is_generic()) return;
  }
  std::string why;
  if (!region_is_compilable(event.region, why)) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.not_compilable += 1;
    return;
  }
  bool generic = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t& reserved = reserved_[event.region];
    if (event.region_level) {
      // Shapes keep changing here: serve them all with the generic tier, once.
      if (!options_.generic_tier || !generic_tried_.insert(event.region).second) return;
      generic = true;
    } else if (reserved >= options_.max_per_region) {
      stats_.capped += 1;
      // Past the cap, one shape-generic version serves every further shape.
      if (!options_.generic_tier || !generic_tried_.insert(event.region).second) return;
      generic = true;
    } else {
      reserved += 1;  // released again if the compile fails
    }
  }
  DJ_LOG_INFO("jit: R" << event.region << " [" << signature_to_string(event.signature) << "] is hot ("
                       << event.count << " runs, " << event.total_ms << " ms): compiling");
  if (!queue_) {
    (void)compile_and_install(event.region, event.signature, generic);
    return;
  }
  std::weak_ptr<Specializer> self = weak_from_this();
  const int32_t region = event.region;
  const SignatureWords signature = event.signature;
  std::string key = "R" + std::to_string(region) + ":" + (generic ? "generic" : signature_to_string(signature));
  queue_->submit(key, 0, [self, region, signature, generic]() -> jit::CompileResult {
    auto s = self.lock();
    if (!s) return Status(StatusCode::Internal, "cancelled: the specializer is gone");
    auto result = s->compile_and_install(region, signature, generic);
    if (!result.ok()) return result.status();
    const auto& kernels = (*result)->kernels();
    return kernels.empty() ? std::shared_ptr<const jit::CompiledKernel>() : kernels.front().kernel;
  });
}

Expected<std::shared_ptr<const SpecializedRegion>> Specializer::compile_and_install(int32_t region,
                                                                                    const SignatureWords& signature,
                                                                                    bool generic) {
  auto started = std::chrono::steady_clock::now();
  std::function<Status(const Status&)> fail = [&](const Status& st) -> Status {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.failed += 1;
    if (!generic && reserved_[region] > 0) reserved_[region] -= 1;
    failures_.push_back("R" + std::to_string(region) + " [" + signature_to_string(signature) + "]: " + st.message());
    if (failures_.size() > kFailuresKept) failures_.erase(failures_.begin());
    DJ_LOG_WARN("jit: R" << region << " stays interpreted: " << st.message());
    return st;
  };
  try {
    return plan_and_build(region, signature, generic, started, fail);
  } catch (const std::exception& e) {  // Halide throws; never let it reach the run that triggered the compile
    return fail(make_error(StatusCode::Internal, "compiler exception: ", e.what()));
  }
}

Expected<std::shared_ptr<const SpecializedRegion>> Specializer::plan_and_build(
    int32_t region, const SignatureWords& signature, bool generic, std::chrono::steady_clock::time_point started,
    const std::function<Status(const Status&)>& fail) {
  const Region& r = interpreter_.regions().region(region);
  auto plan = plan_fusion(r, signature, generic, plan_features());
  if (!plan.ok()) return fail(plan.status());
  if (plan->kernel_count() == 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.not_compilable += 1;
    if (!generic && reserved_[region] > 0) reserved_[region] -= 1;
    return Status(StatusCode::Unsupported, r.label() + ": no op of this region has a compiled lowering");
  }
  if (!options_.gpu && !options_.compile_unfused_plans && !plan->fuses_anything()) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.not_compilable += 1;
    if (!generic && reserved_[region] > 0) reserved_[region] -= 1;
    return Status(StatusCode::Unsupported, r.label() + ": nothing to fuse (every kernel would be one elementwise op, "
                                                       "which the interpreter runs as fast); DJ_JIT_UNFUSED=on compiles it");
  }
  if (cache_) {
    auto from_cache = install_from_cache(region, signature, generic, nullptr);
    if (from_cache.ok()) return from_cache;
  }
  static std::atomic<uint64_t> next_name{0};
  std::string prefix = "dj_r" + std::to_string(region) + (generic ? "_generic" : "_s") + std::to_string(next_name.fetch_add(1));
  LoweringOptions lopts;
  lopts.listings = options_.listings;
  Expected<std::shared_ptr<SpecializedRegion>> built = Status(StatusCode::Unsupported, "no GPU support in this build");
  if (!options_.gpu) {
    built = SpecializedRegion::build(*plan, interpreter_.model().opset, prefix, lopts);
  } else {
#if DJ_HAVE_CUDA
    GpuBackend& gpu = *options_.gpu;
    built = SpecializedRegion::build(
        *plan, interpreter_.model().opset,
        [&](const FusionGroup& group, size_t index) {
          return lower_group_cuda(*plan, group, prefix + "_g" + std::to_string(index), gpu);
        },
        options_.gpu);
#endif
  }
  if (!built.ok()) return fail(built.status());
  if (!generic) try_attach_path(*plan, **built);
  std::shared_ptr<const SpecializedRegion> spec = *built;
  interpreter_.dispatch().install(region, spec);
  if (cache_) cache_->store(cache_->key(region, signature, generic), *spec, signature, generic);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.compiled += 1;
    stats_.generic += generic;
    stats_.compile_ms += ms;
  }
  DJ_LOG_INFO("jit: installed " << spec->describe());
  return spec;
}

// Loads (region, signature, tier) from the cache — from `entry` when given (warm
// start) — and installs it. An error means: compile instead.
Expected<std::shared_ptr<const SpecializedRegion>> Specializer::install_from_cache(int32_t region,
                                                                                   const SignatureWords& signature,
                                                                                   bool generic,
                                                                                   const codecache::CacheEntry* entry) {
  auto started = std::chrono::steady_clock::now();
  const Region& r = interpreter_.regions().region(region);
  auto plan = plan_fusion(r, signature, generic, plan_features());
  if (!plan.ok()) return plan.status();
  std::shared_ptr<SpecializedRegion> spec =
      entry ? cache_->build_from_entry(*plan, *entry) : cache_->load(*plan, cache_->key(region, signature, generic));
  if (!spec) return Status(StatusCode::Unsupported, "not in the cache");
  if (!generic) try_attach_path(*plan, *spec);
  interpreter_.dispatch().install(region, spec);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.cache_hits += 1;
    stats_.cache_load_ms += ms;
    stats_.generic += generic;
  }
  DJ_LOG_INFO("jit: loaded from the code cache in " << ms << " ms: " << spec->describe());
  return std::shared_ptr<const SpecializedRegion>(spec);
}

void Specializer::warm_from_cache() {
  auto started = std::chrono::steady_clock::now();
  size_t installed = 0;
  for (auto& stored : cache_->model_entries()) {
    const EntryHeader& h = stored.header;
    std::string why;
    if (h.region < 0 || static_cast<size_t>(h.region) >= interpreter_.regions().size() ||
        !region_is_compilable(h.region, why))
      continue;
    // The key is recomputed from what this model is now: an entry that does not
    // belong to this region (or was tampered with) cannot be installed.
    if (!(cache_->key(h.region, h.signature, h.generic) == stored.key)) continue;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (h.generic) {
        if (!generic_tried_.insert(h.region).second) continue;
      } else if (reserved_[h.region] >= options_.max_per_region) {
        continue;
      } else {
        reserved_[h.region] += 1;
      }
    }
    auto result = install_from_cache(h.region, h.signature, h.generic, &stored.entry);
    if (result.ok()) {
      ++installed;
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.warm_loaded += 1;
    } else {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!h.generic && reserved_[h.region] > 0) reserved_[h.region] -= 1;
    }
  }
  DJ_LOG_INFO("jit: warm start installed " << installed << " cached specializations in "
                                           << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count()
                                           << " ms");
}

Expected<std::shared_ptr<const SpecializedRegion>> Specializer::compile_now(int32_t region,
                                                                           const SignatureWords& signature) {
  if (region < 0 || static_cast<size_t>(region) >= interpreter_.regions().size())
    return make_error(StatusCode::InvalidArgument, "no region R", region);
  std::string why;
  if (!region_is_compilable(region, why))
    return make_error(StatusCode::Unsupported, "R", region, " is not compiled: ", why);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reserved_[region] += 1;
  }
  return compile_and_install(region, signature, false);
}

void Specializer::wait_idle() const {
  if (!queue_) return;
  while (queue_->queued() + queue_->running() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

bool Specializer::wait_idle_for(int64_t timeout_ms) const {
  if (!queue_) return true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  while (queue_->queued() + queue_->running() > 0) {
    if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

size_t Specializer::compiles_in_flight() const { return queue_ ? queue_->queued() + queue_->running() : 0; }

SpecializerStats Specializer::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

std::vector<std::string> Specializer::recent_failures() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failures_;
}

void Specializer::try_attach_path(const FusionPlan& plan, SpecializedRegion& spec) {
  if (!options_.trace_paths || options_.gpu || !interpreter_.tracer()) return;
  const RegionPlan& regions = interpreter_.regions();
  const Region* control = if_region_after(regions, *plan.region);
  if (!control) return;
  // The branch the traced runs took, and how consistently.
  uint64_t taken[2] = {0, 0};
  for (const SignatureStats& s : interpreter_.tracer()->region_stats(control->id).signatures) {
    taken[0] += s.branch_counts[0];
    taken[1] += s.branch_counts[1];
  }
  const uint64_t total = taken[0] + taken[1];
  const int branch = taken[0] >= taken[1] ? 0 : 1;
  if (total == 0 || static_cast<double>(taken[branch]) < options_.path_min_share * static_cast<double>(total)) {
    DJ_LOG_DEBUG("jit: " << plan.region->label() << ": no path through " << control->label() << " (branches taken "
                         << taken[0] << "/" << taken[1] << ")");
    return;
  }
  auto tail = plan_path_tail(regions, plan, branch);
  if (!tail.ok()) {
    DJ_LOG_DEBUG("jit: " << tail.status().message());
    return;
  }
  auto body_plan = plan_fusion(*tail->body, tail->body_signature, false, plan_features());
  if (!body_plan.ok()) {
    DJ_LOG_DEBUG("jit: no path: " << tail->body->label() << ": " << body_plan.status().message());
    return;
  }
  static std::atomic<uint64_t> next_name{0};
  LoweringOptions lopts;
  lopts.listings = options_.listings;
  auto body = SpecializedRegion::build(*body_plan, interpreter_.model().opset,
                                       "dj_r" + std::to_string(tail->body->id) + "_path" + std::to_string(next_name.fetch_add(1)),
                                       lopts);
  if (!body.ok()) {
    DJ_LOG_DEBUG("jit: no path: " << tail->body->label() << ": " << body.status().message());
    return;
  }
  tail->body_code = *body;
  spec.attach_path(std::move(*tail));
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.paths += 1;
}

std::vector<std::shared_ptr<const SpecializedRegion>> Specializer::specializations(int32_t region) const {
  std::vector<std::shared_ptr<const SpecializedRegion>> out;
  for (const auto& e : interpreter_.dispatch().entries(region))
    if (auto s = std::dynamic_pointer_cast<const SpecializedRegion>(e)) out.push_back(s);
  return out;
}

}  // namespace dj::specializer
