// RowReduction: rfactor over SIMD lanes (see RowReduction.h).
#include "jit/RowReduction.h"

namespace dj::jit {

void vectorize_row_reduction(Halide::Func f, const Halide::RDom& r, int lanes) {
  Halide::RVar ro("ro"), ri("ri");
  Halide::Var u("u");
  Halide::Func partial =
      f.update().split(r.x, ro, ri, lanes, Halide::TailStrategy::GuardWithIf).rfactor(ri, u);
  partial.compute_at(f, Halide::Var::outermost()).vectorize(u);
  partial.update().vectorize(u);
}

}  // namespace dj::jit
