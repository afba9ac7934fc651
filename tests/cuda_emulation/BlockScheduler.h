// BlockScheduler.h — runs a CUDA launch's threads as cooperative fibers (test-only; the
// semantics are stated in CudaEmulation.h, which is the header kernels include).
//
// Invariants: blocks run one at a time on the launching OS thread; a fiber takes a new
// thread only when its previous one exited, so at most one fiber per started, unfinished
// thread exists; barriers and shuffles are released only when no fiber can run, after every
// thread of the block has started; after a launch (failed or not) every fiber is idle.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "FiberContext.h"

namespace dj_emu {

// Every fiber's stack. Kernels keep scalars and small arrays there; a guard page below it
// turns an overflow into a fault instead of silent corruption.
inline constexpr std::size_t kFiberStackBytes = 64 * 1024;
// Idle fibers kept for the next launch on this thread; the rest are unmapped after a launch.
inline constexpr std::size_t kRetainedFibers = 64;
inline constexpr unsigned kWarpSize = 32;
inline constexpr unsigned kMaxThreadsPerBlock = 1024;

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
  unsigned x, y, z;
};

struct LaunchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs kernel_body once per thread of the grid; throws LaunchError (see the file comment).
inline void launch(dim3 grid, dim3 block, const std::function<void()>& kernel_body);

namespace detail {

// What the running CUDA thread sees; rewritten by the scheduler on every switch into a fiber.
struct ThreadView {
  uint3 thread_index{0, 0, 0};
  uint3 block_index{0, 0, 0};
  uint3 block_dim{1, 1, 1};
  uint3 grid_dim{1, 1, 1};
};
inline thread_local ThreadView view;

inline std::string format_index(uint3 i) {
  return "(" + std::to_string(i.x) + "," + std::to_string(i.y) + "," + std::to_string(i.z) + ")";
}
inline std::string& last_entry_error() {  // the entry trampolines' error channel
  static thread_local std::string message;
  return message;
}

// ---- The block scheduler -----------------------------------------------------------------

enum class ThreadState : unsigned char {
  NotStarted,
  Running,
  Runnable,
  AtSyncthreads,
  AtShuffle,
  Faulted,
  Exited
};
enum class ShuffleKind : unsigned char { Xor, Down };

// One textual call of __syncthreads() or a shuffle: the macros pass __FILE__, __LINE__ and
// __COUNTER__, so two calls on one line are still different sites.
struct CallSite {
  const char* file = "";
  int line = 0;
  int id = -1;
};

// Where a thread waits: the primitive and its call site.
struct WaitSite {
  const char* what = "";
  CallSite call;
  bool operator==(const WaitSite& o) const {
    return call.id == o.call.id && std::strcmp(call.file, o.call.file) == 0;
  }
};

class BlockScheduler;

struct Fiber {
  explicit Fiber(BlockScheduler* owner_);
  ~Fiber() { munmap(mapping, mapping_bytes); }
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
  // Forgets whatever the fiber was running; its next resume starts fiber_main afresh.
  void restart();

  BlockScheduler* owner;
  FiberContext context;
  void* mapping = nullptr;
  std::size_t mapping_bytes = 0;
  char* stack_low = nullptr;
  int thread = -1;  // linear index of the CUDA thread it runs; -1 while idle
};

struct ThreadSlot {
  Fiber* fiber = nullptr;  // set while the thread has started and not exited
  ThreadState state = ThreadState::NotStarted;
  WaitSite site;
  std::uint32_t shuffle_value = 0;   // what this lane offers
  std::uint32_t shuffle_result = 0;  // what it receives when the warp completes
  unsigned shuffle_source = 0;       // the lane it reads from
};

class BlockScheduler {
 public:
  BlockScheduler() = default;
  BlockScheduler(const BlockScheduler&) = delete;
  BlockScheduler& operator=(const BlockScheduler&) = delete;
  ~BlockScheduler() {
    for (Fiber* fiber : fibers_) delete fiber;
  }
  void run(dim3 grid, dim3 block, const std::function<void()>& body);
  void wait_at_syncthreads(CallSite call);
  std::uint32_t exchange_in_warp(const char* what, unsigned mask, std::uint32_t bits,
                                 ShuffleKind kind, unsigned argument, CallSite call);
  static void fiber_main(void* fiber);

 private:
  void run_block();
  void resume(Fiber* fiber);
  Fiber* take_idle_fiber();
  bool release_waits();
  void abort_block();
  void trim_pool();
  void record_fault(unsigned thread, const char* what);
  [[noreturn]] void park_faulted(Fiber& fiber);
  std::string describe_deadlock() const;
  Fiber& running_fiber(const char* what) const;
  void suspend(Fiber& fiber);
  uint3 thread_index_of(unsigned t) const {
    return {t % block_.x, (t / block_.x) % block_.y, t / (block_.x * block_.y)};
  }

  FiberContext scheduler_context_;
  std::vector<Fiber*> fibers_;  // owned
  std::vector<Fiber*> idle_;
  std::vector<Fiber*> ready_;
  std::size_t ready_head_ = 0;
  std::vector<ThreadSlot> slots_;
  const std::function<void()>* body_ = nullptr;
  Fiber* current_ = nullptr;
  dim3 block_;
  unsigned threads_ = 0;      // per block
  unsigned next_thread_ = 0;  // the next thread to start
  unsigned exited_ = 0;
  unsigned waiting_ = 0;  // at a barrier or shuffle, not yet released
  bool in_launch_ = false;
  std::string error_;
};

inline Fiber::Fiber(BlockScheduler* owner_) : owner(owner_) {
  const long page_size = sysconf(_SC_PAGESIZE);
  const std::size_t page = page_size > 0 ? static_cast<std::size_t>(page_size) : 4096;
  mapping_bytes = kFiberStackBytes + page;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#ifdef MAP_STACK
  flags |= MAP_STACK;
#endif
  mapping = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (mapping == MAP_FAILED) {
    mapping = nullptr;
    throw LaunchError("cannot map a " + std::to_string(mapping_bytes) + "-byte fiber stack");
  }
  mprotect(mapping, page, PROT_NONE);  // the guard page; without it we merely lose the check
  stack_low = static_cast<char*>(mapping) + page;
  restart();
}

inline void Fiber::restart() {
  thread = -1;
  prepare_context(context, stack_low, kFiberStackBytes, &BlockScheduler::fiber_main, this);
}

inline BlockScheduler& this_thread_scheduler() {
  static thread_local BlockScheduler scheduler;
  return scheduler;
}

inline void BlockScheduler::run(dim3 grid, dim3 block, const std::function<void()>& body) {
  if (in_launch_) {
    const char* nested = "dj_emu::launch called from inside a running kernel";
    if (current_ != nullptr && current_->thread >= 0) {
      record_fault(static_cast<unsigned>(current_->thread), nested);
      park_faulted(*current_);
    }
    throw LaunchError(nested);
  }
  if (!body) throw LaunchError("dj_emu::launch: empty kernel body");
  const std::string dims = "grid (" + std::to_string(grid.x) + "," + std::to_string(grid.y) + "," +
                           std::to_string(grid.z) + "), block (" + std::to_string(block.x) + "," +
                           std::to_string(block.y) + "," + std::to_string(block.z) + ")";
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0)
    throw LaunchError("invalid launch " + dims + ": every dimension must be at least 1");
  // CUDA's limits (compute capability 3.0+): the emulator rejects what the GPU would.
  if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
    throw LaunchError("invalid launch " + dims + ": grid exceeds (2^31-1, 65535, 65535)");
  const unsigned long long threads = static_cast<unsigned long long>(block.x) * block.y * block.z;
  if (block.x > 1024 || block.y > 1024 || block.z > 64 || threads > kMaxThreadsPerBlock)
    throw LaunchError("invalid launch " + dims +
                      ": a block has at most 1024 threads and "
                      "(1024, 1024, 64) per dimension");

  struct LaunchScope {
    BlockScheduler& s;
    ~LaunchScope() {
      s.in_launch_ = false;
      s.body_ = nullptr;
      s.trim_pool();
    }
  } scope{*this};
  in_launch_ = true;
  error_.clear();
  body_ = &body;
  block_ = block;
  threads_ = static_cast<unsigned>(threads);
  slots_.assign(threads_, ThreadSlot{});
  ready_.reserve(threads_);
  view.block_dim = {block.x, block.y, block.z};
  view.grid_dim = {grid.x, grid.y, grid.z};
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        view.block_index = {x, y, z};
        run_block();
        if (!error_.empty()) throw LaunchError(error_);
      }
}

inline void BlockScheduler::run_block() {
  next_thread_ = exited_ = waiting_ = 0;
  ready_.clear();
  ready_head_ = 0;
  for (ThreadSlot& slot : slots_) slot = ThreadSlot{};
  while (error_.empty()) {
    if (ready_head_ < ready_.size()) {
      resume(ready_[ready_head_++]);
      continue;
    }
    ready_.clear();
    ready_head_ = 0;
    if (next_thread_ < threads_) {
      Fiber* fiber = nullptr;
      try {
        fiber = take_idle_fiber();
      } catch (const std::exception& e) {
        error_ = e.what();
        break;
      }
      resume(fiber);
      continue;
    }
    if (waiting_ == 0) return;  // every thread has exited
    if (!release_waits()) error_ = describe_deadlock();
  }
  abort_block();
}

inline void BlockScheduler::resume(Fiber* fiber) {
  if (fiber->thread >= 0) {
    slots_[fiber->thread].state = ThreadState::Running;
    view.thread_index = thread_index_of(static_cast<unsigned>(fiber->thread));
  }
  current_ = fiber;
  switch_context(scheduler_context_, fiber->context);
  current_ = nullptr;
}

inline Fiber* BlockScheduler::take_idle_fiber() {
  if (!idle_.empty()) {
    Fiber* fiber = idle_.back();
    idle_.pop_back();
    return fiber;
  }
  fibers_.reserve(fibers_.size() + 1);
  idle_.reserve(fibers_.size() + 1);
  fibers_.push_back(new Fiber(this));
  return fibers_.back();
}

// Runs on a fiber's own stack and never returns: it starts threads until none is left, then
// parks itself as idle; a later resume hands it the next block's (or launch's) threads.
// Exceptions thrown by a kernel body itself end that thread and fail the launch; the
// emulation's own errors never throw on a fiber (see park_faulted).
inline void BlockScheduler::fiber_main(void* arg) {
  Fiber* fiber = static_cast<Fiber*>(arg);
  BlockScheduler& s = *fiber->owner;
  for (;;) {
    while (s.next_thread_ < s.threads_ && s.error_.empty()) {
      const unsigned t = s.next_thread_++;
      fiber->thread = static_cast<int>(t);
      s.slots_[t].fiber = fiber;
      s.slots_[t].state = ThreadState::Running;
      view.thread_index = s.thread_index_of(t);
      try {
        (*s.body_)();
      } catch (const std::exception& e) {
        s.record_fault(t, e.what());
      } catch (...) {
        s.record_fault(t, "the kernel threw a non-standard exception");
      }
      s.slots_[t].state = ThreadState::Exited;
      s.slots_[t].fiber = nullptr;
      ++s.exited_;
      fiber->thread = -1;
    }
    s.idle_.push_back(fiber);
    switch_context(fiber->context, s.scheduler_context_);
  }
}

inline Fiber& BlockScheduler::running_fiber(const char* what) const {
  if (current_ == nullptr || current_->thread < 0)
    throw LaunchError(std::string(what) + " called outside a running kernel");
  return *current_;
}

inline void BlockScheduler::suspend(Fiber& fiber) {
  ++waiting_;
  switch_context(fiber.context, scheduler_context_);
}

inline void BlockScheduler::wait_at_syncthreads(CallSite call) {
  Fiber& fiber = running_fiber("__syncthreads()");
  ThreadSlot& slot = slots_[fiber.thread];
  slot.state = ThreadState::AtSyncthreads;
  slot.site = {"__syncthreads()", call};
  suspend(fiber);
}

inline std::uint32_t BlockScheduler::exchange_in_warp(const char* what, unsigned mask,
                                                      std::uint32_t bits, ShuffleKind kind,
                                                      unsigned argument, CallSite call) {
  Fiber& fiber = running_fiber(what);
  const auto t = static_cast<unsigned>(fiber.thread);
  if (mask != 0xffffffffu) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", mask);
    record_fault(t, (std::string(what) + " with mask " + hex +
                     ": only the full mask 0xffffffff is emulated (the generated-code contract)")
                        .c_str());
    park_faulted(fiber);
  }
  const unsigned warp_base = t - t % kWarpSize;
  if (warp_base + kWarpSize > threads_) {
    record_fault(
        t, (std::string(what) + " in a partial warp: the block has " + std::to_string(threads_) +
            " threads, so warp " + std::to_string(t / kWarpSize) + " has only " +
            std::to_string(threads_ - warp_base) +
            " lanes; shuffles need full warps (a block size that is a multiple of 32)")
               .c_str());
    park_faulted(fiber);
  }
  const unsigned lane = t % kWarpSize;
  const unsigned long long source = kind == ShuffleKind::Xor
                                        ? static_cast<unsigned long long>(lane ^ argument)
                                        : static_cast<unsigned long long>(lane) + argument;
  ThreadSlot& slot = slots_[t];
  slot.state = ThreadState::AtShuffle;
  slot.site = {what, call};
  slot.shuffle_value = bits;
  slot.shuffle_source = source < kWarpSize ? static_cast<unsigned>(source) : lane;
  suspend(fiber);
  return slot.shuffle_result;
}

// Called when no fiber can run: completes every warp whose 32 lanes wait at one shuffle;
// failing that, the block barrier if every live thread waits at one __syncthreads().
inline bool BlockScheduler::release_waits() {
  bool released = false;
  for (unsigned base = 0; base + kWarpSize <= threads_; base += kWarpSize) {
    const ThreadSlot& first = slots_[base];
    if (first.state != ThreadState::AtShuffle) continue;
    bool complete = true;
    for (unsigned lane = 1; lane < kWarpSize && complete; ++lane) {
      const ThreadSlot& s = slots_[base + lane];
      complete = s.state == ThreadState::AtShuffle && s.site == first.site;
    }
    if (!complete) continue;
    for (unsigned lane = 0; lane < kWarpSize; ++lane) {
      ThreadSlot& s = slots_[base + lane];
      s.shuffle_result = slots_[base + s.shuffle_source].shuffle_value;
      s.state = ThreadState::Runnable;
      ready_.push_back(s.fiber);
    }
    waiting_ -= kWarpSize;
    released = true;
  }
  if (released) return true;
  if (waiting_ != threads_ - exited_) return false;
  const WaitSite* site = nullptr;
  for (const ThreadSlot& s : slots_) {
    if (s.state == ThreadState::Exited) continue;
    if (s.state != ThreadState::AtSyncthreads) return false;
    if (site == nullptr)
      site = &s.site;
    else if (!(s.site == *site))
      return false;
  }
  for (ThreadSlot& s : slots_) {
    if (s.state != ThreadState::AtSyncthreads) continue;
    s.state = ThreadState::Runnable;
    ready_.push_back(s.fiber);
  }
  waiting_ = 0;
  return true;
}

inline std::string BlockScheduler::describe_deadlock() const {
  struct Group {
    WaitSite site;
    unsigned count;
    unsigned first;
  };
  std::vector<Group> groups;
  for (unsigned t = 0; t < threads_; ++t) {
    const ThreadSlot& s = slots_[t];
    if (s.state != ThreadState::AtSyncthreads && s.state != ThreadState::AtShuffle) continue;
    std::size_t g = 0;
    while (g < groups.size() && !(groups[g].site == s.site)) ++g;
    if (g == groups.size())
      groups.push_back({s.site, 1, t});
    else
      ++groups[g].count;
  }
  std::string m =
      "deadlock in block " + format_index(view.block_index) + ": no thread can proceed; ";
  for (const Group& g : groups)
    m += std::to_string(g.count) + " thread(s) wait at " + g.site.what + " (" + g.site.call.file +
         ":" + std::to_string(g.site.call.line) + ", first thread " +
         format_index(thread_index_of(g.first)) + "); ";
  m += std::to_string(exited_) +
       " thread(s) have exited. A __syncthreads() completes when every "
       "live thread of the block waits at that same call, a shuffle when all 32 lanes of the "
       "warp reach that same shuffle";
  return m;
}

inline void BlockScheduler::record_fault(unsigned thread, const char* what) {
  if (!error_.empty()) return;
  error_ = "block " + format_index(view.block_index) + ", thread " +
           format_index(thread_index_of(thread)) + ": " + what;
}

// Leaves the fiber for good (the message is already recorded, its temporaries destroyed);
// abort_block restarts it. No exception crosses the kernel's frames: sanitizers and the
// C++ runtime's per-thread exception state do not follow fiber switches.
inline void BlockScheduler::park_faulted(Fiber& fiber) {
  slots_[fiber.thread].state = ThreadState::Faulted;
  switch_context(fiber.context, scheduler_context_);
  __builtin_trap();  // a parked fiber is never resumed
}

// Abandons every started, unfinished thread of the failed block: their fibers are restarted,
// so the kernel frames on them are dropped without running. Generated kernels are plain C
// (nothing to destroy); a lambda body holding resources would leak them.
inline void BlockScheduler::abort_block() {
  next_thread_ = threads_;
  for (ThreadSlot& s : slots_) {
    if (s.fiber == nullptr) continue;
    s.fiber->restart();
    idle_.push_back(s.fiber);
    s.fiber = nullptr;
  }
  ready_.clear();
  ready_head_ = 0;
}

inline void BlockScheduler::trim_pool() {
  if (fibers_.size() <= kRetainedFibers || idle_.size() != fibers_.size()) return;
  for (std::size_t i = kRetainedFibers; i < fibers_.size(); ++i) delete fibers_[i];
  fibers_.resize(kRetainedFibers);
  idle_ = fibers_;
}

}  // namespace detail

inline void launch(dim3 grid, dim3 block, const std::function<void()>& kernel_body) {
  detail::this_thread_scheduler().run(grid, block, kernel_body);
}

}  // namespace dj_emu
