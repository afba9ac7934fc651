// GemmPipeline: definition and the four schedules (see GemmPipeline.h).
#include "jit/GemmPipeline.h"

#include "jit/GemmTile.h"
#include "jit/HostTarget.h"

namespace dj::jit {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

constexpr int kTileJ = kGemmTileColumns;
constexpr int kTileI = kGemmTileRows;
constexpr int64_t kPackedBBytes = 3 * 512 * 1024;

Expr epilogue_of(const GemmDefinition& def, Expr acc, Var j, Var i) {
  Expr v = acc;
  if (def.bias.defined()) v = v + Halide::cast<float>(def.bias(j));
  if (def.relu) v = Halide::max(v, 0.0f);
  if (def.epilogue) v = def.epilogue(v, j, i);
  return v;
}

}  // namespace

const char* gemm_schedule_name(GemmSchedule schedule) {
  switch (schedule) {
    case GemmSchedule::Auto: return "auto";
    case GemmSchedule::Small: return "small";
    case GemmSchedule::RegisterBlocked: return "register-blocked 48x8";
    case GemmSchedule::PackedB: return "packed-B 48x8 k128";
    case GemmSchedule::Generic: return "generic";
  }
  return "?";
}

GemmSchedule choose_gemm_schedule(const GemmShape& s) {
  if (s.m < 0 || s.n < 0 || s.k < 0) return GemmSchedule::Generic;
  if (s.m < kTileI || s.n < kTileJ) return GemmSchedule::Small;
  if (s.n * s.k * 4 > kPackedBBytes && s.m >= 64) return GemmSchedule::PackedB;
  return GemmSchedule::RegisterBlocked;
}

GemmPipeline build_gemm(const GemmDefinition& def, const GemmShape& shape, GemmSchedule force) {
  GemmSchedule schedule = force == GemmSchedule::Auto ? choose_gemm_schedule(shape) : force;
  const int lanes = host_target().float_vector_lanes;
  // A schedule chosen for known sizes is only valid for them: compile those sizes in as
  // constants (constant loop bounds; the kernel's asserts reject other sizes). Without
  // them the ShiftInwards vector bounds stay symbolic and B's panel index j % 48 is a gather.
  const bool fixed = schedule != GemmSchedule::Generic && shape.m >= 0 && shape.n >= 0 && shape.k >= 0;
  Expr n_extent = fixed ? Expr(static_cast<int>(shape.n)) : def.n;
  Expr k_extent = fixed ? Expr(static_cast<int>(shape.k)) : def.k;
  Var j("j"), i("i");
  Func prod("gemm_acc"), out("gemm_out");
  RDom r(0, k_extent, "gemm_k");
  prod(j, i) = 0.0f;
  Func bp("gemm_b_packed");
  Var jj("jj"), kk("kk"), p("p");
  if (schedule == GemmSchedule::PackedB) {
    bp(jj, kk, p) = Halide::cast<float>(def.b(Halide::min(p * kTileJ + jj, n_extent - 1), kk));
    prod(j, i) += Halide::cast<float>(def.a(r, i)) * bp(j % kTileJ, r, j / kTileJ);
  } else {
    prod(j, i) += Halide::cast<float>(def.a(r, i)) * Halide::cast<float>(def.b(j, r));
  }
  out(j, i) = epilogue_of(def, prod(j, i), j, i);
  if (fixed) {
    out.output_buffer().dim(0).set_bounds(0, static_cast<int>(shape.n));
    out.output_buffer().dim(1).set_bounds(0, static_cast<int>(shape.m));
  } else {
    out.output_buffer().dim(0).set_min(0);
    out.output_buffer().dim(1).set_min(0);
  }

  Var jo("jo"), io("io"), ji("ji"), ii("ii");
  switch (schedule) {
    case GemmSchedule::Small: {
      int vj = 1;
      while (vj * 2 <= lanes && vj * 2 <= shape.n) vj *= 2;
      const bool big = shape.m * shape.n * shape.k >= (1 << 18);
      if (shape.m < kTileI && shape.n >= 256) {
        // A few rows, many columns (batch-1 MLP): parallel over column strips.
        out.split(j, jo, ji, 128).reorder(ji, i, jo).vectorize(ji, vj);
        if (big) out.parallel(jo);
        prod.compute_at(out, jo).vectorize(j, vj);
        prod.update().reorder(j, i, r).vectorize(j, vj);
      } else {
        if (vj > 1) out.vectorize(j, vj);
        if (big && shape.m > 1) out.parallel(i);
        prod.compute_at(out, i);
        if (vj > 1) prod.vectorize(j, vj);
        prod.update().reorder(j, i, r);
        // An update cannot be recomputed on a shifted vector and RoundUp would read B past N.
        if (vj > 1) prod.update().vectorize(j, vj, TailStrategy::GuardWithIf);
      }
      break;
    }
    case GemmSchedule::RegisterBlocked:
      out.tile(j, i, jo, io, ji, ii, kTileJ, kTileI, TailStrategy::ShiftInwards)
          .reorder(ji, ii, jo, io)
          .vectorize(ji, lanes)
          .unroll(ji)
          .unroll(ii)
          .parallel(io);
      prod.compute_at(out, jo).vectorize(j, lanes).unroll(j).unroll(i);
      prod.update().reorder(j, i, r).vectorize(j, lanes).unroll(j).unroll(i);
      break;
    case GemmSchedule::PackedB: {
      RVar ko("ko"), ki("ki");
      Var pjo("pjo"), pji("pji"), pio("pio"), pii("pii");
      out.split(i, io, ii, 64).vectorize(j, lanes).parallel(io);
      prod.compute_at(out, io).vectorize(j, lanes);
      prod.update()
          .split(r, ko, ki, 128)
          .split(j, pjo, pji, kTileJ, TailStrategy::RoundUp)
          .split(i, pio, pii, kTileI)
          .reorder(pji, pii, ki, pio, pjo, ko)
          .vectorize(pji, lanes)
          .unroll(pji)
          .unroll(pii);
      bp.compute_root().bound(jj, 0, kTileJ).vectorize(jj, lanes).parallel(p);
      break;
    }
    case GemmSchedule::Generic:
    case GemmSchedule::Auto:
      schedule = GemmSchedule::Generic;
      out.tile(j, i, jo, io, ji, ii, kTileJ, kTileI, TailStrategy::GuardWithIf)
          .reorder(ji, ii, jo, io)
          .vectorize(ji, lanes)
          .parallel(io);
      prod.compute_at(out, jo).vectorize(j, lanes, TailStrategy::GuardWithIf);
      prod.update().reorder(j, i, r).vectorize(j, lanes, TailStrategy::GuardWithIf);
      break;
  }
  return GemmPipeline{out, schedule};
}

}  // namespace dj::jit
