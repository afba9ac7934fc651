// RnnWeightCache: a small LRU of transposed recurrent weights (see RnnWeightCache.h).
#include "runtime/ops/RnnWeightCache.h"

#include <list>
#include <mutex>
#include <type_traits>

#include "runtime/OpRegistry.h"

namespace dj {
namespace {

constexpr size_t kMaxBytes = size_t{256} << 20;

struct Entry {
  const void* data = nullptr;
  DType dtype = DType::F32;
  Shape shape;
  bool as_double = false;
  Tensor source;  // keeps the weights' memory (and so the key) alive
  std::shared_ptr<const void> transposed;
  size_t bytes = 0;
};

std::mutex g_mutex;
std::list<Entry> g_entries;  // most recently used first
size_t g_bytes = 0;

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
  const bool as_double = std::is_same_v<C, double>;
  const Tensor contiguous = w.contiguous();
  if (contiguous.is_borrowed()) return transpose<C>(contiguous);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    for (auto it = g_entries.begin(); it != g_entries.end(); ++it) {
      if (it->data != contiguous.raw_data() || it->dtype != contiguous.dtype() || it->shape != contiguous.shape() ||
          it->as_double != as_double)
        continue;
      g_entries.splice(g_entries.begin(), g_entries, it);
      return std::static_pointer_cast<const std::vector<C>>(g_entries.front().transposed);
    }
  }
  std::shared_ptr<const std::vector<C>> made = transpose<C>(contiguous);  // outside the lock
  const size_t bytes = made->size() * sizeof(C);
  if (bytes > kMaxBytes) return made;
  std::lock_guard<std::mutex> lock(g_mutex);
  g_entries.push_front(Entry{contiguous.raw_data(), contiguous.dtype(), contiguous.shape(), as_double, contiguous,
                             made, bytes});
  g_bytes += bytes;
  while (g_bytes > kMaxBytes && !g_entries.empty()) {
    g_bytes -= g_entries.back().bytes;
    g_entries.pop_back();
  }
  return made;
}

size_t rnn_weight_cache_entries() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_entries.size();
}

template std::shared_ptr<const std::vector<float>> transposed_rnn_weights<float>(const Tensor&);
template std::shared_ptr<const std::vector<double>> transposed_rnn_weights<double>(const Tensor&);

}  // namespace dj
