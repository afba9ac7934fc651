// CudaSourceText: how generated CUDA C is written — a line writer with
// indentation, piecewise concatenation (cat), literals, and the pieces every
// translation unit shares: the preamble (a comment naming the kernel, then
// DjKernelParams exactly as KernelParams.h defines it) and the kernel signature.
//
// Generated code keeps to the vocabulary that NVRTC and the host emulation of the
// tests both accept (the CUDA contract): no #include, no preprocessor at all,
// float-only math with 'f'-suffixed literals, one by-value DjKernelParams per kernel.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "jit/cuda/CudaKernelSpec.h"

namespace dj::jit::cuda {

namespace source_text_detail {
inline void append(std::string& out, const std::string& piece) { out += piece; }
inline void append(std::string& out, const char* piece) { out += piece; }
inline void append(std::string& out, char piece) { out += piece; }
template <typename Int>
  requires(std::is_integral_v<Int> && !std::is_same_v<Int, bool> && !std::is_same_v<Int, char>)
void append(std::string& out, Int value) {
  out += std::to_string(value);
}
}  // namespace source_text_detail

// Strings, characters and integers, appended in order.
template <typename... Pieces>
std::string cat(const Pieces&... pieces) {
  std::string out;
  (source_text_detail::append(out, pieces), ...);
  return out;
}

// Accumulates a translation unit line by line (two spaces per indent level).
class SourceWriter {
 public:
  template <typename... Pieces>
  void line(int indent, const Pieces&... pieces) {
    text_.append(static_cast<size_t>(indent) * 2, ' ');
    (source_text_detail::append(text_, pieces), ...);
    text_ += '\n';
  }
  void append(const std::string& text) { text_ += text; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// "// DynaJIT generated CUDA C: <kind> kernel NAME (...)\n" + the struct definition.
std::string kernel_preamble(const CudaKernelSpec& spec, const std::string& summary);

// extern "C" __global__ void __launch_bounds__(BLOCK) NAME(DjKernelParams p)
std::string kernel_signature(const std::string& name, int block_size);

// 64-bit ("123LL") or 32-bit unsigned ("123u") literal.
std::string ll_literal(int64_t value);
std::string u32_literal(int64_t value);

}  // namespace dj::jit::cuda
