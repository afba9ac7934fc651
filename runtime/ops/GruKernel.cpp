// GRU (ONNX): gates z, r, h in W/R/B order;
//   z = f(Xt Wz^T + Ht-1 Rz^T + Wbz + Rbz)
//   r = f(Xt Wr^T + Ht-1 Rr^T + Wbr + Rbr)
//   h = g(Xt Wh^T + (r.Ht-1) Rh^T + Rbh + Wbh)        linear_before_reset = 0
//   h = g(Xt Wh^T + r.(Ht-1 Rh^T + Rbh) + Wbh)        linear_before_reset != 0
//   Ht = (1 - z).h + z.Ht-1
// `clip` bounds every activation input. A batch entry past its sequence length
// keeps its state and gets zeros in Y; a reverse direction walks each sequence
// from its own last valid step. f32 with the default activations and no clip runs
// the fused updates of RnnIsa.h; everything else the span loops below, which the
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

// Ht = (1 - z).hh + z.Ht-1 over n units, y (may be null) a copy of it.
template <typename C>
void blend_state(int64_t n, const C* z, const C* hh, const C* hp, C* hn, C* y) {
  for (int64_t j = 0; j < n; ++j) hn[j] = (C(1) - z[j]) * hh[j] + z[j] * hp[j];
  if (y) std::memcpy(y, hn, static_cast<size_t>(n) * sizeof(C));
}

// Sigmoid/Tanh without clip: the fused vector kernels of RnnIsa.h do f32.
bool has_default_cell(const RnnConfig& cfg, int d) {
  return !cfg.has_clip && cfg.activation(d, 0).kind == RnnActivationKind::Sigmoid &&
         cfg.activation(d, 1).kind == RnnActivationKind::Tanh;
}

// Each step splits by blocks of units (RnnGateProduct.h); h is double-buffered
// because every task reads all of Ht-1 while others write Ht. Without
// linear_before_reset the hidden gate's product needs all of r.Ht-1 first: two
// parallel phases per step.
template <typename C>
void run_direction(const RnnConfig& cfg, const RnnPacked<C>& p, int d, bool linear_before_reset, RnnResult<C>& res) {
  const int64_t hd = p.hidden, batch = p.batch, gw = p.gate_width(), nd = p.num_directions;
  const bool reverse = cfg.reverse || d == 1;
  const RnnActivation& act_f = cfg.activation(d, 0);
  const RnnActivation& act_g = cfg.activation(d, 1);
  const C clip = static_cast<C>(cfg.clip);
  const bool fused = std::is_same_v<C, float> && has_default_cell(cfg, d);

  // With linear_before_reset the hidden gate's Rb sits inside the reset product.
  std::vector<C> xproj = project_inputs(p, d, linear_before_reset ? 2 * hd : gw);
  const C* rb_h = p.bias.data() + d * 2 * gw + gw + 2 * hd;
  std::vector<C> h(p.initial_h.begin() + d * batch * hd, p.initial_h.begin() + (d + 1) * batch * hd);
  std::vector<C> h_next(h.size());
  // linear_before_reset: Ht-1 Rh^T + Rbh, [batch, gw] with its columns 2*hd..3*hd used
  // (the gates' row stride); otherwise r.Ht-1, [batch, hd].
  std::vector<C> aux(static_cast<size_t>(batch * (linear_before_reset ? gw : hd)));
  const int64_t block = rnn_unit_block(p.r);
  const double macs = double(batch) * double(hd) * double(hd);
  const bool zero_start = rnn_product_vanishes(p.r, h.data(), batch, hd, hd);

  for (int64_t s = 0; s < p.seq; ++s) {
    const bool skip_h_product = s == 0 && zero_start;  // Ht-1 = 0: its products add nothing
    const int64_t t = reverse ? p.seq - 1 - s : s;
    C* gates = xproj.data() + t * batch * gw;
    C* y_t = res.y.empty() ? nullptr : res.y.data() + (t * nd + d) * batch * hd;
    const C* h_prev = h.data();
    C* h_new = h_next.data();
    auto row_of = [&](int64_t b, int64_t u0) { return y_t ? y_t + b * hd + u0 : nullptr; };

    if (linear_before_reset) {
      rnn_for_unit_blocks(hd, block, skip_h_product ? 0.0 : 3 * macs, [&](int64_t u0, int64_t u1) {
        const int64_t n = u1 - u0;
        C* rec_h = aux.data() + 2 * hd;
        for (int64_t b = 0; b < batch; ++b)
          std::memcpy(rec_h + b * gw + u0, rb_h + u0, static_cast<size_t>(n) * sizeof(C));
        C* gate_out[3] = {gates, gates + hd, rec_h};
        if (!skip_h_product) rnn_accumulate_gates(p.r, d, u0, u1, 0, 3, h_prev, hd, batch, gate_out, gw);
        for (int64_t b = 0; b < batch; ++b) {
          const C* hp = h_prev + b * hd + u0;
          C* hn = h_new + b * hd + u0;
          if (!p.active(t, b)) {  // keeps its state; its Y rows stay zero
            std::memcpy(hn, hp, static_cast<size_t>(n) * sizeof(C));
            continue;
          }
          C* gz = gates + b * gw + u0;
          C* gr = gz + hd;
          C* gh = gz + 2 * hd;
          const C* ab = rec_h + b * gw + u0;
          if constexpr (std::is_same_v<C, float>) {
            if (fused) {
              rnn_isa_kernels().gru_cell(
                  RnnGruCell{.n = n, .gz = gz, .gr = gr, .gh = gh, .rh = ab, .h_prev = hp, .h = hn, .y = row_of(b, u0)});
              continue;
            }
          }
          if (cfg.has_clip) {
            clip_span(gz, n, clip);
            clip_span(gr, n, clip);
          }
          apply_activation(act_f, gz, n);
          apply_activation(act_f, gr, n);
          for (int64_t j = 0; j < n; ++j) gh[j] += gr[j] * ab[j];
          if (cfg.has_clip) clip_span(gh, n, clip);
          apply_activation(act_g, gh, n);
          blend_state(n, gz, gh, hp, hn, row_of(b, u0));
        }
      });
    } else {
      // Phase 1: z and r products; r.Ht-1 for every row.
      rnn_for_unit_blocks(hd, block, skip_h_product ? 0.0 : 2 * macs, [&](int64_t u0, int64_t u1) {
        const int64_t n = u1 - u0;
        C* gate_out[2] = {gates, gates + hd};
        if (!skip_h_product) rnn_accumulate_gates(p.r, d, u0, u1, 0, 2, h_prev, hd, batch, gate_out, gw);
        for (int64_t b = 0; b < batch; ++b) {
          C* gr = gates + b * gw + hd + u0;
          const C* hp = h_prev + b * hd + u0;
          C* rh = aux.data() + b * hd + u0;
          if constexpr (std::is_same_v<C, float>) {
            if (fused) {
              rnn_isa_kernels().gru_reset(gr, hp, rh, n);
              continue;
            }
          }
          if (cfg.has_clip) clip_span(gr, n, clip);
          apply_activation(act_f, gr, n);
          for (int64_t j = 0; j < n; ++j) rh[j] = gr[j] * hp[j];
        }
      });
      // Phase 2: the hidden gate's product of r.Ht-1, and the state update.
      rnn_for_unit_blocks(hd, block, macs, [&](int64_t u0, int64_t u1) {
        const int64_t n = u1 - u0;
        C* gate_out[1] = {gates + 2 * hd};
        rnn_accumulate_gates(p.r, d, u0, u1, 2, 3, aux.data(), hd, batch, gate_out, gw);
        for (int64_t b = 0; b < batch; ++b) {
          const C* hp = h_prev + b * hd + u0;
          C* hn = h_new + b * hd + u0;
          if (!p.active(t, b)) {
            std::memcpy(hn, hp, static_cast<size_t>(n) * sizeof(C));
            continue;
          }
          C* gz = gates + b * gw + u0;
          C* gh = gz + 2 * hd;
          if constexpr (std::is_same_v<C, float>) {
            if (fused) {
              rnn_isa_kernels().gru_cell(RnnGruCell{
                  .n = n, .gz = gz, .gr = nullptr, .gh = gh, .rh = nullptr, .h_prev = hp, .h = hn, .y = row_of(b, u0)});
              continue;
            }
          }
          if (cfg.has_clip) {
            clip_span(gz, n, clip);
            clip_span(gh, n, clip);
          }
          apply_activation(act_f, gz, n);
          apply_activation(act_g, gh, n);
          blend_state(n, gz, gh, hp, hn, row_of(b, u0));
        }
      });
    }
    std::swap(h, h_next);
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
