// FusionPlan: how one region runs for one shape signature — its ops cut into
// fusion groups, each either compiled (one Halide kernel) or run by the
// reference kernel — and the concrete shape of every value in it.
//
// Groups (in the region's node order, so running them in order is a valid
// schedule):
//   Elementwise  a chain of f32 elementwise ops (unary, binary with NumPy
//                broadcasting) whose intermediate values are read only inside the
//                chain: one kernel, one output, nothing materialized in between;
//   Gemm         MatMul of A[..., M, K] by a 2-D B[K, N], with a following bias Add
//                (a [N] vector), Relu, and a residual Add (a tensor of the output's
//                shape, then optionally Relu again) folded into its epilogue;
//   BatchedGemm  MatMul of A[b..., M, K] by B[b..., K, N] with equal batch dims
//                (attention's Q·Kᵀ and P·V): one kernel over the whole batch; a
//                Transpose making an operand, read only by it and keeping the last
//                axis last (the heads' split), is folded in when the product takes
//                the register-tiled schedule (N >= 48, M >= 8): the kernel reads its
//                input through the perm (exact plans, PlanFeatures::fold_transposes);
//   Conv         2-D NCHW Conv (any strides, dilations, pads, groups; its B as the
//                bias) with the same Relu / residual Add / Relu epilogue as Gemm
//                (exact plans only);
//   Softmax      Softmax over the last axis (f32);
//   LayerNorm    LayerNormalization over the last axis (f32, Scale/B of that size,
//                no Mean/InvStdDev outputs asked for);
//                both may take a *prologue*: the elementwise run right before them
//                whose one output is their input (attention's scale, a residual
//                Add), computed inside the row loop instead of materialized; its
//                inputs must be the row block's own shape, one row ([N]) or one
//                value (exact plans only);
//   Interpreted  any other op: the reference kernel, as the interpreter runs it.
//                A node whose outputs are all load-time constants (a Constant, an
//                Identity of a weight) gets such a group but runs nowhere: the
//                region fills constant values itself, and elementwise chains go on
//                past it.
// Concrete shapes come from the signature: the region's input dims bind the
// symbols of their declared shapes, and every produced value's symbolic shape is
// evaluated under those bindings. A region whose shapes are not closed over its
// inputs (Region::shapes_closed) cannot be planned.
//
// Generic plans (the shape-generic tier) are made from one representative
// signature but must hold for every signature with the same dtypes, ranks and
// constant dims: an elementwise op joins a kernel only if its broadcasting is
// decided by the symbolic shapes (a dim is either the output's own symbolic dim
// or a constant 1), and kernels read their extents from the buffers at run time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/Graph.h"
#include "runtime/Region.h"
#include "runtime/ShapeSignature.h"
#include "runtime/Status.h"

namespace dj::specializer {

enum class GroupKind { Elementwise, Gemm, Softmax, Interpreted, LayerNorm, BatchedGemm, Conv };
const char* group_kind_name(GroupKind kind);

struct FusionGroup {
  GroupKind kind = GroupKind::Interpreted;
  std::vector<int32_t> nodes;   // graph node indices, in order
  std::vector<ValueId> inputs;  // values read from outside the group (constants included), first-use order
  ValueId output = kNoValue;    // kernel groups: the one value they produce
  // Gemm: the operands (A may have leading batch dims, flattened into M).
  ValueId gemm_a = kNoValue, gemm_b = kNoValue, gemm_bias = kNoValue;
  bool gemm_relu = false;
  ValueId gemm_residual = kNoValue;   // added after bias/Relu
  bool gemm_relu_after_residual = false;
  int64_t m = 0, n = 0, k = 0;  // Gemm: rows of the flattened A, N, K; Softmax/LayerNorm: rows, row length
  int64_t batch = 1;            // BatchedGemm: the product of the batch dims
  int32_t prologue = 0;         // Softmax/LayerNorm: leading elementwise nodes of `nodes` fused before it
  // BatchedGemm: a Transpose folded into an operand (its node leads `nodes`):
  // gemm_a / gemm_b is then the Transpose's input, read through this ONNX perm.
  // Empty: the operand is read as it is.
  std::vector<int64_t> a_perm, b_perm;
  // Interpreted: every output is a load-time constant that stays inside the region
  // (a Constant, an Identity of a weight), so no step runs it.
  bool load_time_constant = false;
};

// What the planner may form, by the backend's abilities (both backends take all
// of these today; a backend without one turns it off in Specializer::plan_features).
struct PlanFeatures {
  bool residual_epilogue = true;
  bool batched_gemm = true;
  bool reduction_prologue = true;
  bool conv = true;
  // GEMMs in shape-generic plans. Off on the CPU: the reference kernel's packed
  // GEMM serves any shape faster than the guarded generic Halide schedule (a
  // BERT encoder at seq 64 ran its generic tier at 0.67x the interpreter with
  // them, 1.20x without); on the GPU a generic kernel beats copies to the host.
  bool generic_gemm = true;
  // A Transpose that only a batched MatMul reads, and that keeps the operand's last
  // axis last, is read by the GEMM kernel through its permutation instead of
  // materialized (exact plans). Off on the GPU: its generator reads dense operands.
  bool fold_transposes = true;
};

// How a prologue input lines up with the [M, N] rows of its Softmax/LayerNorm.
enum class RowOperand { Full, Row, Scalar };
// Full: `shape` has `rows`*`n` elements ending in n; Row: n elements; Scalar: one.
std::optional<RowOperand> row_operand(const Shape& shape, const Shape& rows_shape);

struct FusionPlan {
  bool generic = false;     // the shape-generic tier: concrete `shapes` are one example only
  const Graph* graph = nullptr;
  const Region* region = nullptr;
  SignatureWords signature;
  std::unordered_map<ValueId, Shape> shapes;  // every value the region reads or produces
  std::vector<FusionGroup> groups;

  size_t kernel_count() const;
  // True when some kernel group does more than one interpreted op would: it fuses
  // two or more ops, or it is a GEMM, Conv, Softmax or LayerNorm kernel with its own
  // schedule. A plan of lone elementwise ops only re-runs what the interpreter's
  // kernels already do (measured: the MoE expert regions' generic plan, four lone
  // Relu/Mul/Add kernels, ran 3% slower than the interpreter).
  bool fuses_anything() const;
  const Shape& shape(ValueId id) const { return shapes.at(id); }
  std::string describe() const;  // one line per group: kind, ops, shapes
};

// Plans `region` for `signature` (the words of ShapeSignature.h for Region::inputs).
// Fails with Unsupported when the region cannot be planned (not a compute region,
// shapes not closed, a signature that contradicts the declared shapes).
Expected<FusionPlan> plan_fusion(const Region& region, const SignatureWords& signature, bool generic = false,
                                 const PlanFeatures& features = {});

// The load-time shape of a value (constants: their actual shape); nullopt if unknown.
std::optional<SymShape> symbolic_shape(const Graph& graph, ValueId id);
// For NumPy broadcasting of `in` to `out` decided symbolically: per dim of `in`
// (row-major), whether it is broadcast (a constant 1 against a dim that is not).
// False when some dim is neither the output's dim nor a broadcast 1.
bool symbolic_broadcast(const SymShape& in, const SymShape& out, std::vector<bool>& broadcast);

// Whether the lowering knows `op` as an f32 elementwise op (see GroupLowering.cpp).
bool is_fusable_elementwise(const Node& node);

}  // namespace dj::specializer
