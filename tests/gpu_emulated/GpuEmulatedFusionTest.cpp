// The fusions that only the planner's full feature set forms — GEMM residual
// epilogues, batched GEMMs, Softmax/LayerNorm prologues — on the GPU path: an
// attention block and a prologue model written in ONNX text run with their hot
// regions compiled to CUDA (NVRTC sm_90 cubin + PTX) and executed by the host
// emulation, against the interpreter. The plans must actually hold those fusions
// (each as one CUDA kernel of the matching kind), so a planner that stopped
// forming them for the GPU would fail here, not pass on unfused kernels.
// Tolerance: BundledModelSupport.h's (1e-4 absolute + 1e-4 relative).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "frontend/OnnxLoader.h"
#include "specializer/Specializer.h"
#include "tests/gpu_emulated/EmulatedGpuBackend.h"
#include "tests/support/AttentionBlockModel.h"
#include "tests/support/JitUnderTest.h"

namespace dj::specializer {
namespace {

using jit::cuda::CudaKernelKind;
using test::JitUnderTest;
using test::random_f32;


// The kernel kinds (and whether some Gemm has a residual, some row kernel a prologue)
// of a region's GPU specializations.
struct KernelForms {
  std::set<CudaKernelKind> kinds;
  bool residual_gemm = false, softmax_prologue = false, layer_norm_prologue = false;
};

KernelForms kernel_forms(const Specializer& specializer, int32_t region) {
  KernelForms forms;
  for (const auto& spec : specializer.specializations(region))
    for (const LoweredGroup& k : spec->kernels()) {
      if (!k.gpu) continue;
      const jit::cuda::CudaKernelSpec& s = k.gpu->spec;
      forms.kinds.insert(s.kind);
      forms.residual_gemm |= s.kind == CudaKernelKind::Gemm && s.has_residual;
      forms.softmax_prologue |= s.kind == CudaKernelKind::RowSoftmax && !s.prologue_views.empty();
      forms.layer_norm_prologue |= s.kind == CudaKernelKind::RowLayerNorm && !s.prologue_views.empty();
    }
  return forms;
}

// Prints NVRTC's time for each fused kernel of a region (for reading, not asserted).
void print_fused_compile_times(const EmulatedGpuBackend& gpu, const Specializer& specializer, int32_t region) {
  std::map<std::string, double> nvrtc_ms;
  for (const auto& record : gpu.compiled()) nvrtc_ms[record.name] = record.nvrtc_ms;
  for (const auto& spec : specializer.specializations(region))
    for (const LoweredGroup& k : spec->kernels()) {
      if (!k.gpu) continue;
      const jit::cuda::CudaKernelSpec& s = k.gpu->spec;
      std::string form;
      if (s.kind == CudaKernelKind::BatchedGemm) form = "batched gemm";
      if (s.kind == CudaKernelKind::Gemm && s.has_residual) form = "gemm + residual";
      if (!s.prologue_views.empty()) form = std::string(jit::cuda::cuda_kernel_kind_name(s.kind)) + " + prologue";
      if (form.empty() || !nvrtc_ms.count(s.name)) continue;
      std::printf("  %-26s %-24s %s  nvrtc %6.1f ms\n", s.name.c_str(), form.c_str(),
                  s.generic ? "generic" : "exact  ", nvrtc_ms[s.name]);
    }
}

TEST(GpuEmulatedFusion, AttentionBlockMatchesTheInterpreter) {
  auto gpu = std::make_shared<EmulatedGpuBackend>();
  JitUnderTest t(test::attention_block_model(), /*background=*/false, gpu);
  int seed = 0;
  // batch 1 and 3, sequence lengths below, at and past one 64-wide GEMM tile's share.
  for (int64_t batch : {1, 3})
    for (int64_t seq : {1, 7, 33})
      t.check({random_f32({batch, seq, 16}, ++seed, 1.0f)}, 3, "b" + std::to_string(batch) + " s" + std::to_string(seq));
  ASSERT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  const std::string plan = specs[0]->info().plan_text;
  EXPECT_NE(plan.find("batched gemm"), std::string::npos) << plan;
  EXPECT_NE(plan.find("gemm: MatMul Add Add"), std::string::npos) << plan;
  EXPECT_NE(plan.find("softmax: Mul Softmax"), std::string::npos) << plan;
  EXPECT_EQ(specs[0]->info().device, "cuda sm_90");
  const KernelForms forms = kernel_forms(*t.specializer, 0);
  EXPECT_TRUE(forms.kinds.count(CudaKernelKind::BatchedGemm));
  EXPECT_TRUE(forms.residual_gemm);
  EXPECT_TRUE(forms.softmax_prologue);
  EXPECT_GT(t.compiled_executions(), 0u);
  EXPECT_GT(gpu->counts().launches, 0u);
  // Shapes never seen: past the cap of exact specializations, the generic tier
  // (generic batched GEMMs and residual GEMMs; its Softmax has no prologue).
  for (int64_t seq : {2, 5, 40, 3}) t.check({random_f32({2, seq, 16}, 100 + seq, 1.0f)}, 2, "unseen s" + std::to_string(seq));
  EXPECT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  EXPECT_GE(t.specializer->stats().generic, 1u);
  print_fused_compile_times(*gpu, *t.specializer, 0);
}

TEST(GpuEmulatedFusion, ReductionProloguesMatchTheInterpreter) {
  // Softmax over x*s + b (a scalar and a row operand); LayerNorm over x + y (the block).
  auto gpu = std::make_shared<EmulatedGpuBackend>();
  JitUnderTest t(test::model_with_weights(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 24] x) => (float[n, 24] y, float[n, 24] z)
<float[24] b = {1,2,3,4,5,6,7,8,9,10,11,12,1,2,3,4,5,6,7,8,9,10,11,12}, float s = {0.25},
 float[24] g = {1,1,1,1,2,2,2,2,1,1,1,1,2,2,2,2,1,1,1,1,2,2,2,2}> {
  u = Mul(x, s)
  v = Add(u, b)
  y = Softmax(v)
  w = Add(x, y)
  z = LayerNormalization <epsilon: float = 0.001> (w, g, b)
})"),
                 /*background=*/false, gpu);
  for (int64_t rows : {1, 5, 67, 5}) t.check({random_f32({rows, 24}, 300 + rows, 3.0f)}, 3, "rows " + std::to_string(rows));
  ASSERT_EQ(t.specializer->stats().failed, 0u) << t.specializer->recent_failures().front();
  auto specs = t.specializer->specializations(0);
  ASSERT_FALSE(specs.empty());
  const std::string plan = specs[0]->info().plan_text;
  EXPECT_NE(plan.find("softmax: Mul Add Softmax"), std::string::npos) << plan;
  EXPECT_NE(plan.find("layernorm: Add LayerNormalization"), std::string::npos) << plan;
  const KernelForms forms = kernel_forms(*t.specializer, 0);
  EXPECT_TRUE(forms.softmax_prologue);
  EXPECT_TRUE(forms.layer_norm_prologue);
  EXPECT_GT(t.compiled_executions(), 0u);
  print_fused_compile_times(*gpu, *t.specializer, 0);
}

}  // namespace
}  // namespace dj::specializer
