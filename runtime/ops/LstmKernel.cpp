// LSTM (ONNX): gates i, o, f, c in W/R/B order; optional peepholes P (i, o, f);
//   i = f(Xt Wi^T + Ht-1 Ri^T + Pi.Ct-1 + Wbi + Rbi)
//   f = f(Xt Wf^T + Ht-1 Rf^T + Pf.Ct-1 + Wbf + Rbf)      (1 - i when input_forget)
//   c = g(Xt Wc^T + Ht-1 Rc^T + Wbc + Rbc)
//   Ct = f.Ct-1 + i.c
//   o = f(Xt Wo^T + Ht-1 Ro^T + Po.Ct + Wbo + Rbo)
//   Ht = o.h(Ct)
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
void run_direction(const RnnConfig& cfg, const RnnPacked<C>& p, int d, bool input_forget, RnnResult<C>& res) {
  const int64_t hd = p.hidden, batch = p.batch, gw = p.gate_width(), nd = p.num_directions;
  const bool reverse = cfg.reverse || d == 1;
  const RnnActivation& act_f = cfg.activation(d, 0);
  const RnnActivation& act_g = cfg.activation(d, 1);
  const RnnActivation& act_h = cfg.activation(d, 2);
  const C clip = static_cast<C>(cfg.clip);

  const std::vector<C> xproj = project_inputs(p, d, gw);
  std::vector<C> h(p.initial_h.begin() + d * batch * hd, p.initial_h.begin() + (d + 1) * batch * hd);
  std::vector<C> c(p.initial_c.begin() + d * batch * hd, p.initial_c.begin() + (d + 1) * batch * hd);
  std::vector<C> gates(static_cast<size_t>(batch * gw));
  std::vector<C> hc(static_cast<size_t>(hd));
  const C* rt = p.r_t->data() + d * hd * gw;
  const C* pi = p.peephole.data() + d * 3 * hd;
  const C* po = pi + hd;
  const C* pf = pi + 2 * hd;

  for (int64_t s = 0; s < p.seq; ++s) {
    const int64_t t = reverse ? p.seq - 1 - s : s;
    std::memcpy(gates.data(), xproj.data() + t * batch * gw, gates.size() * sizeof(C));
    rnn_matmul_accumulate(h.data(), hd, rt, gw, gates.data(), gw, batch, hd, gw);
    for (int64_t b = 0; b < batch; ++b) {
      C* y_row = res.y.empty() ? nullptr : res.y.data() + ((t * nd + d) * batch + b) * hd;
      if (!p.active(t, b)) {
        if (y_row) std::memset(y_row, 0, static_cast<size_t>(hd) * sizeof(C));
        continue;
      }
      C* gi = gates.data() + b * gw;
      C* go = gi + hd;
      C* gf = gi + 2 * hd;
      C* gc = gi + 3 * hd;
      C* hb = h.data() + b * hd;
      C* cb = c.data() + b * hd;
      for (int64_t j = 0; j < hd; ++j) {
        gi[j] += pi[j] * cb[j];
        gf[j] += pf[j] * cb[j];
      }
      if (cfg.has_clip) {
        clip_span(gi, hd, clip);
        clip_span(gf, hd, clip);
        clip_span(gc, hd, clip);
      }
      apply_activation(act_f, gi, hd);
      if (input_forget) {
        for (int64_t j = 0; j < hd; ++j) gf[j] = C(1) - gi[j];
      } else {
        apply_activation(act_f, gf, hd);
      }
      apply_activation(act_g, gc, hd);
      for (int64_t j = 0; j < hd; ++j) cb[j] = gf[j] * cb[j] + gi[j] * gc[j];
      for (int64_t j = 0; j < hd; ++j) go[j] += po[j] * cb[j];
      if (cfg.has_clip) clip_span(go, hd, clip);
      apply_activation(act_f, go, hd);
      std::memcpy(hc.data(), cb, static_cast<size_t>(hd) * sizeof(C));
      apply_activation(act_h, hc.data(), hd);
      for (int64_t j = 0; j < hd; ++j) hb[j] = go[j] * hc[static_cast<size_t>(j)];
      if (y_row) std::memcpy(y_row, hb, static_cast<size_t>(hd) * sizeof(C));
    }
  }
  std::memcpy(res.y_h.data() + d * batch * hd, h.data(), h.size() * sizeof(C));
  std::memcpy(res.y_c.data() + d * batch * hd, c.data(), c.size() * sizeof(C));
}

template <typename C>
Status run_lstm(KernelContext& ctx, RnnConfig& cfg) {
  DJ_ASSIGN_OR_RETURN(RnnPacked<C> p, pack_rnn_inputs<C>(ctx, cfg));
  const bool input_forget = ctx.node().attr_int("input_forget", 0) != 0;
  RnnResult<C> res;
  const size_t state_size = static_cast<size_t>(p.num_directions * p.batch * p.hidden);
  if (ctx.wants_output(0)) res.y.assign(static_cast<size_t>(p.seq) * state_size, C(0));
  res.y_h.resize(state_size);
  res.y_c.resize(state_size);
  for (int d = 0; d < p.num_directions; ++d) run_direction(cfg, p, d, input_forget, res);
  write_rnn_outputs(ctx, cfg, p, res, ctx.input(0).dtype());
  return {};
}

}  // namespace

Status lstm_kernel(KernelContext& ctx) {
  DJ_ASSIGN_OR_RETURN(RnnConfig cfg, parse_rnn_config(ctx.node(), "LSTM", 4, {"Sigmoid", "Tanh", "Tanh"}));
  DJ_CHECK(ctx.has_input(0), InvalidArgument, "LSTM: required input X is missing");
  if (ctx.input(0).dtype() == DType::F64) return run_lstm<double>(ctx, cfg);
  return run_lstm<float>(ctx, cfg);
}

}  // namespace dj
