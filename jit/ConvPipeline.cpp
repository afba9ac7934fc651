// ConvPipeline: definition and schedules of the 2-D convolution (see ConvPipeline.h).
#include "jit/ConvPipeline.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include "jit/HostTarget.h"

namespace dj::jit {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;
using Halide::TailStrategy;
using Halide::Var;

// Parallel tasks per thread worth of work to aim for (load balance on a shared machine).
constexpr int kTasksPerRun = 16;
// Below this many multiply-adds a call runs serially (a task costs ~microseconds).
constexpr int64_t kParallelMacs = 1 << 17;

int largest_power_of_two_at_most(int limit, int cap) {
  int v = 1;
  while (v * 2 <= limit && v * 2 <= cap) v *= 2;
  return v;
}

Expr epilogue_of(const ConvDefinition& def, Expr acc, Var x, Var y, Var co, Var n) {
  Expr v = acc;
  if (def.bias.defined()) v = v + Halide::cast<float>(def.bias(co));
  if (def.relu) v = Halide::max(v, 0.0f);
  if (def.epilogue) v = def.epilogue(v, x, y, co, n);
  return v;
}

// The allocated extent of an input copy: rows of whole cache lines (16 floats, so
// vector loads at tile starts stay aligned) and a row count chosen so that a channel
// plane (row x rows x phases floats) spans a line count with at most 2^3 in it. A
// reduction block reads 16 channels at once; planes a multiple of 1 KB apart put
// them on a few L1 sets (4 KB apart: all on one) and they evict each other. At most
// one line per row and one row are added.
struct CopyExtent {
  int row, rows;
};

int factors_of_two(int64_t v) {
  int t = 0;
  while (v > 0 && v % 2 == 0) v /= 2, ++t;
  return t;
}

CopyExtent copy_extent(int needed_row, int needed_rows, int phases) {
  constexpr int kLine = 16;
  int lines = (needed_row + kLine - 1) / kLine;
  if (factors_of_two(int64_t(lines) * phases) > 3 && lines % 2 == 0) ++lines;
  int rows = needed_rows;
  if (factors_of_two(int64_t(lines) * phases * rows) > 3 && rows % 2 == 0) ++rows;
  return {lines * kLine, rows};
}

bool has_padding(const ConvShape& s) { return s.pad_top || s.pad_left || s.pad_bottom || s.pad_right; }

// The register tile of RegisterTiled: `lanes`-wide vectors of x, `rows` output rows,
// `channels` output channels; all three are unrolled, so the tile's accumulators
// stay in registers for the whole reduction. The reduction runs input channels
// innermost in blocks of `ci_block`, then kx, ky, then the blocks (kx innermost when
// the kernel row is the longer loop): a block's weights and input rows stay in L1
// across the window, and an innermost loop that LLVM does not unroll keeps it from
// hoisting every tap's weight broadcast into registers (24 of them spilled).
// `masked`: the output is narrower than one vector (OW < lanes); each row is computed
// a full vector wide into the tile and only the OW valid columns are stored.
struct RegisterTile {
  int lanes, rows, channels, ci_block;
  bool masked;
};

int largest_divisor_at_most(int n, int cap) {
  for (int d = std::min(n, cap); d > 1; --d)
    if (n % d == 0) return d;
  return 1;
}

RegisterTile register_tile_for(const ConvShape& s, int lanes) {
  RegisterTile t;
  const int cg = s.c / s.group;
  t.lanes = lanes;
  t.masked = s.out_w() < lanes;
  if (lanes < 16) {
    // AVX2 and older: 16 vector registers, so 8 accumulators.
    t.rows = std::min(2, s.out_h());
    t.channels = std::min(4, s.co);
  } else if (cg * s.kh * s.kw < 64 && s.co >= 16) {
    // A short reduction (the stem's 3 input channels): a wider tile over channels
    // amortizes the tile's set-up and stores.
    t.rows = 1;
    t.channels = 16;
  } else {
    // 16 accumulators; measured best among 1x16, 2x6, 2x8, 2x12, 3x8, 4x4, 4x6 on the
    // ResNet layers and on 1x1 stride-1 convs (the others spill or load more per FMA).
    t.rows = std::min(2, s.out_h());
    t.channels = std::min(8, s.co);
  }
  // A block that divides Cg (no guard in the innermost loop); a prime Cg up to 32 is one block.
  t.ci_block = largest_divisor_at_most(cg, 16);
  if (t.ci_block < 4 && cg <= 32) t.ci_block = cg;
  return t;
}

}  // namespace

int64_t ConvShape::macs() const {
  return int64_t(n) * co * out_h() * out_w() * (c / std::max(group, 1)) * kh * kw;
}

std::string ConvShape::to_string() const {
  std::ostringstream os;
  os << n << "x" << c << "x" << h << "x" << w << " * " << co << "x" << c / std::max(group, 1) << "x" << kh << "x"
     << kw << " s" << stride_h;
  if (stride_w != stride_h) os << "," << stride_w;
  os << " d" << dilation_h;
  if (dilation_w != dilation_h) os << "," << dilation_w;
  os << " p" << pad_top << "," << pad_left << "," << pad_bottom << "," << pad_right << " g" << group;
  return os.str();
}

Status check_conv_shape(const ConvShape& s) {
  DJ_CHECK(s.n >= 1 && s.c >= 1 && s.h >= 1 && s.w >= 1, InvalidArgument, "Conv: input ", s.n, "x", s.c, "x", s.h,
           "x", s.w, " has an empty dimension");
  DJ_CHECK(s.co >= 1 && s.kh >= 1 && s.kw >= 1, InvalidArgument, "Conv: weights ", s.co, "x?x", s.kh, "x", s.kw,
           " have an empty dimension");
  DJ_CHECK(s.stride_h >= 1 && s.stride_w >= 1, InvalidArgument, "Conv: strides must be >= 1, got ", s.stride_h, ",",
           s.stride_w);
  DJ_CHECK(s.dilation_h >= 1 && s.dilation_w >= 1, InvalidArgument, "Conv: dilations must be >= 1, got ",
           s.dilation_h, ",", s.dilation_w);
  DJ_CHECK(s.pad_top >= 0 && s.pad_left >= 0 && s.pad_bottom >= 0 && s.pad_right >= 0, InvalidArgument,
           "Conv: pads must be >= 0, got ", s.pad_top, ",", s.pad_left, ",", s.pad_bottom, ",", s.pad_right);
  DJ_CHECK(s.group >= 1 && s.c % s.group == 0 && s.co % s.group == 0, InvalidArgument, "Conv: group ", s.group,
           " must divide both ", s.c, " input and ", s.co, " output channels");
  DJ_CHECK(s.out_h() >= 1 && s.out_w() >= 1, InvalidArgument, "Conv: ", s.to_string(), " has an empty output (",
           s.out_h(), "x", s.out_w(), ")");
  // Halide indexes buffers with 32-bit ints (no LargeBuffers).
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  const int64_t in_elems = int64_t(s.n) * s.c * (int64_t(s.h) + s.pad_top + s.pad_bottom) *
                           (int64_t(s.w) + s.pad_left + s.pad_right);
  const int64_t out_elems = int64_t(s.n) * s.co * s.out_h() * s.out_w();
  const int64_t w_elems = int64_t(s.co) * (s.c / s.group) * s.kh * s.kw;
  DJ_CHECK(in_elems <= kMax && out_elems <= kMax && w_elems <= kMax, Unsupported, "Conv: ", s.to_string(),
           " has more than 2^31 elements in one buffer");
  return Status::ok_status();
}

const char* conv_schedule_name(ConvSchedule schedule) {
  switch (schedule) {
    case ConvSchedule::Auto: return "auto";
    case ConvSchedule::RegisterTiled: return "register-tiled";
    case ConvSchedule::Simple: return "simple";
  }
  return "?";
}

ConvSchedule choose_conv_schedule(const ConvShape& s) {
  // Tiny convs gain nothing from tiles; outputs a few columns wide would waste most
  // of a masked vector. Depthwise convs too run faster tiled (measured 2.5x at 56x56x64).
  if (s.macs() < kParallelMacs || s.out_w() < 4) return ConvSchedule::Simple;
  return ConvSchedule::RegisterTiled;
}

namespace {

// Defines and schedules the conv for a valid shape; Halide reports misuse by throwing.
ConvPipeline define_conv2d(const ConvDefinition& def, const ConvShape& s, ConvSchedule schedule) {
  const int lanes = host_target().float_vector_lanes;
  const int OW = s.out_w(), OH = s.out_h(), Cg = s.c / s.group, Mg = s.co / s.group;
  const bool tiled = schedule == ConvSchedule::RegisterTiled;
  const RegisterTile tile = register_tile_for(s, lanes);
  const bool strided = s.stride_w > 1 || s.stride_h > 1;

  Var x("x"), y("y"), c("c"), co("co"), n("n"), px("px"), py("py");
  // The input as the window reads it, copied once per call (compute_root) when that
  // saves work in the inner loop: zero pads (no bounds checks per tap), a masked tile
  // (reads a vector's width past the output), a stride (RegisterTiled splits the
  // copy into stride phases so every tap loads a dense vector:
  //   phased(qx, qy, c, n, px, py) = padded(qx*sw + px - pad_left, qy*sh + py - pad_top, c, n)
  // and tap kx, ky of output (x, y) is phased(x + kx*dw/sw, y + ky*dh/sh, ., ., kx*dw%sw, ky*dh%sh);
  // bounds inference computes only the phases the window reads: a 1x1/2 conv copies
  // a quarter of its input).
  Func padded("conv_input_padded");
  Func source = def.input;
  // Channel planes a multiple of 4 KB apart share L1 sets: a block of 16 channels
  // thrashes them. The copy's planes are sized off such multiples (see below).
  const bool planes_alias = (int64_t(s.w) * s.h) % 256 == 0 && Cg >= 8;
  const bool copy_input = has_padding(s) || (tiled && (tile.masked || strided || planes_alias));
  if (copy_input) {
    Func bounded = Halide::BoundaryConditions::constant_exterior(
        source, Halide::cast(source.output_types().at(0), 0),
        {Halide::Range(0, s.w), Halide::Range(0, s.h), Halide::Range(), Halide::Range()});
    padded(x, y, c, n) = Halide::cast<float>(bounded(x, y, c, n));
  } else {
    padded(x, y, c, n) = Halide::cast<float>(source(x, y, c, n));
  }

  RDom r(0, s.kw, 0, s.kh, 0, Cg, "conv_r");  // r.x = kx (innermost), r.y = ky, r.z = ci
  Expr channel = s.group == 1 ? Expr(r.z) : (co / Mg) * Cg + r.z;
  Func phased("conv_input_phased");
  Expr tap;
  if (tiled && strided) {
    phased(x, y, c, n, px, py) = padded(x * s.stride_w + px - s.pad_left, y * s.stride_h + py - s.pad_top, c, n);
    // A 1-tap axis gets constant offsets, so bounds inference sees the single phase.
    Expr ox = s.kw == 1 ? Expr(0) : r.x * s.dilation_w, oy = s.kh == 1 ? Expr(0) : r.y * s.dilation_h;
    tap = phased(x + ox / s.stride_w, y + oy / s.stride_h, channel, n, ox % s.stride_w, oy % s.stride_h);
  } else {
    tap = padded(x * s.stride_w + r.x * s.dilation_w - s.pad_left, y * s.stride_h + r.y * s.dilation_h - s.pad_top,
                 channel, n);
  }

  Func acc("conv_acc"), out("conv_out");
  acc(x, y, co, n) = 0.0f;
  acc(x, y, co, n) += tap * Halide::cast<float>(def.weights(r.x, r.y, r.z, co));
  out(x, y, co, n) = epilogue_of(def, acc(x, y, co, n), x, y, co, n);
  out.output_buffer().dim(0).set_bounds(0, OW);
  out.output_buffer().dim(1).set_bounds(0, OH);
  out.output_buffer().dim(2).set_bounds(0, s.co);
  out.output_buffer().dim(3).set_bounds(0, s.n);

  const bool parallel = s.macs() >= kParallelMacs;
  // Output columns the schedule computes: a masked tile computes a whole vector.
  const int computed_w = tiled && tile.masked ? tile.lanes : OW;
  Var cn("cn");
  if (tiled && strided) {
    // Rows stored phase by phase: memory order [n][c][qy][py][px][qx].
    phased.compute_root()
        .reorder_storage(x, px, py, y, c, n)
        .reorder(x, px, py, y, c, n)
        .fuse(c, n, cn)
        .vectorize(x, lanes, TailStrategy::GuardWithIf);
    if (parallel) phased.parallel(cn);
    // Phases the taps read (Halide's bounds of kx*dw % sw are [0, sw); one phase for 1 tap).
    const int phases_x = s.kw == 1 ? 1 : s.stride_w, phases_y = s.kh == 1 ? 1 : s.stride_h;
    const CopyExtent e = copy_extent(computed_w + (s.kw - 1) * s.dilation_w / s.stride_w,
                                     OH + (s.kh - 1) * s.dilation_h / s.stride_h, phases_x * phases_y);
    phased.bound(x, 0, e.row).bound(y, 0, e.rows).bound(px, 0, phases_x).bound(py, 0, phases_y);
  } else if (copy_input) {
    padded.compute_root().fuse(c, n, cn).vectorize(x, lanes, TailStrategy::GuardWithIf);
    if (parallel) padded.parallel(cn);
    const CopyExtent e = copy_extent((computed_w - 1) * s.stride_w + (s.kw - 1) * s.dilation_w + 1,
                                     (OH - 1) * s.stride_h + (s.kh - 1) * s.dilation_h + 1, 1);
    padded.bound(x, -s.pad_left, e.row).bound(y, -s.pad_top, e.rows);
  }

  if (tiled) {
    const RegisterTile& t = tile;
    Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), coo("coo"), coi("coi"), ytask("ytask"), yt("yt"), task("task");
    out.split(x, xo, xi, t.lanes, t.masked ? TailStrategy::GuardWithIf : TailStrategy::ShiftInwards)
        .split(y, yo, yi, t.rows, TailStrategy::ShiftInwards)
        .split(co, coo, coi, t.channels, TailStrategy::ShiftInwards)
        .reorder(xi, yi, coi, xo, yo, coo, n)
        .vectorize(xi)
        .unroll(yi)
        .unroll(coi);
    if (parallel) {
      // Row blocks so that (n, channel blocks, row blocks) give enough tasks.
      const int co_blocks = (s.co + t.channels - 1) / t.channels;
      const int row_tiles = (OH + t.rows - 1) / t.rows;
      const int want_row_blocks = std::max(1, kTasksPerRun / std::max(1, s.n * co_blocks));
      const int tiles_per_task = std::max(1, row_tiles / std::min(row_tiles, want_row_blocks));
      out.split(yo, ytask, yt, tiles_per_task, TailStrategy::GuardWithIf)
          .reorder(xi, yi, coi, xo, yt, ytask, coo, n)
          .fuse(ytask, coo, task)
          .fuse(task, n, task)
          .parallel(task);
    }
    acc.compute_at(out, xo).vectorize(x, t.lanes).unroll(y).unroll(co);
    if (t.masked) acc.bound_extent(x, t.lanes);
    Halide::RVar rco("rco"), rci("rci");
    acc.update().split(r.z, rco, rci, t.ci_block);
    // The longer of the channel block and the kernel row runs innermost (a 3-channel
    // image under a 7x7 window: kx; 16 channels under 3x3: the channels).
    if (s.kw >= t.ci_block) {
      acc.update().reorder(x, y, co, r.x, rci, r.y, rco);
    } else {
      acc.update().reorder(x, y, co, rci, r.x, r.y, rco);
    }
    acc.update()
        .vectorize(x, t.lanes)
        .unroll(y)
        .unroll(co);
  } else {
    const int v = largest_power_of_two_at_most(OW, lanes);
    Var task("task");
    out.reorder(x, y, co, n).vectorize(x, v, TailStrategy::GuardWithIf).fuse(co, n, task);
    if (parallel) out.parallel(task);
    acc.compute_at(out, y).vectorize(x, v, TailStrategy::GuardWithIf);
    acc.update().reorder(x, r.x, r.y, r.z, y, co, n).vectorize(x, v, TailStrategy::GuardWithIf);
  }
  return ConvPipeline{out, schedule};
}

}  // namespace

Expected<ConvPipeline> build_conv2d(const ConvDefinition& def, const ConvShape& s, ConvSchedule force) {
  DJ_RETURN_IF_ERROR(check_conv_shape(s));
  DJ_CHECK(def.input.defined() && def.weights.defined(), InvalidArgument, "Conv: the input or weights Func is undefined");
  DJ_CHECK(def.input.dimensions() == 4 && def.weights.dimensions() == 4, InvalidArgument,
           "Conv: the input and weights Funcs must have 4 dimensions, got ", def.input.dimensions(), " and ",
           def.weights.dimensions());
  const ConvSchedule chosen = force == ConvSchedule::Auto ? choose_conv_schedule(s) : force;
  try {
    return define_conv2d(def, s, chosen == ConvSchedule::RegisterTiled ? chosen : ConvSchedule::Simple);
  } catch (const Halide::Error& e) {
    return make_error(StatusCode::Internal, "Conv: Halide rejected the pipeline for ", s.to_string(), ": ", e.what());
  }
}

}  // namespace dj::jit
