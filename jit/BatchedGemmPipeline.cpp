// BatchedGemmPipeline: definition and schedule (see BatchedGemmPipeline.h).
#include "jit/BatchedGemmPipeline.h"

#include <algorithm>

#include "jit/GemmTile.h"
#include "jit/HostTarget.h"

namespace dj::jit {
namespace {

constexpr int64_t kFlopsPerTask = 64 * 1024;  // enough work per TBB task to pay for it

}  // namespace

Halide::Func build_batched_gemm(Halide::Func a, Halide::Func b_op, Halide::Expr k_extent,
                                const std::vector<int64_t>& extents) {
  using Halide::TailStrategy;
  Halide::Var j("bj"), i("bi"), bt("bb");
  Halide::Func acc("bgemm_acc"), out("bgemm_out");
  Halide::RDom r(0, k_extent, "bgemm_k");
  acc(j, i, bt) = 0.0f;
  acc(j, i, bt) += a(r, i, bt) * b_op(j, r, bt);
  out(j, i, bt) = acc(j, i, bt);

  const int lanes = host_target().float_vector_lanes;
  const bool known = extents.size() == 4;
  const int64_t n = known ? extents[0] : -1;
  if (known && batched_gemm_register_tiled(n, extents[1])) {
    // Register tiles of kGemmTileColumns x kGemmTileRows outputs, accumulated over all of K in
    // registers (as GemmPipeline's register-blocked schedule); the tasks are the
    // row tiles of every batch. Known sizes make ShiftInwards safe.
    Halide::Var jo("bjo"), io("bio"), ji("bji"), ii("bii"), task("btask");
    out.tile(j, i, jo, io, ji, ii, kGemmTileColumns, kGemmTileRows, TailStrategy::ShiftInwards)
        .reorder(ji, ii, jo, io, bt)
        .vectorize(ji, lanes)
        .unroll(ji)
        .unroll(ii)
        .fuse(io, bt, task)
        .parallel(task);
    acc.compute_at(out, jo).vectorize(j, lanes).unroll(j).unroll(i);
    acc.update().reorder(j, i, r).vectorize(j, lanes).unroll(j).unroll(i);
    return out;
  }
  // Rows per task: enough multiply-adds per task (known sizes), else a fixed 8.
  int rows = 8;
  if (known) {
    const int64_t per_row = std::max<int64_t>(1, n) * std::max<int64_t>(1, extents[3]);
    rows = static_cast<int>(std::clamp<int64_t>(kFlopsPerTask / per_row, 1, std::max<int64_t>(1, extents[1])));
  }
  Halide::Var io("bio"), ii("bii"), task("btask");
  out.split(i, io, ii, rows, TailStrategy::GuardWithIf).fuse(io, bt, task).parallel(task);
  const bool vectorize = !known || n >= lanes;
  if (vectorize) out.vectorize(j, lanes, TailStrategy::GuardWithIf);
  acc.compute_at(out, ii);
  if (vectorize) {
    acc.vectorize(j, lanes, TailStrategy::GuardWithIf);
    acc.update().reorder(j, r).vectorize(j, lanes, TailStrategy::GuardWithIf);
  } else {
    acc.update().reorder(j, r);
  }
  return out;
}

}  // namespace dj::jit
