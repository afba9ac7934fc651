// The op families: each registers its ops (kernel + shape function) into an
// OpRegistry. This list is the only place a new family is wired in.
#pragma once

namespace dj {
class OpRegistry;

void register_elementwise_ops(OpRegistry& r);   // ElementwiseOps*.cpp: math, compare, logic, Cast, Where, Clip, activations
void register_linalg_ops(OpRegistry& r);        // LinalgOps.cpp: MatMul, Gemm, Einsum
void register_conv_pool_ops(OpRegistry& r);     // ConvPoolOps.cpp: Conv, pooling
void register_reduction_ops(OpRegistry& r);     // ReductionOps.cpp: Reduce*, ArgMax/Min, CumSum, TopK
void register_normalization_ops(OpRegistry& r); // NormalizationOps.cpp: Softmax, LogSoftmax, *Normalization
void register_shape_ops(OpRegistry& r);         // ShapeOps.cpp / DataMovementOps.cpp: Shape, Reshape, Gather, Slice, ...
void register_control_flow_ops(OpRegistry& r);  // ControlFlowOps.cpp: If, Loop, Scan
void register_rnn_ops(OpRegistry& r);           // RnnOps.cpp: LSTM, GRU, RNN

inline void register_all_op_families(OpRegistry& r) {
  register_elementwise_ops(r);
  register_linalg_ops(r);
  register_conv_pool_ops(r);
  register_reduction_ops(r);
  register_normalization_ops(r);
  register_shape_ops(r);
  register_control_flow_ops(r);
  register_rnn_ops(r);
}

}  // namespace dj
