// Attributes, input checks, packing and output writing shared by LSTM, GRU and
// RNN (see RnnProblem.h).
#include "runtime/ops/RnnProblem.h"

#include <algorithm>
#include <cstring>

namespace dj {

namespace {

// Every element of a float tensor converted to C.
template <typename C>
std::vector<C> read_as(const Tensor& t) {
  std::vector<C> out(static_cast<size_t>(t.numel()));
  dispatch_dtype(t.dtype(), FloatTypes{}, [&](auto tag) {
    using S = decltype(tag);
    const S* d = t.data<S>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<C>(static_cast<typename ComputeType<S>::type>(d[i]));
  });
  return out;
}

template <typename C>
Tensor tensor_from(const C* data, DType dtype, const Shape& shape) {
  Tensor t = Tensor::empty(dtype, shape);
  const int64_t n = t.numel();
  dispatch_dtype(dtype, FloatTypes{}, [&](auto tag) {
    using S = decltype(tag);
    S* d = t.data<S>();
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<S>(data[i]);
  });
  return t;
}

// [a, b, inner] -> [b, a, inner]: the layout 0 <-> layout 1 swap of the first two axes.
template <typename C>
std::vector<C> swap_leading_axes(const C* src, int64_t a, int64_t b, int64_t inner) {
  std::vector<C> out(static_cast<size_t>(a * b * inner));
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      std::memcpy(&out[static_cast<size_t>((j * a + i) * inner)], src + (i * b + j) * inner,
                  static_cast<size_t>(inner) * sizeof(C));
  return out;
}

Status check_shape(const Tensor& t, const char* op, const char* what, const Shape& expected) {
  DJ_CHECK(t.shape() == expected, InvalidArgument, op, ": ", what, " has shape ", shape_to_string(t.shape()),
           ", expected ", shape_to_string(expected));
  return {};
}

}  // namespace

Expected<RnnConfig> parse_rnn_config(const Node& node, const char* op, int gates,
                                     const std::vector<std::string>& default_activations) {
  RnnConfig cfg;
  cfg.op = op;
  cfg.gates = gates;
  cfg.hidden = node.attr_int("hidden_size", 0);
  DJ_CHECK(cfg.hidden >= 0, InvalidArgument, op, ": hidden_size ", cfg.hidden, " is negative");
  const std::string direction = node.attr_string("direction", "forward");
  if (direction == "bidirectional") {
    cfg.num_directions = 2;
  } else if (direction == "reverse") {
    cfg.reverse = true;
  } else if (direction != "forward") {
    return make_error(StatusCode::InvalidArgument, op, ": unknown direction '", direction, "'");
  }
  cfg.layout = node.attr_int("layout", 0);
  DJ_CHECK(cfg.layout == 0 || cfg.layout == 1, InvalidArgument, op, ": layout ", cfg.layout, " is not 0 or 1");
  if (node.has_attr("clip")) {
    cfg.has_clip = true;
    cfg.clip = node.attr_float("clip", 0);
    DJ_CHECK(cfg.clip >= 0, InvalidArgument, op, ": clip ", cfg.clip, " is negative");
  }
  cfg.activations_per_direction = static_cast<int>(default_activations.size());
  std::vector<std::string> names;
  if (node.has_attr("activations")) names = node.attributes.at("activations").strings;
  const size_t per_dir = default_activations.size();
  if (names.empty()) {
    for (int d = 0; d < cfg.num_directions; ++d) names.insert(names.end(), default_activations.begin(), default_activations.end());
  } else if (names.size() == per_dir && cfg.num_directions == 2) {
    // One set given for a bidirectional op: both directions use it.
    std::vector<std::string> twice = names;
    twice.insert(twice.end(), names.begin(), names.end());
    names = std::move(twice);
  }
  DJ_CHECK(names.size() == per_dir * static_cast<size_t>(cfg.num_directions), InvalidArgument, op, ": ",
           names.size(), " activations given, expected ", per_dir * static_cast<size_t>(cfg.num_directions));
  DJ_ASSIGN_OR_RETURN(cfg.activations, parse_rnn_activations(names, node.attr_floats("activation_alpha"),
                                                             node.attr_floats("activation_beta"), op));
  return cfg;
}

template <typename C>
Expected<RnnPacked<C>> pack_rnn_inputs(const KernelContext& ctx, RnnConfig& cfg) {
  const char* op = cfg.op;
  for (size_t i : {size_t{0}, size_t{1}, size_t{2}})
    DJ_CHECK(ctx.has_input(i), InvalidArgument, op, ": required input ", (i == 0 ? "X" : i == 1 ? "W" : "R"),
             " is missing");
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor& r = ctx.input(2);
  DJ_CHECK(dtype_is_float(x.dtype()), InvalidArgument, op, ": X has dtype ", dtype_name(x.dtype()),
           ", expected a float type");
  DJ_CHECK(x.rank() == 3, InvalidArgument, op, ": X has shape ", shape_to_string(x.shape()), ", expected rank 3");
  DJ_CHECK(w.rank() == 3 && r.rank() == 3, InvalidArgument, op, ": W ", shape_to_string(w.shape()), " and R ",
           shape_to_string(r.shape()), " must have rank 3");
  for (size_t i = 1; i < ctx.num_inputs() && i < 8; ++i)
    if (i != 4 && ctx.has_input(i))
      DJ_CHECK(ctx.input(i).dtype() == x.dtype(), InvalidArgument, op, ": input ", i, " has dtype ",
               dtype_name(ctx.input(i).dtype()), ", X has ", dtype_name(x.dtype()));

  RnnPacked<C> p;
  p.gates = cfg.gates;
  p.num_directions = cfg.num_directions;
  const int64_t nd = cfg.num_directions;
  p.seq = cfg.layout == 0 ? x.dim(0) : x.dim(1);
  p.batch = cfg.layout == 0 ? x.dim(1) : x.dim(0);
  p.input = x.dim(2);
  if (cfg.hidden == 0) cfg.hidden = r.dim(2);
  const int64_t h = p.hidden = cfg.hidden;
  const int64_t gw = h * cfg.gates;
  DJ_RETURN_IF_ERROR(check_shape(w, op, "W", {nd, gw, p.input}));
  DJ_RETURN_IF_ERROR(check_shape(r, op, "R", {nd, gw, h}));

  p.x = read_as<C>(x);
  if (cfg.layout == 1) p.x = swap_leading_axes(p.x.data(), p.batch, p.seq, p.input);

  p.w = rnn_gate_weights<C>(w, cfg.gates);
  p.r = rnn_gate_weights<C>(r, cfg.gates);

  if (ctx.has_input(3)) {
    DJ_RETURN_IF_ERROR(check_shape(ctx.input(3), op, "B", {nd, 2 * gw}));
    p.bias = read_as<C>(ctx.input(3));
  } else {
    p.bias.assign(static_cast<size_t>(nd * 2 * gw), C(0));
  }

  p.seq_lens.assign(static_cast<size_t>(p.batch), p.seq);
  if (ctx.has_input(4)) {
    const Tensor& lens = ctx.input(4);
    DJ_CHECK(lens.dtype() != DType::Bool && !dtype_is_float(lens.dtype()), InvalidArgument, op,
             ": sequence_lens has dtype ", dtype_name(lens.dtype()), ", expected int32");
    DJ_RETURN_IF_ERROR(check_shape(lens, op, "sequence_lens", {p.batch}));
    p.seq_lens = lens.to_int64_vector();
    for (size_t b = 0; b < p.seq_lens.size(); ++b) {
      DJ_CHECK(p.seq_lens[b] >= 0 && p.seq_lens[b] <= p.seq, InvalidArgument, op, ": sequence_lens[", b, "] = ",
               p.seq_lens[b], " is outside [0, ", p.seq, "]");
      if (p.seq_lens[b] != p.seq) p.full_length = false;
    }
  }

  const Shape state_shape = cfg.layout == 0 ? Shape{nd, p.batch, h} : Shape{p.batch, nd, h};
  auto read_state = [&](size_t index, const char* what, std::vector<C>& out) -> Status {
    if (!ctx.has_input(index)) {
      out.assign(static_cast<size_t>(nd * p.batch * h), C(0));
      return {};
    }
    DJ_RETURN_IF_ERROR(check_shape(ctx.input(index), op, what, state_shape));
    out = read_as<C>(ctx.input(index));
    if (cfg.layout == 1) out = swap_leading_axes(out.data(), p.batch, nd, h);
    return {};
  };
  DJ_RETURN_IF_ERROR(read_state(5, "initial_h", p.initial_h));
  if (cfg.gates == 4) {
    DJ_RETURN_IF_ERROR(read_state(6, "initial_c", p.initial_c));
    if (ctx.has_input(7)) {
      DJ_RETURN_IF_ERROR(check_shape(ctx.input(7), op, "P", {nd, 3 * h}));
      p.peephole = read_as<C>(ctx.input(7));
      p.has_peephole = std::any_of(p.peephole.begin(), p.peephole.end(), [](C v) { return v != C(0); });
    } else {
      p.peephole.assign(static_cast<size_t>(nd * 3 * h), C(0));
    }
  }
  return p;
}

template <typename C>
void write_rnn_outputs(KernelContext& ctx, const RnnConfig& cfg, const RnnPacked<C>& p, const RnnResult<C>& r,
                       DType dtype) {
  const int64_t nd = p.num_directions, h = p.hidden;
  if (ctx.wants_output(0)) {
    if (cfg.layout == 0) {
      ctx.set_output(0, tensor_from(r.y.data(), dtype, {p.seq, nd, p.batch, h}));
    } else {
      // [seq, nd, batch, h] -> [batch, seq, nd, h]
      std::vector<C> y(r.y.size());
      for (int64_t t = 0; t < p.seq; ++t)
        for (int64_t d = 0; d < nd; ++d)
          for (int64_t b = 0; b < p.batch; ++b)
            std::memcpy(&y[static_cast<size_t>(((b * p.seq + t) * nd + d) * h)],
                        &r.y[static_cast<size_t>(((t * nd + d) * p.batch + b) * h)], static_cast<size_t>(h) * sizeof(C));
      ctx.set_output(0, tensor_from(y.data(), dtype, {p.batch, p.seq, nd, h}));
    }
  }
  auto write_state = [&](size_t index, const std::vector<C>& s) {
    if (!ctx.wants_output(index) || s.empty()) return;
    if (cfg.layout == 0) {
      ctx.set_output(index, tensor_from(s.data(), dtype, {nd, p.batch, h}));
    } else {
      std::vector<C> swapped = swap_leading_axes(s.data(), nd, p.batch, h);
      ctx.set_output(index, tensor_from(swapped.data(), dtype, {p.batch, nd, h}));
    }
  };
  write_state(1, r.y_h);
  write_state(2, r.y_c);
}

template <typename C>
std::vector<C> project_inputs(const RnnPacked<C>& p, int d, int64_t rb_columns) {
  const int64_t gw = p.gate_width();
  const int64_t rows = p.seq * p.batch;
  std::vector<C> bias_sum(static_cast<size_t>(gw));
  const C* wb = p.bias.data() + d * 2 * gw;
  const C* rb = wb + gw;
  for (int64_t j = 0; j < gw; ++j) bias_sum[static_cast<size_t>(j)] = wb[j] + (j < rb_columns ? rb[j] : C(0));
  std::vector<C> out(static_cast<size_t>(rows * gw));
  for (int64_t r = 0; r < rows; ++r) std::memcpy(&out[static_cast<size_t>(r * gw)], bias_sum.data(), static_cast<size_t>(gw) * sizeof(C));
  rnn_project_gates(p.w, d, p.x.data(), rows, out.data());
  return out;
}

Status infer_rnn_shapes(ShapeContext& ctx) {
  const Node& node = ctx.node();
  const std::optional<DType> dtype = ctx.input_dtype(0);
  const int64_t nd = node.attr_string("direction", "forward") == "bidirectional" ? 2 : 1;
  const int64_t layout = node.attr_int("layout", 0);
  std::optional<SymExpr> hidden;
  if (node.has_attr("hidden_size")) {
    hidden = SymExpr(node.attr_int("hidden_size", 0));
  } else if (const auto& rs = ctx.input_shape(2); rs && rs->size() == 3) {
    hidden = (*rs)[2];
  }
  const auto& xs = ctx.input_shape(0);
  std::optional<SymShape> y, state;
  if (xs && xs->size() == 3 && hidden) {
    const SymExpr seq = layout == 0 ? (*xs)[0] : (*xs)[1];
    const SymExpr batch = layout == 0 ? (*xs)[1] : (*xs)[0];
    y = layout == 0 ? SymShape{seq, nd, batch, *hidden} : SymShape{batch, seq, nd, *hidden};
    state = layout == 0 ? SymShape{nd, batch, *hidden} : SymShape{batch, nd, *hidden};
  }
  for (size_t i = 0; i < ctx.num_outputs(); ++i) ctx.set_output(i, dtype, i == 0 ? y : state);
  return {};
}

template Expected<RnnPacked<float>> pack_rnn_inputs<float>(const KernelContext&, RnnConfig&);
template Expected<RnnPacked<double>> pack_rnn_inputs<double>(const KernelContext&, RnnConfig&);
template std::vector<float> project_inputs<float>(const RnnPacked<float>&, int, int64_t);
template std::vector<double> project_inputs<double>(const RnnPacked<double>&, int, int64_t);
template void write_rnn_outputs<float>(KernelContext&, const RnnConfig&, const RnnPacked<float>&,
                                       const RnnResult<float>&, DType);
template void write_rnn_outputs<double>(KernelContext&, const RnnConfig&, const RnnPacked<double>&,
                                        const RnnResult<double>&, DType);

}  // namespace dj
