// CudaLaunch: fill_params and launch_dims (see the header).
#include "jit/cuda/CudaLaunch.h"

#include <algorithm>

#include "jit/cuda/CudaBroadcastLayout.h"
#include "jit/cuda/CudaKernelGeometry.h"
#include "jit/cuda/CudaSourceElementwise.h"

namespace dj::jit::cuda {
namespace {

unsigned clamp_blocks(int64_t blocks, int64_t cap) { return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, cap)); }
int64_t ceil_div(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

int64_t leading_product(const Shape& s) {
  int64_t p = 1;
  for (size_t d = 0; d + 1 < s.size(); ++d) p *= s[d];
  return p;
}

std::string shapes_to_string(const std::vector<Shape>& shapes) {
  std::string s;
  for (const Shape& shape : shapes) s += (s.empty() ? "" : ", ") + shape_to_string(shape);
  return s;
}

Status fill_elementwise(const CudaKernelSpec& spec, const std::vector<Shape>& inputs, const Shape& output,
                        DjKernelParams& p) {
  DJ_ASSIGN_OR_RETURN(BroadcastLayout layout, broadcast_layout(inputs, output));
  if (!spec.generic) {
    auto baked = broadcast_layout(spec.input_shapes, spec.output_shape);
    // Equal layouts index identically, so e.g. [1, 8] for [8] is accepted.
    DJ_CHECK(baked.ok() && *baked == layout, InvalidArgument, "the kernel was generated for inputs ",
             shapes_to_string(spec.input_shapes), " -> output ", shape_to_string(spec.output_shape), ", called with ",
             shapes_to_string(inputs), " -> ", shape_to_string(output));
  } else {
    const size_t rank = spec.output_shape.size();
    DJ_CHECK(output.size() == rank, InvalidArgument, "the kernel was generated for output rank ", rank,
             ", called with output ", shape_to_string(output));
    for (size_t i = 0; i < inputs.size(); ++i)
      DJ_CHECK(inputs[i].size() == spec.input_shapes[i].size(), InvalidArgument, "the kernel was generated for input ",
               i, " of rank ", spec.input_shapes[i].size(), ", called with ", shape_to_string(inputs[i]));
    if (!spec.input_broadcast.empty()) {
      DJ_CHECK(spec.input_broadcast.size() == inputs.size(), InvalidArgument, "input_broadcast has ",
               spec.input_broadcast.size(), " entries for ", inputs.size(), " inputs");
      for (size_t i = 0; i < inputs.size(); ++i) {
        const auto& flags = spec.input_broadcast[i];
        DJ_CHECK(flags.size() == rank, InvalidArgument, "input_broadcast[", i, "] has ", flags.size(),
                 " entries for output rank ", rank);
        const size_t offset = rank - inputs[i].size();
        for (size_t d = 0; d < rank; ++d) {
          if (output[d] == 1) continue;  // broadcast or not, the same element
          const bool broadcast = d < offset || inputs[i][d - offset] == 1;
          DJ_CHECK(broadcast == flags[d], InvalidArgument, "input ", i, " ", shape_to_string(inputs[i]),
                   broadcast ? " is" : " is not", " broadcast along output dim ", d, " of ", shape_to_string(output),
                   ", but the kernel was generated for the opposite");
        }
      }
    }
  }
  const int rank = elementwise_kernel_rank(spec);
  const int used = layout.rank();
  DJ_CHECK(used <= rank, Internal, "the coalesced layout has ", used, " dims, the kernel indexes ", rank);
  p.rank = rank;
  p.numel = layout.numel;
  for (int d = 0; d < rank; ++d) {
    const int src = d - (rank - used);  // right-aligned; the leading padding is extent 1, stride 0
    p.extent[d] = src >= 0 ? layout.extent[static_cast<size_t>(src)] : 1;
    for (size_t i = 0; i < inputs.size(); ++i)
      p.in_stride[i][d] = src >= 0 ? layout.stride[i][static_cast<size_t>(src)] : 0;
  }
  return Status::ok_status();
}

// The rows' shape comes from x, or with a prologue from the output (the prologue's
// inputs may all be rows or values, which do not tell the number of rows).
Status fill_rows(const CudaKernelSpec& spec, const std::vector<Shape>& inputs, const Shape& output, DjKernelParams& p) {
  const size_t prologue = spec.prologue_views.size();
  const Shape& x = prologue > 0 ? output : inputs[0];
  DJ_CHECK(!x.empty(), InvalidArgument, prologue > 0 ? "the output" : "the input",
           " must have rank >= 1, got a scalar");
  const int64_t cols = x.back(), rows = leading_product(x);
  if (spec.kind == CudaKernelKind::RowReduce)
    DJ_CHECK(cols >= 1 || rows == 0, InvalidArgument, "cannot reduce rows of length 0 (input ", shape_to_string(x), ")");
  if (!spec.generic)
    DJ_CHECK(rows == spec.rows && cols == spec.cols, InvalidArgument, "the kernel was generated for ", spec.rows, " x ",
             spec.cols, " rows, called with ", prologue > 0 ? "output " : "", shape_to_string(x));
  const int64_t out_numel = shape_numel(output);
  if (spec.kind == CudaKernelKind::RowReduce) {
    DJ_CHECK(out_numel == rows, InvalidArgument, "the output ", shape_to_string(output), " must hold one value per row (",
             rows, ") of ", shape_to_string(x));
  } else {
    DJ_CHECK(out_numel == rows * cols && (out_numel == 0 || (!output.empty() && output.back() == cols)),
             InvalidArgument, "the output ", shape_to_string(output), " must have the input's rows ",
             shape_to_string(x));
  }
  for (size_t i = 0; i < prologue; ++i) {
    const Shape& in = inputs[i];
    const int64_t numel = shape_numel(in);
    switch (row_operand_view(spec.prologue_views[i])) {
      case RowOperandView::Block:
        DJ_CHECK(numel == rows * cols && (numel == 0 || (!in.empty() && in.back() == cols)), InvalidArgument,
                 "prologue input ", i, " ", shape_to_string(in), " must be the row block [", rows, ", ", cols, "]");
        break;
      case RowOperandView::Row:
        DJ_CHECK(numel == cols, InvalidArgument, "prologue input ", i, " ", shape_to_string(in),
                 " must be one row of cols = ", cols, " elements");
        break;
      case RowOperandView::Scalar:
        DJ_CHECK(numel == 1, InvalidArgument, "prologue input ", i, " ", shape_to_string(in), " must be one value");
        break;
    }
  }
  if (spec.kind == CudaKernelKind::RowLayerNorm) {
    const size_t first = prologue > 0 ? prologue : 1;
    const char* names[] = {"scale", "bias"};
    for (size_t i = first; i < inputs.size(); ++i)
      DJ_CHECK(shape_numel(inputs[i]) == cols, InvalidArgument, names[i - first], " ", shape_to_string(inputs[i]),
               " must have cols = ", cols, " elements");
  }
  p.rows = rows;
  p.cols = cols;
  p.numel = out_numel;
  return Status::ok_status();
}

Status fill_gemm(const CudaKernelSpec& spec, const std::vector<Shape>& inputs, const Shape& output, DjKernelParams& p) {
  const Shape &a = inputs[0], &b = inputs[1];
  DJ_CHECK(!a.empty(), InvalidArgument, "A must have rank >= 1, got a scalar");
  DJ_CHECK(b.size() == 2, InvalidArgument, "B must be [k, n], got ", shape_to_string(b));
  const int64_t k = a.back(), m = leading_product(a), n = b[1];
  DJ_CHECK(b[0] == k, InvalidArgument, "A ", shape_to_string(a), " and B ", shape_to_string(b),
           " disagree on the inner dimension");
  if (spec.has_bias)
    DJ_CHECK(shape_numel(inputs[2]) == n, InvalidArgument, "bias ", shape_to_string(inputs[2]), " must have n = ", n,
             " elements");
  if (spec.has_residual) {
    const Shape& r = inputs[spec.has_bias ? 3 : 2];
    DJ_CHECK(shape_numel(r) == m * n && (m * n == 0 || (!r.empty() && r.back() == n)), InvalidArgument, "residual ",
             shape_to_string(r), " must be the output's [", m, ", ", n, "]");
  }
  if (!spec.generic)
    DJ_CHECK(m == spec.m && n == spec.n && k == spec.k, InvalidArgument, "the kernel was generated for m ", spec.m,
             ", n ", spec.n, ", k ", spec.k, ", called with A ", shape_to_string(a), " and B ", shape_to_string(b));
  DJ_CHECK(shape_numel(output) == m * n && (m * n == 0 || (!output.empty() && output.back() == n)), InvalidArgument,
           "the output ", shape_to_string(output), " must be [", m, ", ", n, "]");
  p.rows = m;
  p.cols = n;
  p.k = k;
  p.numel = m * n;
  return Status::ok_status();
}

// A [batch..., m, k] x B [batch..., k, n] with equal batch dims (rank 2: batch 1).
// The output's dims go to rank/extent: {batch, m, n}.
Status fill_batched_gemm(const CudaKernelSpec& spec, const std::vector<Shape>& inputs, const Shape& output,
                         DjKernelParams& p) {
  const Shape &a = inputs[0], &b = inputs[1];
  DJ_CHECK(a.size() >= 2 && a.size() == b.size(), InvalidArgument, "A ", shape_to_string(a), " and B ",
           shape_to_string(b), " must be [batch..., m, k] and [batch..., k, n] of one rank >= 2");
  DJ_CHECK(std::equal(a.begin(), a.end() - 2, b.begin()), InvalidArgument, "A ", shape_to_string(a), " and B ",
           shape_to_string(b), " disagree on the batch dims");
  const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  DJ_CHECK(b[b.size() - 2] == k, InvalidArgument, "A ", shape_to_string(a), " and B ", shape_to_string(b),
           " disagree on the inner dimension");
  int64_t batch = 1;
  for (size_t d = 0; d + 2 < a.size(); ++d) batch *= a[d];
  if (!spec.generic)
    DJ_CHECK(batch == spec.batch && m == spec.m && n == spec.n && k == spec.k, InvalidArgument,
             "the kernel was generated for batch ", spec.batch, ", m ", spec.m, ", n ", spec.n, ", k ", spec.k,
             ", called with A ", shape_to_string(a), " and B ", shape_to_string(b));
  const int64_t numel = batch * m * n;
  DJ_CHECK(shape_numel(output) == numel && (numel == 0 || (output.size() >= 2 && output.back() == n &&
                                                           output[output.size() - 2] == m)),
           InvalidArgument, "the output ", shape_to_string(output), " must be [", batch, ", ", m, ", ", n, "]");
  p.rows = m;
  p.cols = n;
  p.k = k;
  p.numel = numel;
  p.rank = 3;
  p.extent[0] = batch;
  p.extent[1] = m;
  p.extent[2] = n;
  return Status::ok_status();
}

}  // namespace

Status fill_params(const CudaKernelSpec& spec, const std::vector<Shape>& input_shapes, const Shape& output_shape,
                   DjKernelParams& params) {
  const std::string what = std::string(cuda_kernel_kind_name(spec.kind)) + " kernel '" + spec.name + "': ";
  DJ_CHECK(input_shapes.size() <= DJ_MAX_KERNEL_INPUTS, Unsupported, what, "a kernel takes at most ",
           DJ_MAX_KERNEL_INPUTS, " inputs, got ", input_shapes.size());
  const int expected = spec_input_count(spec);
  DJ_CHECK(static_cast<int>(input_shapes.size()) == expected, InvalidArgument, what, "takes ", expected,
           " inputs, got ", input_shapes.size());
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    DJ_CHECK(input_shapes[i].size() <= DJ_MAX_KERNEL_RANK, Unsupported, what, "input ", i, " ",
             shape_to_string(input_shapes[i]), " has rank above ", DJ_MAX_KERNEL_RANK);
    for (int64_t d : input_shapes[i])
      DJ_CHECK(d >= 0, InvalidArgument, what, "input ", i, " ", shape_to_string(input_shapes[i]), " has a negative dim");
  }
  DJ_CHECK(output_shape.size() <= DJ_MAX_KERNEL_RANK, Unsupported, what, "the output ", shape_to_string(output_shape),
           " has rank above ", DJ_MAX_KERNEL_RANK);
  for (int64_t d : output_shape)
    DJ_CHECK(d >= 0, InvalidArgument, what, "the output ", shape_to_string(output_shape), " has a negative dim");

  params.numel = params.rows = params.cols = params.k = 0;
  params.rank = 0;
  for (int d = 0; d < DJ_MAX_KERNEL_RANK; ++d) {
    params.extent[d] = 0;
    for (int i = 0; i < DJ_MAX_KERNEL_INPUTS; ++i) params.in_stride[i][d] = 0;
  }
  Status status;
  switch (spec.kind) {
    case CudaKernelKind::Elementwise: status = fill_elementwise(spec, input_shapes, output_shape, params); break;
    case CudaKernelKind::RowSoftmax:
    case CudaKernelKind::RowLayerNorm:
    case CudaKernelKind::RowReduce: status = fill_rows(spec, input_shapes, output_shape, params); break;
    case CudaKernelKind::Gemm: status = fill_gemm(spec, input_shapes, output_shape, params); break;
    case CudaKernelKind::BatchedGemm: status = fill_batched_gemm(spec, input_shapes, output_shape, params); break;
  }
  return status.with_context(what);
}

LaunchDims launch_dims(const CudaKernelSpec& spec, const DjKernelParams& params) {
  LaunchDims dims;
  switch (spec.kind) {
    case CudaKernelKind::Elementwise: {
      // The flat path (one coalesced dim) moves 4 elements per iteration.
      const int r = params.rank;
      const bool flat = r >= 1 && r <= DJ_MAX_KERNEL_RANK && params.extent[r - 1] == params.numel;
      const int64_t work = flat ? ceil_div(params.numel, 4) : params.numel;
      dims.block_x = kElementwiseBlock;
      dims.grid_x = clamp_blocks(ceil_div(work, kElementwiseBlock), kElementwiseMaxBlocks);
      break;
    }
    case CudaKernelKind::RowSoftmax:
    case CudaKernelKind::RowLayerNorm:
    case CudaKernelKind::RowReduce: {
      const int64_t rows = spec.generic ? params.rows : spec.rows;
      const int64_t cols = spec.generic ? params.cols : spec.cols;
      dims.block_x = kRowBlock;
      dims.grid_x = clamp_blocks(rows_use_warp_per_row(cols) ? ceil_div(rows, kRowsPerWarpBlock) : rows, kRowMaxBlocks);
      break;
    }
    case CudaKernelKind::Gemm: {
      const int64_t m = spec.generic ? params.rows : spec.m;
      const int64_t n = spec.generic ? params.cols : spec.n;
      dims.block_x = kGemmBlock;
      dims.grid_x = clamp_blocks(ceil_div(n, kGemmTileN), kGemmMaxBlocksX);
      dims.grid_y = clamp_blocks(ceil_div(m, kGemmTileM), kGemmMaxBlocksY);
      break;
    }
    case CudaKernelKind::BatchedGemm: {
      const int64_t m = spec.generic ? params.rows : spec.m;
      const int64_t n = spec.generic ? params.cols : spec.n;
      const int64_t batch = spec.generic ? params.extent[0] : spec.batch;
      dims.block_x = kGemmBlock;
      dims.grid_x = clamp_blocks(ceil_div(n, kGemmTileN), kGemmMaxBlocksX);
      dims.grid_y = clamp_blocks(ceil_div(m, kGemmTileM), kGemmMaxBlocksY);
      dims.grid_z = clamp_blocks(batch, kGemmMaxBlocksZ);
      break;
    }
  }
  return dims;
}

}  // namespace dj::jit::cuda
