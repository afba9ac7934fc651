// TraceReport: stats JSON and Chrome-trace JSON from a Tracer's snapshots.
#include "runtime/TraceReport.h"

#include <algorithm>


namespace dj {
namespace {

void write_counts(JsonWriter& w, const std::vector<uint64_t>& counts) {
  w.begin_array();
  for (uint64_t c : counts) w.value(c);
  w.end_array();
}

void write_signature(JsonWriter& w, const Region& region, const SignatureStats& s) {
  w.begin_object();
  w.field("signature", signature_to_string(s.signature));
  w.field("count", s.count);
  w.field("compiled", s.compiled);
  w.field("total_ms", static_cast<double>(s.total_ns) / 1e6);
  w.field("mean_us", s.count ? static_cast<double>(s.total_ns) / 1e3 / static_cast<double>(s.count) : 0.0);
  w.field("min_us", s.count ? static_cast<double>(s.min_ns) / 1e3 : 0.0);
  w.field("max_us", static_cast<double>(s.max_ns) / 1e3);
  w.field("hot", s.hot);
  if (region.kind == RegionKind::Control) {
    const std::string& op = region.graph->nodes[static_cast<size_t>(region.first_node)].op_type;
    if (op == "If") {
      w.key("branches").begin_object();
      w.field("then", s.branch_counts[0]);
      w.field("else", s.branch_counts[1]);
      w.end_object();
    } else {
      w.key("trips").begin_object();
      for (const auto& [trips, count] : s.trips) w.field(std::to_string(trips), count);
      w.end_object();
      w.field("trips_other", s.trips_other);
    }
  }
  w.end_object();
}

void write_region(JsonWriter& w, const Region& r, const RegionStats* stats) {
  w.begin_object();
  w.field("id", static_cast<int64_t>(r.id));
  w.field("label", r.label());
  w.field("kind", region_kind_name(r.kind));
  w.field("graph", r.graph_path);
  w.field("first_node", static_cast<int64_t>(r.first_node));
  w.field("last_node", static_cast<int64_t>(r.end_node - 1));
  w.key("ops").begin_array();
  for (int32_t n = r.first_node; n < r.end_node; ++n) w.value(r.graph->nodes[static_cast<size_t>(n)].op_type);
  w.end_array();
  w.key("inputs").begin_array();
  for (ValueId id : r.inputs) {
    const ValueInfo& v = r.graph->value(id);
    w.begin_object();
    w.field("name", v.name);
    w.field("shape", v.shape ? sym_shape_to_string(*v.shape) : std::string("?"));
    w.end_object();
  }
  w.end_array();
  w.field("shapes_closed", r.shapes_closed);
  if (stats) {
    w.field("count", stats->count);
    w.field("compiled", stats->compiled);
    w.field("total_ms", static_cast<double>(stats->total_ns) / 1e6);
    w.field("evicted_signatures", stats->evicted_signatures);
    w.field("evicted_count", stats->evicted_count);
    std::vector<const SignatureStats*> sigs;
    for (const SignatureStats& s : stats->signatures) sigs.push_back(&s);
    std::sort(sigs.begin(), sigs.end(),
              [](const SignatureStats* a, const SignatureStats* b) { return a->total_ns > b->total_ns; });
    w.key("signatures").begin_array();
    for (const SignatureStats* s : sigs) write_signature(w, r, *s);
    w.end_array();
    w.key("routers").begin_array();
    for (size_t k = 0; k < stats->routers.size() && k < r.routers.size(); ++k) {
      const RouterStats& rs = stats->routers[k];
      w.begin_object();
      w.field("node", static_cast<int64_t>(rs.node));
      w.field("op", r.graph->nodes[static_cast<size_t>(rs.node)].op_type);
      w.field("calls", rs.calls);
      w.field("rows", rs.rows);
      w.key("rows_per_expert");
      write_counts(w, rs.rows_per_expert);
      w.key("empty_expert_calls");
      write_counts(w, rs.empty_expert_calls);
      w.key("last_call");
      write_counts(w, rs.recent.empty() ? std::vector<uint64_t>{} : rs.recent.back());
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
}

}  // namespace

std::string trace_stats_json(const Model& model, const RegionPlan& plan, const Tracer* tracer,
                             const std::function<void(JsonWriter&)>& extra) {
  JsonWriter w;
  w.begin_object();
  w.field("model", model.source);
  w.field("tracing", tracer != nullptr);
  w.field("runs", tracer ? tracer->runs() : uint64_t{0});
  w.field("run_time_ms", tracer ? static_cast<double>(tracer->run_time_ns()) / 1e6 : 0.0);
  std::vector<RegionStats> stats;
  if (tracer) stats = tracer->all_region_stats();
  w.key("regions").begin_array();
  for (const Region& r : plan.regions())
    write_region(w, r, tracer ? &stats[static_cast<size_t>(r.id)] : nullptr);
  w.end_array();
  if (extra) extra(w);
  w.end_object();
  return w.take();
}

std::string timeline_chrome_json(const RegionPlan& plan, const std::vector<TimelineEvent>& events) {
  JsonWriter w;
  w.begin_object();
  w.field("displayTimeUnit", "ns");
  w.key("traceEvents").begin_array();
  for (const TimelineEvent& e : events) {
    if (e.region < 0 || static_cast<size_t>(e.region) >= plan.size()) continue;
    const Region& r = plan.region(e.region);
    w.begin_object();
    w.field("name", r.label() + " " + region_kind_name(r.kind));
    w.field("cat", r.graph_path);
    w.field("ph", "X");
    w.field("ts", static_cast<double>(e.start_ns) / 1e3);
    w.field("dur", static_cast<double>(e.duration_ns) / 1e3);
    w.field("pid", int64_t{1});
    w.field("tid", static_cast<int64_t>(e.thread));
    w.key("args").begin_object();
    w.field("run", e.run);
    w.field("ops", static_cast<int64_t>(r.num_nodes()));
    w.field("first_op", r.graph->nodes[static_cast<size_t>(r.first_node)].op_type);
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace dj
