// GroupLowering: Halide definitions of the fused groups (see GroupLowering.h).
#include "specializer/GroupLowering.h"

#include <Halide.h>

#include <algorithm>
#include <map>

#include "jit/ElementwiseSchedule.h"
#include "jit/FastMath.h"
#include "jit/GemmPipeline.h"
#include "jit/KernelCompiler.h"
#include "jit/LayerNormPipeline.h"
#include "jit/SoftmaxPipeline.h"

namespace dj::specializer {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::ImageParam;
using Halide::Var;

// Fixes a buffer's extents and dense row-major strides (Halide order: dim 0 innermost).
template <typename Dims>
void constrain_dense(Dims&& dim_of, const Shape& shape) {
  const int rank = static_cast<int>(shape.size());
  int64_t stride = 1;
  for (int d = 0; d < rank; ++d) {
    int64_t extent = shape[static_cast<size_t>(rank - 1 - d)];
    dim_of(d).set_bounds(0, static_cast<int32_t>(extent)).set_stride(static_cast<int32_t>(stride));
    stride *= extent;
  }
}

// Generic buffers: dense innermost dim, mins at 0, extents free.
template <typename Dims>
void constrain_generic(Dims&& dim_of, int rank) {
  for (int d = 0; d < rank; ++d) dim_of(d).set_min(0);
  if (rank > 0) dim_of(0).set_stride(1);
}

// The one switch between the two tiers: fixed shapes, or only a rank.
struct BufferRules {
  bool generic = false;
  ImageParam input(const Shape& example, const std::string& name) const {
    ImageParam p(Halide::Float(32), static_cast<int>(example.size()), name);
    if (generic)
      constrain_generic([&](int d) { return p.dim(d); }, static_cast<int>(example.size()));
    else
      constrain_dense([&](int d) { return p.dim(d); }, example);
    return p;
  }
  void output(Func& out, const Shape& example) const {
    if (generic)
      constrain_generic([&](int d) { return out.output_buffer().dim(d); }, static_cast<int>(example.size()));
    else
      constrain_dense([&](int d) { return out.output_buffer().dim(d); }, example);
  }
  std::vector<int64_t> extents(const Shape& example) const {
    return generic ? std::vector<int64_t>{} : std::vector<int64_t>(example.rbegin(), example.rend());
  }
};


// The f32 elementwise op definitions: one line each.
Expected<Expr> elementwise_expr(const Node& n, const std::vector<Expr>& in) {
  const std::string& op = n.op_type;
  const Expr zero = Halide::ConciseCasts::f32(0);
  if (op == "Relu") return Halide::max(in[0], zero);
  if (op == "Sigmoid") return jit::sigmoid_f32(in[0]);
  if (op == "Tanh") return jit::tanh_f32(in[0]);
  if (op == "Exp") return jit::exp_f32(in[0]);
  if (op == "Log") return Halide::log(in[0]);
  if (op == "Neg") return -in[0];
  if (op == "Abs") return Halide::abs(in[0]);
  if (op == "Sqrt") return Halide::sqrt(in[0]);
  if (op == "Erf") return jit::erf_f32(in[0]);
  if (op == "Identity") return in[0];
  if (op == "Reciprocal") return Halide::ConciseCasts::f32(1) / in[0];
  if (op == "Floor") return Halide::floor(in[0]);
  if (op == "Ceil") return Halide::ceil(in[0]);
  if (op == "LeakyRelu") {
    Expr alpha = Halide::ConciseCasts::f32(n.attr_float("alpha", 0.01f));
    return Halide::select(in[0] < zero, alpha * in[0], in[0]);
  }
  if (op == "Add") return in[0] + in[1];
  if (op == "Sub") return in[0] - in[1];
  if (op == "Mul") return in[0] * in[1];
  if (op == "Div") return in[0] / in[1];
  if (op == "Max") return Halide::max(in[0], in[1]);
  if (op == "Min") return Halide::min(in[0], in[1]);
  return make_error(StatusCode::Unsupported, "no Halide definition for ", op);
}

Expected<LoweredGroup> lower_elementwise(const FusionPlan& plan, const FusionGroup& group, const BufferRules& rules,
                                         std::vector<Halide::Argument>& args, Func& out) {
  const Graph& g = *plan.graph;
  LoweredGroup lowered = group_views(plan, group);
  std::optional<SymShape> out_sym = plan.generic ? symbolic_shape(g, group.output) : std::nullopt;
  if (plan.generic && !out_sym) return Status(StatusCode::Unsupported, "the output's symbolic shape is unknown");
  const Shape& out_shape = lowered.output_shape;
  const int rank = static_cast<int>(out_shape.size());
  std::vector<Var> vars;
  for (int d = 0; d < rank; ++d) vars.emplace_back("x" + std::to_string(d));
  std::map<ValueId, Expr> values;
  for (size_t i = 0; i < group.inputs.size(); ++i) {
    ValueId id = group.inputs[i];
    const Shape& s = plan.shape(id);
    ImageParam p = rules.input(s, "in" + std::to_string(i));
    args.push_back(p);
    // NumPy broadcasting: Halide dim d of the input lines up with dim d of the output.
    const int r = static_cast<int>(s.size());
    std::vector<bool> sym_broadcast;
    if (plan.generic) {
      auto in_sym = symbolic_shape(g, id);
      if (!in_sym || !symbolic_broadcast(*in_sym, *out_sym, sym_broadcast))
        return Status(StatusCode::Unsupported, "broadcasting that depends on the sizes");
    }
    std::vector<Expr> index;
    for (int d = 0; d < r; ++d) {
      const size_t t = static_cast<size_t>(r - 1 - d);  // row-major dim of the input
      bool broadcast = plan.generic ? sym_broadcast[t]
                                    : s[t] == 1 && out_shape[static_cast<size_t>(rank - 1 - d)] != 1;
      index.push_back(broadcast ? Expr(0) : Expr(vars[static_cast<size_t>(d)]));
    }
    values[id] = r == 0 ? p() : p(index);
  }
  for (int32_t n : group.nodes) {
    const Node& node = g.nodes[static_cast<size_t>(n)];
    std::vector<Expr> operands;
    for (ValueId id : node.inputs) operands.push_back(values.at(id));
    DJ_ASSIGN_OR_RETURN(Expr e, elementwise_expr(node, operands));
    values[node.outputs[0]] = e;
  }
  std::vector<Halide::Var> out_vars(vars.begin(), vars.end());
  out = Func("elementwise");
  if (rank == 0)
    out() = values.at(group.output);
  else
    out(out_vars) = values.at(group.output);
  jit::schedule_elementwise(out, rules.extents(out_shape));
  return lowered;
}

Expected<LoweredGroup> lower_gemm(const FusionPlan& plan, const FusionGroup& group, const BufferRules& rules,
                                  std::vector<Halide::Argument>& args, Func& out) {
  LoweredGroup lowered = group_views(plan, group);
  ImageParam a = rules.input({group.m, group.k}, "A");
  ImageParam b = rules.input({group.k, group.n}, "B");
  args.push_back(a);
  args.push_back(b);
  jit::GemmDefinition def;
  Var j("j"), i("i"), kk("kk");
  Func fa("a"), fb("b");
  fa(kk, i) = a(kk, i);
  fb(j, kk) = b(j, kk);
  def.a = fa;
  def.b = fb;
  def.m = plan.generic ? a.dim(1).extent() : Expr(static_cast<int>(group.m));
  def.n = plan.generic ? b.dim(0).extent() : Expr(static_cast<int>(group.n));
  def.k = plan.generic ? a.dim(0).extent() : Expr(static_cast<int>(group.k));
  if (group.gemm_bias != kNoValue) {
    ImageParam bias = rules.input({group.n}, "bias");
    args.push_back(bias);
    Func fbias("bias_f");
    fbias(j) = bias(j);
    def.bias = fbias;
  }
  def.relu = group.gemm_relu;
  jit::GemmShape shape = plan.generic ? jit::GemmShape{} : jit::GemmShape{group.m, group.n, group.k};
  jit::GemmPipeline gemm = jit::build_gemm(def, shape);
  out = gemm.out;
  return lowered;
}

Expected<LoweredGroup> lower_softmax(const FusionPlan& plan, const FusionGroup& group, const BufferRules& rules,
                                     std::vector<Halide::Argument>& args, Func& out) {
  LoweredGroup lowered = group_views(plan, group);
  ImageParam in = rules.input({group.m, group.n}, "x");
  args.push_back(in);
  Var x("x"), r("r");
  Func fin("softmax_in");
  fin(x, r) = in(x, r);
  Expr n = plan.generic ? in.dim(0).extent() : Expr(static_cast<int>(group.n));
  out = jit::build_softmax_last_axis(fin, n, rules.extents({group.m, group.n}));
  return lowered;
}

Expected<LoweredGroup> lower_layer_norm(const FusionPlan& plan, const FusionGroup& group, const BufferRules& rules,
                                        std::vector<Halide::Argument>& args, Func& out) {
  const Node& node = plan.graph->nodes[static_cast<size_t>(group.nodes[0])];
  LoweredGroup lowered = group_views(plan, group);
  ImageParam in = rules.input({group.m, group.n}, "x");
  ImageParam scale = rules.input({group.n}, "scale");
  args.push_back(in);
  args.push_back(scale);
  Var x("x"), r("r");
  Func fin("ln_in"), fscale("ln_scale"), fbias;
  fin(x, r) = in(x, r);
  fscale(x) = scale(x);
  if (lowered.inputs.size() > 2) {
    ImageParam bias = rules.input({group.n}, "bias");
    args.push_back(bias);
    fbias = Func("ln_bias");
    fbias(x) = bias(x);
  }
  Expr n = plan.generic ? in.dim(0).extent() : Expr(static_cast<int>(group.n));
  out = jit::build_layer_norm_last_axis(fin, n, fscale, fbias, node.attr_float("epsilon", 1e-5f),
                                        rules.extents({group.m, group.n}));
  return lowered;
}

}  // namespace

LoweredGroup group_views(const FusionPlan& plan, const FusionGroup& group) {
  LoweredGroup v;
  v.kind = group.kind;
  v.generic = plan.generic;
  v.output = group.output;
  v.output_shape = plan.shape(group.output);
  switch (group.kind) {
    case GroupKind::Elementwise:
      v.inputs = group.inputs;
      for (ValueId id : group.inputs) v.input_views.push_back(plan.shape(id));
      v.output_view = v.output_shape;
      break;
    case GroupKind::Gemm:
      v.inputs = {group.gemm_a, group.gemm_b};
      v.input_views = {{group.m, group.k}, {group.k, group.n}};
      if (group.gemm_bias != kNoValue) {
        v.inputs.push_back(group.gemm_bias);
        v.input_views.push_back({group.n});
      }
      v.output_view = {group.m, group.n};
      break;
    case GroupKind::Softmax:
      v.inputs = {group.inputs[0]};
      v.input_views = {{group.m, group.n}};
      v.output_view = {group.m, group.n};
      break;
    case GroupKind::LayerNorm: {
      const Node& node = plan.graph->nodes[static_cast<size_t>(group.nodes[0])];
      v.inputs = {node.inputs[0], node.inputs[1]};
      v.input_views = {{group.m, group.n}, {group.n}};
      if (node.inputs.size() > 2 && node.inputs[2] != kNoValue) {
        v.inputs.push_back(node.inputs[2]);
        v.input_views.push_back({group.n});
      }
      v.output_view = {group.m, group.n};
      break;
    }
    case GroupKind::Interpreted: break;
  }
  return v;
}

Status generic_views(const LoweredGroup& group, const std::vector<Tensor>& inputs, std::vector<Shape>& input_views,
                     Shape& output_view, Shape& output_shape) {
  input_views.clear();
  switch (group.kind) {
    case GroupKind::Elementwise: {
      // The output is the NumPy broadcast of the inputs.
      size_t rank = 0;
      for (const Tensor& t : inputs) rank = std::max(rank, t.shape().size());
      output_shape.assign(rank, 1);
      for (const Tensor& t : inputs) {
        input_views.push_back(t.shape());
        const size_t offset = rank - t.shape().size();
        for (size_t d = 0; d < t.shape().size(); ++d) {
          int64_t& o = output_shape[offset + d];
          int64_t v = t.shape()[d];
          if (v != 1 && o != 1 && v != o) return make_error(StatusCode::InvalidArgument, "shapes do not broadcast");
          if (v != 1) o = v;
        }
      }
      output_view = output_shape;
      return {};
    }
    case GroupKind::Gemm: {
      const Shape& a = inputs[0].shape();
      const Shape& b = inputs[1].shape();
      if (a.size() < 2 || b.size() != 2 || a.back() != b[0])
        return make_error(StatusCode::InvalidArgument, "MatMul operands do not fit");
      const int64_t k = a.back(), n = b[1], m = shape_numel(a) / std::max<int64_t>(k, 1);
      input_views = {{m, k}, b};
      if (inputs.size() > 2) input_views.push_back({inputs[2].numel()});
      output_view = {m, n};
      output_shape.assign(a.begin(), a.end() - 1);
      output_shape.push_back(n);
      return {};
    }
    case GroupKind::LayerNorm:
    case GroupKind::Softmax: {
      const Shape& x = inputs[0].shape();
      const int64_t n = x.back();
      input_views = {{shape_numel(x) / std::max<int64_t>(n, 1), n}};
      for (size_t i = 1; i < inputs.size(); ++i) input_views.push_back({inputs[i].numel()});
      output_view = input_views[0];
      output_shape = x;
      return {};
    }
    case GroupKind::Interpreted: break;
  }
  return Status(StatusCode::Internal, "generic_views on an interpreted group");
}

Expected<LoweredGroup> lower_group(const FusionPlan& plan, const FusionGroup& group, const std::string& kernel_name,
                                   const LoweringOptions& options) {
  // Building Funcs is not covered by the compile lock (KernelCompiler.h): take it here too.
  std::unique_lock<std::mutex> lock(jit::halide_compile_mutex());
  std::vector<Halide::Argument> args;
  Func out;
  BufferRules rules{plan.generic};
  Expected<LoweredGroup> lowered = Status(StatusCode::Unsupported, "not a kernel group");
  try {
    switch (group.kind) {
      case GroupKind::Elementwise: lowered = lower_elementwise(plan, group, rules, args, out); break;
      case GroupKind::Gemm: lowered = lower_gemm(plan, group, rules, args, out); break;
      case GroupKind::Softmax: lowered = lower_softmax(plan, group, rules, args, out); break;
      case GroupKind::LayerNorm: lowered = lower_layer_norm(plan, group, rules, args, out); break;
      case GroupKind::Interpreted: return lowered;
    }
    if (!lowered.ok()) return lowered;
    lowered->kind = group.kind;
    lowered->generic = plan.generic;
    rules.output(out, lowered->output_view);
  } catch (const Halide::Error& e) {
    return make_error(StatusCode::Internal, "Halide rejected the ", group_kind_name(group.kind), " group: ", e.what());
  }
  lock.unlock();  // compile_pipeline takes the lock itself
  jit::CompileOptions copts;
  copts.emit_halide_stmt = copts.emit_llvm_ir = copts.emit_assembly = options.listings;
  DJ_ASSIGN_OR_RETURN(jit::CompiledKernel kernel,
                      jit::compile_pipeline(jit::PipelineSpec{Halide::Pipeline(out), args, kernel_name}, copts));
  lowered->kernel = std::make_shared<const jit::CompiledKernel>(std::move(kernel));
  return lowered;
}

}  // namespace dj::specializer
