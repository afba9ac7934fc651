// LSTM (ONNX): gates i, o, f, c in W/R/B order; optional peepholes P (i, o, f);
//   i = f(Xt Wi^T + Ht-1 Ri^T + Pi.Ct-1 + Wbi + Rbi)
//   f = f(Xt Wf^T + Ht-1 Rf^T + Pf.Ct-1 + Wbf + Rbf)      (1 - i when input_forget)
//   c = g(Xt Wc^T + Ht-1 Rc^T + Wbc + Rbc)
//   Ct = f.Ct-1 + i.c
//   o = f(Xt Wo^T + Ht-1 Ro^T + Po.Ct + Wbo + Rbo)
//   Ht = o.h(Ct)
// `clip` bounds every activation input. A batch entry past its sequence length
// keeps its state and gets zeros in Y; a reverse direction walks each sequence
// from its own last valid step. f32 with the default activations and no clip runs
// the fused update of RnnIsa.h; everything else the span loops below, which the
// f64 path runs exactly as before the fused kernels existed.
#include <cstring>
#include <type_traits>
#include <utility>

#include "runtime/ops/RnnGateProduct.h"
#include "runtime/ops/RnnIsa.h"
#include "runtime/ops/RnnKernels.h"
#include "runtime/ops/RnnProblem.h"

namespace dj {

namespace {

// One batch row's state update over n units, any activations and clip (the f64
// path, and f32 when the fused kernel does not apply). Gate buffers are scratch.
template <typename C>
void update_cell(const RnnConfig& cfg, int d, bool input_forget, int64_t n, C* gi, C* go, C* gf, C* gc, const C* pi,
                 const C* po, const C* pf, C* c, C* h, C* y) {
  const RnnActivation& act_f = cfg.activation(d, 0);
  const C clip = static_cast<C>(cfg.clip);
  for (int64_t j = 0; j < n; ++j) {
    gi[j] += pi[j] * c[j];
    gf[j] += pf[j] * c[j];
  }
  if (cfg.has_clip) {
    clip_span(gi, n, clip);
    clip_span(gf, n, clip);
    clip_span(gc, n, clip);
  }
  apply_activation(act_f, gi, n);
  if (input_forget) {
    for (int64_t j = 0; j < n; ++j) gf[j] = C(1) - gi[j];
  } else {
    apply_activation(act_f, gf, n);
  }
  apply_activation(cfg.activation(d, 1), gc, n);
  for (int64_t j = 0; j < n; ++j) c[j] = gf[j] * c[j] + gi[j] * gc[j];
  for (int64_t j = 0; j < n; ++j) go[j] += po[j] * c[j];
  if (cfg.has_clip) clip_span(go, n, clip);
  apply_activation(act_f, go, n);
  std::memcpy(h, c, static_cast<size_t>(n) * sizeof(C));
  apply_activation(cfg.activation(d, 2), h, n);
  for (int64_t j = 0; j < n; ++j) h[j] = go[j] * h[j];
  if (y) std::memcpy(y, h, static_cast<size_t>(n) * sizeof(C));
}

// Sigmoid/Tanh/Tanh without clip: the fused vector kernel of RnnIsa.h does f32.
bool has_default_cell(const RnnConfig& cfg, int d) {
  return !cfg.has_clip && cfg.activation(d, 0).kind == RnnActivationKind::Sigmoid &&
         cfg.activation(d, 1).kind == RnnActivationKind::Tanh && cfg.activation(d, 2).kind == RnnActivationKind::Tanh;
}

// Each step: a task per block of units computes its units' four gate products
// (into that step's input projection, in place) and then their state update; h is
// double-buffered because every task reads all of Ht-1 while others write Ht.
template <typename C>
void run_direction(const RnnConfig& cfg, const RnnPacked<C>& p, int d, bool input_forget, RnnResult<C>& res) {
  const int64_t hd = p.hidden, batch = p.batch, gw = p.gate_width(), nd = p.num_directions;
  const bool reverse = cfg.reverse || d == 1;
  const bool fused = std::is_same_v<C, float> && has_default_cell(cfg, d);

  std::vector<C> xproj = project_inputs(p, d, gw);
  std::vector<C> h(p.initial_h.begin() + d * batch * hd, p.initial_h.begin() + (d + 1) * batch * hd);
  std::vector<C> h_next(h.size());
  std::vector<C> c(p.initial_c.begin() + d * batch * hd, p.initial_c.begin() + (d + 1) * batch * hd);
  const C* pi = p.peephole.data() + d * 3 * hd;
  const C* po = pi + hd;
  const C* pf = pi + 2 * hd;
  const int64_t block = rnn_unit_block(p.r);
  const double macs = double(batch) * double(hd) * double(gw);
  const bool zero_start = rnn_product_vanishes(p.r, h.data(), batch, hd, hd);

  for (int64_t s = 0; s < p.seq; ++s) {
    const int64_t t = reverse ? p.seq - 1 - s : s;
    C* gates = xproj.data() + t * batch * gw;
    C* y_t = res.y.empty() ? nullptr : res.y.data() + (t * nd + d) * batch * hd;
    const C* h_prev = h.data();
    C* h_new = h_next.data();
    const bool skip_h_product = s == 0 && zero_start;  // Ht-1 = 0: its products add nothing
    rnn_for_unit_blocks(hd, block, skip_h_product ? 0.0 : macs, [&](int64_t u0, int64_t u1) {
      C* gate_out[4] = {gates, gates + hd, gates + 2 * hd, gates + 3 * hd};
      if (!skip_h_product) rnn_accumulate_gates(p.r, d, u0, u1, 0, 4, h_prev, hd, batch, gate_out, gw);
      const int64_t n = u1 - u0;
      for (int64_t b = 0; b < batch; ++b) {
        const C* hp = h_prev + b * hd + u0;
        C* hn = h_new + b * hd + u0;
        if (!p.active(t, b)) {  // keeps its state; its Y rows stay zero
          std::memcpy(hn, hp, static_cast<size_t>(n) * sizeof(C));
          continue;
        }
        C* gi = gates + b * gw + u0;
        C* cb = c.data() + b * hd + u0;
        C* y = y_t ? y_t + b * hd + u0 : nullptr;
        if constexpr (std::is_same_v<C, float>) {
          if (fused) {
            const bool peep = p.has_peephole;
            rnn_isa_kernels().lstm_cell(RnnLstmCell{.n = n, .gi = gi, .go = gi + hd, .gf = gi + 2 * hd,
                                                    .gc = gi + 3 * hd, .pi = peep ? pi + u0 : nullptr,
                                                    .po = peep ? po + u0 : nullptr, .pf = peep ? pf + u0 : nullptr,
                                                    .input_forget = input_forget, .c = cb, .h = hn, .y = y});
            continue;
          }
        }
        update_cell(cfg, d, input_forget, n, gi, gi + hd, gi + 2 * hd, gi + 3 * hd, pi + u0, po + u0, pf + u0, cb,
                    hn, y);
      }
    });
    std::swap(h, h_next);
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
