// Tracer: per-region signature tables (bounded, LRU), branch / trip / routing
// statistics, hot events and the timeline ring.
#include "runtime/Tracer.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "runtime/Log.h"

namespace dj {
namespace {

constexpr size_t kMaxTripValues = 64;    // distinct trip counts kept per signature
constexpr size_t kRecentRoutingCalls = 16;

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long long parsed = std::strtoll(v, &end, 10);
  if (*end != '\0' || parsed < 0) {
    DJ_LOG_WARN(name << "='" << v << "' is not a non-negative integer; using " << fallback);
    return fallback;
  }
  return parsed;
}

uint32_t this_thread_index() {
  static std::atomic<uint32_t> next{0};
  thread_local uint32_t index = next.fetch_add(1);
  return index;
}

}  // namespace

std::string signature_to_string(const int64_t* words, size_t n) {
  std::ostringstream os;
  bool first = true;
  for_each_signature_input(words, n, [&](const SignatureInput& in) {
    if (!first) os << ", ";
    first = false;
    if (!in.present) {
      os << "none";
      return true;
    }
    if (in.rank == 0) os << "scalar";
    for (size_t d = 0; d < in.rank; ++d) {
      const int64_t dim = words[in.dims_offset + d];
      os << (d ? "x" : "");
      if (dim < 0)
        os << "*";  // a wildcard (generic guards)
      else
        os << dim;
    }
    os << ":" << dtype_name(in.dtype);
    return true;
  });
  return os.str();
}

TraceOptions TraceOptions::from_environment() {
  TraceOptions o;
  o.max_signatures = static_cast<size_t>(std::max<int64_t>(1, env_int("DJ_TRACE_MAX_SIGNATURES", 64)));
  o.timeline_capacity = static_cast<size_t>(env_int("DJ_TRACE_TIMELINE", 0));
  o.hotness.min_count = static_cast<uint64_t>(std::max<int64_t>(1, env_int("DJ_JIT_THRESHOLD", 8)));
  return o;
}

Tracer::Tracer(std::shared_ptr<const RegionPlan> plan, TraceOptions options)
    : plan_(std::move(plan)), options_(options), epoch_(std::chrono::steady_clock::now()),
      hotness_(options.hotness) {
  if (options_.max_signatures == 0) options_.max_signatures = 1;
  slots_.reserve(plan_->size());
  for (const Region& r : plan_->regions()) {
    auto slot = std::make_unique<RegionSlot>();
    slot->stats.region = r.id;
    slot->stats.routers.resize(r.routers.size());
    for (size_t k = 0; k < r.routers.size(); ++k) slot->stats.routers[k].node = r.routers[k].node;
    slots_.push_back(std::move(slot));
  }
  set_timeline_capacity(options_.timeline_capacity);
}

SignatureStats& Tracer::find_or_insert(RegionSlot& slot, const int64_t* words, size_t n, uint64_t hash) {
  std::vector<SignatureStats>& sigs = slot.stats.signatures;
  for (size_t i = 0; i < slot.hashes.size(); ++i) {
    if (slot.hashes[i] != hash) continue;
    const SignatureWords& w = sigs[i].signature;
    if (w.size() == n && std::equal(w.begin(), w.end(), words)) return sigs[i];
  }
  size_t index = sigs.size();
  if (sigs.size() >= options_.max_signatures) {
    index = 0;  // evict the least recently seen
    for (size_t i = 1; i < sigs.size(); ++i)
      if (sigs[i].last_seen < sigs[index].last_seen) index = i;
    slot.stats.evicted_signatures += 1;
    slot.stats.evicted_count += sigs[index].count;
    sigs[index] = SignatureStats();
    slot.hashes[index] = hash;
  } else {
    sigs.emplace_back();
    slot.hashes.push_back(hash);
  }
  sigs[index].signature.assign(words, words + n);
  return sigs[index];
}

void Tracer::record(const RegionObservation& obs) {
  if (obs.region < 0 || static_cast<size_t>(obs.region) >= slots_.size()) return;
  RegionSlot& slot = *slots_[static_cast<size_t>(obs.region)];
  uint64_t hash = obs.signature_hash ? obs.signature_hash : hash_signature(obs.signature, obs.signature_size);
  bool fire = false;
  HotEvent event;
  {
    std::lock_guard<std::mutex> lock(slot.mutex);
    SignatureStats& s = find_or_insert(slot, obs.signature, obs.signature_size, hash);
    slot.stats.count += 1;
    slot.stats.total_ns += obs.duration_ns;
    s.count += 1;
    if (obs.compiled) {
      s.compiled += 1;
      slot.stats.compiled += 1;
    }
    s.total_ns += obs.duration_ns;
    s.min_ns = std::min(s.min_ns, obs.duration_ns);
    s.max_ns = std::max(s.max_ns, obs.duration_ns);
    s.last_seen = ++slot.tick;
    if (obs.branch == 0 || obs.branch == 1) s.branch_counts[obs.branch] += 1;
    if (obs.trips >= 0) {
      auto it = s.trips.find(obs.trips);
      if (it != s.trips.end())
        it->second += 1;
      else if (s.trips.size() < kMaxTripValues)
        s.trips.emplace(obs.trips, 1);
      else
        s.trips_other += 1;
    }
    if (!s.hot && (s.count >= hotness_.min_count || static_cast<double>(s.total_ns) >= hotness_.min_total_ms * 1e6)) {
      s.hot = true;
      fire = true;
      event.region = obs.region;
      event.signature = s.signature;
      event.count = s.count;
      event.total_ms = static_cast<double>(s.total_ns) / 1e6;
    } else if (!fire && !slot.region_hot && slot.stats.count >= 4 * hotness_.min_count &&
               slot.stats.signatures.size() + slot.stats.evicted_signatures >= 3) {
      slot.region_hot = true;
      fire = true;
      event.region = obs.region;
      event.region_level = true;
      event.signature = s.signature;
      event.count = slot.stats.count;
      event.total_ms = static_cast<double>(slot.stats.total_ns) / 1e6;
    }
  }
  if (timeline_on_.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lock(timeline_mutex_);
    if (!timeline_.empty()) {
      timeline_[timeline_next_ % timeline_.size()] =
          TimelineEvent{obs.region, this_thread_index(), runs_started_.load(), obs.start_ns, obs.duration_ns};
      ++timeline_next_;
    }
  }
  if (fire) {
    std::shared_ptr<HotRegionListener> listener;
    {
      std::lock_guard<std::mutex> lock(listener_mutex_);
      listener = listener_;
    }
    if (listener) listener->on_hot(event);
  }
}

void Tracer::record_routing(int32_t region, size_t router_index, const Tensor& indices, int64_t num_experts) {
  if (region < 0 || static_cast<size_t>(region) >= slots_.size() || num_experts <= 0 || !indices.defined()) return;
  // Count outside the lock, in one pass over the ids; no allocation for up to 256 experts.
  constexpr int64_t kInlineExperts = 256;
  uint64_t inline_counts[kInlineExperts];
  std::vector<uint64_t> heap_counts;
  uint64_t* counts = inline_counts;
  if (num_experts > kInlineExperts) {
    heap_counts.assign(static_cast<size_t>(num_experts), 0);
    counts = heap_counts.data();
  } else {
    std::fill(inline_counts, inline_counts + num_experts, 0);
  }
  const int64_t n = indices.numel();
  bool integral = false;
  dispatch_dtype(indices.dtype(), NumericTypes{}, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      integral = true;
      const T* ids = indices.data<T>();
      for (int64_t i = 0; i < n; ++i) {
        auto e = static_cast<int64_t>(ids[i]);
        if (e < 0) e += num_experts;  // TopK/ArgMax never give these, but Gather would accept them
        if (e >= 0 && e < num_experts) counts[e] += 1;
      }
    }
  });
  if (!integral) return;
  const size_t experts = static_cast<size_t>(num_experts);
  RegionSlot& slot = *slots_[static_cast<size_t>(region)];
  std::lock_guard<std::mutex> lock(slot.mutex);
  if (router_index >= slot.stats.routers.size()) return;
  RouterStats& r = slot.stats.routers[router_index];
  if (r.rows_per_expert.size() < experts) {
    r.rows_per_expert.resize(experts, 0);
    r.empty_expert_calls.resize(experts, 0);
  }
  r.calls += 1;
  for (size_t e = 0; e < experts; ++e) {
    r.rows_per_expert[e] += counts[e];
    r.rows += counts[e];
    if (counts[e] == 0) r.empty_expert_calls[e] += 1;
  }
  // Keep the last calls; once full, recycle the oldest entry's storage.
  std::vector<uint64_t> entry;
  if (r.recent.size() >= kRecentRoutingCalls) {
    entry = std::move(r.recent.front());
    r.recent.pop_front();
  }
  entry.assign(counts, counts + experts);
  r.recent.push_back(std::move(entry));
}

void Tracer::end_run(uint64_t duration_ns) {
  runs_completed_.fetch_add(1);
  run_time_ns_.fetch_add(duration_ns);
}

void Tracer::set_listener(std::shared_ptr<HotRegionListener> listener) {
  std::lock_guard<std::mutex> lock(listener_mutex_);
  listener_ = std::move(listener);
}

void Tracer::set_hotness(const HotnessPolicy& policy) {
  // Read under the region locks; a torn read of two doubles is harmless, but keep it clean.
  for (auto& slot : slots_) slot->mutex.lock();
  hotness_ = policy;
  for (auto& slot : slots_) slot->mutex.unlock();
}

void Tracer::set_timeline_capacity(size_t events) {
  std::lock_guard<std::mutex> lock(timeline_mutex_);
  timeline_.assign(events, TimelineEvent{});
  timeline_next_ = 0;
  timeline_on_.store(events > 0);
}

void Tracer::reset() {
  for (auto& slot : slots_) {
    std::lock_guard<std::mutex> lock(slot->mutex);
    RegionStats fresh;
    fresh.region = slot->stats.region;
    fresh.routers.resize(slot->stats.routers.size());
    for (size_t k = 0; k < fresh.routers.size(); ++k) fresh.routers[k].node = slot->stats.routers[k].node;
    slot->stats = std::move(fresh);
    slot->hashes.clear();
    slot->tick = 0;
    slot->region_hot = false;
  }
  {
    std::lock_guard<std::mutex> lock(timeline_mutex_);
    std::fill(timeline_.begin(), timeline_.end(), TimelineEvent{});
    timeline_next_ = 0;
  }
  runs_started_ = 0;
  runs_completed_ = 0;
  run_time_ns_ = 0;
}

RegionStats Tracer::region_stats(int32_t region) const {
  if (region < 0 || static_cast<size_t>(region) >= slots_.size()) return {};
  const RegionSlot& slot = *slots_[static_cast<size_t>(region)];
  std::lock_guard<std::mutex> lock(slot.mutex);
  return slot.stats;
}

std::vector<RegionStats> Tracer::all_region_stats() const {
  std::vector<RegionStats> out;
  out.reserve(slots_.size());
  for (size_t r = 0; r < slots_.size(); ++r) out.push_back(region_stats(static_cast<int32_t>(r)));
  return out;
}

std::vector<TimelineEvent> Tracer::timeline() const {
  std::lock_guard<std::mutex> lock(timeline_mutex_);
  std::vector<TimelineEvent> out;
  if (timeline_.empty()) return out;
  size_t n = std::min(timeline_next_, timeline_.size());
  size_t start = timeline_next_ - n;
  for (size_t i = start; i < timeline_next_; ++i) out.push_back(timeline_[i % timeline_.size()]);
  return out;
}

std::vector<HotEvent> Tracer::hot_signatures(const HotnessPolicy& policy) const {
  std::vector<HotEvent> out;
  for (const RegionStats& r : all_region_stats())
    for (const SignatureStats& s : r.signatures)
      if (s.count >= policy.min_count || static_cast<double>(s.total_ns) >= policy.min_total_ms * 1e6)
        out.push_back(HotEvent{r.region, false, s.signature, s.count, static_cast<double>(s.total_ns) / 1e6});
  std::sort(out.begin(), out.end(), [](const HotEvent& a, const HotEvent& b) { return a.total_ms > b.total_ms; });
  return out;
}

}  // namespace dj
