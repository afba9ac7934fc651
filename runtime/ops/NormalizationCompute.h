// NormalizationCompute: what the normalization kernels (softmax family, batch /
// layer / instance / Lp / mean-variance normalization) share: running a float-only
// kernel on any float dtype, reading small parameter tensors as double, and the
// mean/variance of a contiguous row.
//
// The kernels are written for C = float or double only. f16/bf16 inputs are widened
// to an f32 tensor, computed in float and rounded back on store (DType.h's rule),
// which costs a copy but keeps one kernel per op.
#pragma once

#include <string>
#include <vector>

#include "runtime/Status.h"
#include "runtime/Tensor.h"
#include "runtime/ops/ReductionEngine.h"

namespace dj {

// f16/bf16 -> a new f32 tensor; f32/f64 come back as they are.
Tensor widen_to_f32(const Tensor& x);
// Rounds the f32 tensor `wide` into `out` (f16/bf16, same shape).
void narrow_from_f32(const Tensor& wide, Tensor& out);
// Every element of a float or integer tensor as double (for small parameter tensors).
std::vector<double> tensor_to_doubles(const Tensor& t);
// `param` broadcast (numpy rules) to `target` and flattened to target's numel.
Expected<std::vector<double>> broadcast_param(const Tensor& param, const Shape& target, const std::string& what);

// Runs fn(tag, xc, yc) -> Status with tag = float{} or double{}, xc = x in that type
// and yc = `out` itself (f32/f64) or an f32 stand-in of out's shape that is rounded
// into `out` afterwards (f16/bf16). `out` is already allocated with x's dtype.
// Unsupported for non-float dtypes.
template <typename Fn>
Status run_in_compute_float(const Tensor& x, Tensor& out, const std::string& op, Fn&& fn) {
  switch (x.dtype()) {
    case DType::F32: return fn(float{}, x, out);
    case DType::F64: return fn(double{}, x, out);
    case DType::F16:
    case DType::BF16: {
      Tensor wide = widen_to_f32(x);
      Tensor wide_out = Tensor::empty(DType::F32, out.shape());
      DJ_RETURN_IF_ERROR(fn(float{}, wide, wide_out));
      narrow_from_f32(wide_out, out);
      return Status::ok_status();
    }
    default:
      return make_error(StatusCode::Unsupported, op, ": input dtype ", dtype_name(x.dtype()),
                        " is not supported (float types only)");
  }
}

template <typename C>
struct RowStats {
  C mean;
  C var;  // population variance (divided by n)
};

// Two-pass mean and variance of p[0..n): exact enough when the mean is large
// compared with the spread, unlike E[x^2] - E[x]^2.
template <typename C>
inline RowStats<C> row_mean_var(const C* p, int64_t n) {
  if (n == 0) return {C(0), C(0)};
  const C mean = reduction_detail::reduce_row<C, SumCombine<C>>(p, n, C(0), IdentityMap{}, C(0)) / static_cast<C>(n);
  struct CenteredSquare {
    C mean;
    C operator()(C x, C) const { return (x - mean) * (x - mean); }
  };
  const C ss = reduction_detail::reduce_row<C, SumCombine<C>>(p, n, C(0), CenteredSquare{mean}, C(0));
  return {mean, ss / static_cast<C>(n)};
}

}  // namespace dj
