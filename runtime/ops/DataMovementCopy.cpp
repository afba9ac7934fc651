// The byte-moving engines: fill, axis permutation, per-axis gather.
#include "runtime/ops/DataMovementCopy.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>

namespace dj {

namespace {

// Runs body(begin, end) over [0, n), on TBB threads when `elements` is large.
template <typename Body>
void for_range(int64_t n, int64_t elements, Body&& body) {
  if (n <= 0) return;
  if (elements < kParallelElements || n == 1) {
    body(int64_t{0}, n);
    return;
  }
  int64_t per_item = std::max<int64_t>(1, elements / n);
  int64_t grain = std::max<int64_t>(1, kParallelElements / 4 / per_item);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                    [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
}

bool all_zero_bytes(const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i)
    if (b[i]) return false;
  return true;
}

// ---- permute ---------------------------------------------------------------

// A permutation with size-1 axes dropped and adjacent-in-both-orders axes merged.
struct Permutation {
  Shape in_shape;                // merged input dims
  std::vector<int64_t> perm;     // output axis j = input axis perm[j]
};

Permutation simplify_permutation(const Shape& in_shape, const std::vector<int64_t>& perm) {
  const int64_t r = static_cast<int64_t>(in_shape.size());
  // Kept input axes (size != 1), renumbered 0..k-1 in input order.
  std::vector<int64_t> renumber(static_cast<size_t>(r), -1);
  Shape kept;
  for (int64_t i = 0; i < r; ++i) {
    if (in_shape[i] != 1) {
      renumber[i] = static_cast<int64_t>(kept.size());
      kept.push_back(in_shape[i]);
    }
  }
  std::vector<int64_t> order;  // kept axes in output order
  for (int64_t p : perm)
    if (renumber[p] >= 0) order.push_back(renumber[p]);
  // Group runs of consecutive kept axes that stay consecutive in the output.
  std::vector<std::pair<int64_t, int64_t>> groups;  // [first, last] kept axis, in output order
  for (int64_t a : order) {
    if (!groups.empty() && groups.back().second + 1 == a) {
      groups.back().second = a;
    } else {
      groups.push_back({a, a});
    }
  }
  // Input order of the groups = sorted by first kept axis.
  std::vector<size_t> by_input(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) by_input[i] = i;
  std::sort(by_input.begin(), by_input.end(),
            [&](size_t x, size_t y) { return groups[x].first < groups[y].first; });
  std::vector<int64_t> group_input_pos(groups.size());
  Permutation out;
  for (size_t pos = 0; pos < by_input.size(); ++pos) {
    const auto& g = groups[by_input[pos]];
    int64_t size = 1;
    for (int64_t a = g.first; a <= g.second; ++a) size *= kept[a];
    out.in_shape.push_back(size);
    group_input_pos[by_input[pos]] = static_cast<int64_t>(pos);
  }
  for (size_t j = 0; j < groups.size(); ++j) out.perm.push_back(group_input_pos[j]);
  return out;
}

// Offsets of an output "rest" index in input and output, for a set of axes.
struct AxisWalk {
  std::vector<int64_t> sizes, in_strides, out_strides;
  void offsets(int64_t linear, int64_t& in_off, int64_t& out_off) const {
    in_off = 0;
    out_off = 0;
    for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
      int64_t i = linear % sizes[d];
      linear /= sizes[d];
      in_off += i * in_strides[d];
      out_off += i * out_strides[d];
    }
  }
};

template <typename T>
void transpose_tile(const T* in, T* out, int64_t a0, int64_t a1, int64_t b0, int64_t b1, int64_t in_stride_a,
                    int64_t out_stride_b) {
  // Walk a inside so writes stream; strided reads of a tile whose rows are one
  // cache line each stay clear of the set conflicts that power-of-two strides
  // cause when the strided side is written instead (measured: 10-25x slower).
  for (int64_t b = b0; b < b1; ++b) {
    const T* src = in + b;
    T* dst = out + b * out_stride_b;
    for (int64_t a = a0; a < a1; ++a) dst[a] = src[a * in_stride_a];
  }
}

}  // namespace

void fill_elements(void* dst, int64_t n, const void* value, size_t es) {
  if (n <= 0) return;
  if (all_zero_bytes(value, es)) {
    std::memset(dst, 0, static_cast<size_t>(n) * es);
    return;
  }
  bool done = dispatch_elem_size(es, [&](auto tag) {
    using T = decltype(tag);
    T v;
    std::memcpy(&v, value, sizeof(T));
    std::fill_n(static_cast<T*>(dst), n, v);
  });
  if (done) return;
  // Odd element sizes (merged blocks): double the filled prefix.
  char* d = static_cast<char*>(dst);
  std::memcpy(d, value, es);
  size_t filled = es, total = static_cast<size_t>(n) * es;
  while (filled < total) {
    size_t chunk = std::min(filled, total - filled);
    std::memcpy(d + filled, d, chunk);
    filled += chunk;
  }
}

void permute_copy(const void* in_v, const Shape& in_shape, const std::vector<int64_t>& perm, void* out_v, size_t es) {
  const int64_t total = shape_numel(in_shape);
  if (total == 0) return;
  const char* in = static_cast<const char*>(in_v);
  char* out = static_cast<char*>(out_v);
  Permutation p = simplify_permutation(in_shape, perm);
  const int64_t k = static_cast<int64_t>(p.perm.size());
  bool identity = true;
  for (int64_t j = 0; j < k; ++j) identity = identity && p.perm[j] == j;
  if (identity) {
    std::memcpy(out, in, static_cast<size_t>(total) * es);
    return;
  }
  Strides in_strides = contiguous_strides(p.in_shape);
  Shape out_shape(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) out_shape[j] = p.in_shape[p.perm[j]];
  Strides out_strides = contiguous_strides(out_shape);

  if (p.perm[k - 1] == k - 1) {
    // The innermost input axis stays innermost: copy contiguous rows.
    const int64_t inner = p.in_shape[k - 1];
    AxisWalk walk;
    for (int64_t j = 0; j < k - 1; ++j) {
      walk.sizes.push_back(out_shape[j]);
      walk.in_strides.push_back(in_strides[p.perm[j]]);
      walk.out_strides.push_back(out_strides[j]);
    }
    const size_t row_bytes = static_cast<size_t>(inner) * es;
    for_range(total / inner, total, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        int64_t in_off, out_off;
        walk.offsets(row, in_off, out_off);
        std::memcpy(out + out_off * static_cast<int64_t>(es), in + in_off * static_cast<int64_t>(es), row_bytes);
      }
    });
    return;
  }

  // Tiled transpose of input axis a (innermost in the output) against input
  // axis b = k-1 (innermost in the input), repeated over the other axes.
  const int64_t a = p.perm[k - 1];
  const int64_t b = k - 1;
  int64_t q = 0;  // output position of b
  for (int64_t j = 0; j < k; ++j)
    if (p.perm[j] == b) q = j;
  const int64_t A = p.in_shape[a], B = p.in_shape[b];
  const int64_t in_stride_a = in_strides[a], out_stride_b = out_strides[q];
  AxisWalk rest;
  for (int64_t j = 0; j < k; ++j) {
    if (j == k - 1 || j == q) continue;
    rest.sizes.push_back(out_shape[j]);
    rest.in_strides.push_back(in_strides[p.perm[j]]);
    rest.out_strides.push_back(out_strides[j]);
  }
  // A tile row is one 64-byte cache line (16 floats, 32 halfs).
  const int64_t kTile = std::max<int64_t>(8, 64 / static_cast<int64_t>(es));
  const int64_t a_tiles = (A + kTile - 1) / kTile;
  const int64_t rest_count = total / (A * B);
  auto run_tiles = [&](auto tag) {
    using T = decltype(tag);
    const T* src = reinterpret_cast<const T*>(in);
    T* dst = reinterpret_cast<T*>(out);
    for_range(rest_count * a_tiles, total, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        int64_t in_off, out_off;
        rest.offsets(item / a_tiles, in_off, out_off);
        int64_t a0 = (item % a_tiles) * kTile, a1 = std::min(A, a0 + kTile);
        for (int64_t b0 = 0; b0 < B; b0 += kTile)
          transpose_tile(src + in_off, dst + out_off, a0, a1, b0, std::min(B, b0 + kTile), in_stride_a,
                         out_stride_b);
      }
    });
  };
  if (dispatch_elem_size(es, run_tiles)) return;
  // Element sizes other than 1/2/4/8: one memcpy per element.
  for_range(rest_count, total, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      int64_t in_off, out_off;
      rest.offsets(item, in_off, out_off);
      for (int64_t ia = 0; ia < A; ++ia)
        for (int64_t ib = 0; ib < B; ++ib)
          std::memcpy(out + (out_off + ia + ib * out_stride_b) * static_cast<int64_t>(es),
                      in + (in_off + ia * in_stride_a + ib) * static_cast<int64_t>(es), es);
    }
  });
}

void copy_by_axis_maps(const void* in_v, const Shape& in_shape, const std::vector<std::vector<int64_t>>& maps,
                       void* out_v, size_t es, const void* fill) {
  int64_t total = 1;
  for (const auto& m : maps) total *= static_cast<int64_t>(m.size());
  if (total == 0) return;
  const char* in = static_cast<const char*>(in_v);
  char* out = static_cast<char*>(out_v);

  // Trailing axes copied whole become part of the element (a "block").
  size_t r = maps.size();
  size_t block = es;
  auto is_identity = [&](size_t axis) {
    const auto& m = maps[axis];
    if (static_cast<int64_t>(m.size()) != in_shape[axis]) return false;
    for (size_t i = 0; i < m.size(); ++i)
      if (m[i] != static_cast<int64_t>(i)) return false;
    return true;
  };
  while (r > 0 && is_identity(r - 1)) {
    block *= static_cast<size_t>(in_shape[r - 1]);
    --r;
  }
  if (r == 0) {
    std::memcpy(out, in, block);
    return;
  }
  std::vector<char> fill_block;
  if (fill) {
    fill_block.resize(block);
    for (size_t off = 0; off < block; off += es) std::memcpy(fill_block.data() + off, fill, es);
  }
  Strides in_strides(r);  // in blocks
  int64_t acc = 1;
  for (size_t i = r; i-- > 0;) {
    in_strides[i] = acc;
    acc *= in_shape[i];
  }

  // The last axis as segments: contiguous runs, fills, or single elements.
  const std::vector<int64_t>& last = maps[r - 1];
  const int64_t L = static_cast<int64_t>(last.size());
  struct Segment {
    int64_t out_begin, len, in_begin;  // in_begin -1: fill
  };
  std::vector<Segment> segments;
  for (int64_t o = 0; o < L; ++o) {
    int64_t m = last[o];
    if (!segments.empty()) {
      Segment& s = segments.back();
      bool extends = (m < 0 && s.in_begin < 0) || (m >= 0 && s.in_begin >= 0 && s.in_begin + s.len == m);
      if (extends) {
        ++s.len;
        continue;
      }
    }
    segments.push_back({o, 1, m < 0 ? -1 : m});
  }
  const bool use_segments = static_cast<int64_t>(segments.size()) * 4 <= L;
  const int64_t outer_rank = static_cast<int64_t>(r) - 1;
  int64_t rows = 1;  // over the unfolded outer axes only
  for (int64_t d = 0; d < outer_rank; ++d) rows *= static_cast<int64_t>(maps[d].size());
  const size_t row_bytes = static_cast<size_t>(L) * block;

  auto gather_row = [&](const char* src, char* dst) {
    bool typed = dispatch_elem_size(block, [&](auto tag) {
      using T = decltype(tag);
      const T* s = reinterpret_cast<const T*>(src);
      T* d = reinterpret_cast<T*>(dst);
      T f{};
      if (fill) std::memcpy(&f, fill_block.data(), sizeof(T));
      for (int64_t o = 0; o < L; ++o) {
        int64_t m = last[o];
        d[o] = m >= 0 ? s[m] : f;
      }
    });
    if (typed) return;
    for (int64_t o = 0; o < L; ++o) {
      int64_t m = last[o];
      std::memcpy(dst + o * static_cast<int64_t>(block), m >= 0 ? src + m * static_cast<int64_t>(block) : fill_block.data(),
                  block);
    }
  };

  for_range(rows, total, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> idx(static_cast<size_t>(outer_rank), 0);
    int64_t rem = begin;
    for (int64_t d = outer_rank - 1; d >= 0; --d) {
      int64_t n = static_cast<int64_t>(maps[d].size());
      idx[d] = rem % n;
      rem /= n;
    }
    for (int64_t row = begin; row < end; ++row) {
      int64_t in_off = 0;
      bool filled = false;
      for (int64_t d = 0; d < outer_rank; ++d) {
        int64_t m = maps[d][idx[d]];
        if (m < 0) {
          filled = true;
          break;
        }
        in_off += m * in_strides[d];
      }
      char* dst = out + row * static_cast<int64_t>(row_bytes);
      if (filled) {
        fill_elements(dst, L, fill_block.data(), block);
      } else {
        const char* src = in + in_off * static_cast<int64_t>(block);
        if (use_segments) {
          for (const Segment& s : segments) {
            char* d = dst + s.out_begin * static_cast<int64_t>(block);
            if (s.in_begin < 0) {
              fill_elements(d, s.len, fill_block.data(), block);
            } else {
              std::memcpy(d, src + s.in_begin * static_cast<int64_t>(block), static_cast<size_t>(s.len) * block);
            }
          }
        } else {
          gather_row(src, dst);
        }
      }
      for (int64_t d = outer_rank - 1; d >= 0; --d) {
        if (++idx[d] < static_cast<int64_t>(maps[d].size())) break;
        idx[d] = 0;
      }
    }
  });
}

}  // namespace dj
