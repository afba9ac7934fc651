// GemmPipeline: f32 matrix multiply with a fused epilogue, as a scheduled Halide Func.
//
//   out(j, i) = epilogue(relu?(sum_k a(k, i) * b(j, k) + bias(j)), j, i)
//
// Halide order: j is the output column (dim 0, contiguous), i the row; a(k, i) is A[i][k]
// and b(j, k) is B[k][j] of row-major matrices. a and b are Funcs, so a transposed or
// otherwise re-indexed operand is just a different Func.
// Schedules (hand-written; both autoschedulers measured far slower, see JIT-STACK.md),
// picked from the shape known at compile time:
//   Small            M < 8 or N < 48: one row (or a column strip if M is tiny) per task.
//   RegisterBlocked  48x8 output tiles held in registers; B resident in L2.
//   PackedB          B packed into 48-wide panels, k blocked by 128, 64-row tasks; for
//                    B beyond ~1.5 MB (N = K = 1024), where B no longer stays in L2.
//   Generic          sizes unknown at compile time: RegisterBlocked's loop nest with
//                    guarded tails; correct for every size, for the shape-generic tier.
// Every schedule except Generic is built for the sizes it was chosen for: M, N, K are
// compiled in as constants (output bounds constrained to [0,N)x[0,M), the k loop runs
// to the constant K) and the kernel's asserts reject other sizes unless asserts are off.
// Generic keeps def.m/n/k symbolic and only constrains the output mins to 0
// (HalideTensorBuffer always passes 0).
#pragma once

#include <cstdint>
#include <functional>

#include "Halide.h"

namespace dj::jit {

struct GemmShape {
  int64_t m = -1, n = -1, k = -1;  // -1: not known at compile time
};

enum class GemmSchedule { Auto, Small, RegisterBlocked, PackedB, Generic };
const char* gemm_schedule_name(GemmSchedule schedule);
GemmSchedule choose_gemm_schedule(const GemmShape& shape);

struct GemmDefinition {
  Halide::Func a;  // a(k, i)
  Halide::Func b;  // b(j, k)
  Halide::Expr m, n, k;  // extents, e.g. from the ImageParams' dims
  Halide::Func bias;     // bias(j); leave undefined for none
  bool relu = false;
  // Applied last, e.g. a residual add: epilogue(value, j, i). Must stay elementwise.
  std::function<Halide::Expr(Halide::Expr value, Halide::Var j, Halide::Var i)> epilogue;
};

struct GemmPipeline {
  Halide::Func out;
  GemmSchedule schedule = GemmSchedule::Auto;
};

// `force` overrides the choice (benchmarks and tests); Auto uses choose_gemm_schedule.
GemmPipeline build_gemm(const GemmDefinition& def, const GemmShape& shape, GemmSchedule force = GemmSchedule::Auto);

}  // namespace dj::jit
