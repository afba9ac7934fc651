// Per-iteration slicing and stacking for Loop and Scan (see ControlFlowIterationTensors.h).
#include "runtime/ops/ControlFlowIterationTensors.h"

#include <algorithm>
#include <cstring>

namespace dj {

namespace {

// (outer, length, inner bytes) of t around `axis`.
struct AxisSplit {
  int64_t outer = 1, length = 1, inner_bytes = 1;
};

AxisSplit split_at(const Shape& shape, int axis, DType dtype) {
  AxisSplit s;
  for (int i = 0; i < axis; ++i) s.outer *= shape[i];
  s.length = shape[axis];
  s.inner_bytes = static_cast<int64_t>(dtype_size(dtype));
  for (size_t i = static_cast<size_t>(axis) + 1; i < shape.size(); ++i) s.inner_bytes *= shape[i];
  return s;
}

}  // namespace

Tensor take_slice(const Tensor& t, int axis, int64_t index) {
  Shape out_shape = t.shape();
  out_shape.erase(out_shape.begin() + axis);
  Tensor out = Tensor::empty(t.dtype(), out_shape);
  const AxisSplit s = split_at(t.shape(), axis, t.dtype());
  const char* src = static_cast<const char*>(t.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t o = 0; o < s.outer; ++o)
    std::memcpy(dst + o * s.inner_bytes, src + (o * s.length + index) * s.inner_bytes, static_cast<size_t>(s.inner_bytes));
  return out;
}

void put_slice(Tensor& dst, int axis, int64_t index, const Tensor& src) {
  const AxisSplit s = split_at(dst.shape(), axis, dst.dtype());
  const char* from = static_cast<const char*>(src.raw_data());
  char* to = static_cast<char*>(dst.raw_data());
  for (int64_t o = 0; o < s.outer; ++o)
    std::memcpy(to + (o * s.length + index) * s.inner_bytes, from + o * s.inner_bytes, static_cast<size_t>(s.inner_bytes));
}

Shape stacked_shape(const Shape& slice_shape, int axis, int64_t count) {
  Shape s = slice_shape;
  s.insert(s.begin() + axis, count);
  return s;
}

Expected<Tensor> stack_slices(const std::vector<Tensor>& parts, const std::string& what) {
  const Tensor* first = nullptr;
  size_t first_index = 0;
  for (size_t i = 0; i < parts.size() && !first; ++i)
    if (parts[i].defined()) first = &parts[i], first_index = i;
  if (!first) return Tensor();
  const bool all_defined = first_index == 0 && std::all_of(parts.begin(), parts.end(), [](const Tensor& t) { return t.defined(); });
  const Shape shape = stacked_shape(first->shape(), 0, static_cast<int64_t>(parts.size()));
  Tensor out = all_defined ? Tensor::empty(first->dtype(), shape) : Tensor::zeros(first->dtype(), shape);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].defined()) continue;
    DJ_CHECK(parts[i].shape() == first->shape() && parts[i].dtype() == first->dtype(), InvalidArgument, what, " ", i, " is ",
             parts[i].describe(), ", but ", first_index, " is ", first->describe());
    put_slice(out, 0, static_cast<int64_t>(i), parts[i].contiguous());
  }
  return out;
}

Tensor stack_of_declared(const ValueInfo& declared, int64_t axis, int64_t count) {
  const DType dtype = declared.dtype.value_or(DType::F32);
  if (declared.shape) {
    Shape dims;
    bool all_const = true;
    for (const SymExpr& d : *declared.shape) {
      if (!d.is_const()) all_const = false;
      else dims.push_back(d.const_value());
    }
    const int64_t rank = static_cast<int64_t>(dims.size()) + 1;
    if (axis < 0) axis += rank;
    if (all_const && axis >= 0 && axis < rank) return Tensor::zeros(dtype, stacked_shape(dims, static_cast<int>(axis), count));
  }
  return Tensor::zeros(dtype, {count});
}

}  // namespace dj
