// RnnWeightCache: the recurrent ops' prepared weight forms, kept in PreparedWeights
// (see RnnWeightCache.h).
#include "runtime/ops/RnnWeightCache.h"

#include <type_traits>

#include "runtime/OpRegistry.h"
#include "runtime/ops/PreparedWeights.h"

namespace dj {
namespace {

template <typename C>
std::shared_ptr<const std::vector<C>> transpose(const Tensor& w) {
  const int64_t nd = w.dim(0), rows = w.dim(1), cols = w.dim(2);
  auto out = std::make_shared<std::vector<C>>(static_cast<size_t>(w.numel()));
  dispatch_dtype(w.dtype(), FloatTypes{}, [&](auto tag) {
    using S = decltype(tag);
    const S* src = w.data<S>();
    for (int64_t d = 0; d < nd; ++d) {
      const S* in = src + d * rows * cols;
      C* dst = out->data() + d * rows * cols;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          dst[c * rows + r] = static_cast<C>(static_cast<typename ComputeType<S>::type>(in[r * cols + c]));
    }
  });
  return out;
}

}  // namespace

template <typename C>
std::shared_ptr<const std::vector<C>> transposed_rnn_weights(const Tensor& w) {
  PreparedForm form;
  form.kind = std::is_same_v<C, double> ? kRnnTransposedF64 : kRnnTransposedF32;
  return std::static_pointer_cast<const std::vector<C>>(prepared_weights(w, form, [](const Tensor& t, size_t& bytes) {
    auto made = transpose<C>(t);
    bytes = made->size() * sizeof(C);
    return std::shared_ptr<const void>(made);
  }));
}

std::shared_ptr<const RnnPanelWeights> panel_rnn_weights(const Tensor& w, int gates, int lanes) {
  const PreparedForm form{kRnnPanels, gates, lanes, 0};
  return std::static_pointer_cast<const RnnPanelWeights>(prepared_weights(w, form, [&](const Tensor& t, size_t& bytes) {
    auto made = pack_rnn_panels(t, gates, lanes);
    bytes = made->bytes();
    return std::shared_ptr<const void>(made);
  }));
}

size_t rnn_weight_cache_entries() {
  return prepared_weight_entries(kRnnTransposedF32) + prepared_weight_entries(kRnnTransposedF64) +
         prepared_weight_entries(kRnnPanels);
}

template std::shared_ptr<const std::vector<float>> transposed_rnn_weights<float>(const Tensor&);
template std::shared_ptr<const std::vector<double>> transposed_rnn_weights<double>(const Tensor&);

}  // namespace dj
