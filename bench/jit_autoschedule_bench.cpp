// jit_autoschedule_bench: the JIT's own schedules (jit/GemmPipeline, SoftmaxPipeline,
// LayerNormPipeline, ElementwiseSchedule) against Halide's autoschedulers
// (Mullapudi2016 and Adams2019, the plugins in /usr/lib/x86_64-linux-gnu/halide14/)
// on the same algorithms: which schedule the JIT should use is decided by this
// measurement (issue 4).
//
// Per pipeline: the algorithm is defined twice, once scheduled by the JIT's builder
// and once unscheduled and given to the autoscheduler with estimates of the run's
// sizes (MachineParams: 2 cores, 32 MiB last-level cache, balance 40). Every version
// is compiled by the JIT's own path (jit::compile_pipeline: Halide -> object -> ORC),
// checked against the JIT schedule's output, then timed: median wall time of
// interleaved runs (so machine swings hit all versions alike). Prints a Markdown
// table (stdout) and progress (stderr). A benchmark program, not a test.
//
//   usage: jit_autoschedule_bench [--runs N] [--quick]
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "Halide.h"
#include "jit/ElementwiseSchedule.h"
#include "jit/FastMath.h"
#include "jit/GemmPipeline.h"
#include "jit/HostTarget.h"
#include "jit/KernelCompiler.h"
#include "jit/LayerNormPipeline.h"
#include "jit/SoftmaxPipeline.h"
#include "runtime/Tensor.h"

namespace {

using dj::Shape;
using dj::Tensor;
using Clock = std::chrono::steady_clock;
using Halide::Expr;
using Halide::Func;
using Halide::ImageParam;
using Halide::Var;

constexpr const char* kPluginDir = "/usr/lib/x86_64-linux-gnu/halide14/";

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  Tensor t = Tensor::empty(dj::DType::F32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = u(rng);
  return t;
}

// One algorithm: `build(scheduled)` defines it over fresh ImageParams and returns
// the output Func (scheduled by the JIT's builder, or bare for an autoscheduler),
// its arguments, and the estimates the autoscheduler needs.
struct Built {
  Func out;
  std::vector<Halide::Argument> args;
};
struct Case {
  std::string name;
  std::vector<Shape> inputs;  // ONNX order
  Shape output;
  double work;                // flops (GEMM) or bytes moved (the others), per run
  const char* unit;           // "GFLOP/s" or "GB/s"
  std::function<Built(bool scheduled)> build;
};

void estimate(ImageParam& p, const Shape& onnx_shape) {
  Halide::Region e;
  for (auto it = onnx_shape.rbegin(); it != onnx_shape.rend(); ++it) e.emplace_back(0, static_cast<int>(*it));
  p.set_estimates(e);
}
void estimate(Func& f, const Shape& onnx_shape) {
  std::vector<Halide::Range> e;
  for (auto it = onnx_shape.rbegin(); it != onnx_shape.rend(); ++it) e.emplace_back(0, static_cast<int>(*it));
  f.set_estimates(e);
}

Case gemm_case(int64_t n) {
  Case c{"MatMul+bias+ReLU " + std::to_string(n) + "³", {{n, n}, {n, n}, {n}}, {n, n}, 2.0 * n * n * n, "GFLOP/s", {}};
  c.build = [n](bool scheduled) {
    ImageParam a(Halide::Float(32), 2, "a"), b(Halide::Float(32), 2, "b"), bias(Halide::Float(32), 1, "bias");
    Var j("j"), i("i");
    Func fa("fa"), fb("fb"), fbias("fbias");
    fa(j, i) = a(j, i);
    fb(j, i) = b(j, i);
    fbias(j) = bias(j);
    Built built;
    built.args = {a, b, bias};
    if (scheduled) {
      dj::jit::GemmDefinition def{fa, fb, Expr(static_cast<int>(n)), Expr(static_cast<int>(n)), Expr(static_cast<int>(n)),
                                  fbias, true, {}};
      built.out = dj::jit::build_gemm(def, {n, n, n}).out;
      return built;
    }
    Halide::RDom r(0, static_cast<int>(n), "k");
    Func prod("prod"), out("out");
    prod(j, i) = 0.0f;
    prod(j, i) += fa(r, i) * fb(j, r);
    out(j, i) = Halide::max(prod(j, i) + fbias(j), 0.0f);
    estimate(a, {n, n});
    estimate(b, {n, n});
    estimate(bias, {n});
    estimate(out, {n, n});
    built.out = out;
    return built;
  };
  return c;
}

Case gelu_case(int64_t rows, int64_t cols) {
  Case c{"GELU(x)+b " + std::to_string(rows) + "x" + std::to_string(cols), {{rows, cols}, {cols}}, {rows, cols},
         8.0 * rows * cols, "GB/s", {}};
  c.build = [rows, cols](bool scheduled) {
    ImageParam x(Halide::Float(32), 2, "x"), b(Halide::Float(32), 1, "b");
    Var j("j"), i("i");
    Func out("out");
    out(j, i) = dj::jit::gelu_f32(x(j, i)) + b(j);
    Built built{out, {x, b}};
    if (scheduled) {
      dj::jit::schedule_elementwise(out, {cols, rows});
    } else {
      estimate(x, {rows, cols});
      estimate(b, {cols});
      estimate(out, {rows, cols});
    }
    return built;
  };
  return c;
}

Case softmax_case(int64_t rows, int64_t cols) {
  Case c{"Softmax " + std::to_string(rows) + "x" + std::to_string(cols), {{rows, cols}}, {rows, cols},
         8.0 * rows * cols, "GB/s", {}};
  c.build = [rows, cols](bool scheduled) {
    ImageParam x(Halide::Float(32), 2, "x");
    Var j("j"), i("i");
    Func in("in");
    in(j, i) = x(j, i);
    Built built;
    built.args = {x};
    if (scheduled) {
      built.out = dj::jit::build_softmax_last_axis(in, Expr(static_cast<int>(cols)), {cols, rows});
      return built;
    }
    Halide::RDom r(0, static_cast<int>(cols), "r");
    Func mx("mx"), e("e"), sum("sum"), out("out");
    mx(i) = -std::numeric_limits<float>::infinity();
    mx(i) = Halide::max(mx(i), in(r.x, i));
    e(j, i) = dj::jit::exp_f32(in(j, i) - mx(i));
    sum(i) = 0.0f;
    sum(i) += e(r.x, i);
    out(j, i) = e(j, i) * (1.0f / sum(i));
    estimate(x, {rows, cols});
    estimate(out, {rows, cols});
    built.out = out;
    return built;
  };
  return c;
}

Case layer_norm_case(int64_t rows, int64_t cols) {
  Case c{"LayerNorm " + std::to_string(rows) + "x" + std::to_string(cols), {{rows, cols}, {cols}, {cols}}, {rows, cols},
         8.0 * rows * cols, "GB/s", {}};
  c.build = [rows, cols](bool scheduled) {
    ImageParam x(Halide::Float(32), 2, "x"), s(Halide::Float(32), 1, "s"), b(Halide::Float(32), 1, "b");
    Var j("j"), i("i");
    Func in("in"), fs("fs"), fb("fb");
    in(j, i) = x(j, i);
    fs(j) = s(j);
    fb(j) = b(j);
    Built built;
    built.args = {x, s, b};
    const float eps = 1e-5f;
    if (scheduled) {
      built.out = dj::jit::build_layer_norm_last_axis(in, Expr(static_cast<int>(cols)), fs, fb, eps, {cols, rows});
      return built;
    }
    Halide::RDom r(0, static_cast<int>(cols), "r");
    const float nf = static_cast<float>(cols);
    Func sum("sum"), centered("centered"), sq("sq"), out("out");
    sum(i) = 0.0f;
    sum(i) += in(r.x, i);
    centered(j, i) = in(j, i) - sum(i) / nf;
    sq(i) = 0.0f;
    sq(i) += centered(r.x, i) * centered(r.x, i);
    out(j, i) = centered(j, i) * (1.0f / Halide::sqrt(sq(i) / nf + eps)) * fs(j) + fb(j);
    estimate(x, {rows, cols});
    estimate(s, {cols});
    estimate(b, {cols});
    estimate(out, {rows, cols});
    built.out = out;
    return built;
  };
  return c;
}

struct Version {
  std::string name;  // "jit", "Mullapudi2016", "Adams2019"
  std::optional<dj::jit::CompiledKernel> kernel;
  std::string error;
  double schedule_ms = 0, compile_ms = 0, max_diff = 0;
  std::vector<double> times;
};

}  // namespace

int main(int argc, char** argv) {
  int runs = 21;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = std::max(3, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--quick")) {
      quick = true;
    } else {
      std::printf(
          "usage: jit_autoschedule_bench [--runs N] [--quick]\n"
          "  The JIT's schedules against Halide's Mullapudi2016 and Adams2019 autoschedulers on\n"
          "  GEMM+bias+ReLU, GELU+bias, Softmax and LayerNorm: schedule and compile time, median\n"
          "  run time (interleaved), throughput, and agreement with the JIT's output.\n"
          "  --runs N   timed runs per version (default 21)\n"
          "  --quick    smaller sizes\n");
      return std::strcmp(argv[i], "-h") && std::strcmp(argv[i], "--help") ? 2 : 0;
    }
  }
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 2);
  const char* schedulers[] = {"Mullapudi2016", "Adams2019"};
  for (const char* s : schedulers) {
    std::string lib = std::string(kPluginDir) + "libautoschedule_" + (s[0] == 'M' ? "mullapudi2016" : "adams2019") + ".so";
    try {
      Halide::load_plugin(lib);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cannot load %s: %s\n", lib.c_str(), e.what());
    }
  }
  const Halide::Target target = dj::jit::host_halide_target();
  const Halide::MachineParams machine(2, 32ull << 20, 40.0f);

  std::vector<Case> cases;
  const int64_t big = quick ? 1024 : 4096;
  cases.push_back(gemm_case(quick ? 256 : 512));
  cases.push_back(gelu_case(big / 2, 4096));
  cases.push_back(softmax_case(big, 1024));
  cases.push_back(layer_norm_case(big, 1024));

  std::printf("# jit_autoschedule_bench\n\n%s, %u hardware threads, 2 TBB threads; MachineParams(2, 32 MiB, 40); "
              "%d interleaved runs per version.\n\n",
              target.to_string().c_str(), std::thread::hardware_concurrency(), runs);
  std::printf("| pipeline | schedule | schedule ms | compile ms | median ms | throughput | / JIT schedule | max abs diff vs JIT |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (Case& c : cases) {
    std::vector<Tensor> in;
    for (size_t k = 0; k < c.inputs.size(); ++k) in.push_back(random_tensor(c.inputs[k], 11 + static_cast<uint32_t>(k)));
    std::vector<Version> versions;
    for (const char* name : {"jit", "Mullapudi2016", "Adams2019"}) {
      Version v;
      v.name = name;
      std::fprintf(stderr, "%s: %s ...\n", c.name.c_str(), name);
      try {
        const bool ours = v.name == "jit";
        Built built = c.build(ours);
        Halide::Pipeline p(built.out);
        if (!ours) {
          auto t = Clock::now();
          p.auto_schedule(v.name, target, machine);
          v.schedule_ms = ms_since(t);
        }
        auto t = Clock::now();
        auto k = dj::jit::compile_pipeline(dj::jit::PipelineSpec{p, built.args, "as_" + std::to_string(versions.size()) + "_" + std::to_string(&c - cases.data())});
        v.compile_ms = ms_since(t);
        if (k.ok()) v.kernel.emplace(std::move(k).value());
        else v.error = k.status().message();
      } catch (const std::exception& e) {
        v.error = e.what();
      }
      versions.push_back(std::move(v));
    }
    // Agreement with the JIT schedule's output, then interleaved timing.
    std::vector<Tensor> outs;
    for (Version& v : versions) {
      outs.push_back(Tensor::zeros(dj::DType::F32, c.output));
      if (!v.kernel) continue;
      dj::Status st = v.kernel->run(in, std::span<const Tensor>(&outs.back(), 1));
      if (!st.ok()) {
        v.error = st.message();
        v.kernel.reset();
      }
    }
    for (size_t k = 1; k < versions.size(); ++k) {
      if (!versions[k].kernel || !versions[0].kernel) continue;
      const float* a = outs[0].data<float>();
      const float* b = outs[k].data<float>();
      for (int64_t e = 0; e < outs[0].numel(); ++e)
        versions[k].max_diff = std::max<double>(versions[k].max_diff, std::fabs(a[e] - b[e]));
    }
    for (int r = 0; r < runs + 2; ++r)
      for (size_t k = 0; k < versions.size(); ++k) {
        if (!versions[k].kernel) continue;
        auto t = Clock::now();
        (void)versions[k].kernel->run(in, std::span<const Tensor>(&outs[k], 1));
        if (r >= 2) versions[k].times.push_back(ms_since(t));
      }
    double jit_ms = 0;
    for (Version& v : versions) {
      if (!v.kernel) {
        std::printf("| %s | %s | — | — | — | — | — | failed: %s |\n", c.name.c_str(), v.name.c_str(), v.error.substr(0, 160).c_str());
        continue;
      }
      std::sort(v.times.begin(), v.times.end());
      const double ms = v.times[v.times.size() / 2];
      if (v.name == "jit") jit_ms = ms;
      const double rate = c.work / ms / 1e6;
      std::printf("| %s | %s | %.0f | %.0f | %.3f | %.1f %s | %.2fx | %s |\n", c.name.c_str(), v.name.c_str(),
                  v.schedule_ms, v.compile_ms, ms, rate, c.unit, jit_ms > 0 ? ms / jit_ms : 0.0,
                  v.name == "jit" ? "(reference)" : (std::to_string(v.max_diff).substr(0, 8)).c_str());
    }
  }
  std::printf("\n'/ JIT schedule' is the median time over the JIT schedule's (above 1: slower). GB/s counts one read "
              "of x and one write of the output; GFLOP/s counts 2 per multiply-add.\n");
  return 0;
}
