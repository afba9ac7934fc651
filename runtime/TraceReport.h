// TraceReport: the tracer's statistics as JSON — what dj_model_stats returns,
// `dj run --stats` prints and the Python binding's stats() parses — and the
// timeline as a Chrome trace (viewable in Perfetto / chrome://tracing).
//
// Stats JSON shape (stable keys; new keys may be added):
// { "model": str, "tracing": bool, "runs": n, "run_time_ms": x,
//   "regions": [ { "id", "label", "kind", "graph", "first_node", "last_node", "ops",
//                  "inputs": [{"name","shape"}], "shapes_closed", "count", "compiled", "total_ms",
//                  "evicted_signatures", "evicted_count",
//                  "signatures": [ { "signature", "count", "compiled", "total_ms", "mean_us",
//                                    "min_us", "max_us", "hot",
//                                    "branches": {"then","else"}          (If)
//                                    "trips": {"<n>": count, ...}, "trips_other" (Loop/Scan)
//                                  } ... ]  (most time first),
//                  "routers": [ { "node", "op", "calls", "rows", "rows_per_expert": [...],
//                                 "empty_expert_calls": [...], "last_call": [...] } ] } ],
//   "jit": { ... }  (when the JIT is on: specializer/JitReport.h) }
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/JsonWriter.h"
#include "runtime/Region.h"
#include "runtime/Tracer.h"

namespace dj {

// `tracer` may be null (tracing off): regions are listed without statistics.
// `extra` may add more keys to the top-level object (the JIT adds "jit").
std::string trace_stats_json(const Model& model, const RegionPlan& plan, const Tracer* tracer,
                             const std::function<void(JsonWriter&)>& extra = {});

// Chrome trace event format: one complete ("X") event per region execution,
// one track per thread, times in microseconds since the tracer started.
std::string timeline_chrome_json(const RegionPlan& plan, const std::vector<TimelineEvent>& events);

}  // namespace dj
