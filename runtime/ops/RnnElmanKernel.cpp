// RNN (ONNX's simple Elman RNN): Ht = f(Xt Wi^T + Ht-1 Ri^T + Wbi + Rbi), f
// defaulting to Tanh. `clip` bounds the activation input. A batch entry past its
// sequence length keeps its state and gets zeros in Y; a reverse direction walks
// each sequence from its own last valid step.
#include <cstring>

#include "runtime/ops/RnnKernels.h"
#include "runtime/ops/RnnMatmul.h"
#include "runtime/ops/RnnProblem.h"

namespace dj {

namespace {

template <typename C>
void run_direction(const RnnConfig& cfg, const RnnPacked<C>& p, int d, RnnResult<C>& res) {
  const int64_t hd = p.hidden, batch = p.batch, nd = p.num_directions;
  const bool reverse = cfg.reverse || d == 1;
  const RnnActivation& act_f = cfg.activation(d, 0);
  const C clip = static_cast<C>(cfg.clip);

  const std::vector<C> xproj = project_inputs(p, d, hd);
  std::vector<C> h(p.initial_h.begin() + d * batch * hd, p.initial_h.begin() + (d + 1) * batch * hd);
  std::vector<C> gates(static_cast<size_t>(batch * hd));
  const C* rt = p.r_t->data() + d * hd * hd;

  for (int64_t s = 0; s < p.seq; ++s) {
    const int64_t t = reverse ? p.seq - 1 - s : s;
    std::memcpy(gates.data(), xproj.data() + t * batch * hd, gates.size() * sizeof(C));
    rnn_matmul_accumulate(h.data(), hd, rt, hd, gates.data(), hd, batch, hd, hd);
    for (int64_t b = 0; b < batch; ++b) {
      C* y_row = res.y.empty() ? nullptr : res.y.data() + ((t * nd + d) * batch + b) * hd;
      if (!p.active(t, b)) {
        if (y_row) std::memset(y_row, 0, static_cast<size_t>(hd) * sizeof(C));
        continue;
      }
      C* g = gates.data() + b * hd;
      if (cfg.has_clip) clip_span(g, hd, clip);
      apply_activation(act_f, g, hd);
      std::memcpy(h.data() + b * hd, g, static_cast<size_t>(hd) * sizeof(C));
      if (y_row) std::memcpy(y_row, g, static_cast<size_t>(hd) * sizeof(C));
    }
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
