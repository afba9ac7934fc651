// KernelCompiler: Halide::Pipeline -> object file for the host -> loaded CompiledKernel.
//
// Contract: the pipeline is compiled for host_halide_target() with NoRuntime (the
// runtime is loaded once by OrcSession) and UserContext (per-call error messages).
// Asserts stay ON by default: a buffer of the wrong size, type or rank makes the
// kernel return an error with Halide's message instead of reading out of bounds;
// jit_bench measures what they cost. `keep_asserts = false` drops them
// (no_asserts + no_bounds_query) for callers that check shapes themselves (guards).
// Halide compilation is serialized by one process-wide mutex (halide_compile_mutex):
// Halide is not known to be safe with concurrent compiles in one process. Building
// the Funcs of two pipelines on two threads at once is not covered by that lock.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "Halide.h"
#include "jit/CompiledKernel.h"

namespace dj::jit {

struct PipelineSpec {
  Halide::Pipeline pipeline;
  // The inputs in argv order (ImageParams, Params); the pipeline's outputs follow them.
  std::vector<Halide::Argument> arguments;
  std::string name;  // a C identifier; the entry symbol is name + "_argv"
};

struct CompileOptions {
  bool keep_asserts = true;
  bool emit_halide_stmt = false;  // listings for `code R halide|llvm|asm`
  bool emit_llvm_ir = false;
  bool emit_assembly = false;
  bool load = true;  // load into the ORC session (false: only produce the object)
};

Expected<CompiledKernel> compile_pipeline(const PipelineSpec& spec, const CompileOptions& options = {});

// Several pipelines as one module: each is lowered on its own, the modules are
// linked (Halide::link_modules), and LLVM optimizes and emits them once, into one
// object loaded with one ORC link, so the fixed cost of a module (and of a link)
// is paid once per batch, not per kernel. The kernels share the object
// (CompiledKernel::object). Times: lower_ms per kernel; llvm, object and load ms
// are the batch's, split evenly. With LLVM IR or assembly listings requested the
// kernels are compiled one by one, so each listing is its own kernel's.
Expected<std::vector<CompiledKernel>> compile_pipelines(const std::vector<PipelineSpec>& specs,
                                                        const CompileOptions& options = {});

// Held while any Halide compile (lowering, codegen, runtime) runs in this process.
std::mutex& halide_compile_mutex();

}  // namespace dj::jit
