// HalideTensorBuffer: a halide_buffer_t describing a dj::Tensor's memory, no copy.
//
// Halide's dimension 0 is the innermost (contiguous) one, so dims are reversed from
// the Tensor's row-major order: halide dim d = tensor dim (rank-1-d). Extents and
// strides must fit in int32 (Halide without LargeBuffers); otherwise bind() fails.
// Invariant: the object holds the dimension array its halide_buffer_t points to, so
// it is neither copyable nor movable; the Tensor must outlive its use.
#pragma once

#include <array>
#include <optional>

#include "HalideRuntime.h"
#include "runtime/Tensor.h"

namespace dj::jit {

inline constexpr int kMaxHalideRank = 16;

// The Halide element type of a DType (bool is Halide's uint1, stored in a byte).
std::optional<halide_type_t> halide_type_of(DType dtype);

class HalideTensorBuffer {
 public:
  HalideTensorBuffer() = default;
  HalideTensorBuffer(const HalideTensorBuffer&) = delete;
  HalideTensorBuffer& operator=(const HalideTensorBuffer&) = delete;

  Status bind(const Tensor& tensor);
  halide_buffer_t* get() { return &buffer_; }

 private:
  halide_buffer_t buffer_;
  std::array<halide_dimension_t, kMaxHalideRank> dims_;
};

}  // namespace dj::jit
