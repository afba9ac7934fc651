// LoadedModel: one dj_model owned by a Python object (dynajit._core.LoadedModel).
//
// Invariants: model_ is non-NULL for the object's whole life (a failed load throws
// before an object exists) and is freed once, by the destructor. Python keeps the
// object alive while any of its methods runs, so dj_model_free never overlaps a
// dj_run. run() releases the GIL around dj_run only; everything that touches
// Python objects happens with the GIL held.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nanobind/nanobind.h>

#include "TensorExchange.h"
#include "dynajit.h"

namespace dynajit_py {

class LoadedModel {
 public:
  static LoadedModel from_file(const std::string& path, int32_t num_threads, bool jit, const std::string& cache_dir,
                               const std::string& device);
  static LoadedModel from_bytes(const nb::bytes& data, int32_t num_threads, bool jit, const std::string& cache_dir,
                                const std::string& device);

  LoadedModel(LoadedModel&& other) noexcept : model_(other.model_) { other.model_ = nullptr; }
  LoadedModel(const LoadedModel&) = delete;
  LoadedModel& operator=(const LoadedModel&) = delete;
  LoadedModel& operator=(LoadedModel&&) = delete;
  ~LoadedModel() { dj_model_free(model_); }

  // [(name, dtype code, rank, [(dim kind, value, symbol or None), ...]), ...] in the
  // model's order; rank -1 (and no dims) when load-time inference does not know it.
  nb::list inputs() const;
  nb::list outputs() const;

  // dj_model_stats: the model's statistics as JSON text (runtime/TraceReport.h has the keys).
  std::string stats() const;

  // dj_model_wait_for_compiles with the GIL released: true when no compile is left.
  bool wait_for_compiles(int64_t timeout_ms);

  // One dj_run. names[i] names arrays[i], viewed as dtypes[i] (dj_dtype codes).
  // Returns every output in the model's order as NumPy arrays that own their buffers.
  nb::list run(const std::vector<std::string>& names, const std::vector<InputArray>& arrays,
               const std::vector<int>& dtypes);

 private:
  explicit LoadedModel(dj_model* model) : model_(model) {}
  dj_model* model_;
};

}  // namespace dynajit_py
