// jit_bench: prints what the CPU JIT costs and reaches on this machine (not a test).
//
// Sections: first compile in the process (runtime + LLVM start-up), compile time per
// phase, load_object (code-cache path), GEMM+bias+ReLU GFLOP/s vs the interpreter's
// dj::gemm_f32, elementwise bandwidth vs memcpy, and per-call overhead of a tiny kernel.
// Compare figures only within one run (machines differ; see shared/JIT-STACK.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "jit/ElementwiseSchedule.h"
#include "jit/FastMath.h"
#include "jit/GemmPipeline.h"
#include "jit/HalideTensorBuffer.h"
#include "jit/HostTarget.h"
#include "jit/KernelCompiler.h"
#include "runtime/ops/GemmKernel.h"

using namespace dj;
using namespace dj::jit;

namespace {

using Clock = std::chrono::steady_clock;

double median_ms(int reps, const std::function<void()>& fn) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    auto s = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

Tensor filled(const Shape& shape, float v) {
  Tensor t = Tensor::empty(DType::F32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = v * static_cast<float>((i % 17) - 8) / 8.0f;
  return t;
}

PipelineSpec chain_spec(int64_t rows, int64_t cols, const std::string& name) {
  Halide::ImageParam x(Halide::Float(32), 2, "x"), y(Halide::Float(32), 2, "y");
  Halide::Var c("c"), r("r");
  Halide::Func out(name);
  out(c, r) = tanh_f32(x(c, r)) * sigmoid_f32(y(c, r)) + 0.5f * x(c, r);
  schedule_elementwise(out, {cols, rows});
  return PipelineSpec{Halide::Pipeline(out), {x, y}, name};
}

PipelineSpec copy_spec(int64_t n, const std::string& name) {
  Halide::ImageParam x(Halide::Float(32), 1, "x");
  Halide::Var i("i");
  Halide::Func out(name);
  out(i) = x(i);
  schedule_elementwise(out, {n});
  return PipelineSpec{Halide::Pipeline(out), {x}, name};
}

PipelineSpec gemm_spec(int64_t n, const std::string& name, GemmSchedule* chosen) {
  Halide::ImageParam a(Halide::Float(32), 2, "A"), b(Halide::Float(32), 2, "B"), bias(Halide::Float(32), 1, "bias");
  GemmDefinition def;
  def.a = a;
  def.b = b;
  def.m = a.dim(1).extent();
  def.n = b.dim(0).extent();
  def.k = a.dim(0).extent();
  def.bias = bias;
  def.relu = true;
  GemmPipeline g = build_gemm(def, {n, n, n});
  *chosen = g.schedule;
  return PipelineSpec{Halide::Pipeline(g.out), {a, b, bias}, name};
}

void print_times(const char* what, const CompiledKernel& k) {
  std::printf("| %-34s | %7.1f | %7.1f | %7.1f | %6.2f | %7.1f |\n", what, k.times.lower_ms, k.times.llvm_ms,
              k.times.object_ms, k.times.load_ms, k.times.total_ms());
}

CompiledKernel must(Expected<CompiledKernel> k) {
  if (!k.ok()) {
    std::fprintf(stderr, "compile failed: %s\n", k.status().to_string().c_str());
    std::exit(1);
  }
  return std::move(k).value();
}

}  // namespace

int main() {
  std::printf("host target: %s\n%s%s", host_target().key.c_str(), host_target().cpu_note.c_str(),
              host_target().cpu_note.empty() ? "" : "\n");

  // 1. The first compile in the process pays for LLVM start-up and the runtime.
  auto first_start = Clock::now();
  CompiledKernel first = must(compile_pipeline(chain_spec(1024, 1024, "first_chain")));
  double first_ms = std::chrono::duration<double, std::milli>(Clock::now() - first_start).count();
  auto session = OrcSession::get();
  std::printf("\n## First compile in the process\n\n| what | ms |\n|---|---|\n");
  std::printf("| Halide runtime: compile_standalone_runtime + ORC load (once) | %.1f |\n", (*session)->runtime_load_ms());
  std::printf("| first kernel (elementwise chain), wall, incl. runtime | %.1f |\n", first_ms);
  std::printf("| runtime object size | %zu KB |\n", (*session)->runtime_object().size() / 1024);

  // 2. Compile phases (warm process).
  std::printf("\n## Compile time per phase (ms)\n\n| kernel | lower | →LLVM | →object | load | total |\n");
  std::printf("|---|---|---|---|---|---|\n");
  print_times("first chain (cold process)", first);
  CompiledKernel chain = must(compile_pipeline(chain_spec(1024, 1024, "chain")));
  print_times("elementwise tanh·sigmoid chain", chain);
  GemmSchedule s512, s256, s1024;
  CompiledKernel g512 = must(compile_pipeline(gemm_spec(512, "gemm512", &s512)));
  print_times((std::string("GEMM 512³ +bias+ReLU, ") + gemm_schedule_name(s512)).c_str(), g512);
  CompiledKernel g256 = must(compile_pipeline(gemm_spec(256, "gemm256", &s256)));
  print_times((std::string("GEMM 256³, ") + gemm_schedule_name(s256)).c_str(), g256);
  CompileOptions listed;  // listings are produced outside the timed phases
  listed.emit_halide_stmt = listed.emit_assembly = std::getenv("DJ_JIT_BENCH_DUMP") != nullptr;
  CompiledKernel g1024 = must(compile_pipeline(gemm_spec(1024, "gemm1024", &s1024), listed));
  if (listed.emit_halide_stmt) {
    std::string dir = std::getenv("DJ_JIT_BENCH_DUMP");
    FILE* f = std::fopen((dir + "/gemm1024.stmt").c_str(), "w");
    if (f) std::fputs(g1024.listings.halide_stmt.c_str(), f), std::fclose(f);
    f = std::fopen((dir + "/gemm1024.s").c_str(), "w");
    if (f) std::fputs(g1024.listings.assembly.c_str(), f), std::fclose(f);
  }
  print_times((std::string("GEMM 1024³, ") + gemm_schedule_name(s1024)).c_str(), g1024);
  CompileOptions no_asserts;
  no_asserts.keep_asserts = false;
  GemmSchedule ignored;
  CompiledKernel g512_na = must(compile_pipeline(gemm_spec(512, "gemm512_na", &ignored), no_asserts));
  print_times("GEMM 512³, no_asserts", g512_na);

  // 3. load_object: the code-cache path (ORC link only).
  double load_ms = median_ms(15, [&] {
    auto k = load_object(*g512.object, g512.name, g512.signature, g512.target_key);
    if (!k.ok()) std::exit(2);
  });
  std::printf("\n## load_object (code-cache path)\n\n| object | bytes | median ms |\n|---|---|---|\n");
  std::printf("| GEMM 512³ | %zu | %.3f |\n", g512.object->size(), load_ms);

  // 4. GEMM throughput vs the interpreter's gemm_f32 (which has no fused epilogue).
  std::printf("\n## GEMM f32 GFLOP/s (median of runs)\n\n");
  std::printf("| N | Halide +bias+ReLU (asserts on) | Halide no_asserts | dj::gemm_f32 (no epilogue) | ratio |\n");
  std::printf("|---|---|---|---|---|\n");
  for (auto [n, kernel, kernel_na] : std::vector<std::tuple<int64_t, CompiledKernel*, CompiledKernel*>>{
           {256, &g256, nullptr}, {512, &g512, &g512_na}, {1024, &g1024, nullptr}}) {
    Tensor a = filled({n, n}, 1), b = filled({n, n}, 0.5f), bias = filled({n}, 0.1f);
    Tensor out = Tensor::empty(DType::F32, {n, n});
    Tensor inputs[] = {a, b, bias};
    const int reps = n >= 1024 ? 9 : 31;
    auto run = [&](CompiledKernel* k) {
      if (!k->run(inputs, std::span<const Tensor>(&out, 1)).ok()) std::exit(3);
    };
    run(kernel);
    double halide_ms = median_ms(reps, [&] { run(kernel); });
    double halide_na_ms = 0;
    if (kernel_na) {
      run(kernel_na);
      halide_na_ms = median_ms(reps, [&] { run(kernel_na); });
    }
    auto interp = [&] {
      gemm_f32(n, n, n, 1.0f, MatrixRef{a.data<float>(), n, 1}, MatrixRef{b.data<float>(), n, 1}, 0.0f,
               out.data<float>(), n);
    };
    interp();
    double dj_ms = median_ms(reps, interp);
    double flop = 2.0 * n * n * n;
    char na[32] = "—";
    if (kernel_na) std::snprintf(na, sizeof na, "%.0f", flop / halide_na_ms / 1e6);
    std::printf("| %lld | %.0f (%.2f ms) | %s | %.0f (%.2f ms) | %.2f× |\n", static_cast<long long>(n),
                flop / halide_ms / 1e6, halide_ms, na, flop / dj_ms / 1e6, dj_ms, dj_ms / halide_ms);
  }

  // 5. Elementwise bandwidth, 16M floats.
  {
    const int64_t n = 16 << 20, rows = 4096, cols = n / rows;
    CompiledKernel copy = must(compile_pipeline(copy_spec(n, "copy16m")));
    CompiledKernel big_chain = must(compile_pipeline(chain_spec(rows, cols, "chain16m")));
    Tensor x = filled({n}, 1), y = filled({n}, 2), out = Tensor::empty(DType::F32, {n});
    Tensor x2 = x.reshaped({rows, cols}), y2 = y.reshaped({rows, cols}), out2 = out.reshaped({rows, cols});
    std::memcpy(out.raw_data(), x.raw_data(), x.nbytes());
    double memcpy_ms = median_ms(11, [&] { std::memcpy(out.raw_data(), x.raw_data(), x.nbytes()); });
    double copy_ms = median_ms(11, [&] {
      if (!copy.run(std::span<const Tensor>(&x, 1), std::span<const Tensor>(&out, 1)).ok()) std::exit(4);
    });
    Tensor in2[] = {x2, y2};
    double chain_ms = median_ms(11, [&] {
      if (!big_chain.run(in2, std::span<const Tensor>(&out2, 1)).ok()) std::exit(5);
    });
    auto gbs = [&](double bytes, double ms) { return bytes / ms / 1e6; };
    std::printf("\n## Elementwise, 16M f32 (bytes moved / time)\n\n| kernel | GB/s | vs memcpy |\n|---|---|---|\n");
    double mem = gbs(2.0 * n * 4, memcpy_ms);
    std::printf("| memcpy (1 thread) | %.1f | 1.00 |\n", mem);
    std::printf("| Halide copy (TBB) | %.1f | %.2f |\n", gbs(2.0 * n * 4, copy_ms), gbs(2.0 * n * 4, copy_ms) / mem);
    std::printf("| tanh·sigmoid chain | %.1f | %.2f |\n", gbs(3.0 * n * 4, chain_ms), gbs(3.0 * n * 4, chain_ms) / mem);
  }

  // 6. Call overhead of a one-element kernel.
  {
    auto tiny_spec = [](const std::string& name) {
      Halide::ImageParam x(Halide::Float(32), 1, "x");
      Halide::Var i("i");
      Halide::Func out(name);
      out(i) = x(i) + 1.0f;
      return PipelineSpec{Halide::Pipeline(out), {x}, name};
    };
    CompiledKernel tiny = must(compile_pipeline(tiny_spec("tiny")));
    CompiledKernel tiny_na = must(compile_pipeline(tiny_spec("tiny_na"), no_asserts));
    Tensor x = filled({1}, 1), out = Tensor::empty(DType::F32, {1});
    HalideTensorBuffer bx, bout;
    (void)bx.bind(x);
    (void)bout.bind(out);
    halide_buffer_t* bufs[] = {bx.get(), bout.get()};
    const int calls = 200000;
    auto per_call_ns = [&](const std::function<void()>& fn) {
      return median_ms(5, [&] { for (int c = 0; c < calls; ++c) fn(); }) * 1e6 / calls;
    };
    KernelCallContext ctx;
    void* argv[] = {&ctx, bx.get(), bout.get()};
    auto entry = tiny.loaded->entry();
    auto entry_na = tiny_na.loaded->entry();
    std::printf("\n## Call overhead, 1-element kernel (ns per call)\n\n| path | asserts on | no_asserts |\n|---|---|---|\n");
    std::printf("| raw entry(argv) | %.1f | %.1f |\n", per_call_ns([&] { entry(argv); }),
                per_call_ns([&] { entry_na(argv); }));
    std::printf("| CompiledKernel::run(halide buffers) | %.1f | %.1f |\n",
                per_call_ns([&] { (void)tiny.run(bufs); }), per_call_ns([&] { (void)tiny_na.run(bufs); }));
    std::printf("| CompiledKernel::run(tensors) | %.1f | %.1f |\n",
                per_call_ns([&] { (void)tiny.run(std::span<const Tensor>(&x, 1), std::span<const Tensor>(&out, 1)); }),
                per_call_ns([&] { (void)tiny_na.run(std::span<const Tensor>(&x, 1), std::span<const Tensor>(&out, 1)); }));
  }
  return 0;
}
