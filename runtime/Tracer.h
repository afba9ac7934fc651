// Tracer: what a model actually does at run time, per region — always on, cheap,
// bounded. The interpreter reports each region execution; the specializer reads
// hot (region, signature) pairs from here.
//
// Per region it keeps:
//   - the input shape signatures seen (ShapeSignature.h), each with its count,
//     total/min/max time, and for a Control region the If branch taken (then/else)
//     or the Loop/Scan trip-count histogram;
//   - per router site (Region.h), the dispatch histogram: rows per expert, summed
//     over calls, the last calls' counts, and how often an expert got no rows.
// Bounds: a region keeps at most `max_signatures` signatures; a new one evicts the
// least recently seen (its counts are added to `evicted`), so a stream of distinct
// shapes cannot grow memory. A trip-count histogram keeps 64 distinct values; the
// timeline ring keeps `timeline_capacity` events (0: off).
// Hotness: when a (region, signature) first reaches the policy's count or time
// threshold, the listener gets one HotEvent. A region whose *shapes* keep changing
// (at least 3 distinct signatures, 4x the count threshold in all) gets one
// region-level HotEvent too, so the JIT can serve it with a shape-generic version
// though no single signature ever gets hot. Either kind of event comes (from the thread that ran the region;
// the listener must be quick and must not call back into the tracer's recording).
// Thread-safe: one lock per region, held for a few hundred nanoseconds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/Region.h"
#include "runtime/ShapeSignature.h"
#include "runtime/Tensor.h"

namespace dj {

struct HotnessPolicy {
  uint64_t min_count = 8;       // hot after this many executions of one signature...
  double min_total_ms = 50.0;   // ...or this much time spent in it
};

struct TraceOptions {
  size_t max_signatures = 64;      // per region (DJ_TRACE_MAX_SIGNATURES)
  size_t timeline_capacity = 0;    // region events kept for a Chrome trace; 0: none
  HotnessPolicy hotness;
  // Reads DJ_TRACE_MAX_SIGNATURES, DJ_TRACE_TIMELINE (events) and DJ_JIT_THRESHOLD (count).
  static TraceOptions from_environment();
};

struct SignatureStats {
  SignatureWords signature;
  uint64_t count = 0;
  uint64_t compiled = 0;                // executions that ran compiled code
  uint64_t total_ns = 0;
  uint64_t min_ns = UINT64_MAX;
  uint64_t max_ns = 0;
  uint64_t branch_counts[2] = {0, 0};   // If: then, else
  std::map<int64_t, uint64_t> trips;    // Loop/Scan: trip count -> executions
  uint64_t trips_other = 0;             // executions whose trip count didn't fit the histogram
  uint64_t last_seen = 0;               // tracer tick, for LRU
  bool hot = false;                     // a HotEvent was sent
};

struct RouterStats {
  int32_t node = -1;
  uint64_t calls = 0;
  uint64_t rows = 0;                           // sum over calls of all rows routed
  std::vector<uint64_t> rows_per_expert;       // summed over calls
  std::vector<uint64_t> empty_expert_calls;    // calls in which expert e got no row
  std::deque<std::vector<uint64_t>> recent;    // the last calls' per-expert counts (newest last)
};

struct RegionStats {
  int32_t region = -1;
  uint64_t count = 0;
  uint64_t compiled = 0;
  uint64_t total_ns = 0;
  std::vector<SignatureStats> signatures;   // unordered; at most max_signatures
  uint64_t evicted_signatures = 0;
  uint64_t evicted_count = 0;               // executions of evicted signatures
  std::vector<RouterStats> routers;         // parallel to Region::routers
};

struct HotEvent {
  int32_t region = -1;
  bool region_level = false;  // the region is hot across many signatures (signature: the latest)
  SignatureWords signature;
  uint64_t count = 0;
  double total_ms = 0;
};

class HotRegionListener {
 public:
  virtual ~HotRegionListener() = default;
  virtual void on_hot(const HotEvent& event) = 0;
};

struct TimelineEvent {
  int32_t region = -1;
  uint32_t thread = 0;
  uint64_t run = 0;
  uint64_t start_ns = 0;   // since the tracer was made
  uint64_t duration_ns = 0;
};

// One region execution, as the interpreter reports it.
struct RegionObservation {
  int32_t region = -1;
  const int64_t* signature = nullptr;
  size_t signature_size = 0;
  uint64_t start_ns = 0;
  uint64_t duration_ns = 0;
  int branch = -1;      // If: 0 then, 1 else
  int64_t trips = -1;   // Loop/Scan: iterations run
  uint64_t signature_hash = 0;  // hash_signature of the words; 0: the tracer computes it
  bool compiled = false;        // ran compiled code (RegionDispatch.h), not the interpreter
};

class Tracer {
 public:
  Tracer(std::shared_ptr<const RegionPlan> plan, TraceOptions options);

  const RegionPlan& plan() const { return *plan_; }
  const TraceOptions& options() const { return options_; }

  uint64_t now_ns() const {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - epoch_).count());
  }
  void record(const RegionObservation& obs);
  // `indices`: the router's expert ids (any integer dtype); `num_experts`: the
  // size of the gate's expert axis on this call.
  void record_routing(int32_t region, size_t router_index, const Tensor& indices, int64_t num_experts);
  // A whole top-level run (for `runs` and the timeline's run numbers).
  uint64_t begin_run() { return runs_started_.fetch_add(1) + 1; }
  void end_run(uint64_t duration_ns);

  void set_listener(std::shared_ptr<HotRegionListener> listener);
  void set_hotness(const HotnessPolicy& policy);
  void set_timeline_capacity(size_t events);
  void reset();  // forgets every statistic (keeps options and listener)

  // Consistent copies, for reports.
  RegionStats region_stats(int32_t region) const;
  std::vector<RegionStats> all_region_stats() const;
  std::vector<TimelineEvent> timeline() const;
  uint64_t runs() const { return runs_completed_.load(); }
  uint64_t run_time_ns() const { return run_time_ns_.load(); }
  // Every (region, signature) that meets `policy`, hottest (most time) first.
  std::vector<HotEvent> hot_signatures(const HotnessPolicy& policy) const;

 private:
  struct RegionSlot {
    mutable std::mutex mutex;
    RegionStats stats;
    std::vector<uint64_t> hashes;  // parallel to stats.signatures
    uint64_t tick = 0;
    bool region_hot = false;       // the region-level HotEvent was sent
  };
  SignatureStats& find_or_insert(RegionSlot& slot, const int64_t* words, size_t n, uint64_t hash);

  std::shared_ptr<const RegionPlan> plan_;
  TraceOptions options_;
  std::chrono::steady_clock::time_point epoch_;
  std::vector<std::unique_ptr<RegionSlot>> slots_;
  std::atomic<uint64_t> runs_started_{0}, runs_completed_{0}, run_time_ns_{0};

  mutable std::mutex listener_mutex_;
  std::shared_ptr<HotRegionListener> listener_;
  HotnessPolicy hotness_;

  mutable std::mutex timeline_mutex_;
  std::vector<TimelineEvent> timeline_;  // ring buffer
  size_t timeline_next_ = 0;
  std::atomic<bool> timeline_on_{false};
};

}  // namespace dj
