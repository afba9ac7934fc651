// SharedKernels: the process's compiled CPU kernels, found again by what they
// compute, so a kernel group whose pipeline is one the process already compiled
// reuses that kernel instead of compiling it again.
//
// Why: a region often holds several groups with the same pipeline (the Q/K/V
// projections of an encoder layer are one GEMM shape; two LayerNorms of one
// width are one kernel), and the shape-generic tier makes every GEMM of a region
// the same kernel. Compiling each once cuts a specialization's compile time by
// what it repeats.
//
// The key (kernel_structure_key, GroupLowering.h) is the canonical text of
// everything the lowering reads: the group kind and tier, the ops with their
// attributes and wiring, the buffer shapes (or, generic, the symbolic shapes and
// broadcasts), and whether listings were kept. Kernels take every tensor as an
// argument (no values are baked in), so equal keys mean equal code. Entries are
// weak: a kernel no specialization uses any more is unloaded as before.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "jit/CompiledKernel.h"

namespace dj::specializer {

class SharedKernels {
 public:
  static SharedKernels& process();  // the one table of this process

  // The live kernel compiled for `key`, or null. An empty key never matches.
  std::shared_ptr<const jit::CompiledKernel> find(const std::string& key);
  void add(const std::string& key, std::shared_ptr<const jit::CompiledKernel> kernel);

  uint64_t reuses() const;  // find() calls that returned a kernel
  size_t size();            // keys held (live or expired)
  void clear();             // for tests

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<const jit::CompiledKernel>> kernels_;
  uint64_t reuses_ = 0;
};

}  // namespace dj::specializer
