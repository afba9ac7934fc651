// The AVX2+FMA kernels of the recurrent ops: 8-float vectors, up to 12 of the 16
// ymm registers as product accumulators.
#include "runtime/ops/RnnIsa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DJ_RNN_TARGET __attribute__((target("avx2,fma")))
#define DJ_RNN_VBYTES 32
#define DJ_RNN_ACC_REGS 12
#include "runtime/ops/RnnIsaKernels.h"

namespace dj {
const RnnIsaKernels* rnn_kernels_avx2() {
  static const RnnIsaKernels table = dj_rnn_kernels_table("avx2");
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &table : nullptr;
}
}  // namespace dj
#else
namespace dj {
const RnnIsaKernels* rnn_kernels_avx2() { return nullptr; }
}  // namespace dj
#endif
