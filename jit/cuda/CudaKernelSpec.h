// CudaKernelSpec: what one generated CUDA kernel computes, independent of ONNX
// graphs (the specializer maps a FusionGroup onto it; jit/cuda turns it into CUDA C).
//
// All kinds read and write f32, contiguous row-major buffers. A spec is either
// concrete (generic = false: every extent is baked into the source, so a launch
// must use exactly these shapes; fill_params checks it) or generic (extents and
// strides are read from DjKernelParams at run time; only ranks, the number of
// inputs and, for Elementwise, which dims each input broadcasts along are fixed).
// Fused forms: GEMM epilogues (bias, ReLU, a residual add, ReLU again), batched
// GEMMs, and softmax / layer norm rows computed by an elementwise prologue.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj::jit::cuda {

enum class CudaKernelKind { Elementwise, RowSoftmax, RowLayerNorm, RowReduce, Gemm, BatchedGemm };
enum class RowReduceOp { Sum, Mean, Max, Min };

const char* cuda_kernel_kind_name(CudaKernelKind kind);
const char* row_reduce_op_name(RowReduceOp op);

struct ElementwiseStep {     // one op of a fused chain
  std::string op;            // ONNX op type, f32: Relu Sigmoid Tanh Exp Log Neg Abs Sqrt Erf
                             // Identity Reciprocal Floor Ceil LeakyRelu Add Sub Mul Div Max Min
  std::vector<int> operands; // < num inputs: kernel input v; else the result of step (v - num inputs)
  float alpha = 0.01f;       // LeakyRelu
};

struct CudaKernelSpec {
  CudaKernelKind kind = CudaKernelKind::Elementwise;
  std::string name;          // the extern "C" entry point (a valid C identifier)
  bool generic = false;      // true: extents/strides from DjKernelParams at run time;
                             // false: the concrete shapes below are baked into the source
  // Elementwise: inputs broadcast (NumPy rules, right-aligned) to output_shape. For a
  // generic spec the shapes are one example: they give the ranks (the kernel is made
  // for output rank output_shape.size()) and the number of inputs.
  Shape output_shape;
  std::vector<Shape> input_shapes;
  // Per input, per OUTPUT dim (right-aligned, output-rank entries): true where that
  // input is broadcast along it (dims an input lacks count as broadcast). Generic
  // specs: the symbolic knowledge that fill_params enforces; empty = unknown (the
  // kernel then handles any broadcasting). Concrete specs: ignored, derived from shapes.
  std::vector<std::vector<bool>> input_broadcast;
  std::vector<ElementwiseStep> steps;  // Elementwise and row prologues: the result is the last step's
  // Row kinds: input [rows, cols] row-major; RowSoftmax/RowLayerNorm output [rows, cols],
  // RowReduce output [rows]. RowLayerNorm inputs: x, scale[cols], optional bias[cols]
  // (num_inputs tells: 2 or 3); y = (x - mean) / sqrt(var + epsilon) * scale + bias,
  // var biased. RowSoftmax and RowReduce take one input (num_inputs 0 or 1).
  int64_t rows = 0, cols = 0;
  float epsilon = 1e-5f;
  RowReduceOp reduce = RowReduceOp::Sum;
  int num_inputs = 0;
  // RowSoftmax/RowLayerNorm prologue (empty: none): x is not read but computed per
  // element by `steps` (operand v < prologue_views.size(): prologue input v) from
  // these inputs, which then take x's place at the front of the argument list
  // (LayerNorm: then scale and bias; num_inputs counts them all). Each view is the
  // row block [rows, cols], one row [cols] broadcast over the rows, or one value [1];
  // a generic spec's views are examples: rank 2 = the block, [1] = one value, other
  // rank 1 = one row.
  std::vector<Shape> prologue_views;
  // Gemm: out[m, n] = A[m, k] x B[k, n] (+ bias[n]) then optional ReLU, then optional
  // + residual[m, n] and optional ReLU again; inputs A, B, (bias), (residual).
  // BatchedGemm: out[b, m, n] = A[b, m, k] x B[b, k, n] for b < batch; inputs A, B.
  int64_t m = 0, n = 0, k = 0;
  int64_t batch = 1;
  bool has_bias = false, relu = false;
  bool has_residual = false, relu_after_residual = false;
};

// How many input buffers a launch of this spec passes (Elementwise: input_shapes.size()).
int spec_input_count(const CudaKernelSpec& spec);

// Checks everything the generator relies on: a valid C identifier as name, input
// count and rank within DJ_MAX_KERNEL_INPUTS / DJ_MAX_KERNEL_RANK, concrete shapes
// broadcastable and positive, a well-formed step chain of known ops (operands refer
// to inputs or earlier steps, arity matches), finite epsilon/alpha, input counts
// that agree with the epilogue (num_inputs, when set) and prologue views of a
// known form.
Status validate_spec(const CudaKernelSpec& spec);

// How a row kernel reads prologue input `view` (see prologue_views).
enum class RowOperandView { Block, Row, Scalar };
RowOperandView row_operand_view(const Shape& view);

// The f32 elementwise chain `steps` over `num_inputs` inputs: every op known, its
// arity matched, every operand an input or an earlier step, alphas finite.
Status validate_steps(const std::vector<ElementwiseStep>& steps, int num_inputs);

}  // namespace dj::jit::cuda
