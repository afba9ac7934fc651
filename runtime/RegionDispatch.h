// RegionDispatch: how the interpreter finds compiled code for a region — the
// runtime's side of the JIT, with no knowledge of how the code was made.
//
// A CompiledRegion computes a region's outputs from its inputs for exactly one
// ShapeSignature (its guard: the dtypes and shapes of Region::inputs, compared
// word for word) — or, for a shape-generic one, for every signature that equals
// its guard outside the *wildcard* words (the symbolic dims), which it may still
// decline through admits() (e.g. a zero-sized dim it was not built for). The specializer (a layer above) builds them and installs them
// here; the interpreter, before running a region node by node, looks for one
// whose guard matches the signature it just computed: a hash compare, then a
// compare of a few integers. A miss falls through to the next entry and finally
// to the interpreter, so an input the code was not made for never reaches it.
//
// Concurrency: lookups are lock-free (an atomic pointer to an immutable
// snapshot). Installing copies the snapshot; replaced snapshots are kept until
// the table dies, so a reader never sees freed memory. Entries per region are
// capped by the installer (the specializer's policy), not here.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/Region.h"
#include "runtime/ShapeSignature.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj {

class CompiledRegion {
 public:
  // `wildcard`: empty for an exact guard; else one flag per guard word, true where
  // any non-negative value matches.
  explicit CompiledRegion(SignatureWords guard, std::vector<bool> wildcard = {})
      : guard_(std::move(guard)), wildcard_(std::move(wildcard)),
        guard_hash_(hash_signature(guard_.data(), guard_.size())) {}
  virtual ~CompiledRegion() = default;

  const SignatureWords& guard() const { return guard_; }
  const std::vector<bool>& wildcard() const { return wildcard_; }
  bool is_generic() const { return !wildcard_.empty(); }
  uint64_t guard_hash() const { return guard_hash_; }
  bool matches(const int64_t* words, size_t n, uint64_t hash) const {
    if (n != guard_.size()) return false;
    if (!is_generic()) {
      if (hash != guard_hash_) return false;
      for (size_t i = 0; i < n; ++i)
        if (words[i] != guard_[i]) return false;
      return true;
    }
    for (size_t i = 0; i < n; ++i)
      if (wildcard_[i] ? words[i] < 0 : words[i] != guard_[i]) return false;
    return admits(words, n);
  }
  // "4x16:f32", or with wildcard dims as '*': "*x16:f32".
  std::string guard_text() const {
    SignatureWords shown = guard_;
    for (size_t i = 0; i < wildcard_.size(); ++i)
      if (wildcard_[i]) shown[i] = -1;
    return signature_to_string(shown);
  }
  // A generic region's last word on a signature its wildcards matched.
  virtual bool admits(const int64_t* words, size_t n) const { return true; }

  // `inputs`: the region's inputs in Region::inputs order, contiguous, matching
  // the guard. Fills `outputs` in Region::outputs order (fresh tensors).
  virtual Status run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) const = 0;

  // A *path*: code that goes on through the If node right after this region (the
  // next region of its graph, a Control region) into the branch the trace took.
  // Returns that branch (0 then, 1 else), or -1 for plain region code.
  virtual int traced_branch() const { return -1; }
  // For a path: runs the region as run() does; then, when the If's condition picks
  // the traced branch, the branch too: `if_outputs` gets the If node's outputs and
  // `took_path` is true. Otherwise (a *side exit*) `took_path` is false and the
  // interpreter runs the If itself from the region's outputs.
  virtual Status run_path(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs,
                          std::vector<Tensor>& if_outputs, bool& took_path) const {
    took_path = false;
    return run(inputs, outputs);
  }
  virtual std::string describe() const = 0;  // one line: what it is, how it was made

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  void count_hit() const { hits_.fetch_add(1, std::memory_order_relaxed); }

 private:
  SignatureWords guard_;
  std::vector<bool> wildcard_;
  uint64_t guard_hash_;
  mutable std::atomic<uint64_t> hits_{0};
};

class RegionDispatchTable {
 public:
  explicit RegionDispatchTable(size_t num_regions);

  // Null when nothing matches. Lock-free. Exact entries are tried before generic ones.
  const CompiledRegion* find(int32_t region, const int64_t* words, size_t n, uint64_t hash) const {
    const Snapshot* snap = snapshots_[static_cast<size_t>(region)].load(std::memory_order_acquire);
    if (!snap) return nullptr;
    for (const auto& entry : snap->entries)
      if (entry->matches(words, n, hash)) return entry.get();
    return nullptr;
  }
  bool empty(int32_t region) const { return snapshots_[static_cast<size_t>(region)].load(std::memory_order_acquire) == nullptr; }

  // Adds (or, for an equal guard and wildcard, replaces) an entry. Thread-safe.
  void install(int32_t region, std::shared_ptr<const CompiledRegion> code);
  void clear();  // drops every entry (old snapshots stay alive until destruction)
  std::vector<std::shared_ptr<const CompiledRegion>> entries(int32_t region) const;
  size_t num_regions() const { return snapshots_.size(); }

 private:
  struct Snapshot {
    std::vector<std::shared_ptr<const CompiledRegion>> entries;
  };
  std::vector<std::atomic<const Snapshot*>> snapshots_;
  mutable std::mutex install_mutex_;
  std::vector<std::unique_ptr<Snapshot>> all_snapshots_;  // owns every snapshot ever published
};

}  // namespace dj
