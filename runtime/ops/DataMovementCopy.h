// DataMovementCopy: the byte-moving engines behind the data-movement kernels
// (Transpose, Slice, Pad, Expand, Tile, nearest Resize, DepthToSpace, ...).
//
// They work on contiguous row-major buffers by element size, never by dtype, so
// one instantiation serves f32/i32, another f16/bf16/i16, and so on. Contiguous
// runs are copied with memcpy; work above kParallelElements elements is split
// across TBB threads. Callers validate indices before calling: every engine here
// trusts its index arguments (they are computed, never taken from tensor data).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/Tensor.h"

namespace dj {

// Work below this many elements runs serially (interpreter overhead matters on
// tiny tensors; thread hand-off costs more than it saves).
constexpr int64_t kParallelElements = 32 * 1024;

// Calls fn(T{}) with the unsigned integer type of exactly `es` bytes; returns
// false (without calling) when es is not 1, 2, 4 or 8.
template <typename Fn>
bool dispatch_elem_size(size_t es, Fn&& fn) {
  switch (es) {
    case 1: fn(uint8_t{}); return true;
    case 2: fn(uint16_t{}); return true;
    case 4: fn(uint32_t{}); return true;
    case 8: fn(uint64_t{}); return true;
    default: return false;
  }
}

// Writes n copies of the es-byte value at `value` to dst.
void fill_elements(void* dst, int64_t n, const void* value, size_t es);

// out = in with its axes permuted: output axis j is input axis perm[j]. Size-1
// axes are dropped and axes that stay adjacent are merged first, so the work is
// a plain memcpy, a copy of contiguous rows, or a cache-tiled 2-D transpose of
// the two innermost axes repeated over the rest.
void permute_copy(const void* in, const Shape& in_shape, const std::vector<int64_t>& perm, void* out, size_t es);

// A per-axis gather: output element (o_0, ..., o_{r-1}) is input element
// (maps[0][o_0], ..., maps[r-1][o_{r-1}]), or the es-byte `fill` value where any
// of those map entries is -1. The output shape is (maps[0].size(), ...).
// Slice, Pad, Expand, Tile and nearest-neighbour Resize are all this engine.
// Requires: maps.size() == in_shape.size(); each entry in [-1, in_shape[axis]);
// fill non-null when some entry is -1.
void copy_by_axis_maps(const void* in, const Shape& in_shape, const std::vector<std::vector<int64_t>>& maps,
                       void* out, size_t es, const void* fill);

}  // namespace dj
