// LayerNormPipeline: definition and row-parallel schedule (see LayerNormPipeline.h).
#include "jit/LayerNormPipeline.h"

#include <algorithm>

#include "jit/HostTarget.h"
#include "jit/RowReduction.h"

namespace dj::jit {

Halide::Func build_layer_norm_last_axis(Halide::Func in, Halide::Expr n, Halide::Func scale, Halide::Func bias,
                                        float epsilon, const std::vector<int64_t>& extents) {
  using Halide::Expr;
  using Halide::Func;
  using Halide::TailStrategy;
  using Halide::Var;
  Var x("ln_x"), row("ln_row");
  Halide::RDom r(0, n, "ln_k");
  Expr nf = Halide::cast<float>(n);
  Func sum("ln_sum"), sq("ln_sq"), centered("ln_centered"), out("ln_out");
  sum(row) = 0.0f;
  sum(row) += in(r.x, row);
  centered(x, row) = in(x, row) - sum(row) / nf;
  sq(row) = 0.0f;
  sq(row) += centered(r.x, row) * centered(r.x, row);
  Expr value = centered(x, row) * (1.0f / Halide::sqrt(sq(row) / nf + epsilon)) * scale(x);
  if (bias.defined()) value = value + bias(x);
  out(x, row) = value;

  const int vector = host_halide_target().natural_vector_size<float>();
  const bool known = extents.size() == 2;
  const TailStrategy tail = known && extents[0] >= vector ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  const int64_t inner = known ? std::max<int64_t>(extents[0], 1) : 0;
  const int64_t rows_per_task = known ? std::max<int64_t>(1, 16 * 1024 / inner) : 1;
  Var row_loop = row;
  if (rows_per_task > 1) {
    Var ro("ln_ro"), ri("ln_ri");
    out.split(row, ro, ri, static_cast<int>(rows_per_task), TailStrategy::GuardWithIf).parallel(ro);
    row_loop = ri;
  } else {
    out.parallel(row);
  }
  out.vectorize(x, vector, tail);
  sum.compute_at(out, row_loop);
  centered.compute_at(out, row_loop).vectorize(x, vector, tail);
  sq.compute_at(out, row_loop);
  const int accumulators = row_reduction_accumulators(known ? extents[0] : 0, vector);
  vectorize_row_reduction(sum, r, vector, accumulators);
  vectorize_row_reduction(sq, r, vector, accumulators);
  return out;
}

}  // namespace dj::jit
