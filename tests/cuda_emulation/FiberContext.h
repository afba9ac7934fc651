// FiberContext.h — the context switch under CudaEmulation.h's fibers (test-only).
//
// prepare_context(ctx, stack, bytes, entry, arg) makes ctx start entry(arg) on that stack at
// its first switch; switch_context(from, to) saves the running context into `from` and
// continues `to`. entry must never return. On x86-64 the switch is a small routine (the
// callee-saved registers, MXCSR and the x87 control word; no system call, so a few
// nanoseconds); elsewhere, or with -DDJ_EMU_USE_UCONTEXT, it is ucontext's swapcontext, which
// also saves the signal mask (a system call per switch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#if !defined(__x86_64__) || defined(DJ_EMU_USE_UCONTEXT)
#define DJ_EMU_UCONTEXT_FIBERS 1
#include <ucontext.h>
#endif

namespace dj_emu::detail {

#if !defined(DJ_EMU_UCONTEXT_FIBERS)
// dj_emu_switch_context(save, load): pushes the callee-saved registers, MXCSR and the x87
// control word, stores the stack pointer in *save, loads `load` and pops the same frame.
// A new fiber's stack holds such a frame whose return address is dj_emu_fiber_start, which
// calls r13(r12). COMDAT + hidden: every translation unit may carry a copy.
extern "C" __attribute__((visibility("hidden"))) void dj_emu_switch_context(void** save,
                                                                            void* load);
extern "C" __attribute__((visibility("hidden"))) void dj_emu_fiber_start();
asm(R"(
  .pushsection .text.dj_emu_switch_context,"axG",@progbits,dj_emu_switch_context,comdat
  .globl dj_emu_switch_context
  .hidden dj_emu_switch_context
  .type dj_emu_switch_context,@function
  .p2align 4
dj_emu_switch_context:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size dj_emu_switch_context, .-dj_emu_switch_context
  .popsection
  .pushsection .text.dj_emu_fiber_start,"axG",@progbits,dj_emu_fiber_start,comdat
  .globl dj_emu_fiber_start
  .hidden dj_emu_fiber_start
  .type dj_emu_fiber_start,@function
  .p2align 4
dj_emu_fiber_start:
  .cfi_startproc
  .cfi_undefined rip
  movq %r12, %rdi
  callq *%r13
  ud2
  .cfi_endproc
  .size dj_emu_fiber_start, .-dj_emu_fiber_start
  .popsection
)");

struct FiberContext {
  void* stack_pointer = nullptr;
};

inline void prepare_context(FiberContext& context, char* stack_low, std::size_t stack_bytes,
                            void (*entry)(void*), void* arg) {
  auto top = reinterpret_cast<std::uintptr_t>(stack_low + stack_bytes) & ~std::uintptr_t{15};
  auto* slot = reinterpret_cast<std::uint64_t*>(top);
  // From the top: 16 bytes of padding (so dj_emu_fiber_start runs with a 16-byte aligned
  // stack), the return address, then rbp rbx r12 r13 r14 r15 and the MXCSR/x87 word.
  slot[-1] = slot[-2] = 0;
  slot[-3] = reinterpret_cast<std::uint64_t>(&dj_emu_fiber_start);
  slot[-4] = slot[-5] = 0;                            // rbp, rbx
  slot[-6] = reinterpret_cast<std::uint64_t>(arg);    // r12
  slot[-7] = reinterpret_cast<std::uint64_t>(entry);  // r13
  slot[-8] = slot[-9] = 0;                            // r14, r15
  auto* control = reinterpret_cast<std::uint32_t*>(&slot[-10]);
  control[1] = 0;
  asm volatile("stmxcsr %0" : "=m"(control[0]));
  asm volatile("fnstcw %0" : "=m"(*reinterpret_cast<std::uint16_t*>(&control[1])));
  context.stack_pointer = &slot[-10];
}

inline void switch_context(FiberContext& from, FiberContext& to) {
  dj_emu_switch_context(&from.stack_pointer, to.stack_pointer);
}
#else
struct FiberContext {
  ucontext_t context{};
  void (*entry)(void*) = nullptr;
  void* arg = nullptr;
};

// makecontext passes ints only: the FiberContext's address travels as two halves.
inline void ucontext_entry(unsigned high, unsigned low) {
  auto* context = reinterpret_cast<FiberContext*>((std::uintptr_t{high} << 32) | low);
  context->entry(context->arg);
}

inline void prepare_context(FiberContext& context, char* stack_low, std::size_t stack_bytes,
                            void (*entry)(void*), void* arg) {
  context.entry = entry;
  context.arg = arg;
  if (getcontext(&context.context) != 0) throw std::runtime_error("getcontext failed");
  context.context.uc_stack.ss_sp = stack_low;
  context.context.uc_stack.ss_size = stack_bytes;
  context.context.uc_link = nullptr;
  const auto address = reinterpret_cast<std::uintptr_t>(&context);
  makecontext(&context.context, reinterpret_cast<void (*)()>(&ucontext_entry), 2,
              static_cast<unsigned>(address >> 32), static_cast<unsigned>(address & 0xffffffffu));
}

inline void switch_context(FiberContext& from, FiberContext& to) {
  swapcontext(&from.context, &to.context);
}
#endif

}  // namespace dj_emu::detail
