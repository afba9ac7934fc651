// RNN (ONNX's simple Elman RNN): Ht = f(Xt Wi^T + Ht-1 Ri^T + Wbi + Rbi), f
// defaulting to Tanh. `clip` bounds the activation input. A batch entry past its
// sequence length keeps its state and gets zeros in Y; a reverse direction walks
// each sequence from its own last valid step.
#include <cstring>
#include <utility>

#include "runtime/ops/RnnGateProduct.h"
#include "runtime/ops/RnnKernels.h"
#include "runtime/ops/RnnProblem.h"

namespace dj {

namespace {

// Each step splits by blocks of units (RnnGateProduct.h); h is double-buffered
// because every task reads all of Ht-1 while others write Ht.
template <typename C>
void run_direction(const RnnConfig& cfg, const RnnPacked<C>& p, int d, RnnResult<C>& res) {
  const int64_t hd = p.hidden, batch = p.batch, nd = p.num_directions;
  const bool reverse = cfg.reverse || d == 1;
  const RnnActivation& act_f = cfg.activation(d, 0);
  const C clip = static_cast<C>(cfg.clip);

  std::vector<C> xproj = project_inputs(p, d, hd);
  std::vector<C> h(p.initial_h.begin() + d * batch * hd, p.initial_h.begin() + (d + 1) * batch * hd);
  std::vector<C> h_next(h.size());
  const int64_t block = rnn_unit_block(p.r);
  const double macs = double(batch) * double(hd) * double(hd);
  const bool zero_start = rnn_product_vanishes(p.r, h.data(), batch, hd, hd);

  for (int64_t s = 0; s < p.seq; ++s) {
    const int64_t t = reverse ? p.seq - 1 - s : s;
    C* gates = xproj.data() + t * batch * hd;
    C* y_t = res.y.empty() ? nullptr : res.y.data() + (t * nd + d) * batch * hd;
    const C* h_prev = h.data();
    C* h_new = h_next.data();
    const bool skip_h_product = s == 0 && zero_start;  // Ht-1 = 0: its product adds nothing
    rnn_for_unit_blocks(hd, block, skip_h_product ? 0.0 : macs, [&](int64_t u0, int64_t u1) {
      const int64_t n = u1 - u0;
      C* gate_out[1] = {gates};
      if (!skip_h_product) rnn_accumulate_gates(p.r, d, u0, u1, 0, 1, h_prev, hd, batch, gate_out, hd);
      for (int64_t b = 0; b < batch; ++b) {
        const C* hp = h_prev + b * hd + u0;
        C* hn = h_new + b * hd + u0;
        if (!p.active(t, b)) {  // keeps its state; its Y rows stay zero
          std::memcpy(hn, hp, static_cast<size_t>(n) * sizeof(C));
          continue;
        }
        C* g = gates + b * hd + u0;
        if (cfg.has_clip) clip_span(g, n, clip);
        apply_activation(act_f, g, n);
        std::memcpy(hn, g, static_cast<size_t>(n) * sizeof(C));
        if (y_t) std::memcpy(y_t + b * hd + u0, g, static_cast<size_t>(n) * sizeof(C));
      }
    });
    std::swap(h, h_next);
  }
  std::memcpy(res.y_h.data() + d * batch * hd, h.data(), h.size() * sizeof(C));
}

template <typename C>
Status run_rnn(KernelContext& ctx, RnnConfig& cfg) {
  DJ_ASSIGN_OR_RETURN(RnnPacked<C> p, pack_rnn_inputs<C>(ctx, cfg));
  RnnResult<C> res;
  const size_t state_size = static_cast<size_t>(p.num_directions * p.batch * p.hidden);
  if (ctx.wants_output(0)) res.y.assign(static_cast<size_t>(p.seq) * state_size, C(0));
  res.y_h.resize(state_size);
  for (int d = 0; d < p.num_directions; ++d) run_direction(cfg, p, d, res);
  write_rnn_outputs(ctx, cfg, p, res, ctx.input(0).dtype());
  return {};
}

}  // namespace

Status rnn_kernel(KernelContext& ctx) {
  DJ_ASSIGN_OR_RETURN(RnnConfig cfg, parse_rnn_config(ctx.node(), "RNN", 1, {"Tanh"}));
  DJ_CHECK(ctx.has_input(0), InvalidArgument, "RNN: required input X is missing");
  if (ctx.input(0).dtype() == DType::F64) return run_rnn<double>(ctx, cfg);
  return run_rnn<float>(ctx, cfg);
}

}  // namespace dj
