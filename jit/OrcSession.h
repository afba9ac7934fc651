// OrcSession: the one LLVM ORC LLJIT of the process, holding the Halide runtime and
// every loaded kernel.
//
// Invariants:
// - Created lazily on first get(), once per process, thread-safe; a failed creation
//   is remembered and returned again (no retry storm).
// - The Halide standalone runtime object is loaded exactly once, into the main
//   JITDylib, before any kernel. Its bytes stay available (runtime_object()) so a
//   code cache can store them; set_runtime_object_source() lets a cache supply them
//   before the first get(), so a warm start does no Halide compile at all.
// - The runtime's error handler is replaced: halide_error records the message in the
//   KernelCallContext passed as user_context (or a thread-local slot when none) and
//   the kernel returns an error code; nothing aborts.
// - Halide's parallel loops run on TBB (halide_set_custom_do_par_for), the pool the
//   interpreter uses, so the process has one thread pool. halide_shutdown_thread_pool
//   is called before the LLJIT is torn down.
// - Each loaded object file lives in its own JITDylib (linked against the runtime)
//   with its own ResourceTracker; one object may hold several kernels (a whole
//   specialization compiled as one module), each resolved to its own LoadedKernel.
//   Dropping the last LoadedKernel of an object unloads it; unload() on any of its
//   kernels unloads the object, and every kernel of it then reports no entry.
//   Kernels hold the session alive, so the session outlives every kernel.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "runtime/Status.h"

namespace dj::jit {

// Passed as Halide's user_context to each kernel call: collects halide_error messages
// of this call, also those raised on TBB worker threads inside parallel loops.
struct KernelCallContext {
  std::mutex mutex;
  std::string error;
};

// Messages of halide_error calls with no user_context on this thread, then cleared.
std::string take_thread_halide_error();

class OrcSession;
struct LoadedObject;  // one object file in its own JITDylib (OrcSession.cpp)

// One kernel entry point of a loaded object.
class LoadedKernel {
 public:
  using ArgvEntry = int (*)(void**);
  ~LoadedKernel();
  LoadedKernel(const LoadedKernel&) = delete;
  LoadedKernel& operator=(const LoadedKernel&) = delete;

  ArgvEntry entry() const;  // null once its object was unloaded
  const std::string& entry_symbol() const { return entry_symbol_; }
  const std::string& dylib_name() const;
  // Removes the code and symbols of this kernel's object now, with every other kernel
  // loaded from it (its JITDylib stays, empty, until the last kernel goes).
  Status unload();
  // Address of `symbol` defined in this kernel's object (the runtime's symbols are not in it).
  Expected<void*> lookup(const std::string& symbol) const;

 private:
  friend class OrcSession;
  LoadedKernel(std::shared_ptr<LoadedObject> object, std::string entry_symbol, ArgvEntry entry);

  std::shared_ptr<LoadedObject> object_;
  std::string entry_symbol_;
  ArgvEntry entry_ = nullptr;
};

class OrcSession : public std::enable_shared_from_this<OrcSession> {
 public:
  // The process-wide session, created on first call.
  static Expected<std::shared_ptr<OrcSession>> get();

  // Where the Halide runtime object comes from; must be set before the first get()
  // (later calls return an error). Default: halide_runtime_object() (embedded, else compiled).
  using RuntimeObjectSource = std::function<Expected<std::vector<uint8_t>>()>;
  static Status set_runtime_object_source(RuntimeObjectSource source);

  // Load an object file (as Halide emits with Target::NoRuntime) into a fresh JITDylib
  // and resolve `entry_symbol` (the `<name>_argv` wrapper: int(void**)).
  Expected<std::shared_ptr<LoadedKernel>> add_object(std::span<const uint8_t> object, const std::string& entry_symbol);
  // The same for an object holding several kernels: one JITDylib, one link, one
  // LoadedKernel per entry symbol (in that order).
  Expected<std::vector<std::shared_ptr<LoadedKernel>>> add_object(std::span<const uint8_t> object,
                                                                  const std::vector<std::string>& entry_symbols);

  const std::vector<uint8_t>& runtime_object() const { return runtime_object_; }
  double runtime_load_ms() const { return runtime_load_ms_; }  // obtaining + loading the runtime
  // Number of Halide parallel loops run through TBB so far (shows the routing works).
  uint64_t tbb_parallel_loops() const;

  ~OrcSession();
  OrcSession(const OrcSession&) = delete;
  OrcSession& operator=(const OrcSession&) = delete;

 private:
  friend class LoadedKernel;
  friend struct LoadedObject;
  struct Jit;
  OrcSession();
  Status start(std::vector<uint8_t> runtime_object);

  std::unique_ptr<Jit> jit_;
  std::mutex mutex_;  // serializes JITDylib creation/removal and object adds
  std::vector<uint8_t> runtime_object_;
  double runtime_load_ms_ = 0;
  uint64_t next_dylib_id_ = 0;
  void (*shutdown_thread_pool_)() = nullptr;
};

}  // namespace dj::jit
