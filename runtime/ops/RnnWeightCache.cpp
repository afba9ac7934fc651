// RnnWeightCache: a small LRU of prepared recurrent weights (see RnnWeightCache.h).
#include "runtime/ops/RnnWeightCache.h"

#include <functional>
#include <list>
#include <mutex>
#include <type_traits>

#include "runtime/OpRegistry.h"

namespace dj {
namespace {

constexpr size_t kMaxBytes = size_t{256} << 20;

// Which prepared form an entry holds.
struct Form {
  enum Kind { TransposedF32, TransposedF64, Panels } kind = TransposedF32;
  int gates = 0;
  int lanes = 0;
  bool operator==(const Form&) const = default;
};

struct Entry {
  const void* data = nullptr;
  DType dtype = DType::F32;
  Shape shape;
  Form form;
  Tensor source;  // keeps the weights' memory (and so the key) alive
  std::shared_ptr<const void> prepared;
  size_t bytes = 0;
};

std::mutex g_mutex;
std::list<Entry> g_entries;  // most recently used first
size_t g_bytes = 0;

// The prepared form of `w` from the cache, or made by `make` (which also reports
// its size) and kept.
std::shared_ptr<const void> cached(const Tensor& w, const Form& form,
                                   const std::function<std::shared_ptr<const void>(const Tensor&, size_t&)>& make) {
  const Tensor contiguous = w.contiguous();
  size_t bytes = 0;
  if (contiguous.is_borrowed()) return make(contiguous, bytes);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    for (auto it = g_entries.begin(); it != g_entries.end(); ++it) {
      if (it->data != contiguous.raw_data() || it->dtype != contiguous.dtype() || it->shape != contiguous.shape() ||
          !(it->form == form))
        continue;
      g_entries.splice(g_entries.begin(), g_entries, it);
      return g_entries.front().prepared;
    }
  }
  std::shared_ptr<const void> made = make(contiguous, bytes);  // outside the lock
  if (bytes > kMaxBytes) return made;
  std::lock_guard<std::mutex> lock(g_mutex);
  g_entries.push_front(Entry{contiguous.raw_data(), contiguous.dtype(), contiguous.shape(), form, contiguous, made,
                             bytes});
  g_bytes += bytes;
  while (g_bytes > kMaxBytes && !g_entries.empty()) {
    g_bytes -= g_entries.back().bytes;
    g_entries.pop_back();
  }
  return made;
}

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
  Form form;
  form.kind = std::is_same_v<C, double> ? Form::TransposedF64 : Form::TransposedF32;
  return std::static_pointer_cast<const std::vector<C>>(cached(w, form, [](const Tensor& t, size_t& bytes) {
    auto made = transpose<C>(t);
    bytes = made->size() * sizeof(C);
    return std::shared_ptr<const void>(made);
  }));
}

std::shared_ptr<const RnnPanelWeights> panel_rnn_weights(const Tensor& w, int gates, int lanes) {
  const Form form{Form::Panels, gates, lanes};
  return std::static_pointer_cast<const RnnPanelWeights>(cached(w, form, [&](const Tensor& t, size_t& bytes) {
    auto made = pack_rnn_panels(t, gates, lanes);
    bytes = made->bytes();
    return std::shared_ptr<const void>(made);
  }));
}

size_t rnn_weight_cache_entries() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_entries.size();
}

template std::shared_ptr<const std::vector<float>> transposed_rnn_weights<float>(const Tensor&);
template std::shared_ptr<const std::vector<double>> transposed_rnn_weights<double>(const Tensor&);

}  // namespace dj
