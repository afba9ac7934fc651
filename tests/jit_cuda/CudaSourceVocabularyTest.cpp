// Generated sources keep to the CUDA contract's vocabulary (what NVRTC and the
// host emulation both accept): no preprocessor, only the listed built-ins and
// math functions, f32 literals, __shared__ only on fixed-size arrays inside the
// kernel, exactly one extern "C" kernel taking DjKernelParams by value, whose
// preamble is KernelParams.h's struct. Also prints NVRTC compile times.
#include <gtest/gtest.h>

#include <iomanip>
#include <regex>
#include <set>

#include "jit/cuda/CudaElementwiseOps.h"
#include "jit/cuda/KernelParams.h"
#include "tests/jit_cuda/CudaJitTestSupport.h"

namespace dj::jit::cuda {
namespace {

// Identifiers a generated source may call or apply: C keywords that take
// parentheses, the contract's built-ins and math functions.
const std::set<std::string> kCallable = {
    "if", "for", "while", "return", "sizeof", "__launch_bounds__", "__syncthreads", "__shfl_xor_sync",
    "__shfl_down_sync", "make_float4", "expf", "logf", "sqrtf", "rsqrtf", "tanhf", "erff", "fabsf", "floorf",
    "ceilf", "fmaxf", "fminf", "__expf", "__logf", "__fdividef"};
// Every identifier starting with "__" must be one of these.
const std::set<std::string> kDoubleUnderscore = {
    "__global__", "__device__", "__forceinline__", "__restrict__", "__shared__", "__launch_bounds__",
    "__syncthreads", "__shfl_xor_sync", "__shfl_down_sync", "__expf", "__logf", "__fdividef"};
// Words that have no place in generated code (C++ library, doubles, storage classes).
const std::vector<std::string> kForbiddenWords = {"double", "static", "template", "include", "std", "printf",
                                                  "malloc", "new", "delete", "namespace", "class", "atomicAdd",
                                                  "volatile", "goto", "asm", "__ldg"};

std::string without_comments(const std::string& source) {
  return std::regex_replace(source, std::regex("//[^\n]*"), "");
}

// Every way `kernel` leaves the contract, one message each (empty: none).
std::vector<std::string> contract_violations(const CudaKernelSource& kernel) {
  std::vector<std::string> found;
  auto violation = [&](const std::string& what) { found.push_back(what); };
  const std::string code = without_comments(kernel.source);
  if (code.find('#') != std::string::npos) violation("preprocessor use");

  // The preamble is the host struct, verbatim.
  if (kernel.source.find(std::string("\n") + kernel_params_source() + "\n") == std::string::npos)
    violation("the preamble is not kernel_params_source()");

  // Exactly one kernel, in the contract's form.
  const std::string signature = "extern \"C\" __global__ void __launch_bounds__(" +
                                std::to_string(kernel.block_size) + ") " + kernel.name + "(DjKernelParams p) {";
  const size_t kernel_at = code.find(signature);
  if (kernel_at == std::string::npos) violation("no kernel of the form: " + signature);
  size_t globals = 0;
  for (size_t at = code.find("__global__"); at != std::string::npos; at = code.find("__global__", at + 1)) ++globals;
  if (globals != 1) violation(std::to_string(globals) + " __global__ functions");
  size_t quotes = 0;  // the only string literal is "C"
  for (char c : code) quotes += c == '"';
  if (quotes != 2) violation("string literals besides extern \"C\"");

  // Functions defined in the source may be called too.
  std::set<std::string> callable = kCallable;
  callable.insert(kernel.name);
  const std::regex defined("__device__ __forceinline__ float (\\w+)\\(");
  for (std::sregex_iterator it(code.begin(), code.end(), defined), end; it != end; ++it) callable.insert((*it)[1]);

  const std::regex identifier("[A-Za-z_][A-Za-z0-9_]*");
  for (std::sregex_iterator it(code.begin(), code.end(), identifier), end; it != end; ++it) {
    const std::string word = it->str();
    const size_t before = static_cast<size_t>(it->position());
    size_t next = before + static_cast<size_t>(it->length());
    // Part of a number (1e-05f, 0xffffffffu, 15ull) rather than a name.
    if (before > 0 && (std::isdigit(static_cast<unsigned char>(code[before - 1])) || code[before - 1] == '.')) continue;
    if (word.rfind("__", 0) == 0 && !kDoubleUnderscore.count(word)) violation("not in the contract: " + word);
    for (const std::string& bad : kForbiddenWords)
      if (word == bad) violation("forbidden: " + word);
    // A template argument list opens right after the name (comparisons are spaced).
    if (next < code.size() && code[next] == '<' && word != "reinterpret_cast") violation("a template: " + word);
    while (next < code.size() && code[next] == ' ') ++next;
    if (next < code.size() && code[next] == '(' && !callable.count(word)) violation("calls " + word);
  }

  // Floating literals are single precision: every one ends in 'f'.
  const std::regex floating("(^|[^A-Za-z0-9_.])([0-9]+\\.[0-9]*([eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)([fF]?)");
  for (std::sregex_iterator it(code.begin(), code.end(), floating), end; it != end; ++it)
    if ((*it)[4].str() != "f") violation("a double literal: " + (*it)[2].str());

  // __shared__ only declares fixed-size float arrays, inside the kernel body.
  const std::regex shared_decl("__shared__ float \\w+(\\[[0-9]+\\])+;");
  for (size_t at = code.find("__shared__"); at != std::string::npos; at = code.find("__shared__", at + 1)) {
    if (kernel_at == std::string::npos || at < kernel_at) violation("__shared__ outside the kernel body");
    const std::string decl = code.substr(at, code.find(';', at) - at + 1);
    if (!std::regex_match(decl, shared_decl)) violation("__shared__ that is not a fixed-size array: " + decl);
  }

  // Warp shuffles with the full mask only.
  const std::regex shuffle("__shfl_(xor|down)_sync\\(([^,]*),");
  for (std::sregex_iterator it(code.begin(), code.end(), shuffle), end; it != end; ++it)
    if ((*it)[2].str() != "0xffffffffu") violation("a shuffle mask other than the full one: " + (*it)[2].str());
  return found;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& line : lines) s += line + "\n";
  return s;
}

std::vector<CudaKernelSpec> every_form() {
  std::vector<CudaKernelSpec> specs = testing::spec_catalog();
  // One chain with every op, concrete (index path) and generic.
  std::vector<ElementwiseStep> steps;
  int last = 0;
  for (const std::string& op : supported_elementwise_ops()) {
    ElementwiseStep step{op, {last}, 0.125f};
    if (elementwise_op_arity(op) == 2) step.operands = {last, 1};
    steps.push_back(step);
    last = 2 + static_cast<int>(steps.size()) - 1;
  }
  specs.push_back(testing::elementwise_spec("every_op", {6, 10}, {{6, 10}, {10}}, steps));
  specs.push_back(testing::elementwise_spec("every_op_generic", {6, 10}, {{6, 10}, {10}}, steps, true));
  specs.push_back(testing::elementwise_spec("every_op_huge", {3, int64_t(1) << 30}, {{3, int64_t(1) << 30}, {3, 1}}, steps));
  for (RowReduceOp op : {RowReduceOp::Sum, RowReduceOp::Mean, RowReduceOp::Min}) {
    specs.push_back(testing::row_spec(CudaKernelKind::RowReduce, std::string("reduce_block_") + row_reduce_op_name(op),
                                      4, 3000));
    specs.back().reduce = op;
  }
  auto ln = testing::row_spec(CudaKernelKind::RowLayerNorm, "layernorm_nobias", 10, 100);
  ln.num_inputs = 2;
  specs.push_back(ln);
  return specs;
}

TEST(CudaSourceVocabulary, GeneratedSourcesUseOnlyTheContract) {
  for (const CudaKernelSpec& spec : every_form()) {
    CudaKernelSource kernel = testing::generate_or_fail(spec);
    EXPECT_TRUE(contract_violations(kernel).empty()) << kernel.name << ":\n"
                                                     << joined(contract_violations(kernel)) << kernel.source;
  }
}

TEST(CudaSourceVocabulary, TheCheckCatchesViolations) {
  // The checker itself must be able to fail: feed it sources that break the rules.
  auto kernel = testing::generate_or_fail(testing::spec_catalog()[0]);
  const std::vector<std::pair<std::string, std::string>> breaks = {
      {"float* __restrict__ out = p.out;", "float* __restrict__ out = p.out;\n#include <math.h>"},
      {"float* __restrict__ out = p.out;", "float* __restrict__ out = p.out; double d = 1.0;"},
      {"float* __restrict__ out = p.out;", "float* __restrict__ out = p.out; __shared__ float big[n];"},
      {"float* __restrict__ out = p.out;", "float* __restrict__ out = p.out; out[0] = powf(2.0f, 3.0f);"},
      {"float* __restrict__ out = p.out;", "float* __restrict__ out = p.out; out[0] = __ldg(out);"},
  };
  for (const auto& [from, to] : breaks) {
    CudaKernelSource broken = kernel;
    const size_t at = broken.source.find(from);
    ASSERT_NE(at, std::string::npos);
    broken.source.replace(at, from.size(), to);
    EXPECT_FALSE(contract_violations(broken).empty()) << "not caught: " << to;
  }
}

TEST(CudaSourceVocabulary, CompileTimesForEveryForm) {
  // Printed for the record (not asserted): NVRTC time per kernel, cubin + PTX for sm_90.
  std::cout << std::left << std::setw(26) << "kernel" << std::right << std::setw(10) << "source B" << std::setw(10)
            << "cubin B" << std::setw(12) << "compile ms" << "\n";
  double total = 0;
  for (const CudaKernelSpec& spec : every_form()) {
    CudaKernelSource kernel = testing::generate_or_fail(spec);
    NvrtcOutput out = testing::compile_and_check(kernel);
    total += out.compile_ms;
    std::cout << std::left << std::setw(26) << kernel.name << std::right << std::setw(10) << kernel.source.size()
              << std::setw(10) << out.cubin.size() << std::setw(12) << std::fixed << std::setprecision(1)
              << out.compile_ms << "\n";
  }
  std::cout << "total " << std::fixed << std::setprecision(1) << total << " ms\n";
}

}  // namespace
}  // namespace dj::jit::cuda
