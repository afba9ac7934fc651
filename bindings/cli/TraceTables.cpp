// TraceTables: text tables over Tracer snapshots (see TraceTables.h).
#include "bindings/cli/TraceTables.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace dj {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string pad(const std::string& s, size_t width) { return s.size() >= width ? s : s + std::string(width - s.size(), ' '); }
std::string rpad(const std::string& s, size_t width) { return s.size() >= width ? s : std::string(width - s.size(), ' ') + s; }

const std::string& control_op(const Region& r) { return r.graph->nodes[static_cast<size_t>(r.first_node)].op_type; }

std::string bar(double share, size_t width) {
  size_t n = static_cast<size_t>(share * static_cast<double>(width) + 0.5);
  return std::string(std::min(n, width), '#');
}

}  // namespace

std::string format_regions(const RegionPlan& plan) {
  std::ostringstream os;
  os << plan.size() << " regions\n";
  for (const Region& r : plan.regions()) os << r.describe() << "\n";
  return os.str();
}

std::string format_hot(const RegionPlan& plan, const Tracer& tracer, size_t limit) {
  HotnessPolicy everything{0, 0};
  std::vector<HotEvent> all = tracer.hot_signatures(everything);
  std::ostringstream os;
  if (all.empty()) return "no regions have run yet (try 'run' or 'sweep')\n";
  const HotnessPolicy policy = tracer.options().hotness;
  os << "hot when seen " << policy.min_count << " times or after " << fixed(policy.min_total_ms, 1)
     << " ms (DJ_JIT_THRESHOLD sets the count)\n";
  os << pad("region", 8) << pad("signature", 34) << rpad("count", 8) << rpad("total ms", 11) << rpad("mean us", 11)
     << "  hot\n";
  size_t shown = 0;
  for (const HotEvent& e : all) {
    if (limit && shown++ >= limit) {
      os << "... " << all.size() - limit << " more (hot N shows N)\n";
      break;
    }
    RegionStats stats = tracer.region_stats(e.region);
    bool hot = false;
    for (const SignatureStats& s : stats.signatures)
      if (s.signature == e.signature) hot = s.hot;
    os << pad(plan.region(e.region).label(), 8) << pad(signature_to_string(e.signature), 34) << rpad(std::to_string(e.count), 8)
       << rpad(fixed(e.total_ms, 3), 11) << rpad(fixed(e.total_ms * 1e3 / static_cast<double>(e.count), 1), 11)
       << "  " << (hot ? "yes" : "no") << "\n";
  }
  return os.str();
}

std::string format_paths(const RegionPlan& plan, const Tracer& tracer) {
  std::ostringstream os;
  bool any = false;
  for (const Region& r : plan.regions()) {
    if (r.kind != RegionKind::Control) continue;
    any = true;
    const std::string& op = control_op(r);
    const Node& node = r.graph->nodes[static_cast<size_t>(r.first_node)];
    RegionStats stats = tracer.region_stats(r.id);
    os << r.label() << " " << op << " '" << node.name << "' (" << r.graph_path << "): " << stats.count
       << " executions\n";
    if (op == "If") {
      uint64_t then_total = 0, else_total = 0;
      for (const SignatureStats& s : stats.signatures) {
        os << "    " << pad(signature_to_string(s.signature), 40) << " then " << rpad(std::to_string(s.branch_counts[0]), 6)
           << "  else " << rpad(std::to_string(s.branch_counts[1]), 6) << "\n";
        then_total += s.branch_counts[0];
        else_total += s.branch_counts[1];
      }
      uint64_t total = then_total + else_total;
      if (total)
        os << "    all signatures: then " << then_total << " (" << fixed(100.0 * then_total / total, 1) << "%), else "
           << else_total << " (" << fixed(100.0 * else_total / total, 1) << "%)\n";
    } else {
      std::map<int64_t, uint64_t> trips;
      uint64_t other = 0;
      for (const SignatureStats& s : stats.signatures) {
        for (const auto& [n, c] : s.trips) trips[n] += c;
        other += s.trips_other;
      }
      uint64_t most = 0;
      for (const auto& [n, c] : trips) most = std::max(most, c);
      os << "    trip count histogram (iterations: executions)\n";
      for (const auto& [n, c] : trips)
        os << "    " << rpad(std::to_string(n), 6) << ": " << rpad(std::to_string(c), 6) << " "
           << bar(most ? static_cast<double>(c) / static_cast<double>(most) : 0, 40) << "\n";
      if (other) os << "    (" << other << " executions with trip counts beyond the 64 kept)\n";
    }
  }
  if (!any) return "this model has no If/Loop/Scan\n";
  return os.str();
}

std::string format_routes(const RegionPlan& plan, const Tracer& tracer) {
  std::ostringstream os;
  bool any = false;
  for (const Region& r : plan.regions()) {
    if (r.routers.empty()) continue;
    RegionStats stats = tracer.region_stats(r.id);
    for (size_t k = 0; k < r.routers.size() && k < stats.routers.size(); ++k) {
      any = true;
      const RouterStats& rs = stats.routers[k];
      const Node& node = r.graph->nodes[static_cast<size_t>(rs.node)];
      os << r.label() << " router " << node.op_type << " '" << node.name << "': " << rs.calls << " calls, " << rs.rows
         << " rows routed\n";
      if (!rs.calls) continue;
      os << "    " << pad("expert", 8) << rpad("rows", 10) << rpad("share", 8) << rpad("last call", 11)
         << rpad("empty calls", 13) << "\n";
      for (size_t e = 0; e < rs.rows_per_expert.size(); ++e) {
        double share = rs.rows ? static_cast<double>(rs.rows_per_expert[e]) / static_cast<double>(rs.rows) : 0;
        uint64_t last = rs.recent.empty() || e >= rs.recent.back().size() ? 0 : rs.recent.back()[e];
        os << "    " << pad(std::to_string(e), 8) << rpad(std::to_string(rs.rows_per_expert[e]), 10)
           << rpad(fixed(100 * share, 1) + "%", 8) << rpad(std::to_string(last), 11)
           << rpad(std::to_string(rs.empty_expert_calls[e]), 13) << "  " << bar(share, 30) << "\n";
      }
      double mean = static_cast<double>(rs.rows) / static_cast<double>(rs.rows_per_expert.size());
      uint64_t max = *std::max_element(rs.rows_per_expert.begin(), rs.rows_per_expert.end());
      if (mean > 0) os << "    load imbalance (max / mean rows per expert): " << fixed(max / mean, 2) << "\n";
    }
  }
  if (!any) return "no routers (TopK/ArgMax feeding NonZero/Gather/Scatter) in this model\n";
  return os.str();
}

std::string format_profile(const RegionPlan& plan, const Tracer& tracer) {
  std::ostringstream os;
  const double run_ms = static_cast<double>(tracer.run_time_ns()) / 1e6;
  os << tracer.runs() << " runs, " << fixed(run_ms, 3) << " ms in all";
  if (tracer.runs()) os << " (" << fixed(run_ms * 1e3 / static_cast<double>(tracer.runs()), 1) << " us per run)";
  os << "\n";
  os << pad("region", 8) << pad("kind", 16) << pad("graph", 28) << rpad("count", 9) << rpad("compiled", 10)
     << rpad("total ms", 11) << rpad("% run", 8) << rpad("mean us", 11) << "  ops\n";
  for (const Region& r : plan.regions()) {
    RegionStats s = tracer.region_stats(r.id);
    double ms = static_cast<double>(s.total_ns) / 1e6;
    std::string graph = r.graph_path.size() > 26 ? "..." + r.graph_path.substr(r.graph_path.size() - 23) : r.graph_path;
    os << pad(r.label(), 8) << pad(region_kind_name(r.kind), 16) << pad(graph, 28) << rpad(std::to_string(s.count), 9)
       << rpad(std::to_string(s.compiled), 10) << rpad(fixed(ms, 3), 11) << rpad(run_ms > 0 ? fixed(100 * ms / run_ms, 1) : std::string("-"), 8)
       << rpad(s.count ? fixed(ms * 1e3 / static_cast<double>(s.count), 1) : std::string("-"), 11) << "  "
       << r.num_nodes() << "\n";
  }
  os << "(control regions include the time of their subgraphs' regions)\n";
  return os.str();
}

}  // namespace dj
