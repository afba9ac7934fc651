// The control-flow op family: If (here), Loop (ControlFlowLoop.cpp) and Scan
// (ControlFlowScan.cpp).
//
// If runs the branch its 1-element condition picks with no formal inputs (outer
// values reach the branch as captures) and hands the branch's outputs on. Its
// shape function merges what the two branches declare: equal dims are kept,
// differing dims become fresh data-dependent dims; a constant condition picks
// one branch's shape outright.
#include "runtime/OpRegistry.h"
#include "runtime/ops/ControlFlowKernels.h"
#include "runtime/ops/OpFamilies.h"

namespace dj {

std::optional<SymShape> merge_sym_shapes(const std::optional<SymShape>& a, const std::optional<SymShape>& b,
                                         ShapeContext& ctx, const std::string& hint) {
  if (!a || !b || a->size() != b->size()) return std::nullopt;
  SymShape out;
  for (size_t i = 0; i < a->size(); ++i) out.push_back((*a)[i].equals((*b)[i]) ? (*a)[i] : ctx.fresh_dim(hint));
  return out;
}

Tensor detach_for_output(const Tensor& t) {
  if (t.is_borrowed()) return t.clone();
  return t.contiguous();
}

Status if_kernel(KernelContext& ctx) {
  DJ_CHECK(ctx.has_input(0), InvalidArgument, "If: the condition input is missing");
  const Tensor& cond = ctx.input(0);
  DJ_CHECK(cond.numel() == 1, InvalidArgument, "If: condition has shape ", shape_to_string(cond.shape()),
           ", expected a single element");
  const char* branch = cond.item<bool>() ? "then_branch" : "else_branch";
  const Graph* g = ctx.node().attr_graph(branch);
  DJ_CHECK(g, InvalidModel, "If: missing graph attribute ", branch);
  DJ_ASSIGN_OR_RETURN(std::vector<Tensor> outs, ctx.run_subgraph(*g, {}));
  DJ_CHECK(outs.size() >= ctx.num_outputs(), InvalidModel, "If: ", branch, " produces ", outs.size(),
           " outputs, the node has ", ctx.num_outputs());
  for (size_t i = 0; i < ctx.num_outputs(); ++i)
    if (ctx.wants_output(i)) ctx.set_output(i, detach_for_output(outs[i]));
  return {};
}

Status infer_if(ShapeContext& ctx) {
  const Graph* then_g = ctx.node().attr_graph("then_branch");
  const Graph* else_g = ctx.node().attr_graph("else_branch");
  if (!then_g || !else_g) return {};
  const Graph* chosen = nullptr;
  if (const Tensor* c = ctx.input_constant(0); c && c->numel() == 1) chosen = c->item<bool>() ? then_g : else_g;
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    if (i >= then_g->outputs.size() || i >= else_g->outputs.size()) break;
    const ValueInfo& t = then_g->value(then_g->outputs[i]);
    const ValueInfo& e = else_g->value(else_g->outputs[i]);
    if (chosen) {
      const ValueInfo& v = chosen == then_g ? t : e;
      ctx.set_output(i, v.dtype, v.shape);
      continue;
    }
    std::optional<DType> dtype = t.dtype ? t.dtype : e.dtype;
    if (t.dtype && e.dtype && *t.dtype != *e.dtype) dtype.reset();
    ctx.set_output(i, dtype, dtype ? merge_sym_shapes(t.shape, e.shape, ctx, "if") : std::nullopt);
  }
  return {};
}

void register_control_flow_ops(OpRegistry& r) {
  r.add({"If", if_kernel, infer_if});
  r.add({"Loop", loop_kernel, infer_loop});
  r.add({"Scan", scan_kernel, infer_scan});
}

}  // namespace dj
