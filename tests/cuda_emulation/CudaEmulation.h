// CudaEmulation.h — test-only host emulation of the CUDA C vocabulary that DynaJIT's generated
// kernels use (the generated-CUDA contract of jit/cuda/). Generated source is compiled by the
// host C++ compiler after this header (tests/cuda_emulation/EmulatedModule.h) and runs on the
// CPU, so machines without a GPU can check generated kernels against the interpreter. It is
// never a product path.
//
// Execution model (what a kernel may rely on, as Numba's CUDA simulator does):
// - dj_emu::launch runs the blocks of a grid one after another (x fastest, then y, then z) on
//   the calling OS thread. Within a block every CUDA thread is a cooperative fiber; threads
//   run in linear order (x fastest) until they finish or wait, and only switch at
//   __syncthreads() and at warp shuffles. A fiber only takes the next thread when its current
//   one finishes, so a block without barriers runs on one fiber (two switches per block); the
//   pool of 64 KiB stacks (each with a guard page) is reused across blocks and launches.
// - __syncthreads() completes when every live (not yet exited) thread of the block waits at
//   the same __syncthreads() call (the same textual call: file, line and __COUNTER__, so
//   `if (c) __syncthreads(); else __syncthreads();` diverges). Threads that exited no longer
//   count, as on sm_70+ hardware.
// - __shfl_xor_sync / __shfl_down_sync (float or int, full mask 0xffffffff only) complete when
//   all 32 lanes of the warp wait at the same shuffle; each lane then reads its partner's value
//   (its own where the partner lane is out of range, as CUDA does). The scheduler hands every
//   lane its result at release time, so no second barrier is needed before the value slots are
//   reused. CUDA leaves shuffles with lanes missing from the mask undefined and the contract
//   uses the full mask only, so a shuffle in a partial warp (block size not a multiple of 32)
//   is reported as an error, as is any other mask.
// - When no thread can proceed (threads wait at different __syncthreads() calls, half a warp
//   waits at a shuffle while the rest wait at a barrier or have exited, ...) the launch fails
//   with a description of who waits where, instead of hanging.
// - Errors: dj_emu::launch throws dj_emu::LaunchError (a std::runtime_error) on the calling
//   thread, never on a fiber; the failing block's unfinished threads are abandoned (their
//   fibers restart; generated kernels hold nothing to destroy). The entry trampolines that
//   EmulatedModule generates catch it and hand the message back as a dj::Status.
// - __shared__ becomes `static thread_local`: blocks of one launch run one at a time on one OS
//   thread, and all fibers of a block run on that thread, so a function-local thread_local is
//   exactly one instance shared by the block's threads, while launches on other OS threads
//   get their own. Its contents survive from block to block; CUDA leaves shared memory
//   undefined at block start, so a correct kernel cannot tell.
// - blockIdx/threadIdx/blockDim/gridDim read a thread_local view that the scheduler rewrites
//   on every fiber switch. The __ math intrinsics map to the precise functions.
//
// Fibers: BlockScheduler.h (the scheduler) on FiberContext.h (a small x86-64 switch routine,
// or ucontext's swapcontext elsewhere or with -DDJ_EMU_USE_UCONTEXT). Sanitizers do not follow
// either; compile emulated code without them. Includes: standard headers, POSIX
// <sys/mman.h>/<unistd.h> for guarded stacks, <ucontext.h> for the fallback switch.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "BlockScheduler.h"

namespace dj_emu::detail {

inline void syncthreads(CallSite call) { this_thread_scheduler().wait_at_syncthreads(call); }

template <typename T>
T shuffle(const char* what, unsigned mask, T value, ShuffleKind kind, unsigned argument,
          CallSite call) {
  static_assert(sizeof(T) == 4);
  std::uint32_t bits;
  std::memcpy(&bits, &value, 4);
  bits = this_thread_scheduler().exchange_in_warp(what, mask, bits, kind, argument, call);
  std::memcpy(&value, &bits, 4);
  return value;
}

// float and int only (the contract); any other type is a compile error.
inline float shfl_xor(unsigned mask, float v, int lane_mask, CallSite call) {
  return shuffle("__shfl_xor_sync", mask, v, ShuffleKind::Xor, static_cast<unsigned>(lane_mask),
                 call);
}
inline int shfl_xor(unsigned mask, int v, int lane_mask, CallSite call) {
  return shuffle("__shfl_xor_sync", mask, v, ShuffleKind::Xor, static_cast<unsigned>(lane_mask),
                 call);
}
template <typename T>
T shfl_xor(unsigned, T, int, CallSite) = delete;
inline float shfl_down(unsigned mask, float v, unsigned delta, CallSite call) {
  return shuffle("__shfl_down_sync", mask, v, ShuffleKind::Down, delta, call);
}
inline int shfl_down(unsigned mask, int v, unsigned delta, CallSite call) {
  return shuffle("__shfl_down_sync", mask, v, ShuffleKind::Down, delta, call);
}
template <typename T>
T shfl_down(unsigned, T, unsigned, CallSite) = delete;

inline float reciprocal_sqrt(float x) { return 1.0f / std::sqrt(x); }
inline float divide(float a, float b) { return a / b; }

}  // namespace dj_emu::detail

// ---- The contract's vocabulary ------------------------------------------------------------

struct alignas(16) float4 {
  float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

inline constexpr int warpSize = 32;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static thread_local
// __restrict__ is already a keyword of GCC and Clang, with the same meaning.

#define threadIdx (static_cast<const ::dj_emu::uint3&>(::dj_emu::detail::view.thread_index))
#define blockIdx (static_cast<const ::dj_emu::uint3&>(::dj_emu::detail::view.block_index))
#define blockDim (static_cast<const ::dj_emu::uint3&>(::dj_emu::detail::view.block_dim))
#define gridDim (static_cast<const ::dj_emu::uint3&>(::dj_emu::detail::view.grid_dim))

#define DJ_EMU_CALL_SITE (::dj_emu::detail::CallSite{__FILE__, __LINE__, __COUNTER__})
#define __syncthreads() ::dj_emu::detail::syncthreads(DJ_EMU_CALL_SITE)
#define __shfl_xor_sync(mask, value, lane_mask) \
  ::dj_emu::detail::shfl_xor((mask), (value), (lane_mask), DJ_EMU_CALL_SITE)
#define __shfl_down_sync(mask, value, delta) \
  ::dj_emu::detail::shfl_down((mask), (value), (delta), DJ_EMU_CALL_SITE)

// The fast intrinsics map to the precise functions; glibc already declares __expf/__logf as
// functions, hence macros rather than overloads. rsqrtf is not a host function.
#define __expf(x) (::expf(x))
#define __logf(x) (::logf(x))
#define __fdividef(a, b) (::dj_emu::detail::divide((a), (b)))
#define rsqrtf(x) (::dj_emu::detail::reciprocal_sqrt(x))
