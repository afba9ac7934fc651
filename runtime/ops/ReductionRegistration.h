// The parts of the reduction family that live in their own files; each registers
// its ops (kernel + shape function). register_reduction_ops() calls them all.
#pragma once

namespace dj {
class OpRegistry;

void register_arg_reduce_ops(OpRegistry& r);  // ReductionArgOps.cpp: ArgMax, ArgMin
void register_cumsum_op(OpRegistry& r);       // ReductionCumSum.cpp: CumSum
void register_topk_op(OpRegistry& r);         // TopK.cpp: TopK

}  // namespace dj
