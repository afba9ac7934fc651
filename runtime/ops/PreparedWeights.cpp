// PreparedWeights: a small LRU of prepared weights (see PreparedWeights.h).
#include "runtime/ops/PreparedWeights.h"

#include <list>
#include <mutex>

namespace dj {
namespace {

constexpr size_t kMaxBytes = size_t{256} << 20;

struct Entry {
  const void* data = nullptr;
  DType dtype = DType::F32;
  Shape shape;
  PreparedForm form;
  Tensor source;  // keeps the weights' memory (and so the key) alive
  std::shared_ptr<const void> prepared;
  size_t bytes = 0;
};

std::mutex g_mutex;
std::list<Entry> g_entries;  // most recently used first
size_t g_bytes = 0;

}  // namespace

std::shared_ptr<const void> prepared_weights(
    const Tensor& w, const PreparedForm& form,
    const std::function<std::shared_ptr<const void>(const Tensor& contiguous, size_t& bytes)>& make) {
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

size_t prepared_weight_entries() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_entries.size();
}

size_t prepared_weight_entries(int kind) {
  std::lock_guard<std::mutex> lock(g_mutex);
  size_t n = 0;
  for (const Entry& e : g_entries) n += e.form.kind == kind;
  return n;
}

}  // namespace dj
