// KernelCompiler: lower, codegen, emit and load one Halide pipeline (see KernelCompiler.h).
#include "jit/KernelCompiler.h"

#include <chrono>
#include <sstream>

#include "jit/HostTarget.h"
#include "runtime/Log.h"
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

Halide::Target kernel_target(const CompileOptions& options) {
  Halide::Target target = host_halide_target()
                              .with_feature(Halide::Target::NoRuntime)
                              .with_feature(Halide::Target::UserContext);
  if (!options.keep_asserts)
    target = target.with_feature(Halide::Target::NoAsserts).with_feature(Halide::Target::NoBoundsQuery);
  return target;
}

// Halide lowering of one pipeline; fills the kernel's name, signature, lower_ms and stmt listing.
Expected<Halide::Module> lower_locked(const PipelineSpec& spec, const CompileOptions& options, CompiledKernel& kernel) {
  kernel.name = spec.name;
  kernel.entry_symbol = spec.name + "_argv";
  kernel.target_key = host_target().key;
  auto t0 = Clock::now();
  Halide::Pipeline pipeline = spec.pipeline;  // a handle; compile_to_module is non-const
  Halide::Module module = pipeline.compile_to_module(spec.arguments, spec.name, kernel_target(options));
  kernel.times.lower_ms = ms_since(t0);
  DJ_ASSIGN_OR_RETURN(kernel.signature, signature_of(module, spec.name));
  if (options.emit_halide_stmt) {
    std::ostringstream os;
    os << module;
    kernel.listings.halide_stmt = os.str();
  }
  return module;
}

struct ObjectCode {
  std::shared_ptr<const std::vector<uint8_t>> object;
  double llvm_ms = 0, object_ms = 0;
  std::string llvm_ir, assembly;
};

// LLVM codegen and optimization of a (possibly linked) module, then the object file.
Expected<ObjectCode> emit_locked(const Halide::Module& module, const CompileOptions& options) {
  ObjectCode code;
  auto t0 = Clock::now();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvm_module = Halide::compile_module_to_llvm_module(module, context);
  code.llvm_ms = ms_since(t0);
  if (!llvm_module) return make_error(StatusCode::Internal, "Halide produced no LLVM module for '", module.name(), "'");
  if (options.emit_llvm_ir) {
    llvm::raw_string_ostream os(code.llvm_ir);
    llvm_module->print(os, nullptr);
  }
  t0 = Clock::now();
  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    Halide::compile_llvm_module_to_object(*llvm_module, os);
  }
  code.object = std::make_shared<const std::vector<uint8_t>>(object.begin(), object.end());
  code.object_ms = ms_since(t0);
  if (options.emit_assembly) {
    llvm::SmallVector<char, 0> assembly;
    llvm::raw_svector_ostream os(assembly);
    Halide::compile_llvm_module_to_assembly(*llvm_module, os);
    code.assembly.assign(assembly.begin(), assembly.end());
  }
  return code;
}

// Lowers every pipeline, links the modules into one and emits one object.
Expected<std::vector<CompiledKernel>> compile_locked(const std::vector<PipelineSpec>& specs, const CompileOptions& options) {
  std::vector<CompiledKernel> kernels(specs.size());
  std::vector<Halide::Module> modules;
  for (size_t i = 0; i < specs.size(); ++i) {
    DJ_ASSIGN_OR_RETURN(Halide::Module module, lower_locked(specs[i], options, kernels[i]));
    modules.push_back(std::move(module));
  }
  Halide::Module linked = modules.size() == 1 ? modules.front() : Halide::link_modules(specs.front().name, modules);
  DJ_ASSIGN_OR_RETURN(ObjectCode code, emit_locked(linked, options));
  const double n = static_cast<double>(kernels.size());
  for (CompiledKernel& kernel : kernels) {
    kernel.object = code.object;
    kernel.times.llvm_ms = code.llvm_ms / n;
    kernel.times.object_ms = code.object_ms / n;
    kernel.listings.llvm_ir = code.llvm_ir;
    kernel.listings.assembly = code.assembly;
  }
  return kernels;
}

Status check_name(const PipelineSpec& spec) {
  DJ_CHECK(is_c_identifier(spec.name), InvalidArgument, "kernel name '", spec.name, "' is not a C identifier");
  return Status::ok_status();
}

}  // namespace

std::mutex& halide_compile_mutex() {
  static std::mutex mutex;
  return mutex;
}

Expected<CompiledKernel> compile_pipeline(const PipelineSpec& spec, const CompileOptions& options) {
  DJ_ASSIGN_OR_RETURN(auto kernels, compile_pipelines({spec}, options));
  return std::move(kernels.front());
}

Expected<std::vector<CompiledKernel>> compile_pipelines(const std::vector<PipelineSpec>& specs,
                                                        const CompileOptions& options) {
  DJ_CHECK(!specs.empty(), InvalidArgument, "no pipeline to compile");
  for (const PipelineSpec& spec : specs) DJ_RETURN_IF_ERROR(check_name(spec));
  if (specs.size() > 1 && (options.emit_llvm_ir || options.emit_assembly)) {
    // A listing per kernel: compile them one by one.
    std::vector<CompiledKernel> kernels;
    for (const PipelineSpec& spec : specs) {
      DJ_ASSIGN_OR_RETURN(CompiledKernel kernel, compile_pipeline(spec, options));
      kernels.push_back(std::move(kernel));
    }
    return kernels;
  }
  // The session (and its runtime compile) first, outside the compile lock it also takes.
  std::shared_ptr<OrcSession> session;
  if (options.load) {
    DJ_ASSIGN_OR_RETURN(session, OrcSession::get());
  }
  Expected<std::vector<CompiledKernel>> compiled = make_error(StatusCode::Internal, "not compiled");
  const std::string& first = specs.front().name;
  try {
    std::lock_guard<std::mutex> lock(halide_compile_mutex());
    compiled = compile_locked(specs, options);
  } catch (const Halide::Error& e) {
    return make_error(StatusCode::Unsupported, "Halide cannot compile '", first, "'", specs.size() > 1 ? " (and the kernels with it)" : "", ": ", e.what());
  } catch (const std::exception& e) {
    return make_error(StatusCode::Internal, "compiling '", first, "': ", e.what());
  }
  if (!compiled.ok() || !options.load) return compiled;
  std::vector<CompiledKernel>& kernels = compiled.value();
  std::vector<std::string> symbols;
  for (const CompiledKernel& kernel : kernels) symbols.push_back(kernel.entry_symbol);
  auto t0 = Clock::now();
  DJ_ASSIGN_OR_RETURN(auto loaded, session->add_object(*kernels.front().object, symbols));
  const double load_ms = ms_since(t0) / static_cast<double>(kernels.size());
  for (size_t i = 0; i < kernels.size(); ++i) {
    CompiledKernel& kernel = kernels[i];
    kernel.loaded = std::move(loaded[i]);
    kernel.times.load_ms = load_ms;
    DJ_LOG_DEBUG("jit: kernel " << kernel.name << ": lower " << kernel.times.lower_ms << " ms, llvm "
                                << kernel.times.llvm_ms << " ms, object " << kernel.times.object_ms << " ms, load "
                                << kernel.times.load_ms << " ms" << (kernels.size() > 1 ? " (llvm/object/load: share of " : "")
                                << (kernels.size() > 1 ? std::to_string(kernels.size()) + " kernels in one module)" : ""));
  }
  return compiled;
}

}  // namespace dj::jit
