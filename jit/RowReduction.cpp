// RowReduction: rfactor over SIMD lanes, with several accumulators (see RowReduction.h).
#include "jit/RowReduction.h"

namespace dj::jit {

void vectorize_row_reduction(Halide::Func f, const Halide::RDom& r, int lanes, int accumulators) {
  using Halide::RVar;
  using Halide::TailStrategy;
  using Halide::Var;
  const int width = lanes * accumulators;
  // f() op= in(r): `width` partial results, one wide vector op per step (LLVM splits it
  // into `accumulators` independent registers, so consecutive steps do not wait on one
  // another's latency).
  RVar ro("ro"), ri("ri");
  Var u("u");
  Halide::Func wide = f.update().split(r.x, ro, ri, width, TailStrategy::GuardWithIf).rfactor(ri, u);
  wide.compute_at(f, Var::outermost()).vectorize(u);
  wide.update().vectorize(u);
  if (accumulators == 1) return;
  // f's update now folds the `width` partials one by one; fold them to `lanes` first
  // with vector ops, so only `lanes` scalar steps remain.
  RVar fo("fo"), fi("fi");
  Var w("w");
  Halide::Func narrow = f.update().split(ri, fo, fi, lanes, TailStrategy::GuardWithIf).rfactor(fi, w);
  narrow.compute_at(f, Var::outermost()).vectorize(w);
  narrow.update().vectorize(w);
}

int row_reduction_accumulators(int64_t n, int lanes) {
  constexpr int kAccumulators = 4;
  return n >= 2 * kAccumulators * lanes ? kAccumulators : 1;
}

}  // namespace dj::jit
