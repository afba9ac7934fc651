// Seeded random tensors for `dj run` (see RandomTensor.h).
#include "bindings/cli/RandomTensor.h"

#include <random>

namespace dj {

Expected<Tensor> random_tensor(DType dtype, const Shape& shape, uint64_t seed, uint64_t stream) {
  DJ_ASSIGN_OR_RETURN(Tensor t, Tensor::try_empty(dtype, shape));
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(stream),
                    static_cast<uint32_t>(stream >> 32)};
  std::mt19937_64 rng(seq);
  const int64_t n = t.numel();
  // Our own mapping from raw bits (not std::*_distribution) so values are the
  // same with every standard library.
  auto unit = [&] { return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0); };  // [0, 1)
  dispatch_dtype(dtype, AllTypes{}, [&](auto tag) {
    using T = decltype(tag);
    T* d = t.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, bool>) {
        d[i] = (rng() >> 63) != 0;
      } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, half> ||
                           std::is_same_v<T, bfloat16>) {
        using C = typename ComputeType<T>::type;
        d[i] = T(static_cast<C>(2.0 * unit() - 1.0));
      } else {
        d[i] = static_cast<T>(rng() % 10);
      }
    }
  });
  return t;
}

}  // namespace dj
