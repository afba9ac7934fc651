// KernelParams: the preamble text is the host struct, and NVRTC lays it out as
// the host compiler does (device-side static_asserts against host offsetof).
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "jit/cuda/KernelParams.h"
#include "jit/cuda/NvrtcCompiler.h"

namespace dj::jit::cuda {
namespace {

TEST(KernelParams, SourceTextIsTheContractStruct) {
  EXPECT_EQ(std::string(kernel_params_source()),
            "struct DjKernelParams { const float* in[8]; float* out; long long numel; long long rows, cols; "
            "long long k; int rank; long long extent[6]; long long in_stride[8][6]; };");
}

// NVRTC has no offsetof; the PTX shows where each field is read instead. One
// probe kernel per field stores it; its ld.param names the field's byte offset.
TEST(KernelParams, NvrtcLaysItOutLikeTheHost) {
  struct Field {
    const char* name;
    const char* read;  // an expression reading the field (arrays: one element)
    size_t offset;     // the host's offset of that element
    const char* type;  // PTX type of the load
  };
  DjKernelParams host{};
  auto at = [&](const void* field) {
    return static_cast<size_t>(static_cast<const char*>(field) - reinterpret_cast<const char*>(&host));
  };
  const std::vector<Field> fields = {
      {"in", "(long long)p.in[1]", at(&host.in[1]), "u64"},
      {"out", "(long long)p.out", at(&host.out), "u64"},
      {"numel", "p.numel", at(&host.numel), "u64"},
      {"rows", "p.rows", at(&host.rows), "u64"},
      {"cols", "p.cols", at(&host.cols), "u64"},
      {"k", "p.k", at(&host.k), "u64"},
      {"rank", "(long long)p.rank", at(&host.rank), "s32"},
      {"extent", "p.extent[5]", at(&host.extent[5]), "u64"},
      {"in_stride", "p.in_stride[7][5]", at(&host.in_stride[7][5]), "u64"},
  };
  std::string source = std::string(kernel_params_source()) + "\n";
  source += "static_assert(sizeof(DjKernelParams) == " + std::to_string(sizeof(DjKernelParams)) + ", \"size\");\n";
  for (const Field& f : fields)
    source += "extern \"C\" __global__ void probe_" + std::string(f.name) +
              "(DjKernelParams p, long long* sink) { *sink = " + f.read + "; }\n";
  auto out = nvrtc_compile(source, "layout_probe");
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  for (const Field& f : fields) {
    const std::string load = std::string("ld.param.") + f.type;
    const std::string address = "[probe_" + std::string(f.name) + "_param_0+" + std::to_string(f.offset) + "]";
    const size_t where = out->ptx.find(address);
    EXPECT_NE(where, std::string::npos) << f.name << " is not read at host offset " << f.offset << "\n" << out->ptx;
    if (where != std::string::npos) {
      const size_t line = out->ptx.rfind('\n', where);
      EXPECT_NE(out->ptx.substr(line, where - line).find(load), std::string::npos) << f.name;
    }
  }
  // The parameter is the whole struct, by value.
  EXPECT_NE(out->ptx.find("probe_numel_param_0[" + std::to_string(sizeof(DjKernelParams)) + "]"), std::string::npos);
}

TEST(KernelParams, TheProbeSeesAWrongOffset) {
  // The probe above can fail: a field read elsewhere than the host's offset is not found.
  const std::string source = std::string(kernel_params_source()) +
                             "\nextern \"C\" __global__ void probe_rows(DjKernelParams p, long long* sink) { *sink = p.cols; }\n";
  auto out = nvrtc_compile(source, "layout_probe_wrong");
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  DjKernelParams host{};
  const size_t rows = static_cast<size_t>(reinterpret_cast<char*>(&host.rows) - reinterpret_cast<char*>(&host));
  EXPECT_EQ(out->ptx.find("[probe_rows_param_0+" + std::to_string(rows) + "]"), std::string::npos);
}

}  // namespace
}  // namespace dj::jit::cuda
