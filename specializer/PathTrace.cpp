// PathTrace: planning a trace through the If after a region (see PathTrace.h).
#include "specializer/PathTrace.h"

#include <algorithm>

namespace dj::specializer {
namespace {

Status no_path(const Region& head, const std::string& why) {
  return make_error(StatusCode::Unsupported, head.label(), " has no path through the If after it: ", why);
}

// Where the outer value `id` (a value of the head's graph) is found when the head has run.
std::optional<PathValueSource> head_source(const Region& head, const Graph& graph, ValueId id) {
  auto find = [&](const std::vector<ValueId>& list) -> std::optional<size_t> {
    auto it = std::find(list.begin(), list.end(), id);
    if (it == list.end()) return std::nullopt;
    return static_cast<size_t>(it - list.begin());
  };
  if (auto i = find(head.outputs)) return PathValueSource{PathValueSource::Kind::HeadOutput, *i, {}};
  if (auto i = find(head.inputs)) return PathValueSource{PathValueSource::Kind::HeadInput, *i, {}};
  const ValueInfo& v = graph.value(id);
  if (v.constant.defined()) return PathValueSource{PathValueSource::Kind::Constant, 0, v.constant};
  return std::nullopt;
}

}  // namespace

const Region* if_region_after(const RegionPlan& regions, const Region& head) {
  const std::vector<int32_t>& order = regions.regions_of(head.graph);
  auto it = std::find(order.begin(), order.end(), head.id);
  if (it == order.end() || it + 1 == order.end()) return nullptr;
  const Region& next = regions.region(*(it + 1));
  if (next.kind != RegionKind::Control || !next.if_then_branch || next.first_node != head.end_node ||
      next.num_nodes() != 1)
    return nullptr;
  return &next;
}

Expected<PathTail> plan_path_tail(const RegionPlan& regions, const FusionPlan& head_plan, int branch) {
  const Region& head = *head_plan.region;
  const Graph& graph = *head.graph;
  if (head_plan.generic) return no_path(head, "the shape-generic tier does not trace paths");
  if (branch != 0 && branch != 1) return no_path(head, "no branch chosen");
  const Region* control = if_region_after(regions, head);
  if (!control) return no_path(head, "the next region is not an If");
  PathTail tail;
  tail.branch = branch;
  tail.control = control;
  tail.if_node = &graph.nodes[static_cast<size_t>(control->first_node)];
  const Graph* branch_graph = tail.if_node->attr_graph(branch == 0 ? "then_branch" : "else_branch");
  if (!branch_graph) return no_path(head, "the If lacks the branch");
  if (tail.if_node->inputs.empty() || tail.if_node->inputs[0] == kNoValue) return no_path(head, "the If has no condition");
  auto condition = head_source(head, graph, tail.if_node->inputs[0]);
  if (!condition) return no_path(head, "its condition is not computed by the region");
  tail.condition = *condition;

  const std::vector<int32_t>& body_regions = regions.regions_of(branch_graph);
  if (body_regions.size() != 1) return no_path(head, "the branch is not one region");
  tail.body = &regions.region(body_regions.front());
  if (tail.body->kind != RegionKind::Compute || !tail.body->shapes_closed || !tail.body->routers.empty())
    return no_path(head, "the branch is not one compute region with closed shapes");

  // A branch value: one of its captures (an outer value), one of its constants,
  // or (for outputs) something the body computes.
  auto branch_source = [&](ValueId local) -> std::optional<PathValueSource> {
    for (const Capture& c : branch_graph->captures)
      if (c.local == local) return head_source(head, graph, c.outer);
    const ValueInfo& v = branch_graph->value(local);
    if (v.constant.defined()) return PathValueSource{PathValueSource::Kind::Constant, 0, v.constant};
    return std::nullopt;
  };
  // The head's dtypes: its inputs' from the signature, its outputs' from the graph.
  std::vector<DType> input_dtypes;
  for_each_signature_input(head_plan.signature.data(), head_plan.signature.size(), [&](const SignatureInput& in) {
    input_dtypes.push_back(in.dtype);
    return true;
  });
  for (ValueId local : tail.body->inputs) {
    auto source = branch_source(local);
    if (!source) return no_path(head, "the branch reads '" + branch_graph->value(local).name + "', which the region does not provide");
    std::optional<DType> dtype;
    Shape shape;
    switch (source->kind) {
      case PathValueSource::Kind::HeadInput:
        if (source->index >= input_dtypes.size()) return no_path(head, "its signature does not cover its inputs");
        dtype = input_dtypes[source->index];
        shape = head_plan.shape(head.inputs[source->index]);
        break;
      case PathValueSource::Kind::HeadOutput:
        dtype = graph.value(head.outputs[source->index]).dtype;
        shape = head_plan.shape(head.outputs[source->index]);
        break;
      case PathValueSource::Kind::Constant:
        dtype = source->constant.dtype();
        shape = source->constant.shape();
        break;
      case PathValueSource::Kind::BodyOutput: break;
    }
    if (!dtype) return no_path(head, "the dtype of '" + branch_graph->value(local).name + "' is not known");
    append_signature(tail.body_signature, *dtype, shape);
    tail.body_inputs.push_back(std::move(*source));
  }
  if (branch_graph->outputs.size() < tail.if_node->outputs.size())
    return no_path(head, "the branch has fewer outputs than the If");
  for (size_t i = 0; i < tail.if_node->outputs.size(); ++i) {
    const ValueId local = branch_graph->outputs[i];
    auto produced = std::find(tail.body->outputs.begin(), tail.body->outputs.end(), local);
    if (produced != tail.body->outputs.end()) {
      tail.if_outputs.push_back(PathValueSource{PathValueSource::Kind::BodyOutput,
                                                static_cast<size_t>(produced - tail.body->outputs.begin()), {}});
      continue;
    }
    auto source = branch_source(local);
    if (!source) return no_path(head, "the branch output '" + branch_graph->value(local).name + "' has no source");
    tail.if_outputs.push_back(std::move(*source));
  }
  return tail;
}

}  // namespace dj::specializer
