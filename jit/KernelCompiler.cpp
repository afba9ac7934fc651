// KernelCompiler: lower, codegen, emit and load one Halide pipeline (see KernelCompiler.h).
#include "jit/KernelCompiler.h"

#include <chrono>
#include <sstream>

#include "jit/HostTarget.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

namespace dj::jit {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

bool is_c_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

Expected<KernelSignature> signature_of(const Halide::Module& module, const std::string& name) {
  for (const Halide::Internal::LoweredFunc& f : module.functions()) {
    if (f.name != name) continue;
    KernelSignature sig;
    for (const Halide::Internal::LoweredArgument& a : f.args) {
      if (a.name == "__user_context") continue;
      KernelArg arg;
      arg.name = a.name;
      arg.kind = a.kind == Halide::Argument::InputScalar   ? KernelArg::Kind::Scalar
                 : a.kind == Halide::Argument::InputBuffer ? KernelArg::Kind::InputBuffer
                                                           : KernelArg::Kind::OutputBuffer;
      arg.type = a.type;
      arg.dimensions = a.dimensions;
      sig.args.push_back(std::move(arg));
    }
    return sig;
  }
  return make_error(StatusCode::Internal, "Halide produced no function named '", name, "'");
}

Expected<CompiledKernel> compile_locked(const PipelineSpec& spec, const CompileOptions& options) {
  Halide::Target target = host_halide_target()
                              .with_feature(Halide::Target::NoRuntime)
                              .with_feature(Halide::Target::UserContext);
  if (!options.keep_asserts)
    target = target.with_feature(Halide::Target::NoAsserts).with_feature(Halide::Target::NoBoundsQuery);

  CompiledKernel kernel;
  kernel.name = spec.name;
  kernel.entry_symbol = spec.name + "_argv";
  kernel.target_key = host_target().key;

  auto t0 = Clock::now();
  Halide::Pipeline pipeline = spec.pipeline;  // a handle; compile_to_module is non-const
  Halide::Module module = pipeline.compile_to_module(spec.arguments, spec.name, target);
  kernel.times.lower_ms = ms_since(t0);
  DJ_ASSIGN_OR_RETURN(kernel.signature, signature_of(module, spec.name));
  if (options.emit_halide_stmt) {
    std::ostringstream os;
    os << module;
    kernel.listings.halide_stmt = os.str();
  }

  t0 = Clock::now();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvm_module = Halide::compile_module_to_llvm_module(module, context);
  kernel.times.llvm_ms = ms_since(t0);
  if (!llvm_module) return make_error(StatusCode::Internal, "Halide produced no LLVM module for '", spec.name, "'");
  if (options.emit_llvm_ir) {
    llvm::raw_string_ostream os(kernel.listings.llvm_ir);
    llvm_module->print(os, nullptr);
  }

  t0 = Clock::now();
  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    Halide::compile_llvm_module_to_object(*llvm_module, os);
  }
  kernel.object.assign(object.begin(), object.end());
  kernel.times.object_ms = ms_since(t0);
  if (options.emit_assembly) {
    llvm::SmallVector<char, 0> assembly;
    llvm::raw_svector_ostream os(assembly);
    Halide::compile_llvm_module_to_assembly(*llvm_module, os);
    kernel.listings.assembly.assign(assembly.begin(), assembly.end());
  }
  return kernel;
}

}  // namespace

std::mutex& halide_compile_mutex() {
  static std::mutex mutex;
  return mutex;
}

Expected<CompiledKernel> compile_pipeline(const PipelineSpec& spec, const CompileOptions& options) {
  DJ_CHECK(is_c_identifier(spec.name), InvalidArgument, "kernel name '", spec.name, "' is not a C identifier");
  // The session (and its runtime compile) first, outside the compile lock it also takes.
  std::shared_ptr<OrcSession> session;
  if (options.load) {
    DJ_ASSIGN_OR_RETURN(session, OrcSession::get());
  }
  Expected<CompiledKernel> compiled = make_error(StatusCode::Internal, "not compiled");
  try {
    std::lock_guard<std::mutex> lock(halide_compile_mutex());
    compiled = compile_locked(spec, options);
  } catch (const Halide::Error& e) {
    return make_error(StatusCode::Unsupported, "Halide cannot compile '", spec.name, "': ", e.what());
  } catch (const std::exception& e) {
    return make_error(StatusCode::Internal, "compiling '", spec.name, "': ", e.what());
  }
  if (!compiled.ok() || !options.load) return compiled;
  CompiledKernel& kernel = compiled.value();
  auto t0 = Clock::now();
  DJ_ASSIGN_OR_RETURN(kernel.loaded, session->add_object(kernel.object, kernel.entry_symbol));
  kernel.times.load_ms = ms_since(t0);
  return compiled;
}

}  // namespace dj::jit
