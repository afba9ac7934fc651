// Region: a run of consecutive nodes of one graph whose internal shapes are
// functions of the region's input shapes — the unit the tracer records and the
// specializer compiles. RegionPlan cuts every graph of a model (main graph and
// each If/Loop/Scan subgraph) into regions once, at load time.
//
// Where the cuts fall: what follows cannot be known before running.
//   Control        one If / Loop / Scan node (its subgraphs get regions of their own);
//   DataDependent  one node whose output shape depends on runtime *values*
//                  (NonZero, TopK with a runtime k, Reshape/Expand/Tile/Slice fed by
//                  computed values, ...): it introduces a data-dependent dimension;
//   Compute        the maximal runs of nodes between those.
// Inside a Compute region every shape is a SymExpr over the symbols bound by the
// region's input dims (`bound_symbols`); `shapes_closed` says whether that mapping
// covers every value the region produces (false when shape propagation could not
// tell a shape, or a shape uses a symbol the inputs don't bind).
//
// Routers: a TopK/ArgMax whose indices feed a data-routing op (NonZero, Gather*,
// Scatter*, OneHot, possibly through Equal/Cast/Reshape/Squeeze...) is recorded as
// a RouterSite of its region, so the tracer can count rows per expert.
//
// Invariants: regions of one graph are contiguous, ordered and cover its nodes;
// ids are model-wide, numbered depth-first (a subgraph's regions come after the
// parent region that owns it). A RegionPlan is immutable once built.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/Graph.h"

namespace dj {

enum class RegionKind : uint8_t { Compute, Control, DataDependent };
const char* region_kind_name(RegionKind kind);

struct RouterSite {
  int32_t node = -1;          // index in the graph's nodes
  int32_t indices_output = 0; // which output holds the expert ids (ArgMax 0, TopK 1)
  int64_t axis = -1;          // the axis reduced over (the experts axis of the gate logits)
  std::optional<int64_t> num_experts;  // known at load time when that dim is constant
};

struct Region {
  int32_t id = -1;
  RegionKind kind = RegionKind::Compute;
  const Graph* graph = nullptr;
  std::string graph_path;       // "main", "main/If:gate/then_branch", ...
  int32_t first_node = 0;       // [first_node, end_node) in graph->nodes
  int32_t end_node = 0;
  std::vector<ValueId> inputs;  // runtime values read from outside the region (no constants)
  std::vector<ValueId> outputs; // values it produces that are read later or are graph outputs
  std::vector<std::string> bound_symbols;  // symbols some input dim names directly
  bool shapes_closed = true;
  std::vector<RouterSite> routers;
  std::vector<int32_t> child_regions;  // for Control: the first region of each subgraph
  const Graph* if_then_branch = nullptr;  // for an If: its then_branch (to tell which branch ran)

  int32_t num_nodes() const { return end_node - first_node; }
  std::string label() const { return "R" + std::to_string(id); }
  // "R3 compute main nodes 4..9 (6 ops: MatMul Add Relu ...)".
  std::string describe() const;
  // The region's nodes, one per line, with their input/output shapes (symbolic).
  std::string ir_text() const;
};

class RegionPlan {
 public:
  static std::shared_ptr<const RegionPlan> build(const Model& model);

  const std::vector<Region>& regions() const { return regions_; }
  const Region& region(int32_t id) const { return regions_[static_cast<size_t>(id)]; }
  size_t size() const { return regions_.size(); }
  // The regions of one graph, in order; empty for a graph the plan doesn't know.
  const std::vector<int32_t>& regions_of(const Graph* graph) const;

 private:
  // `enclosing`: the graphs around `graph`, outermost first, `graph` itself last.
  void cut_graph(const Graph& graph, const std::string& path, std::vector<const Graph*>& enclosing);
  std::vector<Region> regions_;
  std::unordered_map<const Graph*, std::vector<int32_t>> by_graph_;
};

}  // namespace dj
