// The baseline kernels of the recurrent ops (SSE2 on x86-64, the target's default
// 16-byte vectors elsewhere): 4-float vectors, up to 12 accumulators; and the
// choice of table.
#include "runtime/ops/RnnIsa.h"

#define DJ_RNN_TARGET
#define DJ_RNN_VBYTES 16
#define DJ_RNN_ACC_REGS 12
#include "runtime/ops/RnnIsaKernels.h"

namespace dj {

const RnnIsaKernels* rnn_kernels_generic() {
  static const RnnIsaKernels table = dj_rnn_kernels_table("generic");
  return &table;
}

const RnnIsaKernels& rnn_isa_kernels() {
  static const RnnIsaKernels* chosen = [] {
    if (const RnnIsaKernels* k = rnn_kernels_avx512()) return k;
    if (const RnnIsaKernels* k = rnn_kernels_avx2()) return k;
    return rnn_kernels_generic();
  }();
  return *chosen;
}

}  // namespace dj
