// CompiledKernel: calling a loaded kernel and loading one from object bytes.
#include "jit/CompiledKernel.h"

#include <array>
#include <chrono>
#include <new>
#include <type_traits>

#include "jit/HalideTensorBuffer.h"
#include "jit/HostTarget.h"

namespace dj::jit {
namespace {

constexpr size_t kMaxInlineArgs = 32;

int count_kind(const KernelSignature& sig, KernelArg::Kind kind) {
  int n = 0;
  for (const KernelArg& a : sig.args) n += a.kind == kind;
  return n;
}

}  // namespace

int KernelSignature::input_buffers() const { return count_kind(*this, KernelArg::Kind::InputBuffer); }
int KernelSignature::output_buffers() const { return count_kind(*this, KernelArg::Kind::OutputBuffer); }
int KernelSignature::scalars() const { return count_kind(*this, KernelArg::Kind::Scalar); }

Status CompiledKernel::run_argv(std::span<void* const> args) const {
  DJ_CHECK(loaded && loaded->entry(), InvalidArgument, "kernel '", name, "' is not loaded");
  DJ_CHECK(args.size() == signature.args.size(), InvalidArgument, "kernel '", name, "' takes ",
           signature.args.size(), " arguments, got ", args.size());
  DJ_CHECK(args.size() < kMaxInlineArgs, Unsupported, "kernel '", name, "' has more than ", kMaxInlineArgs - 1,
           " arguments");
  KernelCallContext context;
  std::array<void*, kMaxInlineArgs> argv;
  argv[0] = &context;
  for (size_t i = 0; i < args.size(); ++i) argv[i + 1] = args[i];
  int code = loaded->entry()(argv.data());
  if (code == 0) return Status::ok_status();
  std::string message = context.error.empty() ? take_thread_halide_error() : context.error;
  if (message.empty()) message = "no message";
  StatusCode status = code == halide_error_code_out_of_memory ? StatusCode::OutOfMemory : StatusCode::InvalidArgument;
  return make_error(status, "kernel '", name, "' failed with Halide error ", code, ": ", message);
}

Status CompiledKernel::run(std::span<halide_buffer_t* const> buffers) const {
  DJ_CHECK(signature.scalars() == 0, InvalidArgument, "kernel '", name,
           "' takes scalar arguments: call run_argv()");
  static_assert(sizeof(halide_buffer_t*) == sizeof(void*));
  std::array<void*, kMaxInlineArgs> args;
  DJ_CHECK(buffers.size() < kMaxInlineArgs, Unsupported, "too many buffers for kernel '", name, "'");
  for (size_t i = 0; i < buffers.size(); ++i) args[i] = buffers[i];
  return run_argv(std::span<void* const>(args.data(), buffers.size()));
}

Status CompiledKernel::run(std::span<const Tensor> inputs, std::span<const Tensor> outputs) const {
  const size_t n = inputs.size() + outputs.size();
  DJ_CHECK(static_cast<int>(inputs.size()) == signature.input_buffers() &&
               static_cast<int>(outputs.size()) == signature.output_buffers() && signature.scalars() == 0,
           InvalidArgument, "kernel '", name, "' takes ", signature.input_buffers(), " inputs and ",
           signature.output_buffers(), " outputs (and ", signature.scalars(), " scalars), got ", inputs.size(),
           " and ", outputs.size());
  DJ_CHECK(n < kMaxInlineArgs, Unsupported, "too many buffers for kernel '", name, "'");
  // Only the n buffers in use are constructed: a default-initialized array of all
  // kMaxInlineArgs (each with kMaxHalideRank dims) cost ~10 KB of memset per call.
  static_assert(std::is_trivially_destructible_v<HalideTensorBuffer>);
  alignas(HalideTensorBuffer) unsigned char storage[kMaxInlineArgs][sizeof(HalideTensorBuffer)];
  std::array<halide_buffer_t*, kMaxInlineArgs> pointers;
  for (size_t i = 0; i < n; ++i) {
    const Tensor& t = i < inputs.size() ? inputs[i] : outputs[i - inputs.size()];
    auto* buffer = new (storage[i]) HalideTensorBuffer();
    Status bound = buffer->bind(t);
    if (!bound.ok()) return bound.with_context("kernel '" + name + "', argument '" + signature.args[i].name + "': ");
    // Kernels compiled without asserts (KernelCompiler.h) trust their callers for
    // the extents; the element type and rank are checked here for every kernel.
    const KernelArg& arg = signature.args[i];
    DJ_CHECK(buffer->get()->type == arg.type, InvalidArgument, "kernel '", name, "', argument '", arg.name,
             "': element type (Halide type code ", static_cast<int>(arg.type.code), ", ", static_cast<int>(arg.type.bits),
             " bits) does not match ", t.describe());
    DJ_CHECK(buffer->get()->dimensions == arg.dimensions, InvalidArgument, "kernel '", name, "', argument '",
             arg.name, "': expects ", arg.dimensions, " dimensions, got ", t.describe());
    pointers[i] = buffer->get();
  }
  return run(std::span<halide_buffer_t* const>(pointers.data(), n));
}

Expected<CompiledKernel> load_object(std::vector<uint8_t> object, std::string name, KernelSignature signature,
                                     std::string target_key) {
  std::vector<KernelInObject> one;
  one.push_back(KernelInObject{std::move(name), std::move(signature)});
  DJ_ASSIGN_OR_RETURN(
      auto kernels,
      load_object_kernels(std::make_shared<const std::vector<uint8_t>>(std::move(object)), std::move(one), target_key));
  return std::move(kernels.front());
}

Expected<std::vector<CompiledKernel>> load_object_kernels(std::shared_ptr<const std::vector<uint8_t>> object,
                                                          std::vector<KernelInObject> kernels,
                                                          const std::string& target_key) {
  auto started = std::chrono::steady_clock::now();
  DJ_CHECK(!kernels.empty(), InvalidArgument, "no kernel to load from the object");
  DJ_CHECK(object != nullptr, InvalidArgument, "no object for kernel '", kernels.front().name, "'");
  DJ_CHECK(target_key == host_target().key, InvalidArgument, "kernel '", kernels.front().name,
           "' was compiled for target '", target_key, "', this host is '", host_target().key, "'");
  DJ_ASSIGN_OR_RETURN(std::shared_ptr<OrcSession> session, OrcSession::get());
  std::vector<std::string> symbols;
  for (const KernelInObject& k : kernels) symbols.push_back(k.name + "_argv");
  DJ_ASSIGN_OR_RETURN(auto loaded, session->add_object(*object, symbols));
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count() / kernels.size();
  std::vector<CompiledKernel> out(kernels.size());
  for (size_t i = 0; i < kernels.size(); ++i) {
    CompiledKernel& kernel = out[i];
    kernel.name = std::move(kernels[i].name);
    kernel.entry_symbol = symbols[i];
    kernel.target_key = target_key;
    kernel.object = object;
    kernel.signature = std::move(kernels[i].signature);
    kernel.loaded = std::move(loaded[i]);
    kernel.times.load_ms = load_ms;
  }
  return out;
}

}  // namespace dj::jit
