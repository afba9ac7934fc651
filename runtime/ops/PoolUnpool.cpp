// MaxUnpool: scatters X into a zero tensor at the flat positions MaxPool's Indices
// recorded. The output shape is output_shape when given (input 2), else the
// inverse of MaxPool's: (in - 1) * stride + kernel - pad_begin - pad_end per dim.
#include <cstring>

#include "runtime/ops/ConvPoolKernels.h"

namespace dj {
namespace {

struct UnpoolAttrs {
  std::vector<int64_t> kernel, stride, pads;
};

Expected<UnpoolAttrs> read_unpool_attrs(const Node& node, size_t r) {
  UnpoolAttrs a;
  DJ_CHECK(node.has_attr("kernel_shape"), InvalidModel, "MaxUnpool: missing the kernel_shape attribute");
  a.kernel = node.attr_ints("kernel_shape");
  a.stride = node.attr_ints("strides", std::vector<int64_t>(r, 1));
  a.pads = node.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
  DJ_CHECK(a.kernel.size() == r && a.stride.size() == r && a.pads.size() == 2 * r, InvalidArgument,
           "MaxUnpool: kernel_shape/strides/pads do not match ", r, " spatial dims");
  return a;
}

}  // namespace

Status max_unpool_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  DJ_CHECK(x.rank() >= 3, InvalidArgument, "MaxUnpool: X must be [N, C, spatial...], got ", x.describe());
  DJ_CHECK(idx.dtype() == DType::I64 && idx.shape() == x.shape(), InvalidArgument,
           "MaxUnpool: I must be i64 of X's shape ", shape_to_string(x.shape()), ", got ", idx.describe());
  const size_t r = static_cast<size_t>(x.rank()) - 2;
  DJ_ASSIGN_OR_RETURN(UnpoolAttrs a, read_unpool_attrs(ctx.node(), r));
  Shape inferred{x.dim(0), x.dim(1)};
  for (size_t i = 0; i < r; ++i)
    inferred.push_back((x.dim(static_cast<int>(2 + i)) - 1) * a.stride[i] + a.kernel[i] - a.pads[i] - a.pads[i + r]);
  Shape out_shape = inferred;
  if (ctx.has_input(2)) {
    out_shape = ctx.input(2).to_int64_vector();
    DJ_CHECK(out_shape.size() == inferred.size(), InvalidArgument, "MaxUnpool: output_shape ",
             shape_to_string(out_shape), " does not have X's rank ", x.rank());
    for (size_t i = 0; i < out_shape.size(); ++i)
      DJ_CHECK(out_shape[i] >= inferred[i] && (i >= 2 || out_shape[i] == inferred[i]), InvalidArgument,
               "MaxUnpool: output_shape ", shape_to_string(out_shape), " is smaller than the unpooled shape ",
               shape_to_string(inferred));
  }
  // Indices address the unpooled shape (MaxPool's input); a larger output_shape
  // extends it with zeros at the end of each spatial dim.
  Tensor scattered = Tensor::zeros(x.dtype(), inferred);
  const int64_t limit = scattered.numel();
  const int64_t* id = idx.data<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i)
    DJ_CHECK(id[i] >= 0 && id[i] < limit, InvalidArgument, "MaxUnpool: index ", id[i], " at ", i,
             " is out of range for an unpooled tensor of ", limit, " elements");
  const size_t es = dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(scattered.raw_data());
  for (int64_t i = 0; i < idx.numel(); ++i) std::memcpy(dst + id[i] * es, src + i * es, es);
  if (out_shape == inferred) {
    ctx.set_output(0, std::move(scattered));
    return Status::ok_status();
  }
  Tensor y = Tensor::zeros(x.dtype(), out_shape);
  // Copy row by row (the last dim is contiguous in both).
  const int64_t row = inferred.back();
  const int64_t rows = limit / std::max<int64_t>(row, 1);
  const Strides ys = contiguous_strides(out_shape);
  std::vector<int64_t> index(inferred.size(), 0);
  for (int64_t rr = 0; rr < rows && row > 0; ++rr) {
    int64_t off = 0;
    for (size_t d = 0; d + 1 < inferred.size(); ++d) off += index[d] * ys[d];
    std::memcpy(static_cast<char*>(y.raw_data()) + off * es, dst + rr * row * es, static_cast<size_t>(row) * es);
    for (int d = static_cast<int>(inferred.size()) - 2; d >= 0; --d) {
      if (++index[d] < inferred[d]) break;
      index[d] = 0;
    }
  }
  ctx.set_output(0, std::move(y));
  return Status::ok_status();
}

Status max_unpool_infer(ShapeContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(0), std::nullopt);
  const auto& xs = ctx.input_shape(0);
  if (ctx.num_inputs() > 2 && ctx.input(2)) {
    if (const Tensor* c = ctx.input_constant(2)) {
      SymShape out;
      for (int64_t d : c->to_int64_vector()) out.push_back(SymExpr(d));
      ctx.set_output(0, std::nullopt, out);
    }
    return Status::ok_status();
  }
  if (!xs || xs->size() < 3) return Status::ok_status();
  const size_t r = xs->size() - 2;
  Expected<UnpoolAttrs> a = read_unpool_attrs(ctx.node(), r);
  if (!a.ok()) return Status::ok_status();
  SymShape out{(*xs)[0], (*xs)[1]};
  for (size_t i = 0; i < r; ++i)
    out.push_back(((*xs)[2 + i] - SymExpr(1)) * SymExpr(a->stride[i]) +
                  SymExpr(a->kernel[i] - a->pads[i] - a->pads[i + r]));
  ctx.set_output(0, std::nullopt, out);
  return Status::ok_status();
}

}  // namespace dj
