// CudaEmulationTest.cpp — hand-written kernels in the generated-CUDA contract's vocabulary,
// compiled through EmulatedModule and run on the CPU, checked against plain C++ references:
// grid-stride elementwise (scalar and float4), shared-memory block reductions, warp
// reductions with both shuffles, a tiled matrix multiply with tail tiles, 3-D grids, block
// sizes 1..1024, concurrent launches and the ucontext fallback switch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <thread>
#include <vector>

#include "tests/cuda_emulation/EmulationTestSupport.h"

namespace dj::emu::testing {
namespace {

#define ASSERT_COMPILED(module) ASSERT_TRUE((module).ok()) << (module).status().to_string()

#define ASSERT_LAUNCH_OK(expr)              \
  do {                                      \
    ::dj::Status s_ = (expr);               \
    ASSERT_TRUE(s_.ok()) << s_.to_string(); \
  } while (0)

TEST(CudaEmulation, ParameterStructLayoutMatchesTheHost) {
  auto module = compile_kernels(R"(
extern "C" __global__ void layout(DjKernelParams p) {
  p.out[0] = (float)sizeof(DjKernelParams);
  p.out[1] = (float)offsetof(DjKernelParams, out);
  p.out[2] = (float)offsetof(DjKernelParams, numel);
  p.out[3] = (float)offsetof(DjKernelParams, cols);
  p.out[4] = (float)offsetof(DjKernelParams, k);
  p.out[5] = (float)offsetof(DjKernelParams, rank);
  p.out[6] = (float)offsetof(DjKernelParams, extent);
  p.out[7] = (float)offsetof(DjKernelParams, in_stride);
}
)",
                                {"layout"});
  ASSERT_COMPILED(module);
  std::vector<float> out(8, -1.0f);
  DjKernelParams p = params_for({}, out.data(), 8);
  ASSERT_LAUNCH_OK(module.value()->launch("layout", {1, 1, 1}, {1, 1, 1}, &p));
  const std::vector<double> want = {
      sizeof(DjKernelParams),           offsetof(DjKernelParams, out),
      offsetof(DjKernelParams, numel),  offsetof(DjKernelParams, cols),
      offsetof(DjKernelParams, k),      offsetof(DjKernelParams, rank),
      offsetof(DjKernelParams, extent), offsetof(DjKernelParams, in_stride)};
  EXPECT_TRUE(all_near(out, want, 0.0));
}

// Two kernels in one source, grid-stride loops that run several rounds, every math function.
const char* const kElementwiseKernels = R"(
__device__ __forceinline__ float mix(float a, float b) {
  return tanhf(a) * b + __expf(a) - rsqrtf(fabsf(b) + 1.0f) + __fdividef(a, b + 3.0f);
}
extern "C" __global__ void __launch_bounds__(128) mix_kernel(DjKernelParams p) {
  const float* __restrict__ a = p.in[0];
  const float* __restrict__ b = p.in[1];
  float* __restrict__ out = p.out;
  long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.numel; i += stride)
    out[i] = mix(a[i], b[i]);
}
extern "C" __global__ void math_kernel(DjKernelParams p) {
  long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.numel; i += stride) {
    float a = p.in[0][i], b = p.in[1][i];
    p.out[i] = erff(a) + floorf(a * 3.0f) + ceilf(b * 2.0f) + sqrtf(fabsf(a)) +
               logf(fabsf(b) + 1.0f) + __logf(fabsf(a) + 2.0f) + fminf(a, b) +
               fmaxf(-INFINITY, expf(b)) + (a < INFINITY ? 1.0f : 0.0f);
  }
}
)";

TEST(CudaEmulation, GridStrideElementwiseMatchesHostMath) {
  auto module = compile_kernels(kElementwiseKernels, {"mix_kernel", "math_kernel"});
  ASSERT_COMPILED(module);
  const long long n = 100003;
  std::vector<float> a = random_floats(n, 1, -2.0f, 2.0f), b = random_floats(n, 2, -2.0f, 2.0f);
  std::vector<float> out(n, NAN);
  DjKernelParams p = params_for({a.data(), b.data()}, out.data(), n);

  ASSERT_LAUNCH_OK(module.value()->launch("mix_kernel", {40, 1, 1}, {128, 1, 1}, &p));
  std::vector<double> want(n);
  for (long long i = 0; i < n; ++i)
    want[i] = std::tanh(a[i]) * b[i] + std::exp(a[i]) - 1.0 / std::sqrt(std::fabs(b[i]) + 1.0) +
              a[i] / (b[i] + 3.0);
  EXPECT_TRUE(all_near(out, want, 1e-5, 1e-5));

  std::fill(out.begin(), out.end(), NAN);
  ASSERT_LAUNCH_OK(module.value()->launch("math_kernel", {7, 1, 1}, {96, 1, 1}, &p));
  for (long long i = 0; i < n; ++i) {
    const float fa = a[i], fb = b[i];
    want[i] = std::erf(fa) + std::floor(fa * 3.0f) + std::ceil(fb * 2.0f) +
              std::sqrt(std::fabs(fa)) + std::log(std::fabs(fb) + 1.0f) +
              std::log(std::fabs(fa) + 2.0f) + std::min(fa, fb) + std::exp(fb) + 1.0;
  }
  EXPECT_TRUE(all_near(out, want, 1e-5, 1e-5));
}

TEST(CudaEmulation, Float4PathWithScalarTail) {
  auto module = compile_kernels(R"(
extern "C" __global__ void scale4(DjKernelParams p) {
  long long n4 = p.numel / 4;
  long long stride = (long long)gridDim.x * blockDim.x;
  long long first = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  for (long long i = first; i < n4; i += stride) {
    float4 v = reinterpret_cast<const float4*>(p.in[0])[i];
    float4 w = reinterpret_cast<const float4*>(p.in[1])[i];
    reinterpret_cast<float4*>(p.out)[i] = make_float4(v.x * w.x, v.y + w.y, v.z - w.z, v.w * 2.0f);
  }
  for (long long i = n4 * 4 + first; i < p.numel; i += stride) p.out[i] = -1000.0f - p.in[0][i];
}
)",
                                {"scale4"});
  ASSERT_COMPILED(module);
  const long long n = 4099;  // 1024 float4 and a tail of 3
  std::vector<float> a = random_floats(n, 3), b = random_floats(n, 4);
  std::vector<float> out(n, NAN);
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 16, 0u);
  DjKernelParams p = params_for({a.data(), b.data()}, out.data(), n);
  ASSERT_LAUNCH_OK(module.value()->launch("scale4", {3, 1, 1}, {64, 1, 1}, &p));
  std::vector<double> want(n);
  for (long long i = 0; i < n; ++i) {
    if (i >= 4096)
      want[i] = -1000.0f - a[i];
    else if (i % 4 == 0)
      want[i] = a[i] * b[i];
    else if (i % 4 == 1)
      want[i] = a[i] + b[i];
    else if (i % 4 == 2)
      want[i] = a[i] - b[i];
    else
      want[i] = a[i] * 2.0f;
  }
  EXPECT_TRUE(all_near(out, want, 0.0));
}

// One block per row; a strided tree over __shared__ partials that works for any block size.
const char* const kBlockReduction = R"(
extern "C" __global__ void row_sum(DjKernelParams p) {
  __shared__ float partial[1024];
  const float* row = p.in[0] + (long long)blockIdx.x * p.cols;
  unsigned t = threadIdx.x;
  float acc = 0.0f;
  for (long long c = t; c < p.cols; c += blockDim.x) acc += row[c];
  partial[t] = acc;
  __syncthreads();
  for (unsigned s = 1; s < blockDim.x; s *= 2) {
    if (t % (2 * s) == 0 && t + s < blockDim.x) partial[t] += partial[t + s];
    __syncthreads();
  }
  if (t == 0) p.out[blockIdx.x] = partial[0];
}
)";

std::vector<double> row_sums(const std::vector<float>& x, long long rows, long long cols) {
  std::vector<double> sums(rows, 0.0);
  for (long long r = 0; r < rows; ++r)
    for (long long c = 0; c < cols; ++c) sums[r] += x[r * cols + c];
  return sums;
}

void check_row_sum(const std::vector<std::string>& flags,
                   const std::vector<unsigned>& block_sizes) {
  auto module = compile_kernels(kBlockReduction, {"row_sum"}, flags);
  ASSERT_COMPILED(module);
  const long long rows = 7, cols = 3001;
  std::vector<float> x = random_floats(rows * cols, 5);
  const std::vector<double> want = row_sums(x, rows, cols);
  for (unsigned block : block_sizes) {
    SCOPED_TRACE("block size " + std::to_string(block));
    std::vector<float> out(rows, NAN);
    DjKernelParams p = params_for({x.data()}, out.data(), rows);
    p.rows = rows;
    p.cols = cols;
    ASSERT_LAUNCH_OK(
        module.value()->launch("row_sum", {static_cast<unsigned>(rows), 1, 1}, {block, 1, 1}, &p));
    EXPECT_TRUE(all_near(out, want, 1e-3));
  }
}

TEST(CudaEmulation, BlockReductionWithSharedMemoryForEveryBlockSize) {
  check_row_sum({}, {1, 32, 33, 256, 1024});
}

TEST(CudaEmulation, UcontextFallbackGivesTheSameResults) {
  check_row_sum({"-DDJ_EMU_USE_UCONTEXT"}, {33, 256});
}

// Every lane ends with its warp's total (xor butterfly); lane 0 with it (shuffle down).
const char* const kWarpReductions = R"(
extern "C" __global__ void warp_xor_float(DjKernelParams p) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  float v = p.in[0][i];
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  p.out[i] = v;
}
extern "C" __global__ void warp_xor_int(DjKernelParams p) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  int v = (int)p.in[0][i];
  for (int m = 1; m < warpSize; m <<= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  p.out[i] = (float)v;
}
extern "C" __global__ void warp_down_float(DjKernelParams p) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  float v = p.in[0][i];
  for (unsigned d = 16; d > 0; d >>= 1) v += __shfl_down_sync(0xffffffffu, v, d);
  if (threadIdx.x % 32 == 0) p.out[i / 32] = v;
}
extern "C" __global__ void warp_down_int(DjKernelParams p) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  int v = (int)p.in[0][i];
  for (unsigned d = 16; d > 0; d >>= 1) v += __shfl_down_sync(0xffffffffu, v, d);
  if (threadIdx.x % 32 == 0) p.out[i / 32] = (float)v;
}
)";

TEST(CudaEmulation, WarpReductionsWithBothShufflesFloatAndInt) {
  auto module = compile_kernels(
      kWarpReductions, {"warp_xor_float", "warp_xor_int", "warp_down_float", "warp_down_int"});
  ASSERT_COMPILED(module);
  for (unsigned block : {32u, 256u, 1024u}) {
    SCOPED_TRACE("block size " + std::to_string(block));
    const unsigned grid = 3;
    const size_t n = static_cast<size_t>(grid) * block, warps = n / 32;
    std::vector<float> x = random_floats(n, 6);
    std::vector<float> ints(n);
    for (size_t i = 0; i < n; ++i) ints[i] = std::floor(x[i] * 1000.0f);
    std::vector<double> warp_sum(warps, 0.0), warp_isum(warps, 0.0);
    for (size_t i = 0; i < n; ++i) {
      warp_sum[i / 32] += x[i];
      warp_isum[i / 32] += ints[i];
    }
    std::vector<double> per_lane(n), per_lane_int(n);
    for (size_t i = 0; i < n; ++i) {
      per_lane[i] = warp_sum[i / 32];
      per_lane_int[i] = warp_isum[i / 32];
    }
    std::vector<float> out(n, NAN);
    DjKernelParams p = params_for({x.data()}, out.data(), n);
    ASSERT_LAUNCH_OK(module.value()->launch("warp_xor_float", {grid, 1, 1}, {block, 1, 1}, &p));
    EXPECT_TRUE(all_near(out, per_lane, 1e-5));
    ASSERT_LAUNCH_OK(module.value()->launch("warp_down_float", {grid, 1, 1}, {block, 1, 1}, &p));
    EXPECT_TRUE(all_near(out, warp_sum, 1e-5));
    p.in[0] = ints.data();
    ASSERT_LAUNCH_OK(module.value()->launch("warp_xor_int", {grid, 1, 1}, {block, 1, 1}, &p));
    EXPECT_TRUE(all_near(out, per_lane_int, 0.0));
    ASSERT_LAUNCH_OK(module.value()->launch("warp_down_int", {grid, 1, 1}, {block, 1, 1}, &p));
    EXPECT_TRUE(all_near(out, warp_isum, 0.0));
  }
}

TEST(CudaEmulation, OutOfRangeShuffleLanesReturnTheCallersValue) {
  auto module = compile_kernels(R"(
extern "C" __global__ void partners(DjKernelParams p) {
  unsigned t = threadIdx.x;
  int v = (int)(t * 10 + 1);
  p.out[t] = (float)__shfl_down_sync(0xffffffffu, v, 5);
  p.out[64 + t] = (float)__shfl_xor_sync(0xffffffffu, v, 3);
  p.out[128 + t] = __shfl_xor_sync(0xffffffffu, (float)v, 32);
  p.out[192 + t] = __shfl_down_sync(0xffffffffu, (float)v, 0u);
}
)",
                                {"partners"});
  ASSERT_COMPILED(module);
  std::vector<float> out(256, NAN);
  DjKernelParams p = params_for({}, out.data(), 256);
  ASSERT_LAUNCH_OK(module.value()->launch("partners", {1, 1, 1}, {64, 1, 1}, &p));
  std::vector<double> want(256);
  for (unsigned t = 0; t < 64; ++t) {
    const unsigned lane = t % 32, base = t - lane;
    want[t] = lane + 5 < 32 ? (t + 5) * 10 + 1 : t * 10 + 1;  // past the warp: own value
    want[64 + t] = (base + (lane ^ 3)) * 10 + 1;
    want[128 + t] = t * 10 + 1;  // lane ^ 32 is outside the warp
    want[192 + t] = t * 10 + 1;
  }
  EXPECT_TRUE(all_near(out, want, 0.0));
}

// The usual generated pattern: warp sums to __shared__, then the first warp reduces them.
TEST(CudaEmulation, WarpThenBlockReduction) {
  auto module = compile_kernels(R"(
__device__ __forceinline__ float warp_sum(float v) {
  for (unsigned d = 16; d > 0; d >>= 1) v += __shfl_down_sync(0xffffffffu, v, d);
  return v;
}
extern "C" __global__ void row_sum(DjKernelParams p) {
  __shared__ float warp_sums[32];
  const float* row = p.in[0] + (long long)blockIdx.x * p.cols;
  unsigned t = threadIdx.x, lane = t % 32, warp = t / 32;
  float acc = 0.0f;
  for (long long c = t; c < p.cols; c += blockDim.x) acc += row[c];
  acc = warp_sum(acc);
  if (lane == 0) warp_sums[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    float v = lane < blockDim.x / 32 ? warp_sums[lane] : 0.0f;
    v = warp_sum(v);
    if (lane == 0) p.out[blockIdx.x] = v;
  }
}
)",
                                {"row_sum"});
  ASSERT_COMPILED(module);
  const long long rows = 5, cols = 4097;
  std::vector<float> x = random_floats(rows * cols, 7);
  const std::vector<double> want = row_sums(x, rows, cols);
  for (unsigned block : {32u, 256u, 1024u}) {
    SCOPED_TRACE("block size " + std::to_string(block));
    std::vector<float> out(rows, NAN);
    DjKernelParams p = params_for({x.data()}, out.data(), rows);
    p.cols = cols;
    ASSERT_LAUNCH_OK(module.value()->launch("row_sum", {5, 1, 1}, {block, 1, 1}, &p));
    EXPECT_TRUE(all_near(out, want, 1e-3));
  }
}

TEST(CudaEmulation, TiledMatmulWithTailTiles) {
  auto module = compile_kernels(R"(
#define TILE 16
extern "C" __global__ void __launch_bounds__(256) gemm(DjKernelParams p) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  const float* A = p.in[0];
  const float* B = p.in[1];
  long long m = p.rows, n = p.cols, k = p.k;
  unsigned tx = threadIdx.x, ty = threadIdx.y;
  long long row = (long long)blockIdx.y * TILE + ty, col = (long long)blockIdx.x * TILE + tx;
  float acc = 0.0f;
  for (long long k0 = 0; k0 < k; k0 += TILE) {
    As[ty][tx] = (row < m && k0 + tx < k) ? A[row * k + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < k && col < n) ? B[(k0 + ty) * n + col] : 0.0f;
    __syncthreads();
    for (int kk = 0; kk < TILE; ++kk) acc += As[ty][kk] * Bs[kk][tx];
    __syncthreads();
  }
  if (row < m && col < n) p.out[row * n + col] = acc;
}
)",
                                {"gemm"});
  ASSERT_COMPILED(module);
  const long long m = 37, n = 29, k = 45;
  std::vector<float> a = random_floats(m * k, 8), b = random_floats(k * n, 9);
  std::vector<float> out(m * n, NAN);
  DjKernelParams p = params_for({a.data(), b.data()}, out.data(), m * n);
  p.rows = m;
  p.cols = n;
  p.k = k;
  ASSERT_LAUNCH_OK(module.value()->launch("gemm", {2, 3, 1}, {16, 16, 1}, &p));
  std::vector<double> want(m * n, 0.0);
  for (long long i = 0; i < m; ++i)
    for (long long j = 0; j < n; ++j)
      for (long long q = 0; q < k; ++q)
        want[i * n + j] += static_cast<double>(a[i * k + q]) * b[q * n + j];
  EXPECT_TRUE(all_near(out, want, 1e-4));
}

TEST(CudaEmulation, ThreeDimensionalGridAndBlockIndices) {
  auto module = compile_kernels(R"(
extern "C" __global__ void where(DjKernelParams p) {
  unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  long long i = (long long)block * (blockDim.x * blockDim.y * blockDim.z) + thread;
  p.out[i] = (float)(blockIdx.x + 10 * blockIdx.y + 100 * blockIdx.z + 1000 * threadIdx.x +
                     10000 * threadIdx.y + 100000 * threadIdx.z);
  p.out[p.numel + i] = (float)(gridDim.x + 10 * gridDim.y + 100 * gridDim.z + 1000 * blockDim.x +
                               10000 * blockDim.y + 100000 * blockDim.z);
}
)",
                                {"where"});
  ASSERT_COMPILED(module);
  const unsigned gx = 3, gy = 2, gz = 4, bx = 4, by = 3, bz = 2;
  const long long total = 1LL * gx * gy * gz * bx * by * bz;
  std::vector<float> out(2 * total, NAN);
  DjKernelParams p = params_for({}, out.data(), total);
  ASSERT_LAUNCH_OK(module.value()->launch("where", {gx, gy, gz}, {bx, by, bz}, &p));
  std::vector<double> want(2 * total);
  for (unsigned z = 0; z < gz; ++z)
    for (unsigned y = 0; y < gy; ++y)
      for (unsigned x = 0; x < gx; ++x)
        for (unsigned tz = 0; tz < bz; ++tz)
          for (unsigned ty = 0; ty < by; ++ty)
            for (unsigned tx = 0; tx < bx; ++tx) {
              const long long i =
                  ((z * gy + y) * gx + x) * (bx * by * bz) + (tz * by + ty) * bx + tx;
              want[i] = x + 10 * y + 100 * z + 1000 * tx + 10000 * ty + 100000 * tz;
              want[total + i] = gx + 10 * gy + 100 * gz + 1000 * bx + 10000 * by + 100000 * bz;
            }
  EXPECT_TRUE(all_near(out, want, 0.0));
}

// Threads that returned early no longer hold up a barrier (as on sm_70+ hardware).
TEST(CudaEmulation, SyncthreadsWaitsOnlyForLiveThreads) {
  auto module = compile_kernels(R"(
extern "C" __global__ void reverse_prefix(DjKernelParams p) {
  __shared__ float s[64];
  unsigned t = threadIdx.x;
  if (t >= p.numel) return;
  s[t] = p.in[0][t];
  __syncthreads();
  p.out[t] = s[p.numel - 1 - t];
}
)",
                                {"reverse_prefix"});
  ASSERT_COMPILED(module);
  const long long n = 40;
  std::vector<float> x = random_floats(n, 10), out(n, NAN);
  DjKernelParams p = params_for({x.data()}, out.data(), n);
  ASSERT_LAUNCH_OK(module.value()->launch("reverse_prefix", {1, 1, 1}, {64, 1, 1}, &p));
  std::vector<double> want(n);
  for (long long i = 0; i < n; ++i) want[i] = x[n - 1 - i];
  EXPECT_TRUE(all_near(out, want, 0.0));
}

TEST(CudaEmulation, MillionThreadLaunch) {
  auto module = compile_kernels(R"(
extern "C" __global__ void axpy(DjKernelParams p) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < p.numel) p.out[i] = 3.0f * p.in[0][i] + p.in[1][i];
}
)",
                                {"axpy"});
  ASSERT_COMPILED(module);
  const long long n = 1 << 20;
  std::vector<float> a = random_floats(n, 11), b = random_floats(n, 12), out(n, NAN);
  DjKernelParams p = params_for({a.data(), b.data()}, out.data(), n);
  ASSERT_LAUNCH_OK(
      module.value()->launch("axpy", {static_cast<unsigned>(n / 256), 1, 1}, {256, 1, 1}, &p));
  std::vector<double> want(n);
  for (long long i = 0; i < n; ++i) want[i] = 3.0f * a[i] + b[i];
  EXPECT_TRUE(all_near(out, want, 0.0));
}

// Each OS thread runs its own launches with its own __shared__ instances.
TEST(CudaEmulation, ConcurrentLaunchesFromSeveralThreads) {
  auto module = compile_kernels(kBlockReduction, {"row_sum"});
  ASSERT_COMPILED(module);
  const long long rows = 16, cols = 2000;
  constexpr int kThreads = 4;
  std::vector<std::vector<float>> inputs, outputs(kThreads, std::vector<float>(rows, NAN));
  std::vector<Status> statuses(kThreads);
  for (int t = 0; t < kThreads; ++t) inputs.push_back(random_floats(rows * cols, 20 + t));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5 && statuses[t].ok(); ++rep) {
        DjKernelParams p = params_for({inputs[t].data()}, outputs[t].data(), rows);
        p.cols = cols;
        statuses[t] =
            module.value()->launch("row_sum", {static_cast<unsigned>(rows), 1, 1}, {128, 1, 1}, &p);
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    SCOPED_TRACE("thread " + std::to_string(t));
    ASSERT_TRUE(statuses[t].ok()) << statuses[t].to_string();
    EXPECT_TRUE(all_near(outputs[t], row_sums(inputs[t], rows, cols), 1e-3));
  }
}

}  // namespace
}  // namespace dj::emu::testing
