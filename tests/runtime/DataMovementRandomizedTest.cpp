// Randomized checks (fixed seeds) of the byte-moving engines behind Transpose,
// Slice, Pad, Expand and Tile: ranks 0-5, dims 0-5 (empty tensors included),
// every element size, against plain per-element index loops written here. The
// engines merge axes, fold trailing whole axes into blocks and switch between
// memcpy runs and element loops; these sweeps reach those paths' edges.
#include <algorithm>
#include <cstring>
#include <functional>
#include <random>

#include "tests/runtime/ShapeOpsTestSupport.h"

namespace dj {
namespace {

using namespace shape_test;

// A tensor of the given dtype whose element i holds the bytes of (i + 1).
Tensor numbered(DType t, const Shape& shape) {
  Tensor x = Tensor::empty(t, shape);
  const size_t es = dtype_size(t);
  auto* b = static_cast<unsigned char*>(x.raw_data());
  for (int64_t i = 0; i < x.numel(); ++i)
    for (size_t k = 0; k < es; ++k) b[i * static_cast<int64_t>(es) + k] = static_cast<unsigned char>((i + 1) >> (8 * (k % 4)));
  return x;
}

// Reference: out[o] = in[source(o)] per axis; -1 on any axis means `fill` bytes.
Tensor reference_gather(const Tensor& in, const Shape& out_shape,
                        const std::function<int64_t(size_t axis, int64_t o)>& source, const std::vector<unsigned char>& fill) {
  Tensor out = Tensor::empty(in.dtype(), out_shape);
  const size_t es = dtype_size(in.dtype());
  const Strides is = contiguous_strides(in.shape());
  std::vector<int64_t> idx(out_shape.size(), 0);
  for (int64_t o = 0; o < out.numel(); ++o) {
    int64_t off = 0;
    bool filled = false;
    for (size_t a = 0; a < out_shape.size(); ++a) {
      int64_t s = source(a, idx[a]);
      if (s < 0) filled = true;
      else off += s * is[a];
    }
    auto* dst = static_cast<unsigned char*>(out.raw_data()) + o * static_cast<int64_t>(es);
    if (filled) std::memcpy(dst, fill.data(), es);
    else std::memcpy(dst, static_cast<const unsigned char*>(in.raw_data()) + off * static_cast<int64_t>(es), es);
    for (size_t a = out_shape.size(); a-- > 0;) {
      if (++idx[a] < out_shape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

const DType kDTypes[] = {DType::F32, DType::F16, DType::Bool, DType::I64, DType::U8};

Shape random_shape(std::mt19937& rng, int min_rank = 0) {
  const int rank = std::uniform_int_distribution<int>(min_rank, 5)(rng);
  Shape s;
  for (int i = 0; i < rank; ++i) s.push_back(std::uniform_int_distribution<int>(0, 10)(rng) < 1 ? 0 : std::uniform_int_distribution<int>(1, 5)(rng));
  return s;
}

TEST(DataMovementRandomizedTest, TransposeMatchesIndexLoop) {
  std::mt19937 rng(1);
  for (int iter = 0; iter < 300; ++iter) {
    Shape shape = random_shape(rng);
    DType t = kDTypes[iter % 5];
    std::vector<int64_t> perm(shape.size());
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
    std::shuffle(perm.begin(), perm.end(), rng);
    Tensor x = numbered(t, shape);
    Shape out_shape;
    for (int64_t p : perm) out_shape.push_back(shape[p]);
    // Output axis a reads input axis perm[a]: express through the inverse map.
    Tensor xt = Tensor::empty(t, out_shape);
    {
      const size_t es = dtype_size(t);
      const Strides is = contiguous_strides(shape);
      std::vector<int64_t> idx(out_shape.size(), 0);
      for (int64_t o = 0; o < xt.numel(); ++o) {
        int64_t off = 0;
        for (size_t a = 0; a < idx.size(); ++a) off += idx[a] * is[perm[a]];
        std::memcpy(static_cast<char*>(xt.raw_data()) + o * static_cast<int64_t>(es),
                    static_cast<const char*>(x.raw_data()) + off * static_cast<int64_t>(es), es);
        for (size_t a = idx.size(); a-- > 0;) {
          if (++idx[a] < out_shape[a]) break;
          idx[a] = 0;
        }
      }
    }
    Tensor y = run_ok("Transpose", {x}, {{"perm", ints_attr(perm)}});
    EXPECT_TRUE(same_bytes(y, xt)) << dtype_name(t) << shape_to_string(shape) << " perm " << shape_to_string(perm);
  }
}

TEST(DataMovementRandomizedTest, SliceMatchesIndexLoop) {
  std::mt19937 rng(2);
  for (int iter = 0; iter < 300; ++iter) {
    Shape shape = random_shape(rng, 1);
    DType t = kDTypes[iter % 5];
    Tensor x = numbered(t, shape);
    const int64_t r = static_cast<int64_t>(shape.size());
    std::vector<std::vector<int64_t>> picks(shape.size());
    std::vector<int64_t> starts, ends, axes, steps;
    for (int64_t a = 0; a < r; ++a) {
      const int64_t d = shape[a];
      for (int64_t i = 0; i < d; ++i) picks[a].push_back(i);
      if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) continue;  // axis left whole
      int64_t start = std::uniform_int_distribution<int64_t>(-d - 2, d + 2)(rng);
      int64_t end = std::uniform_int_distribution<int64_t>(-d - 2, d + 2)(rng);
      int64_t step = std::uniform_int_distribution<int64_t>(-3, 3)(rng);
      if (step == 0) step = 1;
      starts.push_back(start);
      ends.push_back(end);
      axes.push_back(std::uniform_int_distribution<int>(0, 1)(rng) ? a : a - r);
      steps.push_back(step);
      // The ONNX spec's clamping, written independently of the kernel. It differs
      // from Python/numpy in one corner: with a negative step, a start before
      // the first element clamps to 0 (spec, and ONNX Runtime) rather than
      // selecting nothing (numpy).
      picks[a].clear();
      int64_t s = start < 0 ? start + d : start, e = end < 0 ? end + d : end;
      if (step > 0) {
        s = std::max<int64_t>(0, std::min(s, d));
        e = std::max<int64_t>(0, std::min(e, d));
        for (int64_t i = s; i < e; i += step) picks[a].push_back(i);
      } else if (d > 0) {
        s = std::max<int64_t>(0, std::min(s, d - 1));
        e = std::max<int64_t>(-1, std::min(e, d - 1));
        for (int64_t i = s; i > e; i += step) picks[a].push_back(i);
      }
    }
    Shape out_shape;
    for (const auto& p : picks) out_shape.push_back(static_cast<int64_t>(p.size()));
    Tensor expect = reference_gather(x, out_shape, [&](size_t a, int64_t o) { return picks[a][o]; }, {});
    Tensor y = run_ok("Slice", {x, i64s(starts), i64s(ends), i64s(axes), i64s(steps)});
    EXPECT_TRUE(same_bytes(y, expect)) << dtype_name(t) << shape_to_string(shape) << " starts " << shape_to_string(starts)
                                       << " ends " << shape_to_string(ends) << " axes " << shape_to_string(axes)
                                       << " steps " << shape_to_string(steps);
  }
}

TEST(DataMovementRandomizedTest, PadAllModesMatchIndexLoop) {
  std::mt19937 rng(3);
  const char* modes[] = {"constant", "reflect", "edge", "wrap"};
  for (int iter = 0; iter < 400; ++iter) {
    Shape shape = random_shape(rng, 1);
    for (int64_t& d : shape) d = std::max<int64_t>(d, 1);  // non-constant modes need data to read
    DType t = kDTypes[iter % 5];
    const std::string mode = modes[iter % 4];
    Tensor x = numbered(t, shape);
    const int64_t r = static_cast<int64_t>(shape.size());
    std::vector<int64_t> pads(static_cast<size_t>(2 * r));
    for (int64_t a = 0; a < r; ++a) {
      const int64_t lo = mode == "reflect" ? 0 : -shape[a];
      pads[a] = std::uniform_int_distribution<int64_t>(std::max<int64_t>(lo, -1), 4)(rng);
      pads[a + r] = std::uniform_int_distribution<int64_t>(std::max<int64_t>(lo, -1), 4)(rng);
      if (shape[a] + pads[a] + pads[a + r] < 0) pads[a] = pads[a + r] = 0;
    }
    Shape out_shape;
    for (int64_t a = 0; a < r; ++a) out_shape.push_back(shape[a] + pads[a] + pads[a + r]);
    std::vector<unsigned char> fill(dtype_size(t), 0);
    Tensor expect = reference_gather(x, out_shape, [&](size_t a, int64_t o) -> int64_t {
      const int64_t d = shape[a];
      int64_t i = o - pads[a];
      if (i >= 0 && i < d) return i;
      if (mode == "constant") return -1;
      if (mode == "edge") return i < 0 ? 0 : d - 1;
      if (mode == "wrap") return ((i % d) + d) % d;
      if (d == 1) return 0;
      while (i < 0 || i >= d) i = i < 0 ? -i : 2 * (d - 1) - i;  // reflect, repeatedly
      return i;
    }, fill);
    Tensor y = run_ok("Pad", {x, i64s(pads)}, {{"mode", string_attr(mode)}});
    EXPECT_TRUE(same_bytes(y, expect)) << mode << " " << dtype_name(t) << shape_to_string(shape) << " pads "
                                       << shape_to_string(pads);
  }
}

TEST(DataMovementRandomizedTest, ExpandAndTileMatchIndexLoop) {
  std::mt19937 rng(4);
  for (int iter = 0; iter < 300; ++iter) {
    Shape shape = random_shape(rng);
    DType t = kDTypes[iter % 5];
    Shape in_shape = shape, target = shape, reps;
    for (size_t a = 0; a < shape.size(); ++a) {
      if (std::uniform_int_distribution<int>(0, 1)(rng)) in_shape[a] = 1;  // broadcast this axis
      reps.push_back(std::uniform_int_distribution<int64_t>(0, 3)(rng));
    }
    Tensor x = numbered(t, in_shape);
    Tensor expect = reference_gather(x, target, [&](size_t a, int64_t o) { return in_shape[a] == 1 ? 0 : o; }, {});
    Tensor y = run_ok("Expand", {x, i64s(target)});
    EXPECT_TRUE(same_bytes(y, expect)) << "Expand " << dtype_name(t) << shape_to_string(in_shape) << " to "
                                       << shape_to_string(target);
    Shape tiled;
    for (size_t a = 0; a < in_shape.size(); ++a) tiled.push_back(in_shape[a] * reps[a]);
    Tensor texpect = reference_gather(x, tiled, [&](size_t a, int64_t o) { return o % in_shape[a]; }, {});
    Tensor ty = run_ok("Tile", {x, i64s(reps)});
    EXPECT_TRUE(same_bytes(ty, texpect)) << "Tile " << dtype_name(t) << shape_to_string(in_shape) << " by "
                                         << shape_to_string(reps);
  }
}

}  // namespace
}  // namespace dj
