// CompilePriority: how the background compile thread shares the CPU with the
// threads that serve runs.
//
// A compile takes a core for tens to hundreds of milliseconds of Halide/LLVM work.
// On a machine whose cores all serve runs (2 cores, 2 threads per run), a compile
// at normal priority slows the runs it overlaps by up to ~1.5x (measured on the
// suite's early_exit and MoE traces), which breaks "a new shape is never slower
// than the interpreter". So by default the compile thread runs at the lowest
// ordinary priority:
//   normal  the serving threads' priority: compiles finish soonest, runs slow down.
//   low     nice 19 (default): the scheduler prefers serving threads; compiles use
//           idle time at full speed and still progress under load (CFS gives a
//           nice-19 thread ~1.5% of a contended core, so they never starve).
//   idle    SCHED_IDLE: compiles run only on otherwise idle cores; under sustained
//           load they may never finish.
// DJ_JIT_COMPILE_PRIORITY=normal|low|idle chooses. Lowering a thread's priority
// needs no privilege; raising it back would, so a thread keeps what it was given.
#pragma once

#include <string>

#include "runtime/Status.h"

namespace dj::jit {

enum class CompilePriority { Normal, Low, Idle };

const char* compile_priority_name(CompilePriority priority);
Expected<CompilePriority> parse_compile_priority(const std::string& text);
// Applies `priority` to the calling thread (Linux: setpriority / sched_setscheduler
// on its thread id; elsewhere a no-op). Normal leaves the thread as it is.
Status apply_compile_priority_to_this_thread(CompilePriority priority);

}  // namespace dj::jit
