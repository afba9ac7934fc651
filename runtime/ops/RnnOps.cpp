// The recurrent op family: LSTM, GRU and RNN. Kernels live in LstmKernel.cpp,
// GruKernel.cpp and RnnElmanKernel.cpp; the shape function they share (Y
// [seq, num_directions, batch, hidden], Y_h/Y_c [num_directions, batch, hidden],
// batch-major with layout = 1) in RnnProblem.cpp.
#include "runtime/OpRegistry.h"
#include "runtime/ops/OpFamilies.h"
#include "runtime/ops/RnnKernels.h"
#include "runtime/ops/RnnProblem.h"

namespace dj {

void register_rnn_ops(OpRegistry& r) {
  r.add({"LSTM", lstm_kernel, infer_rnn_shapes});
  r.add({"GRU", gru_kernel, infer_rnn_shapes});
  r.add({"RNN", rnn_kernel, infer_rnn_shapes});
}

}  // namespace dj
