// SharedKernels: a weak map from kernel structure keys to compiled kernels (see SharedKernels.h).
#include "specializer/SharedKernels.h"

namespace dj::specializer {

SharedKernels& SharedKernels::process() {
  static SharedKernels table;
  return table;
}

std::shared_ptr<const jit::CompiledKernel> SharedKernels::find(const std::string& key) {
  if (key.empty()) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = kernels_.find(key);
  if (it == kernels_.end()) return nullptr;
  std::shared_ptr<const jit::CompiledKernel> kernel = it->second.lock();
  if (!kernel) {
    kernels_.erase(it);
    return nullptr;
  }
  reuses_ += 1;
  return kernel;
}

void SharedKernels::add(const std::string& key, std::shared_ptr<const jit::CompiledKernel> kernel) {
  if (key.empty() || !kernel) return;
  std::lock_guard<std::mutex> lock(mutex_);
  // Drop expired entries now and then so the map does not grow with dead keys.
  if (kernels_.size() >= 1024)
    for (auto it = kernels_.begin(); it != kernels_.end();) it = it->second.expired() ? kernels_.erase(it) : std::next(it);
  kernels_[key] = kernel;
}

uint64_t SharedKernels::reuses() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reuses_;
}

size_t SharedKernels::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return kernels_.size();
}

void SharedKernels::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  kernels_.clear();
  reuses_ = 0;
}

}  // namespace dj::specializer
