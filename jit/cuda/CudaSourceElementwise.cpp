// CudaSourceElementwise: the fused elementwise kernel (see the header).
#include "jit/cuda/CudaSourceElementwise.h"

#include <algorithm>

#include "jit/cuda/CudaBroadcastLayout.h"
#include "jit/cuda/CudaElementwiseOps.h"
#include "jit/cuda/CudaKernelGeometry.h"
#include "jit/cuda/CudaSourceText.h"

namespace dj::jit::cuda {
namespace {

// How a path reads an input.
enum class Access {
  Full,    // the full output's shape, contiguous: in[i]
  Single,  // one element broadcast everywhere: in[0]
  Strided  // anything else: per-dim strides (generic: from DjKernelParams)
};

std::string in_name(size_t i) { return cat("in", i); }

// The chain as one inline function of the inputs' values, so each path (and each
// float4 lane) applies it with one call.
std::string chain_function(const CudaKernelSpec& spec) {
  return elementwise_chain_function(spec.name + "_chain", static_cast<int>(spec.input_shapes.size()), spec.steps);
}

std::string call_chain(const CudaKernelSpec& spec, const std::vector<std::string>& args) {
  std::string call = cat(spec.name, "_chain(");
  for (size_t i = 0; i < args.size(); ++i) call += cat(i ? ", " : "", args[i]);
  return call + ")";
}

// The flat path over n elements (a long long expression). Strided inputs read
// their stride s<i> (0 or 1) from a variable the caller declared.
void emit_flat_path(SourceWriter& w, int in, const CudaKernelSpec& spec, const std::vector<Access>& access,
                    const std::string& n) {
  const size_t inputs = access.size();
  std::string aligned = "(unsigned long long)out";
  for (size_t i = 0; i < inputs; ++i) {
    if (access[i] == Access::Full) aligned += cat(" | (unsigned long long)", in_name(i));
    if (access[i] == Access::Strided) aligned += cat(" | (s", i, " ? (unsigned long long)", in_name(i), " : 0ull)");
  }
  std::vector<std::string> scalar_args;
  for (size_t i = 0; i < inputs; ++i) {
    if (access[i] == Access::Full) scalar_args.push_back(cat(in_name(i), "[i]"));
    if (access[i] == Access::Single) scalar_args.push_back(cat(in_name(i), "[0]"));
    if (access[i] == Access::Strided) scalar_args.push_back(cat(in_name(i), "[i * s", i, "]"));
  }
  const std::string scalar_store = cat("out[i] = ", call_chain(spec, scalar_args), ";");

  w.line(in, "if (((", aligned, ") & 15ull) == 0ull) {");
  w.line(in + 1, "// 16-byte aligned: float4 for the bulk, then the n % 4 tail");
  w.line(in + 1, "const long long vectors = ", n, " / 4;");
  w.line(in + 1, "for (long long v = first; v < vectors; v += step) {");
  for (size_t i = 0; i < inputs; ++i) {
    const std::string src = in_name(i);
    const std::string vec = cat("reinterpret_cast<const float4*>(", src, ")[v]");
    const std::string splat = cat("make_float4(", src, "[0], ", src, "[0], ", src, "[0], ", src, "[0])");
    if (access[i] == Access::Full) w.line(in + 2, "const float4 a", i, " = ", vec, ";");
    if (access[i] == Access::Single) w.line(in + 2, "const float4 a", i, " = ", splat, ";");
    if (access[i] == Access::Strided) w.line(in + 2, "const float4 a", i, " = s", i, " ? ", vec, " : ", splat, ";");
  }
  std::string lanes;
  for (const char* lane : {"x", "y", "z", "w"}) {
    std::vector<std::string> args;
    for (size_t i = 0; i < inputs; ++i) args.push_back(cat("a", i, ".", lane));
    if (!lanes.empty()) lanes += cat(",\n", std::string(static_cast<size_t>(in + 4) * 2, ' '));
    lanes += call_chain(spec, args);
  }
  w.line(in + 2, "reinterpret_cast<float4*>(out)[v] = make_float4(", lanes, ");");
  w.line(in + 1, "}");
  w.line(in + 1, "for (long long i = vectors * 4 + first; i < ", n, "; i += step) ", scalar_store);
  w.line(in, "} else {");
  w.line(in + 1, "for (long long i = first; i < ", n, "; i += step) ", scalar_store);
  w.line(in, "}");
}

// The index path of a concrete spec: extents and strides are literals.
void emit_concrete_index_path(SourceWriter& w, const CudaKernelSpec& spec, const BroadcastLayout& layout) {
  const bool narrow = layout.numel <= kMaxNumel32BitIndex;
  const std::string T = narrow ? "unsigned" : "long long";
  auto lit = [&](int64_t v) { return narrow ? u32_literal(v) : ll_literal(v); };
  const int rank = layout.rank();
  std::vector<int64_t> dense(static_cast<size_t>(rank), 1);  // the output's own strides
  for (int d = rank - 2; d >= 0; --d)
    dense[static_cast<size_t>(d)] = dense[static_cast<size_t>(d) + 1] * layout.extent[static_cast<size_t>(d) + 1];
  // Per input its offset expression; coordinates are computed only where some input needs them.
  std::vector<bool> used(static_cast<size_t>(rank), false);
  std::vector<std::string> args;
  for (size_t i = 0; i < layout.stride.size(); ++i) {
    if (layout.stride[i] == dense) {  // the full output's shape: its offset is i itself
      args.push_back(cat(in_name(i), "[i]"));
      continue;
    }
    std::string offset;
    for (int d = 0; d < rank; ++d) {
      const int64_t s = layout.stride[i][static_cast<size_t>(d)];
      if (s == 0) continue;
      used[static_cast<size_t>(d)] = true;
      offset += cat(offset.empty() ? "" : " + ", "c", d, s == 1 ? "" : " * ", s == 1 ? "" : lit(s));
    }
    args.push_back(cat(in_name(i), "[", offset.empty() ? "0" : offset, "]"));
  }
  if (narrow) {
    w.line(1, "const unsigned first32 = blockIdx.x * blockDim.x + threadIdx.x;");
    w.line(1, "const unsigned step32 = gridDim.x * blockDim.x;");
  }
  w.line(1, "for (", T, " i = ", narrow ? "first32" : "first", "; i < ", lit(layout.numel), "; i += ",
         narrow ? "step32" : "step", ") {");
  // Coordinates come innermost first (c[d] = r % extent[d], then r /= extent[d]); dims
  // outside the outermost one an input needs are never split off.
  int outermost_used = rank;
  for (int d = rank - 1; d >= 0; --d)
    if (used[static_cast<size_t>(d)]) outermost_used = d;
  if (outermost_used < rank) w.line(2, T, " r = i;");
  for (int d = rank - 1; d >= 1 && d >= outermost_used; --d) {
    const std::string extent = lit(layout.extent[static_cast<size_t>(d)]);
    if (used[static_cast<size_t>(d)]) w.line(2, "const ", T, " c", d, " = r % ", extent, ";");
    if (d > outermost_used) w.line(2, "r /= ", extent, ";");
  }
  if (outermost_used == 0) w.line(2, "const ", T, " c0 = r;");  // r < extent[0]: no modulo
  w.line(2, "out[i] = ", call_chain(spec, args), ";");
  w.line(1, "}");
}

// The index path of a generic spec over `rank` padded dims, in index type T:
// extents e<d> and strides s<i>_<d> (u-prefixed 32-bit copies when narrow).
void emit_generic_index_loop(SourceWriter& w, int in, const CudaKernelSpec& spec, const std::vector<Access>& access,
                             int rank, bool narrow) {
  const std::string T = narrow ? "unsigned" : "long long";
  const std::string pre = narrow ? "u" : "";
  w.line(in, "for (", T, " i = ", narrow ? "first32" : "first", "; i < ", narrow ? "(unsigned)n" : "n", "; i += ",
         narrow ? "step32" : "step", ") {");
  w.line(in + 1, T, " r = i;");
  std::string offsets;
  for (size_t i = 0; i < access.size(); ++i)
    if (access[i] == Access::Strided) offsets += cat(offsets.empty() ? "" : ", ", "o", i, " = 0");
  w.line(in + 1, T, " ", offsets, ";");
  for (int d = rank - 1; d >= 0; --d) {
    const std::string coordinate = d == 0 ? "r" : "c";
    std::string adds;
    for (size_t i = 0; i < access.size(); ++i)
      if (access[i] == Access::Strided) adds += cat(" o", i, " += ", coordinate, " * ", pre, "s", i, "_", d, ";");
    if (d == 0) {
      w.line(in + 1, adds.substr(1));
    } else {
      // Padded leading dims have extent 1: skip their division.
      const std::string e = cat(pre, "e", d);
      w.line(in + 1, "if (", e, " != 1) { const ", T, " c = r % ", e, "; r /= ", e, ";", adds, " }");
    }
  }
  std::vector<std::string> args;
  for (size_t i = 0; i < access.size(); ++i) {
    if (access[i] == Access::Full) args.push_back(cat(in_name(i), "[i]"));
    if (access[i] == Access::Single) args.push_back(cat(in_name(i), "[0]"));
    if (access[i] == Access::Strided) args.push_back(cat(in_name(i), "[o", i, "]"));
  }
  w.line(in + 1, "out[i] = ", call_chain(spec, args), ";");
  w.line(in, "}");
}

// Precondition: some input is Strided (else the layout is always flat).
void emit_generic_index_path(SourceWriter& w, int in, const CudaKernelSpec& spec, const std::vector<Access>& access,
                             int rank) {
  for (int d = 1; d < rank; ++d) w.line(in, "const long long e", d, " = p.extent[", d, "];");
  for (size_t i = 0; i < access.size(); ++i)
    if (access[i] == Access::Strided)
      for (int d = 0; d < rank; ++d) w.line(in, "const long long s", i, "_", d, " = p.in_stride[", i, "][", d, "];");
  w.line(in, "if (n <= ", ll_literal(kMaxNumel32BitIndex), ") {");
  w.line(in + 1, "// 32-bit index math: every offset is below numel");
  w.line(in + 1, "const unsigned first32 = blockIdx.x * blockDim.x + threadIdx.x;");
  w.line(in + 1, "const unsigned step32 = gridDim.x * blockDim.x;");
  for (int d = 1; d < rank; ++d) w.line(in + 1, "const unsigned ue", d, " = (unsigned)e", d, ";");
  for (size_t i = 0; i < access.size(); ++i)
    if (access[i] == Access::Strided)
      for (int d = 0; d < rank; ++d) w.line(in + 1, "const unsigned us", i, "_", d, " = (unsigned)s", i, "_", d, ";");
  emit_generic_index_loop(w, in + 1, spec, access, rank, true);
  w.line(in, "} else {");
  emit_generic_index_loop(w, in + 1, spec, access, rank, false);
  w.line(in, "}");
}

// Generic specs: what the broadcast flags promise about each input (fill_params
// enforces them): none broadcast = the full output, all broadcast = one element.
std::vector<Access> generic_access(const CudaKernelSpec& spec) {
  std::vector<Access> access(spec.input_shapes.size(), Access::Strided);
  if (spec.input_broadcast.empty()) return access;
  for (size_t i = 0; i < access.size(); ++i) {
    const auto& flags = spec.input_broadcast[i];
    if (std::none_of(flags.begin(), flags.end(), [](bool b) { return b; })) access[i] = Access::Full;
    else if (std::all_of(flags.begin(), flags.end(), [](bool b) { return b; })) access[i] = Access::Single;
  }
  return access;
}

void declare_runtime_strides(SourceWriter& w, int in, const std::vector<Access>& access, int rank) {
  for (size_t i = 0; i < access.size(); ++i)
    if (access[i] == Access::Strided) w.line(in, "const long long s", i, " = p.in_stride[", i, "][", rank - 1, "];");
}

}  // namespace

int elementwise_kernel_rank(const CudaKernelSpec& spec) {
  if (spec.generic) return std::max<int>(1, static_cast<int>(spec.output_shape.size()));
  auto layout = broadcast_layout(spec.input_shapes, spec.output_shape);
  return layout.ok() ? layout->rank() : 1;
}

std::string elementwise_kernel_source(const CudaKernelSpec& spec) {
  const size_t inputs = spec.input_shapes.size();
  const int rank = elementwise_kernel_rank(spec);
  std::vector<Access> access;
  BroadcastLayout layout;
  std::string summary;
  bool flat = false;  // concrete: the layout is flat; generic: the index path is unreachable
  if (spec.generic) {
    access = generic_access(spec);
    flat = rank == 1 || std::none_of(access.begin(), access.end(), [](Access a) { return a == Access::Strided; });
    summary = cat("output rank ", spec.output_shape.size());
  } else {
    layout = broadcast_layout(spec.input_shapes, spec.output_shape).value();
    flat = layout.flat();
    for (size_t i = 0; i < inputs; ++i) access.push_back(layout.stride[i][0] == 1 ? Access::Full : Access::Single);
    summary = cat("output ", shape_to_string(spec.output_shape), flat ? ", flat" : ", indexed over ",
                  flat ? "" : cat(layout.rank(), " dims"));
  }
  const bool narrow_concrete_index = !spec.generic && !flat && layout.numel <= kMaxNumel32BitIndex;

  SourceWriter w;
  w.append(kernel_preamble(spec, summary));
  w.append(chain_function(spec));
  w.line(0, kernel_signature(spec.name, kElementwiseBlock), " {");
  for (size_t i = 0; i < inputs; ++i) w.line(1, "const float* __restrict__ ", in_name(i), " = p.in[", i, "];");
  w.line(1, "float* __restrict__ out = p.out;");
  if (!narrow_concrete_index) {  // that path declares its own 32-bit thread range
    w.line(1, "const long long first = (long long)blockIdx.x * blockDim.x + threadIdx.x;");
    w.line(1, "const long long step = (long long)gridDim.x * blockDim.x;");
  }
  if (!spec.generic) {
    if (flat) {
      w.line(1, "const long long n = ", ll_literal(layout.numel), ";");
      emit_flat_path(w, 1, spec, access, "n");
    } else {
      emit_concrete_index_path(w, spec, layout);
    }
  } else {
    w.line(1, "const long long n = p.numel;");
    if (flat) {
      declare_runtime_strides(w, 1, access, rank);
      emit_flat_path(w, 1, spec, access, "n");
    } else {
      // fill_params coalesces: one dim left means every input is full or one element.
      w.line(1, "if (p.extent[", rank - 1, "] == n) {");
      declare_runtime_strides(w, 2, access, rank);
      emit_flat_path(w, 2, spec, access, "n");
      w.line(1, "} else {");
      emit_generic_index_path(w, 2, spec, access, rank);
      w.line(1, "}");
    }
  }
  w.line(0, "}");
  return w.text();
}

}  // namespace dj::jit::cuda
