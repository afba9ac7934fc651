// RegionDispatchTable: copy-on-install snapshots per region.
#include "runtime/RegionDispatch.h"

#include <algorithm>

namespace dj {

RegionDispatchTable::RegionDispatchTable(size_t num_regions) : snapshots_(num_regions) {
  for (auto& s : snapshots_) s.store(nullptr, std::memory_order_relaxed);
}

void RegionDispatchTable::install(int32_t region, std::shared_ptr<const CompiledRegion> code) {
  if (region < 0 || static_cast<size_t>(region) >= snapshots_.size() || !code) return;
  std::lock_guard<std::mutex> lock(install_mutex_);
  auto next = std::make_unique<Snapshot>();
  if (const Snapshot* current = snapshots_[static_cast<size_t>(region)].load(std::memory_order_acquire))
    for (const auto& e : current->entries)
      if (e->guard() != code->guard() || e->wildcard() != code->wildcard()) next->entries.push_back(e);
  next->entries.push_back(std::move(code));
  // Exact guards first: a generic entry only serves what no exact one does.
  std::stable_partition(next->entries.begin(), next->entries.end(),
                        [](const std::shared_ptr<const CompiledRegion>& e) { return !e->is_generic(); });
  snapshots_[static_cast<size_t>(region)].store(next.get(), std::memory_order_release);
  all_snapshots_.push_back(std::move(next));
}

void RegionDispatchTable::clear() {
  std::lock_guard<std::mutex> lock(install_mutex_);
  for (auto& s : snapshots_) s.store(nullptr, std::memory_order_release);
}

std::vector<std::shared_ptr<const CompiledRegion>> RegionDispatchTable::entries(int32_t region) const {
  if (region < 0 || static_cast<size_t>(region) >= snapshots_.size()) return {};
  const Snapshot* snap = snapshots_[static_cast<size_t>(region)].load(std::memory_order_acquire);
  return snap ? snap->entries : std::vector<std::shared_ptr<const CompiledRegion>>{};
}

}  // namespace dj
