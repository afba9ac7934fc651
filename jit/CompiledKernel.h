// CompiledKernel: one compiled, loaded kernel — its object code, argument signature,
// compile times and optional code listings — and how to call it.
//
// The value is what a code cache stores (object bytes + entry symbol + signature +
// target key) and what dispatch calls; nothing in it points back into Halide, so this
// header does not include Halide.h. Calls are thread-safe (kernels keep no state).
// Call convention: the `<name>_argv` wrapper Halide generates, `int(void**)`, with
// argv[0] = KernelCallContext* (kernels are compiled with Halide's UserContext), then
// the arguments in signature order: a halide_buffer_t* per buffer, a pointer to the
// value per scalar; outputs come last. A nonzero return is a Halide error code; the
// message that came with it is returned in the Status.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "HalideRuntime.h"
#include "jit/OrcSession.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

namespace dj::jit {

struct KernelArg {
  enum class Kind : uint8_t { Scalar, InputBuffer, OutputBuffer };
  std::string name;
  Kind kind = Kind::InputBuffer;
  halide_type_t type;
  int dimensions = 0;
};

// The arguments after the user context, in argv order (inputs first, outputs last).
struct KernelSignature {
  std::vector<KernelArg> args;
  int input_buffers() const;
  int output_buffers() const;
  int scalars() const;
};

struct CompileTimes {
  double lower_ms = 0;   // Halide lowering (Pipeline -> Halide::Module)
  double llvm_ms = 0;    // Halide codegen to an llvm::Module (including LLVM's IR optimization)
  double object_ms = 0;  // LLVM instruction selection etc. to an object file
  double load_ms = 0;    // ORC: add the object, link, resolve the entry
  double total_ms() const { return lower_ms + llvm_ms + object_ms + load_ms; }
};

// Listings for `code R halide|llvm|asm`; filled only when CompileOptions asks.
struct KernelListings {
  std::string halide_stmt;
  std::string llvm_ir;
  std::string assembly;
};

class CompiledKernel {
 public:
  std::string name;                // the Halide function name
  std::string entry_symbol;        // name + "_argv"
  std::string target_key;          // host_target().key of the machine that compiled it
  // The ELF object holding this kernel, loadable by load_object() in another process;
  // kernels compiled together (compile_pipelines) share one object.
  std::shared_ptr<const std::vector<uint8_t>> object;
  KernelSignature signature;
  CompileTimes times;
  KernelListings listings;
  std::shared_ptr<LoadedKernel> loaded;  // null if not loaded

  // Generic call: `args` in signature order (no user context; it is added here).
  Status run_argv(std::span<void* const> args) const;
  // Kernels whose arguments are all buffers.
  Status run(std::span<halide_buffer_t* const> buffers) const;
  // Buffer-only kernels over tensors: inputs then outputs, shapes as the kernel expects.
  Status run(std::span<const Tensor> inputs, std::span<const Tensor> outputs) const;
};

// Load object bytes produced earlier (e.g. read from a code cache) without compiling:
// no Halide or LLVM optimization work, only ORC linking.
Expected<CompiledKernel> load_object(std::vector<uint8_t> object, std::string name, KernelSignature signature,
                                     std::string target_key);

// The same for an object holding several kernels: loaded and linked once.
struct KernelInObject {
  std::string name;
  KernelSignature signature;
};
Expected<std::vector<CompiledKernel>> load_object_kernels(std::shared_ptr<const std::vector<uint8_t>> object,
                                                          std::vector<KernelInObject> kernels,
                                                          const std::string& target_key);

}  // namespace dj::jit
