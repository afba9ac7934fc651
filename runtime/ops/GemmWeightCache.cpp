// GemmWeightCache: constant GEMM weights packed once (see GemmWeightCache.h).
#include "runtime/ops/GemmWeightCache.h"

#include "runtime/ops/GemmIsa.h"
#include "runtime/ops/PreparedWeights.h"

namespace dj {

std::shared_ptr<const PackedGemmB> packed_gemm_weights(const Tensor& b, bool transposed) {
  if (!b.defined() || !b.is_model_constant() || !b.on_host() || b.dtype() != DType::F32 || b.rank() != 2 ||
      b.numel() == 0)
    return nullptr;
  const GemmIsaKernels& isa = gemm_isa_kernels();
  const PreparedForm form{kGemmPanels, transposed ? 1 : 0, isa.nr, isa.mr};
  return std::static_pointer_cast<const PackedGemmB>(prepared_weights(b, form, [&](const Tensor& t, size_t& bytes) {
    const int64_t K = transposed ? t.dim(1) : t.dim(0);
    const int64_t N = transposed ? t.dim(0) : t.dim(1);
    const MatrixRef ref{t.data<float>(), transposed ? 1 : N, transposed ? K : 1};
    auto packed = pack_gemm_b(isa, K, N, ref);
    bytes = packed->bytes();
    return std::shared_ptr<const void>(packed);
  }));
}

std::shared_ptr<const PackedGemmA> packed_gemm_left_weights(const Tensor& a, int64_t M, int64_t K) {
  if (!a.defined() || !a.is_model_constant() || !a.on_host() || a.dtype() != DType::F32 || M <= 0 || K <= 0 ||
      a.numel() != M * K)
    return nullptr;
  const GemmIsaKernels& isa = gemm_isa_kernels();
  const PreparedForm form{kGemmPanelsA, M, isa.mr, isa.nr};
  return std::static_pointer_cast<const PackedGemmA>(prepared_weights(a, form, [&](const Tensor& t, size_t& bytes) {
    auto packed = pack_gemm_a(isa, M, K, MatrixRef{t.data<float>(), K, 1});
    bytes = packed->bytes();
    return std::shared_ptr<const void>(packed);
  }));
}

}  // namespace dj
