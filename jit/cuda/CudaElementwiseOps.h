// CudaElementwiseOps: the f32 elementwise ops a fused CUDA chain may contain, as
// CUDA C expressions with the CPU reference's semantics (runtime/ops/Elementwise*):
// Sigmoid = 1 / (1 + exp(-x)); Relu and LeakyRelu test x < 0, so NaN passes
// through; Max and Min return NaN when either operand is NaN (numpy, unlike fmaxf).
// Also the chain of such ops as one inline function (fused elementwise kernels and
// the row kernels' prologues share it).
#pragma once

#include <string>
#include <vector>

#include "jit/cuda/CudaKernelSpec.h"

namespace dj::jit::cuda {

// 1 or 2 for a supported op, 0 for any other.
int elementwise_op_arity(const std::string& op);

// Every supported op, in a stable order (for tests and messages).
const std::vector<std::string>& supported_elementwise_ops();

// The expression computing `step` from its operands' C expressions (which must be
// plain names: they may be repeated). Precondition: the op is supported and
// operands.size() is its arity.
std::string elementwise_op_expression(const ElementwiseStep& step, const std::vector<std::string>& operands);

// A __device__ __forceinline__ function `function_name`(float x0, ..., float x<num_inputs-1>)
// returning the chain's last step (t<s> holds step s), so that every place the chain
// is needed applies it with one call. Precondition: validate_steps(steps, num_inputs).
std::string elementwise_chain_function(const std::string& function_name, int num_inputs,
                                       const std::vector<ElementwiseStep>& steps);

// A float as a CUDA C single-precision literal that reads back to the same value
// ("0.00999999978f", "2.0f", "1e-05f"). Precondition: finite.
std::string float_literal(float value);

}  // namespace dj::jit::cuda
