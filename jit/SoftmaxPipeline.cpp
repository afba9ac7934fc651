// SoftmaxPipeline: definition and row-parallel schedule (see SoftmaxPipeline.h).
#include "jit/SoftmaxPipeline.h"

#include <algorithm>
#include <limits>

#include "jit/FastMath.h"
#include "jit/HostTarget.h"
#include "jit/RowReduction.h"

namespace dj::jit {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

constexpr int64_t kElementsPerTask = 16 * 1024;

}  // namespace

Func build_softmax_last_axis(Func in, Expr n, const std::vector<int64_t>& extents) {
  std::vector<Var> vars;
  const int rank = in.dimensions();
  for (int d = 0; d < rank; ++d) vars.emplace_back("d" + std::to_string(d));
  std::vector<Expr> rows(vars.begin() + 1, vars.end());
  auto at = [&](Expr x) {
    std::vector<Expr> args{x};
    args.insert(args.end(), rows.begin(), rows.end());
    return args;
  };
  Halide::RDom r(0, n, "softmax_x");
  Func row_max("softmax_max"), shifted_exp("softmax_exp"), row_sum("softmax_sum"), out("softmax_out");
  row_max(rows) = -std::numeric_limits<float>::infinity();
  row_max(rows) = Halide::max(row_max(rows), Halide::cast<float>(in(at(r.x))));
  shifted_exp(vars) = exp_f32(Halide::cast<float>(in(vars)) - row_max(rows));
  row_sum(rows) = 0.0f;
  row_sum(rows) += shifted_exp(at(r.x));
  out(vars) = shifted_exp(vars) * (1.0f / row_sum(rows));

  const int vector = host_halide_target().natural_vector_size<float>();
  const bool known = static_cast<int>(extents.size()) == rank;
  const TailStrategy tail = known && extents[0] >= vector ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;

  // Loop nest: rows (fused, parallel) > per row: max, exp into a row buffer, sum, scale.
  Var row_loop = rank > 1 ? vars[rank - 1] : Var::outermost();
  if (rank > 1) {
    for (int d = rank - 2; d >= 1; --d) {
      Var fused(vars[d].name() + "_f");
      out.fuse(vars[d], row_loop, fused);
      row_loop = fused;
    }
    int64_t inner = known ? std::max<int64_t>(extents[0], 1) : 0;
    int64_t rows_per_task = known ? std::max<int64_t>(1, kElementsPerTask / inner) : 1;
    if (rows_per_task > 1) {
      Var ro("rows_o"), ri("rows_i");
      out.split(row_loop, ro, ri, static_cast<int>(rows_per_task), TailStrategy::GuardWithIf).parallel(ro);
      row_loop = ri;
    } else {
      out.parallel(row_loop);
    }
  }
  out.vectorize(vars[0], vector, tail);
  row_max.compute_at(out, row_loop);
  shifted_exp.compute_at(out, row_loop).vectorize(vars[0], vector, tail);
  row_sum.compute_at(out, row_loop);
  const int accumulators = row_reduction_accumulators(known ? extents[0] : 0, vector);
  vectorize_row_reduction(row_max, r, vector, accumulators);
  vectorize_row_reduction(row_sum, r, vector, accumulators);
  return out;
}

}  // namespace dj::jit
