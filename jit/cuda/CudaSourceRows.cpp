// CudaSourceRows: softmax, layer norm and row reductions (see the header).
#include "jit/cuda/CudaSourceRows.h"

#include <regex>
#include <set>

#include "jit/cuda/CudaElementwiseOps.h"
#include "jit/cuda/CudaKernelGeometry.h"
#include "jit/cuda/CudaSourceText.h"

namespace dj::jit::cuda {
namespace {

enum class Combine { Sum, Max, Min };

const char* combine_name(Combine c) { return c == Combine::Sum ? "sum" : c == Combine::Max ? "max" : "min"; }
const char* combine_identity(Combine c) { return c == Combine::Sum ? "0.0f" : c == Combine::Max ? "-INFINITY" : "INFINITY"; }
std::string combine_apply(Combine c, const std::string& a, const std::string& b) {
  if (c == Combine::Sum) return cat(a, " + ", b);
  return cat(c == Combine::Max ? "dj_max(" : "dj_min(", a, ", ", b, ")");
}

// The warp and block all-reductions the kernel uses, nothing else.
std::string reduction_helpers(const std::set<Combine>& combines, bool block) {
  SourceWriter e;
  if (combines.count(Combine::Max))
    e.line(0, "__device__ __forceinline__ float dj_max(float a, float b) { return (b > a || b != b) ? b : a; }");
  if (combines.count(Combine::Min))
    e.line(0, "__device__ __forceinline__ float dj_min(float a, float b) { return (b < a || b != b) ? b : a; }");
  for (Combine c : combines) {
    const std::string name = combine_name(c);
    e.line(0, "// All-reduce across the 32 lanes of a warp: every lane returns the result.");
    e.line(0, "__device__ __forceinline__ float dj_warp_", name, "(float v) {");
    e.line(1, "for (int offset = 16; offset > 0; offset /= 2) v = ",
           combine_apply(c, "v", "__shfl_xor_sync(0xffffffffu, v, offset)"), ";");
    e.line(1, "return v;");
    e.line(0, "}");
    if (!block) continue;
    e.line(0, "// All-reduce across the block (blockDim.x a multiple of 32, at most 1024): every");
    e.line(0, "// thread returns the result. `partial` is the caller's __shared__ float[32]; the");
    e.line(0, "// first barrier publishes the warps' partials, the second keeps a fast warp from");
    e.line(0, "// overwriting them (in the caller's next reduction) before every warp has read them.");
    e.line(0, "__device__ __forceinline__ float dj_block_", name, "(float v, float* partial) {");
    e.line(1, "const unsigned lane = threadIdx.x % 32u, warp = threadIdx.x / 32u;");
    e.line(1, "v = dj_warp_", name, "(v);");
    e.line(1, "if (lane == 0u) partial[warp] = v;");
    e.line(1, "__syncthreads();");
    e.line(1, "v = lane < blockDim.x / 32u ? partial[lane] : ", combine_identity(c), ";");
    e.line(1, "v = dj_warp_", name, "(v);");
    e.line(1, "__syncthreads();");
    e.line(1, "return v;");
    e.line(0, "}");
  }
  return e.text() + "\n";
}

Combine reduce_combine(RowReduceOp op) {
  return op == RowReduceOp::Max ? Combine::Max : op == RowReduceOp::Min ? Combine::Min : Combine::Sum;
}

std::set<Combine> combines_of(const CudaKernelSpec& spec) {
  switch (spec.kind) {
    case CudaKernelKind::RowSoftmax: return {Combine::Max, Combine::Sum};
    case CudaKernelKind::RowLayerNorm: return {Combine::Sum};
    default: return {reduce_combine(spec.reduce)};
  }
}

// One way of walking a row: which elements this thread visits and how partial
// results are combined across the threads that share the row.
struct RowWalk {
  bool block = false;  // a block per row (else a warp per row)
  std::string loop(const std::string& body) const {
    return cat("for (long long j = ", block ? "threadIdx.x" : "lane", "; j < cols; j += ", block ? "blockDim.x" : "32",
               ") ", body);
  }
  std::string reduce(Combine c, const std::string& v) const {
    return cat(block ? "dj_block_" : "dj_warp_", combine_name(c), "(", v, block ? ", partial)" : ")");
  }
  std::string leader() const { return block ? "threadIdx.x == 0u" : "lane == 0"; }
};

// Where element j of the current row comes from: x itself, or the prologue applied
// to its inputs' elements (the row block's, the row vector's, or a value loaded once).
struct RowSource {
  const CudaKernelSpec& spec;

  bool prologue() const { return !spec.prologue_views.empty(); }
  RowOperandView view(size_t i) const { return row_operand_view(spec.prologue_views[i]); }
  std::string function() const { return spec.name + "_prologue"; }

  // At the top of the kernel: the input pointers (and the prologue's one-value operands).
  void declare_inputs(SourceWriter& e, int in) const {
    if (!prologue()) {
      e.line(in, "const float* __restrict__ x = p.in[0];");
      return;
    }
    for (size_t i = 0; i < spec.prologue_views.size(); ++i) {
      if (view(i) == RowOperandView::Scalar)
        e.line(in, "const float s", i, " = p.in[", i, "][0];");
      else
        e.line(in, "const float* __restrict__ in", i, " = p.in[", i, "];");
    }
  }
  // At the top of each row: pointers to the row in the row-block operands.
  void declare_row(SourceWriter& e, int in) const {
    if (!prologue()) {
      e.line(in, "const float* xr = x + row * cols;");
      return;
    }
    for (size_t i = 0; i < spec.prologue_views.size(); ++i)
      if (view(i) == RowOperandView::Block) e.line(in, "const float* r", i, " = in", i, " + row * cols;");
  }
  // Element j of the row (j: a C expression without side effects).
  std::string at(const std::string& j) const {
    if (!prologue()) return cat("xr[", j, "]");
    std::string call = function() + "(";
    for (size_t i = 0; i < spec.prologue_views.size(); ++i) {
      call += i ? ", " : "";
      switch (view(i)) {
        case RowOperandView::Block: call += cat("r", i, "[", j, "]"); break;
        case RowOperandView::Row: call += cat("in", i, "[", j, "]"); break;
        case RowOperandView::Scalar: call += cat("s", i); break;
      }
    }
    return call + ")";
  }
  // The first input after the rows' own (LayerNorm's scale).
  size_t first_parameter() const { return prologue() ? spec.prologue_views.size() : 1; }
};

bool layer_norm_has_bias(const CudaKernelSpec& spec) {
  return spec.num_inputs == static_cast<int>(RowSource{spec}.first_parameter()) + 2;
}

std::string layer_norm_output(const CudaKernelSpec& spec, const std::string& x) {
  return cat("(", x, " - mean) * inv * scale[j]", layer_norm_has_bias(spec) ? " + bias[j]" : "");
}

// The body of one row, streaming x from memory in every pass (any cols); a prologue
// is evaluated again in each pass (it is cheap next to the reads it saves).
void emit_streaming_row(SourceWriter& e, int in, const CudaKernelSpec& spec, const RowWalk& w) {
  const RowSource src{spec};
  const std::string xj = src.at("j");
  switch (spec.kind) {
    case CudaKernelKind::RowSoftmax:
      e.line(in, "float m = -INFINITY;");
      e.line(in, w.loop(cat("m = dj_max(m, ", xj, ");")));
      e.line(in, "m = ", w.reduce(Combine::Max, "m"), ";");
      e.line(in, "float s = 0.0f;");
      e.line(in, w.loop(cat("s += expf(", xj, " - m);")));
      e.line(in, "const float inv = 1.0f / ", w.reduce(Combine::Sum, "s"), ";");
      e.line(in, w.loop(cat("yr[j] = expf(", xj, " - m) * inv;")));
      return;
    case CudaKernelKind::RowLayerNorm:
      e.line(in, "float s = 0.0f;");
      e.line(in, w.loop(cat("s += ", xj, ";")));
      e.line(in, "const float mean = ", w.reduce(Combine::Sum, "s"), " / (float)cols;");
      e.line(in, "float q = 0.0f;");
      e.line(in, w.loop(cat("{ const float d = ", xj, " - mean; q += d * d; }")));
      e.line(in, "const float var = ", w.reduce(Combine::Sum, "q"), " / (float)cols;");
      e.line(in, "const float inv = 1.0f / sqrtf(var + ", float_literal(spec.epsilon), ");");
      e.line(in, w.loop(cat("yr[j] = ", layer_norm_output(spec, xj), ";")));
      return;
    default: {
      const Combine c = reduce_combine(spec.reduce);
      e.line(in, "float a = ", combine_identity(c), ";");
      e.line(in, w.loop(cat("a = ", combine_apply(c, "a", xj), ";")));
      e.line(in, "a = ", w.reduce(c, "a"), ";");
      e.line(in, "if (", w.leader(), ") y[row] = ", spec.reduce == RowReduceOp::Mean ? "a / (float)cols" : "a", ";");
      return;
    }
  }
}

// The body of one row for a concrete warp-per-row softmax or layer norm: the row
// stays in registers (v[t] holds element lane + 32 t), so x is read once.
void emit_cached_warp_row(SourceWriter& e, int in, const CudaKernelSpec& spec) {
  const std::string xj = RowSource{spec}.at("j");
  const int64_t per_lane = (spec.cols + kWarpSize - 1) / kWarpSize;
  const bool ragged = spec.cols % kWarpSize != 0;  // the last pass has lanes beyond cols
  auto loop = [&](const std::string& body) {
    e.line(in, "for (int t = 0; t < ", per_lane, "; ++t) {");
    // The element index, where the body needs it (an unused one draws an NVRTC warning).
    if (std::regex_search(body, std::regex("\\bj\\b"))) e.line(in + 1, "const int j = lane + t * 32;");
    e.line(in + 1, body);
    e.line(in, "}");
  };
  auto guarded = [&](const std::string& in_row, const std::string& beyond) {
    return ragged ? cat("(j < cols ? ", in_row, " : ", beyond, ")") : in_row;
  };
  e.line(in, "float v[", per_lane, "];");
  if (spec.kind == CudaKernelKind::RowSoftmax) {
    e.line(in, "float m = -INFINITY;");
    loop(cat("v[t] = ", guarded(xj, "-INFINITY"), "; m = dj_max(m, v[t]);"));
    e.line(in, "m = dj_warp_max(m);");
    e.line(in, "float s = 0.0f;");
    loop(cat("v[t] = ", guarded("expf(v[t] - m)", "0.0f"), "; s += v[t];"));
    e.line(in, "const float inv = 1.0f / dj_warp_sum(s);");
    loop(cat(ragged ? "if (j < cols) " : "", "yr[j] = v[t] * inv;"));
  } else {
    e.line(in, "float s = 0.0f;");
    loop(cat("v[t] = ", guarded(xj, "0.0f"), "; s += v[t];"));
    e.line(in, "const float mean = dj_warp_sum(s) / (float)cols;");
    e.line(in, "float q = 0.0f;");
    loop(cat("const float d = ", guarded("v[t] - mean", "0.0f"), "; q += d * d;"));
    e.line(in, "const float var = dj_warp_sum(q) / (float)cols;");
    e.line(in, "const float inv = 1.0f / sqrtf(var + ", float_literal(spec.epsilon), ");");
    loop(cat(ragged ? "if (j < cols) " : "", "yr[j] = ", layer_norm_output(spec, "v[t]"), ";"));
  }
}

void emit_warp_rows(SourceWriter& e, int in, const CudaKernelSpec& spec, bool cached) {
  const int per_block = kRowsPerWarpBlock;
  e.line(in, "// one warp per row, ", per_block, " rows per block");
  e.line(in, "const int lane = (int)(threadIdx.x % 32u);");
  e.line(in, "for (long long row = (long long)blockIdx.x * ", per_block, " + threadIdx.x / 32u; row < rows; row += ",
         "(long long)gridDim.x * ", per_block, ") {");
  RowSource{spec}.declare_row(e, in + 1);
  if (spec.kind != CudaKernelKind::RowReduce) e.line(in + 1, "float* yr = y + row * cols;");
  if (cached)
    emit_cached_warp_row(e, in + 1, spec);
  else
    emit_streaming_row(e, in + 1, spec, RowWalk{false});
  e.line(in, "}");
}

void emit_block_rows(SourceWriter& e, int in, const CudaKernelSpec& spec) {
  e.line(in, "// one block per row");
  e.line(in, "for (long long row = blockIdx.x; row < rows; row += gridDim.x) {");
  RowSource{spec}.declare_row(e, in + 1);
  if (spec.kind != CudaKernelKind::RowReduce) e.line(in + 1, "float* yr = y + row * cols;");
  emit_streaming_row(e, in + 1, spec, RowWalk{true});
  e.line(in, "}");
}

}  // namespace

std::string row_kernel_source(const CudaKernelSpec& spec) {
  const bool warp = !spec.generic && rows_use_warp_per_row(spec.cols);
  const bool block = spec.generic || !warp;
  std::string summary;
  if (spec.kind == CudaKernelKind::RowReduce) summary = cat(row_reduce_op_name(spec.reduce), ", ");
  summary += spec.generic ? std::string("rows and cols at run time")
                          : cat(spec.rows, " x ", spec.cols, warp ? ", a warp per row" : ", a block per row");
  if (!spec.prologue_views.empty())
    summary += cat(", x computed by a prologue of ", spec.steps.size(), spec.steps.size() == 1 ? " op" : " ops",
                   " from ", spec.prologue_views.size(), spec.prologue_views.size() == 1 ? " input" : " inputs");
  SourceWriter e;
  e.append(kernel_preamble(spec, summary));
  e.append(reduction_helpers(combines_of(spec), block));
  const RowSource src{spec};
  if (src.prologue())
    e.append(elementwise_chain_function(src.function(), static_cast<int>(spec.prologue_views.size()), spec.steps));
  e.line(0, kernel_signature(spec.name, kRowBlock), " {");
  src.declare_inputs(e, 1);
  if (spec.kind == CudaKernelKind::RowLayerNorm) {
    const size_t first = src.first_parameter();
    e.line(1, "const float* __restrict__ scale = p.in[", first, "];");
    if (layer_norm_has_bias(spec)) e.line(1, "const float* __restrict__ bias = p.in[", first + 1, "];");
  }
  e.line(1, "float* __restrict__ y = p.out;");
  e.line(1, "const long long rows = ", spec.generic ? std::string("p.rows") : ll_literal(spec.rows), ";");
  e.line(1, "const long long cols = ", spec.generic ? std::string("p.cols") : ll_literal(spec.cols), ";");
  if (block) e.line(1, "__shared__ float partial[32];");
  if (!spec.generic) {
    if (warp)
      emit_warp_rows(e, 1, spec, spec.kind != CudaKernelKind::RowReduce);
    else
      emit_block_rows(e, 1, spec);
  } else {
    // The branch is uniform across the launch, so the block form's barriers are safe.
    e.line(1, "if (cols <= ", ll_literal(kWarpRowMaxCols), ") {");
    emit_warp_rows(e, 2, spec, false);
    e.line(1, "} else {");
    emit_block_rows(e, 2, spec);
    e.line(1, "}");
  }
  e.line(0, "}");
  return e.text();
}

}  // namespace dj::jit::cuda
