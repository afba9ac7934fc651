// RnnKernels: the reference kernels of the recurrent ops, one file each
// (LstmKernel.cpp, GruKernel.cpp, RnnElmanKernel.cpp), registered in RnnOps.cpp.
// All follow ONNX semantics (opset 7..14 forms, layout 0 and 1) and share
// RnnProblem for attributes, input packing and output writing.
#pragma once

#include "runtime/OpRegistry.h"

namespace dj {

Status lstm_kernel(KernelContext& ctx);
Status gru_kernel(KernelContext& ctx);
Status rnn_kernel(KernelContext& ctx);  // the Elman RNN (ONNX "RNN")

}  // namespace dj
