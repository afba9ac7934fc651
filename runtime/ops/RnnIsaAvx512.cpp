// The AVX-512 kernels of the recurrent ops: 16-float vectors, up to 24 of the 32
// zmm registers as product accumulators (an LSTM panel row is 4 vectors: 6 rows).
#include "runtime/ops/RnnIsa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DJ_RNN_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma")))
#define DJ_RNN_VBYTES 64
#define DJ_RNN_ACC_REGS 24
#include "runtime/ops/RnnIsaKernels.h"

namespace dj {
const RnnIsaKernels* rnn_kernels_avx512() {
  static const RnnIsaKernels table = dj_rnn_kernels_table("avx512");
  __builtin_cpu_init();
  const bool runs = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                    __builtin_cpu_supports("avx512dq");
  return runs ? &table : nullptr;
}
}  // namespace dj
#else
namespace dj {
const RnnIsaKernels* rnn_kernels_avx512() { return nullptr; }
}  // namespace dj
#endif
