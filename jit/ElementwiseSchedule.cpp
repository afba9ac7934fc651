// ElementwiseSchedule: vectorize dim 0, parallelize the rest (see ElementwiseSchedule.h).
#include "jit/ElementwiseSchedule.h"

#include <algorithm>

#include "jit/HostTarget.h"

namespace dj::jit {
namespace {

constexpr int64_t kElementsPerTask = 16 * 1024;
constexpr int64_t kParallelMinElements = 64 * 1024;

// split + vectorize with fresh names: Halide 14's vectorize(var, factor) names the
// inner loop after the var, and a Var named like "v0" then lost lanes of an
// overlapping ShiftInwards tail (element 1 of 17 unwritten; seen in tests).
void vectorize_dim(Halide::Func& out, const Halide::Var& x, int lanes, Halide::TailStrategy tail) {
  Halide::Var outer(x.name() + "_vec_o"), inner(x.name() + "_vec_i");
  out.split(x, outer, inner, lanes, tail).vectorize(inner);
}

}  // namespace

void schedule_elementwise(Halide::Func out, const std::vector<int64_t>& extents) {
  using Halide::TailStrategy;
  std::vector<Halide::Var> vars = out.args();
  const int rank = static_cast<int>(vars.size());
  if (rank == 0) return;
  const bool known = static_cast<int>(extents.size()) == rank;
  int64_t total = 1;
  for (int64_t e : extents) total *= e;
  const bool parallel = !known || total >= kParallelMinElements;
  const int lanes = host_halide_target().natural_vector_size(out.output_types()[0]);
  const int64_t inner = known ? extents[0] : -1;
  // ShiftInwards needs the extent to be at least the split factor; otherwise guard.
  auto tail_for = [&](int64_t extent, int64_t factor) {
    return extent >= factor ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  };

  if (rank == 1) {
    Halide::Var x = vars[0], xo("xo"), xi("xi");
    if (parallel) {
      out.split(x, xo, xi, static_cast<int>(kElementsPerTask), tail_for(inner, kElementsPerTask)).parallel(xo);
      x = xi;
    }
    if (!known || inner >= lanes) vectorize_dim(out, x, lanes, tail_for(inner, lanes));
    return;
  }

  if (!known || inner >= lanes) vectorize_dim(out, vars[0], lanes, tail_for(inner, lanes));
  if (!parallel) return;
  Halide::Var rows = vars[rank - 1];
  for (int d = rank - 2; d >= 1; --d) {
    Halide::Var fused(vars[d].name() + "_" + rows.name());
    out.fuse(vars[d], rows, fused);
    rows = fused;
  }
  if (known) {
    int64_t row_count = total / std::max<int64_t>(inner, 1);
    int64_t rows_per_task = std::max<int64_t>(1, kElementsPerTask / std::max<int64_t>(inner, 1));
    if (rows_per_task > 1 && row_count > rows_per_task) {
      Halide::Var ro("rows_o"), ri("rows_i");
      out.split(rows, ro, ri, static_cast<int>(rows_per_task), TailStrategy::GuardWithIf).parallel(ro);
      return;
    }
  }
  out.parallel(rows);
}

}  // namespace dj::jit
