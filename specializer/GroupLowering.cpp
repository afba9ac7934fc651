// GroupLowering: Halide definitions of the fused groups (see GroupLowering.h).
#include "specializer/GroupLowering.h"

#include <Halide.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "jit/BatchedGemmPipeline.h"
#include "jit/ConvPipeline.h"
#include "jit/ElementwiseSchedule.h"
#include "jit/FastMath.h"
#include "jit/GemmPipeline.h"
#include "jit/KernelCompiler.h"
#include "jit/LayerNormPipeline.h"
#include "jit/SoftmaxPipeline.h"
#include "runtime/ops/ConvGeometry.h"
#include "specializer/SharedKernels.h"

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


// The values a Softmax/LayerNorm's prologue reads from outside it, in first-use order.
std::vector<ValueId> prologue_inputs(const FusionPlan& plan, const FusionGroup& group) {
  std::vector<ValueId> out;
  std::set<ValueId> made;
  for (int32_t k = 0; k < group.prologue; ++k) {
    const Node& node = plan.graph->nodes[static_cast<size_t>(group.nodes[static_cast<size_t>(k)])];
    for (ValueId id : node.inputs)
      if (!made.count(id) && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    made.insert(node.outputs[0]);
  }
  return out;
}

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
  if (group.gemm_residual != kNoValue) {
    ImageParam residual = rules.input({group.m, group.n}, "residual");
    args.push_back(residual);
    const bool relu_after = group.gemm_relu_after_residual;
    def.epilogue = [residual, relu_after](Expr v, Var j, Var i) {
      Expr sum = v + residual(j, i);
      return relu_after ? Halide::max(sum, 0.0f) : sum;
    };
  }
  jit::GemmShape shape = plan.generic ? jit::GemmShape{} : jit::GemmShape{group.m, group.n, group.k};
  jit::GemmPipeline gemm = jit::build_gemm(def, shape);
  out = gemm.out;
  return lowered;
}

// Element (inner, outer, bt) of a batched GEMM operand T [batch dims..., outer, inner]
// (Halide order), `bt` running over T's batch dims row-major. With `perm` (a folded
// Transpose), T = Transpose(X, perm) and `source` is X: T's axis d is X's axis perm[d].
Expr operand_element(const ImageParam& source, const std::vector<int64_t>& perm, const Shape& t_shape, Expr inner,
                     Expr outer, Expr bt) {
  if (perm.empty()) return source(inner, outer, bt);
  const size_t rank = t_shape.size();
  std::vector<Expr> t(rank);
  t[rank - 1] = inner;
  t[rank - 2] = outer;
  Expr rest = bt;
  for (size_t d = rank - 2; d-- > 0;) {
    const int e = static_cast<int>(t_shape[d]);
    t[d] = d == 0 ? rest : rest % e;
    rest = rest / e;
  }
  std::vector<Expr> x(rank);
  for (size_t d = 0; d < rank; ++d) x[static_cast<size_t>(perm[d])] = t[d];
  return source(std::vector<Expr>(x.rbegin(), x.rend()));
}

Expected<LoweredGroup> lower_batched_gemm(const FusionPlan& plan, const FusionGroup& group, const BufferRules& rules,
                                          std::vector<Halide::Argument>& args, Func& out) {
  LoweredGroup lowered = group_views(plan, group);
  ImageParam a = rules.input(lowered.input_views[0], "A");
  ImageParam b = rules.input(lowered.input_views[1], "B");
  args.push_back(a);
  args.push_back(b);
  Var j("j"), i("i"), kk("kk"), bt("bt");
  Func fa("ba"), fb("bb");
  const Node& matmul = plan.graph->nodes[static_cast<size_t>(group.nodes.back())];
  fa(kk, i, bt) = operand_element(a, group.a_perm, plan.shape(matmul.inputs[0]), kk, i, bt);
  fb(j, kk, bt) = operand_element(b, group.b_perm, plan.shape(matmul.inputs[1]), j, kk, bt);
  Expr k = plan.generic ? a.dim(0).extent() : Expr(static_cast<int>(group.k));
  std::vector<int64_t> extents;
  if (!plan.generic) extents = {group.n, group.m, group.batch, group.k};
  out = jit::build_batched_gemm(fa, fb, k, extents);
  return lowered;
}

// The Conv's geometry for the plan's shapes, as the jit pipeline takes it.
Expected<jit::ConvShape> conv_shape(const FusionPlan& plan, const Node& node) {
  const Shape& x = plan.shape(node.inputs[0]);
  const Shape& w = plan.shape(node.inputs[1]);
  DJ_ASSIGN_OR_RETURN(WindowAttrs attrs, read_window_attrs(node, "Conv", 2, {w[2], w[3]}));
  DJ_ASSIGN_OR_RETURN(WindowGeometry geo, forward_geometry(attrs, "Conv", {x[2], x[3]}));
  jit::ConvShape s;
  auto narrow = [](int64_t v) { return static_cast<int>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX)); };
  s.n = narrow(x[0]), s.c = narrow(x[1]), s.h = narrow(x[2]), s.w = narrow(x[3]);
  s.co = narrow(w[0]), s.kh = narrow(w[2]), s.kw = narrow(w[3]);
  s.stride_h = narrow(geo.stride[0]), s.stride_w = narrow(geo.stride[1]);
  s.dilation_h = narrow(geo.dilation[0]), s.dilation_w = narrow(geo.dilation[1]);
  s.pad_top = narrow(geo.pad_begin[0]), s.pad_left = narrow(geo.pad_begin[1]);
  s.pad_bottom = narrow(geo.pad_end[0]), s.pad_right = narrow(geo.pad_end[1]);
  s.group = narrow(node.attr_int("group", 1));
  DJ_RETURN_IF_ERROR(jit::check_conv_shape(s));
  const Shape& out = plan.shape(node.outputs[0]);
  if (out != Shape{s.n, s.co, s.out_h(), s.out_w()})
    return make_error(StatusCode::Internal, "Conv output ", shape_to_string(out), " disagrees with its geometry ",
                      s.to_string());
  return s;
}

Expected<LoweredGroup> lower_conv(const FusionPlan& plan, const FusionGroup& group, const BufferRules& rules,
                                  std::vector<Halide::Argument>& args, Func& out) {
  const Node& node = plan.graph->nodes[static_cast<size_t>(group.nodes[0])];
  LoweredGroup lowered = group_views(plan, group);
  DJ_ASSIGN_OR_RETURN(jit::ConvShape shape, conv_shape(plan, node));
  ImageParam x = rules.input(lowered.input_views[0], "X");
  ImageParam w = rules.input(lowered.input_views[1], "W");
  args.push_back(x);
  args.push_back(w);
  Var cx("cx"), cy("cy"), cc("cc"), cn("cn");
  jit::ConvDefinition def;
  def.input = Func("conv_in");
  def.input(cx, cy, cc, cn) = x(cx, cy, cc, cn);
  def.weights = Func("conv_w");
  def.weights(cx, cy, cc, cn) = w(cx, cy, cc, cn);
  if (group.gemm_bias != kNoValue) {
    ImageParam b = rules.input({shape.co}, "bias");
    args.push_back(b);
    def.bias = Func("conv_bias");
    def.bias(cc) = b(cc);
  }
  def.relu = group.gemm_relu;
  if (group.gemm_residual != kNoValue) {
    ImageParam residual = rules.input(lowered.output_view, "residual");
    args.push_back(residual);
    const bool relu_after = group.gemm_relu_after_residual;
    def.epilogue = [residual, relu_after](Expr v, Var ox, Var oy, Var co, Var on) {
      Expr sum = v + residual(ox, oy, co, on);
      return relu_after ? Halide::max(sum, 0.0f) : sum;
    };
  }
  DJ_ASSIGN_OR_RETURN(jit::ConvPipeline conv, jit::build_conv2d(def, shape));
  out = conv.out;
  return lowered;
}

// The rows a Softmax/LayerNorm reduces, as fin(x, r) over its [M, N] view: its
// input buffer, or its prologue evaluated from the prologue's inputs (each indexed
// as the rows see it: the whole block, one row, one value). Adds their ImageParams
// to `args` (the first `prologue inputs` of group_views' list); `n` gets N.
Expected<Func> reduction_rows(const FusionPlan& plan, const FusionGroup& group, const LoweredGroup& views,
                              const BufferRules& rules, std::vector<Halide::Argument>& args, Expr& n) {
  Var x("x"), r("r");
  Func fin("rows_in");
  if (group.prologue == 0) {
    ImageParam in = rules.input({group.m, group.n}, "x");
    args.push_back(in);
    fin(x, r) = in(x, r);
    n = plan.generic ? in.dim(0).extent() : Expr(static_cast<int>(group.n));
    return fin;
  }
  const Graph& g = *plan.graph;
  std::map<ValueId, Expr> values;
  const std::vector<ValueId> inputs = prologue_inputs(plan, group);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& view = views.input_views[i];
    ImageParam p = rules.input(view, "in" + std::to_string(i));
    args.push_back(p);
    values[inputs[i]] = view.size() == 2 ? p(x, r) : view[0] == group.n ? p(x) : p(0);
  }
  for (int32_t k = 0; k < group.prologue; ++k) {
    const Node& node = g.nodes[static_cast<size_t>(group.nodes[static_cast<size_t>(k)])];
    std::vector<Expr> operands;
    for (ValueId id : node.inputs) operands.push_back(values.at(id));
    DJ_ASSIGN_OR_RETURN(Expr e, elementwise_expr(node, operands));
    values[node.outputs[0]] = e;
  }
  const Node& reduction = g.nodes[static_cast<size_t>(group.nodes[static_cast<size_t>(group.prologue)])];
  fin(x, r) = values.at(reduction.inputs[0]);
  n = Expr(static_cast<int>(group.n));  // prologues are exact-only
  return fin;
}

Expected<LoweredGroup> lower_softmax(const FusionPlan& plan, const FusionGroup& group, const BufferRules& rules,
                                     std::vector<Halide::Argument>& args, Func& out) {
  LoweredGroup lowered = group_views(plan, group);
  Expr n;
  DJ_ASSIGN_OR_RETURN(Func fin, reduction_rows(plan, group, lowered, rules, args, n));
  out = jit::build_softmax_last_axis(fin, n, rules.extents({group.m, group.n}));
  return lowered;
}

Expected<LoweredGroup> lower_layer_norm(const FusionPlan& plan, const FusionGroup& group, const BufferRules& rules,
                                        std::vector<Halide::Argument>& args, Func& out) {
  const Node& node = plan.graph->nodes[static_cast<size_t>(group.nodes[static_cast<size_t>(group.prologue)])];
  LoweredGroup lowered = group_views(plan, group);
  Expr n;
  DJ_ASSIGN_OR_RETURN(Func fin, reduction_rows(plan, group, lowered, rules, args, n));
  const bool has_bias = node.inputs.size() > 2 && node.inputs[2] != kNoValue;
  ImageParam scale = rules.input({group.n}, "scale");
  args.push_back(scale);
  Var x("x");
  Func fscale("ln_scale"), fbias;
  fscale(x) = scale(x);
  if (has_bias) {
    ImageParam bias = rules.input({group.n}, "bias");
    args.push_back(bias);
    fbias = Func("ln_bias");
    fbias(x) = bias(x);
  }
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
      if (group.gemm_residual != kNoValue) {  // a 2-D view: how generic_views tells it from the bias
        v.inputs.push_back(group.gemm_residual);
        v.input_views.push_back({group.m, group.n});
      }
      v.output_view = {group.m, group.n};
      break;
    case GroupKind::BatchedGemm:
      v.inputs = {group.gemm_a, group.gemm_b};
      // A folded Transpose's input is read whole, in its own shape.
      v.input_views = {group.a_perm.empty() ? Shape{group.batch, group.m, group.k} : plan.shape(group.gemm_a),
                       group.b_perm.empty() ? Shape{group.batch, group.k, group.n} : plan.shape(group.gemm_b)};
      v.output_view = {group.batch, group.m, group.n};
      break;
    case GroupKind::Conv: {  // X, W, then the bias [Co] and the residual (the output's shape)
      const Node& node = plan.graph->nodes[static_cast<size_t>(group.nodes[0])];
      v.inputs = {node.inputs[0], node.inputs[1]};
      v.input_views = {plan.shape(node.inputs[0]), plan.shape(node.inputs[1])};
      if (group.gemm_bias != kNoValue) {
        v.inputs.push_back(group.gemm_bias);
        v.input_views.push_back({plan.shape(node.inputs[1])[0]});
      }
      if (group.gemm_residual != kNoValue) {
        v.inputs.push_back(group.gemm_residual);
        v.input_views.push_back(v.output_shape);
      }
      v.output_view = v.output_shape;
      break;
    }
    case GroupKind::Softmax:
    case GroupKind::LayerNorm: {
      // The rows: the op's input, or the prologue's inputs, each as the rows see it.
      const Node& node = plan.graph->nodes[static_cast<size_t>(group.nodes[static_cast<size_t>(group.prologue)])];
      if (group.prologue == 0) {
        v.inputs = {node.inputs[0]};
        v.input_views = {{group.m, group.n}};
      } else {
        for (ValueId id : prologue_inputs(plan, group)) {
          v.inputs.push_back(id);
          switch (*row_operand(plan.shape(id), plan.shape(node.inputs[0]))) {
            case RowOperand::Full: v.input_views.push_back({group.m, group.n}); break;
            case RowOperand::Row: v.input_views.push_back({group.n}); break;
            case RowOperand::Scalar: v.input_views.push_back({1}); break;
          }
        }
      }
      if (group.kind == GroupKind::LayerNorm)  // then Scale and B
        for (size_t i = 1; i < node.inputs.size() && i < 3; ++i)
          if (node.inputs[i] != kNoValue) {
            v.inputs.push_back(node.inputs[i]);
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
      for (size_t i = 2; i < inputs.size(); ++i) {
        const bool residual = i < group.input_views.size() && group.input_views[i].size() == 2;
        if (residual && inputs[i].numel() != m * n)
          return make_error(StatusCode::InvalidArgument, "the residual does not fit the MatMul's output");
        input_views.push_back(residual ? Shape{m, n} : Shape{inputs[i].numel()});
      }
      output_view = {m, n};
      output_shape.assign(a.begin(), a.end() - 1);
      output_shape.push_back(n);
      return {};
    }
    case GroupKind::BatchedGemm: {
      const Shape& a = inputs[0].shape();
      const Shape& b = inputs[1].shape();
      if (a.size() < 3 || a.size() != b.size() || a.back() != b[b.size() - 2] ||
          !std::equal(a.begin(), a.end() - 2, b.begin()))
        return make_error(StatusCode::InvalidArgument, "batched MatMul operands do not fit");
      const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
      const int64_t batch = shape_numel(a) / std::max<int64_t>(m * k, 1);
      input_views = {{batch, m, k}, {batch, k, n}};
      output_view = {batch, m, n};
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
    case GroupKind::Conv: return Status(StatusCode::Internal, "a Conv kernel has no shape-generic form");
    case GroupKind::Interpreted: break;
  }
  return Status(StatusCode::Internal, "generic_views on an interpreted group");
}

namespace {

// Appends a node's attributes in a canonical form; false for an attribute kind
// (tensor, graph) the key cannot describe exactly.
bool append_attributes(std::ostringstream& os, const Node& node) {
  for (const auto& [name, a] : node.attributes) {
    os << " " << name << "=";
    switch (a.kind) {
      case Attribute::Kind::Float: os << std::hexfloat << a.f << std::defaultfloat; break;
      case Attribute::Kind::Int: os << a.i; break;
      case Attribute::Kind::String: os << a.s.size() << ":" << a.s; break;
      case Attribute::Kind::Floats:
        for (float f : a.floats) os << std::hexfloat << f << std::defaultfloat << ",";
        break;
      case Attribute::Kind::Ints:
        for (int64_t i : a.ints) os << i << ",";
        break;
      case Attribute::Kind::Strings:
        for (const auto& str : a.strings) os << str.size() << ":" << str << ",";
        break;
      case Attribute::Kind::Tensor:
      case Attribute::Kind::Graph: return false;
    }
  }
  return true;
}

// Appends ops `nodes` of a kernel, their inputs named by `local` ("i<k>" for the
// kernel's inputs, "t<k>" for an earlier op's result, which this adds), and their
// attributes; false when an op reads something unnamed or has an attribute the
// key cannot describe.
bool append_ops(std::ostringstream& os, const Graph& g, const std::vector<int32_t>& nodes, size_t count,
                std::unordered_map<ValueId, std::string>& local) {
  for (size_t k = 0; k < count; ++k) {
    const Node& op = g.nodes[static_cast<size_t>(nodes[k])];
    os << "op " << op.domain << ":" << op.op_type << " (";
    for (ValueId id : op.inputs) {
      auto it = local.find(id);
      if (it == local.end()) return false;
      os << " " << it->second;
    }
    os << " )";
    if (!append_attributes(os, op)) return false;
    os << "\n";
    for (ValueId id : op.outputs) local[id] = "t" + std::to_string(k);
  }
  return true;
}

}  // namespace

std::string kernel_structure_key(const FusionPlan& plan, const FusionGroup& group, const LoweringOptions& options) {
  const Graph& g = *plan.graph;
  std::ostringstream os;
  os << "kind " << static_cast<int>(group.kind) << (plan.generic ? " generic" : " exact")
     << (options.listings ? " listings" : "") << "\n";
  // What the lowering reads of a buffer: its concrete shape, or for the generic
  // tier its symbolic shape (which decides broadcasting).
  auto shape_of = [&](ValueId id) -> std::string {
    if (!plan.generic) return shape_to_string(plan.shape(id));
    auto sym = symbolic_shape(g, id);
    return sym ? sym_shape_to_string(*sym) : std::string();
  };
  switch (group.kind) {
    case GroupKind::Elementwise: {
      std::unordered_map<ValueId, std::string> local;  // value -> "i<k>" (input) or "t<k>" (node output)
      for (size_t i = 0; i < group.inputs.size(); ++i) {
        const std::string shape = shape_of(group.inputs[i]);
        if (shape.empty()) return "";
        local[group.inputs[i]] = "i" + std::to_string(i);
        os << "in " << i << " " << shape << "\n";
      }
      if (!append_ops(os, g, group.nodes, group.nodes.size(), local)) return "";
      auto out = local.find(group.output);
      const std::string out_shape = shape_of(group.output);
      if (out == local.end() || out_shape.empty()) return "";
      os << "out " << out->second << " " << out_shape << "\n";
      return os.str();
    }
    case GroupKind::Gemm:
      os << "bias " << (group.gemm_bias != kNoValue) << " relu " << group.gemm_relu << " residual "
         << (group.gemm_residual != kNoValue) << " relu_after " << group.gemm_relu_after_residual;
      if (!plan.generic) os << " m " << group.m << " n " << group.n << " k " << group.k;
      return os.str();
    case GroupKind::BatchedGemm: {
      if (!plan.generic) os << "batch " << group.batch << " m " << group.m << " n " << group.n << " k " << group.k;
      const Node& matmul = g.nodes[static_cast<size_t>(group.nodes.back())];
      for (const auto* perm : {&group.a_perm, &group.b_perm}) {
        if (perm->empty()) continue;
        const size_t operand = perm == &group.a_perm ? 0 : 1;
        os << " operand " << operand << " " << shape_to_string(plan.shape(matmul.inputs[operand])) << " perm";
        for (int64_t d : *perm) os << " " << d;
      }
      return os.str();
    }
    case GroupKind::Conv: {
      const Node& node = g.nodes[static_cast<size_t>(group.nodes[0])];
      os << "x " << shape_to_string(plan.shape(node.inputs[0])) << " w " << shape_to_string(plan.shape(node.inputs[1]))
         << " bias " << (group.gemm_bias != kNoValue) << " relu " << group.gemm_relu << " residual "
         << (group.gemm_residual != kNoValue) << " relu_after " << group.gemm_relu_after_residual << " attrs";
      if (!append_attributes(os, node)) return "";
      return os.str();
    }
    case GroupKind::Softmax:
    case GroupKind::LayerNorm: {
      const Node& node = g.nodes[static_cast<size_t>(group.nodes[static_cast<size_t>(group.prologue)])];
      if (group.kind == GroupKind::LayerNorm)
        os << "bias " << (node.inputs.size() > 2 && node.inputs[2] != kNoValue) << " epsilon " << std::hexfloat
           << node.attr_float("epsilon", 1e-5f) << std::defaultfloat;
      if (!plan.generic) os << " m " << group.m << " n " << group.n;
      if (group.prologue == 0) return os.str();
      // The prologue, as an elementwise group's key describes its ops.
      const LoweredGroup views = group_views(plan, group);
      std::unordered_map<ValueId, std::string> local;
      const std::vector<ValueId> inputs = prologue_inputs(plan, group);
      os << "\n";
      for (size_t i = 0; i < inputs.size(); ++i) {
        local[inputs[i]] = "i" + std::to_string(i);
        os << "in " << i << " " << shape_to_string(views.input_views[i]) << "\n";
      }
      if (!append_ops(os, g, group.nodes, static_cast<size_t>(group.prologue), local)) return "";
      auto rows = local.find(node.inputs[0]);
      if (rows == local.end()) return "";
      os << "rows " << rows->second;
      return os.str();
    }
    case GroupKind::Interpreted: break;
  }
  return "";
}

namespace {

// The group's Halide pipeline (not compiled) and its views.
Expected<LoweredGroup> build_pipeline(const FusionPlan& plan, const FusionGroup& group, const std::string& kernel_name,
                                      jit::PipelineSpec& pipeline) {
  // Building Funcs is not covered by the compile lock (KernelCompiler.h): take it here too.
  std::lock_guard<std::mutex> lock(jit::halide_compile_mutex());
  std::vector<Halide::Argument> args;
  Func out;
  BufferRules rules{plan.generic};
  Expected<LoweredGroup> lowered = Status(StatusCode::Unsupported, "not a kernel group");
  try {
    switch (group.kind) {
      case GroupKind::Elementwise: lowered = lower_elementwise(plan, group, rules, args, out); break;
      case GroupKind::Gemm: lowered = lower_gemm(plan, group, rules, args, out); break;
      case GroupKind::BatchedGemm: lowered = lower_batched_gemm(plan, group, rules, args, out); break;
      case GroupKind::Conv: lowered = lower_conv(plan, group, rules, args, out); break;
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
  pipeline = jit::PipelineSpec{Halide::Pipeline(out), std::move(args), kernel_name};
  return lowered;
}

jit::CompileOptions compile_options(const FusionPlan& plan, const LoweringOptions& options) {
  jit::CompileOptions copts;
  copts.emit_halide_stmt = copts.emit_llvm_ir = copts.emit_assembly = options.listings;
  // An exact kernel's every extent is fixed and SpecializedRegion checks each view
  // before the call, so Halide's asserts and bounds queries only cost compile time
  // (about half of it); a generic kernel keeps them.
  copts.keep_asserts = plan.generic;
  return copts;
}

}  // namespace

Expected<std::vector<LoweredGroup>> lower_plan(const FusionPlan& plan, const std::string& name_prefix,
                                               const LoweringOptions& options) {
  std::vector<LoweredGroup> lowered;
  std::vector<std::string> keys;
  std::vector<jit::PipelineSpec> pipelines;
  std::vector<size_t> compiled_for;  // per pipeline: its kernel's index in `lowered`
  std::unordered_map<std::string, size_t> first_with_key;  // within this plan
  std::vector<std::pair<size_t, size_t>> same_as;          // (kernel, earlier kernel of this plan with its key)
  for (const FusionGroup& group : plan.groups) {
    if (group.kind == GroupKind::Interpreted) continue;
    const size_t index = lowered.size();
    std::string key = kernel_structure_key(plan, group, options);
    if (auto kernel = SharedKernels::process().find(key)) {  // compiled before, for another specialization
      LoweredGroup shared = group_views(plan, group);
      shared.kernel = std::move(kernel);
      shared.shared = true;
      lowered.push_back(std::move(shared));
      keys.push_back(std::move(key));
      continue;
    }
    if (!key.empty()) {
      auto [it, fresh] = first_with_key.emplace(key, index);
      if (!fresh) {  // the same kernel as an earlier group of this plan
        lowered.push_back(group_views(plan, group));
        lowered.back().shared = true;
        same_as.emplace_back(index, it->second);
        keys.push_back(std::move(key));
        continue;
      }
    }
    jit::PipelineSpec pipeline;
    DJ_ASSIGN_OR_RETURN(LoweredGroup group_lowered, build_pipeline(plan, group, name_prefix + "_g" + std::to_string(index), pipeline));
    lowered.push_back(std::move(group_lowered));
    keys.push_back(std::move(key));
    pipelines.push_back(std::move(pipeline));
    compiled_for.push_back(index);
  }
  if (!pipelines.empty()) {
    DJ_ASSIGN_OR_RETURN(std::vector<jit::CompiledKernel> kernels, jit::compile_pipelines(pipelines, compile_options(plan, options)));
    for (size_t p = 0; p < kernels.size(); ++p) {
      LoweredGroup& g = lowered[compiled_for[p]];
      g.kernel = std::make_shared<const jit::CompiledKernel>(std::move(kernels[p]));
      SharedKernels::process().add(keys[compiled_for[p]], g.kernel);
    }
  }
  for (const auto& [index, earlier] : same_as) lowered[index].kernel = lowered[earlier].kernel;
  return lowered;
}

}  // namespace dj::specializer
