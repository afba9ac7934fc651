// Float widening/narrowing and parameter reading for the normalization kernels.
#include "runtime/ops/NormalizationCompute.h"

#include "runtime/ops/Broadcast.h"

namespace dj {

Tensor widen_to_f32(const Tensor& x) {
  if (x.dtype() == DType::F32 || x.dtype() == DType::F64) return x;
  Tensor out = Tensor::empty(DType::F32, x.shape());
  float* y = out.data<float>();
  const int64_t n = x.numel();
  if (x.dtype() == DType::F16) {
    const half* p = x.data<half>();
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(p[i]);
  } else {
    const bfloat16* p = x.data<bfloat16>();
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(p[i]);
  }
  return out;
}

void narrow_from_f32(const Tensor& wide, Tensor& out) {
  const float* p = wide.data<float>();
  const int64_t n = out.numel();
  if (out.dtype() == DType::F16) {
    half* y = out.data<half>();
    for (int64_t i = 0; i < n; ++i) y[i] = half(p[i]);
  } else {
    bfloat16* y = out.data<bfloat16>();
    for (int64_t i = 0; i < n; ++i) y[i] = bfloat16(p[i]);
  }
}

std::vector<double> tensor_to_doubles(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  dispatch_dtype(t.dtype(), AllTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = typename ComputeType<T>::type;
    const T* p = t.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(static_cast<C>(p[i]));
  });
  return out;
}

Expected<std::vector<double>> broadcast_param(const Tensor& param, const Shape& target, const std::string& what) {
  std::vector<double> values = tensor_to_doubles(param);
  const int64_t n = shape_numel(target);
  if (static_cast<int64_t>(values.size()) == n && param.rank() <= static_cast<int>(target.size())) {
    // Same element count and no more dims: the common exact-shape case.
    bool same = true;
    const size_t off = target.size() - static_cast<size_t>(param.rank());
    for (int d = 0; d < param.rank(); ++d) same = same && param.dim(d) == target[off + static_cast<size_t>(d)];
    if (same) return values;
  }
  DJ_ASSIGN_OR_RETURN(Shape joined, broadcast_shapes({param.shape(), target}));
  if (joined != target)
    return make_error(StatusCode::InvalidArgument, what, " of shape ", shape_to_string(param.shape()),
                      " does not broadcast to ", shape_to_string(target));
  Strides strides = broadcast_strides(param.shape(), target);
  std::vector<double> out(static_cast<size_t>(n));
  std::vector<int64_t> index(target.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (size_t d = 0; d < target.size(); ++d) src += index[d] * strides[d];
    out[static_cast<size_t>(k)] = values[static_cast<size_t>(src)];
    for (int d = static_cast<int>(target.size()) - 1; d >= 0; --d) {
      if (++index[static_cast<size_t>(d)] < target[static_cast<size_t>(d)]) break;
      index[static_cast<size_t>(d)] = 0;
    }
  }
  return out;
}

}  // namespace dj
