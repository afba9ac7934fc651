// GRU (ONNX): gates z, r, h in W/R/B order;
//   z = f(Xt Wz^T + Ht-1 Rz^T + Wbz + Rbz)
//   r = f(Xt Wr^T + Ht-1 Rr^T + Wbr + Rbr)
//   h = g(Xt Wh^T + (r.Ht-1) Rh^T + Rbh + Wbh)        linear_before_reset = 0
//   h = g(Xt Wh^T + r.(Ht-1 Rh^T + Rbh) + Wbh)        linear_before_reset != 0
//   Ht = (1 - z).h + z.Ht-1
// `clip` bounds every activation input. A batch entry past its sequence length
// keeps its state and gets zeros in Y; a reverse direction walks each sequence
// from its own last valid step.
#include <cstring>

#include "runtime/ops/RnnKernels.h"
#include "runtime/ops/RnnMatmul.h"
#include "runtime/ops/RnnProblem.h"

namespace dj {

namespace {

template <typename C>
void run_direction(const RnnConfig& cfg, const RnnPacked<C>& p, int d, bool linear_before_reset, RnnResult<C>& res) {
  const int64_t hd = p.hidden, batch = p.batch, gw = p.gate_width(), nd = p.num_directions;
  const bool reverse = cfg.reverse || d == 1;
  const RnnActivation& act_f = cfg.activation(d, 0);
  const RnnActivation& act_g = cfg.activation(d, 1);
  const C clip = static_cast<C>(cfg.clip);

  // With linear_before_reset the hidden gate's Rb sits inside the reset product.
  const std::vector<C> xproj = project_inputs(p, d, linear_before_reset ? 2 * hd : gw);
  const C* rb_h = p.bias.data() + d * 2 * gw + gw + 2 * hd;
  std::vector<C> h(p.initial_h.begin() + d * batch * hd, p.initial_h.begin() + (d + 1) * batch * hd);
  std::vector<C> gates(static_cast<size_t>(batch * gw));
  // linear_before_reset: Ht-1 Rh^T + Rbh; otherwise: r.Ht-1.
  std::vector<C> aux(static_cast<size_t>(batch * hd));
  const C* rt = p.r_t->data() + d * hd * gw;

  for (int64_t s = 0; s < p.seq; ++s) {
    const int64_t t = reverse ? p.seq - 1 - s : s;
    std::memcpy(gates.data(), xproj.data() + t * batch * gw, gates.size() * sizeof(C));
    rnn_matmul_accumulate(h.data(), hd, rt, gw, gates.data(), gw, batch, hd, 2 * hd);
    if (linear_before_reset) {
      for (int64_t b = 0; b < batch; ++b) std::memcpy(aux.data() + b * hd, rb_h, static_cast<size_t>(hd) * sizeof(C));
      rnn_matmul_accumulate(h.data(), hd, rt + 2 * hd, gw, aux.data(), hd, batch, hd, hd);
    }
    for (int64_t b = 0; b < batch; ++b) {
      C* gz = gates.data() + b * gw;
      C* gr = gz + hd;
      if (cfg.has_clip) clip_span(gz, 2 * hd, clip);
      apply_activation(act_f, gz, 2 * hd);  // z and r are adjacent and share f
      C* ab = aux.data() + b * hd;
      const C* hb = h.data() + b * hd;
      if (linear_before_reset) {
        C* gh = gz + 2 * hd;
        for (int64_t j = 0; j < hd; ++j) gh[j] += gr[j] * ab[j];
      } else {
        for (int64_t j = 0; j < hd; ++j) ab[j] = gr[j] * hb[j];
      }
    }
    if (!linear_before_reset) rnn_matmul_accumulate(aux.data(), hd, rt + 2 * hd, gw, gates.data() + 2 * hd, gw, batch, hd, hd);
    for (int64_t b = 0; b < batch; ++b) {
      C* y_row = res.y.empty() ? nullptr : res.y.data() + ((t * nd + d) * batch + b) * hd;
      if (!p.active(t, b)) {
        if (y_row) std::memset(y_row, 0, static_cast<size_t>(hd) * sizeof(C));
        continue;
      }
      const C* gz = gates.data() + b * gw;
      C* gh = gates.data() + b * gw + 2 * hd;
      C* hb = h.data() + b * hd;
      if (cfg.has_clip) clip_span(gh, hd, clip);
      apply_activation(act_g, gh, hd);
      for (int64_t j = 0; j < hd; ++j) hb[j] = (C(1) - gz[j]) * gh[j] + gz[j] * hb[j];
      if (y_row) std::memcpy(y_row, hb, static_cast<size_t>(hd) * sizeof(C));
    }
  }
  std::memcpy(res.y_h.data() + d * batch * hd, h.data(), h.size() * sizeof(C));
}

template <typename C>
Status run_gru(KernelContext& ctx, RnnConfig& cfg) {
  DJ_ASSIGN_OR_RETURN(RnnPacked<C> p, pack_rnn_inputs<C>(ctx, cfg));
  const bool linear_before_reset = ctx.node().attr_int("linear_before_reset", 0) != 0;
  RnnResult<C> res;
  const size_t state_size = static_cast<size_t>(p.num_directions * p.batch * p.hidden);
  if (ctx.wants_output(0)) res.y.assign(static_cast<size_t>(p.seq) * state_size, C(0));
  res.y_h.resize(state_size);
  for (int d = 0; d < p.num_directions; ++d) run_direction(cfg, p, d, linear_before_reset, res);
  write_rnn_outputs(ctx, cfg, p, res, ctx.input(0).dtype());
  return {};
}

}  // namespace

Status gru_kernel(KernelContext& ctx) {
  DJ_ASSIGN_OR_RETURN(RnnConfig cfg, parse_rnn_config(ctx.node(), "GRU", 3, {"Sigmoid", "Tanh"}));
  DJ_CHECK(ctx.has_input(0), InvalidArgument, "GRU: required input X is missing");
  if (ctx.input(0).dtype() == DType::F64) return run_gru<double>(ctx, cfg);
  return run_gru<float>(ctx, cfg);
}

}  // namespace dj
