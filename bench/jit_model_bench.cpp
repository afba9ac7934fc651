// jit_model_bench: what the CPU JIT buys on the bundled dynamic models, and the
// issue's JIT targets, measured in one process (a program that prints tables, not a test).
//
// Sections (stdout; progress on stderr):
//   1. steady-state latency, interpreter (tracing off) vs JIT (tracing on, hot after
//      2 runs, inline compiles), per model and shape, sampled in interleaved blocks so
//      machine load hits both alike; outputs checked against the interpreter;
//   2. compile time per specialization made in (1), the process's first compile
//      (which also pays for the Halide runtime and LLVM start-up) reported apart;
//   3. guard check: ns per RegionDispatchTable::find with 1/4/8 entries;
//   4. kernel targets through the real JIT path: one-MatMul+Add+Relu and elementwise
//      chain models written in ONNX text, compiled by the specializer, against a
//      STREAM-style copy timed in the same run; then a MET/MISSED table.
// Compare figures within one run only: the machine is shared (see the load average
// printed at the top and bottom).
//
//   usage: jit_model_bench [--quick] [--samples N] [--models-dir DIR] [--only MODEL] [--no-targets]
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "frontend/OnnxLoader.h"
#include "jit/OrcSession.h"
#include "runtime/Interpreter.h"
#include "specializer/Specializer.h"

using namespace dj;
using namespace dj::specializer;

namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  bool quick = false;
  int samples = 31;  // timed blocks per engine and row
  std::string models_dir = "models";
  std::string only;
  bool targets = true;
};

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "jit_model_bench: %s\n", what.c_str());
  std::exit(1);
}

std::vector<Tensor> run_or_die(const Interpreter& interp, const std::vector<Tensor>& inputs, const std::string& what) {
  auto out = interp.run(inputs);
  if (!out.ok()) die(what + ": " + out.status().to_string());
  return std::move(out).value();
}

Tensor random_f32(const Shape& shape, uint64_t seed, float scale) {
  Tensor t = Tensor::empty(DType::F32, shape);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// Largest |jit - ref| over float outputs, and whether every element is within
// 1e-4 + 1e-4 * |ref| (non-float outputs: bytes equal). Shapes must agree.
struct Agreement {
  double max_abs = 0;
  bool ok = true;
};
Agreement compare(const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
  Agreement a;
  if (got.size() != want.size()) return {INFINITY, false};
  for (size_t o = 0; o < got.size(); ++o) {
    if (got[o].shape() != want[o].shape() || got[o].dtype() != want[o].dtype()) return {INFINITY, false};
    if (got[o].dtype() != DType::F32) {
      if (std::memcmp(got[o].raw_data(), want[o].raw_data(), got[o].nbytes()) != 0) a.ok = false;
      continue;
    }
    const float* g = got[o].data<float>();
    const float* w = want[o].data<float>();
    for (int64_t i = 0; i < got[o].numel(); ++i) {
      double d = std::fabs(double(g[i]) - double(w[i]));
      if (std::isnan(g[i]) != std::isnan(w[i])) d = INFINITY;
      a.max_abs = std::max(a.max_abs, d);
      if (d > 1e-4 + 1e-4 * std::fabs(double(w[i]))) a.ok = false;
    }
  }
  return a;
}

std::shared_ptr<const Model> must_load(Expected<Model> m, const std::string& what) {
  if (!m.ok()) die("loading " + what + ": " + m.status().to_string());
  return std::make_shared<const Model>(std::move(m).value());
}

// A reference interpreter (tracing off, nothing compiled) and a JIT one (tracing
// on, a signature is hot after 2 runs, compiled inline on the running thread).
struct EnginePair {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Interpreter> reference, jit;
  std::shared_ptr<Specializer> specializer;

  explicit EnginePair(std::shared_ptr<const Model> m) : model(std::move(m)) {
    InterpreterOptions off;
    off.trace = false;
    reference = std::make_unique<Interpreter>(model, off);
    InterpreterOptions on;
    on.trace = true;
    on.trace_options.hotness.min_count = 2;
    on.trace_options.hotness.min_total_ms = 1e12;  // count only: hotness must not depend on load
    jit = std::make_unique<Interpreter>(model, on);
    SpecializerOptions so;
    so.background = false;
    so.use_cache = false;  // compile times must be compiles, not loads from an earlier run's code cache
    specializer = Specializer::attach(*jit, so);
  }
  ~EnginePair() { specializer->detach(); }
  EnginePair(const EnginePair&) = delete;
  EnginePair& operator=(const EnginePair&) = delete;

  // Region executions so far, and how many of them ran compiled code.
  std::pair<uint64_t, uint64_t> region_counts() const {
    uint64_t all = 0, compiled = 0;
    for (const RegionStats& r : jit->tracer()->all_region_stats()) all += r.count, compiled += r.compiled;
    return {all, compiled};
  }
};

// ---- 1. steady-state latency ------------------------------------------------

struct Case {
  std::string shape;  // what varies, as the table shows it
  std::vector<Tensor> inputs;
};

struct LatencyRow {
  std::string model, shape;
  double interp_ms = 0, jit_ms = 0;
  double compiled_per_run = 0, regions_per_run = 0;
  Agreement agreement;
};

// One compiled specialization, in the order the process made them.
struct SpecRecord {
  std::string where;  // model, region, shape row that made it hot
  double compile_ms = 0;
  size_t kernels = 0, interpreted_ops = 0;
};

void collect_new_specs(const EnginePair& e, const std::string& where, std::set<const void*>& seen,
                       std::vector<SpecRecord>& out) {
  for (size_t r = 0; r < e.jit->regions().size(); ++r)
    for (const auto& s : e.specializer->specializations(static_cast<int32_t>(r)))
      if (seen.insert(s.get()).second)
        out.push_back({where + " R" + std::to_string(r) + (s->info().generic ? " generic" : ""), s->info().compile_ms, s->info().kernels,
                       s->info().interpreted_ops});
}

// Times blocks of runs of both engines, interleaved (order alternates per sample).
LatencyRow measure_case(EnginePair& e, const std::string& model_name, const Case& c, const BenchOptions& opt,
                        std::set<const void*>& seen, std::vector<SpecRecord>& specs) {
  const std::string what = model_name + " " + c.shape;
  // Warm-up: run 1 traces, run 2 makes the signature hot and compiles, run 3+ are compiled.
  for (int k = 0; k < 4; ++k) run_or_die(*e.jit, c.inputs, what + " (jit warm-up)");
  collect_new_specs(e, what, seen, specs);
  auto t0 = Clock::now();
  auto want = run_or_die(*e.reference, c.inputs, what + " (reference)");
  double one_ms = std::max(ms_since(t0), 1e-3);
  // Blocks long enough (~3 ms) that the clock and scheduler noise stay small.
  int per_block = std::clamp(static_cast<int>(std::ceil(3.0 / one_ms)), 1, 2000);
  auto block = [&](const Interpreter& interp) {
    auto s = Clock::now();
    for (int k = 0; k < per_block; ++k) run_or_die(interp, c.inputs, what);
    return ms_since(s) / per_block;
  };
  block(*e.reference);
  block(*e.jit);
  auto [all0, comp0] = e.region_counts();
  std::vector<double> t_ref, t_jit;
  for (int s = 0; s < opt.samples; ++s) {
    if (s % 2) t_jit.push_back(block(*e.jit));
    t_ref.push_back(block(*e.reference));
    if (!(s % 2)) t_jit.push_back(block(*e.jit));
  }
  auto [all1, comp1] = e.region_counts();
  double runs = static_cast<double>(opt.samples) * per_block;
  LatencyRow row{model_name, c.shape, median(t_ref), median(t_jit), double(comp1 - comp0) / runs,
                 double(all1 - all0) / runs, compare(run_or_die(*e.jit, c.inputs, what), want)};
  collect_new_specs(e, what, seen, specs);  // none expected: a signature compiles once
  std::fprintf(stderr, "  %-13s %-22s interp %9.4f ms  jit %9.4f ms  (%d runs/block)\n", model_name.c_str(),
               c.shape.c_str(), row.interp_ms, row.jit_ms, per_block);
  return row;
}

// early_exit: a batch whose scaled inputs take the wanted branch (exited_early).
Case early_exit_case(const Interpreter& ref, int64_t batch, bool early) {
  const std::vector<float> scales = early ? std::vector<float>{40, 60, 100, 200, 400, 1000, 4000}
                                          : std::vector<float>{0.05f, 0.02f, 0.01f};
  for (float scale : scales)
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      Tensor x = random_f32({batch, 16}, seed * 1000 + static_cast<uint64_t>(batch), scale);
      auto out = run_or_die(ref, {x}, "early_exit search");
      if (out[1].item<bool>() == early) {
        char label[96];
        std::snprintf(label, sizeof label, "batch %lld, %s (x*%g)", static_cast<long long>(batch),
                      early ? "early exit" : "full path", scale);
        return {label, {x}};
      }
    }
  die("no early_exit input found for batch " + std::to_string(batch) + (early ? " early" : " full"));
}

// greedy_loop: an h0 whose decoding runs the whole `steps` (no EOS before), else the longest found.
Case greedy_case(const Interpreter& ref, int64_t steps) {
  Tensor best_h0;
  int64_t best_taken = -1;
  for (float scale : {1.0f, 2.0f, 0.5f})
    for (uint64_t seed = 1; seed <= 200 && best_taken < steps; ++seed) {
      Tensor h0 = random_f32({1, 16}, seed * 7919 + static_cast<uint64_t>(steps), scale);
      auto out = run_or_die(ref, {h0, Tensor::scalar<int64_t>(steps)}, "greedy_loop search");
      if (out[1].dim(0) > best_taken) best_taken = out[1].dim(0), best_h0 = h0;
    }
  return {"steps " + std::to_string(steps) + " (" + std::to_string(best_taken) + " taken)",
          {best_h0, Tensor::scalar<int64_t>(steps)}};
}

std::vector<Case> cases_for(const std::string& name, const Interpreter& ref, bool quick) {
  std::vector<Case> cases;
  if (name == "dynamic_mlp") {
    for (int64_t b : quick ? std::vector<int64_t>{1, 256} : std::vector<int64_t>{1, 16, 256, 1024})
      cases.push_back({"batch " + std::to_string(b), {random_f32({b, 16}, static_cast<uint64_t>(b), 2.0f)}});
  } else if (name == "tiny_encoder") {
    std::vector<std::pair<int64_t, int64_t>> bs = {{1, 16}, {4, 64}, {8, 128}, {2, 384}};
    if (quick) bs = {{1, 16}, {4, 64}};
    for (auto [b, s] : bs)
      cases.push_back({"(batch,seq)=(" + std::to_string(b) + "," + std::to_string(s) + ")",
                       {random_f32({b, s, 32}, static_cast<uint64_t>(b * 1000 + s), 1.0f)}});
  } else if (name == "early_exit") {
    for (int64_t b : quick ? std::vector<int64_t>{64} : std::vector<int64_t>{1, 64})
      for (bool early : {true, false}) cases.push_back(early_exit_case(ref, b, early));
  } else if (name == "moe_router") {
    for (int64_t t : quick ? std::vector<int64_t>{64} : std::vector<int64_t>{64, 256, 1024})
      cases.push_back({"tokens " + std::to_string(t), {random_f32({t, 16}, static_cast<uint64_t>(t), 3.0f)}});
  } else if (name == "greedy_loop") {
    for (int64_t s : quick ? std::vector<int64_t>{8} : std::vector<int64_t>{8, 32}) cases.push_back(greedy_case(ref, s));
  }
  return cases;
}

double geomean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::log(x);
  return v.empty() ? 0 : std::exp(s / static_cast<double>(v.size()));
}

void print_latency_table(const std::vector<LatencyRow>& rows) {
  std::printf("\n## 1. Steady-state latency: interpreter vs JIT (median per run)\n\n");
  std::printf("| model | shape | interp ms | JIT ms | interp/JIT | compiled region runs / region runs (per run) | max abs err | within 1e-4 |\n");
  std::printf("|---|---|---:|---:|---:|---|---:|---|\n");
  std::vector<double> ratios;
  std::map<std::string, std::vector<double>> per_model;
  for (const auto& r : rows) {
    double ratio = r.interp_ms / r.jit_ms;
    ratios.push_back(ratio);
    per_model[r.model].push_back(ratio);
    std::printf("| %s | %s | %.4f | %.4f | %.2f× | %.1f / %.1f | %.2e | %s |\n", r.model.c_str(), r.shape.c_str(),
                r.interp_ms, r.jit_ms, ratio, r.compiled_per_run, r.regions_per_run, r.agreement.max_abs,
                r.agreement.ok ? "yes" : "**NO**");
  }
  std::printf("\nGeometric mean interp/JIT over %zu rows: **%.2f×**", rows.size(), geomean(ratios));
  std::printf(" (per model:");
  for (const auto& [m, v] : per_model) std::printf(" %s %.2f×", m.c_str(), geomean(v));
  std::printf("). Rows below 1.00× are where the JIT is slower.\n");
}

// ---- 2. compile time ---------------------------------------------------------

struct CompileSummary {
  double median_ms = 0, max_ms = 0;
  double exact_max_ms = 0, generic_max_ms = 0;
  size_t count = 0;
};

CompileSummary print_compile_table(const std::vector<SpecRecord>& specs, double runtime_load_ms,
                                   const std::vector<std::pair<std::string, SpecializerStats>>& stats) {
  std::printf("\n## 2. Compile time per specialization (plan + lower + compile + load, info().compile_ms)\n\n");
  CompileSummary s;
  if (specs.empty()) {
    std::printf("No specializations were made.\n");
    return s;
  }
  std::printf("First compile in the process: %.1f ms (%s; includes the Halide runtime compile + ORC load, %.1f ms)."
              " It is excluded from the median and max below.\n\n",
              specs[0].compile_ms, specs[0].where.c_str(), runtime_load_ms);
  std::vector<double> rest;
  for (size_t i = 1; i < specs.size(); ++i) rest.push_back(specs[i].compile_ms);
  s.count = rest.size();
  s.median_ms = median(rest);
  s.max_ms = rest.empty() ? 0 : *std::max_element(rest.begin(), rest.end());
  std::printf("| specializations (excl. first) | median ms | max ms | slowest |\n|---:|---:|---:|---|\n");
  size_t slowest = 1;
  for (size_t i = 1; i < specs.size(); ++i)
    if (specs[i].compile_ms > specs[slowest].compile_ms) slowest = i;
  std::printf("| %zu | %.1f | %.1f | %s (%zu kernels) |\n", s.count, s.median_ms, s.max_ms,
              specs.size() > 1 ? specs[slowest].where.c_str() : "-", specs.size() > 1 ? specs[slowest].kernels : 0);
  // The two tiers apart: exact specializations are what a hot shape waits for;
  // the generic tier is compiled once per region, when shapes keep changing.
  for (bool generic : {false, true}) {
    std::vector<double> tier;
    for (size_t i = 1; i < specs.size(); ++i)
      if ((specs[i].where.find(" generic") != std::string::npos) == generic) tier.push_back(specs[i].compile_ms);
    std::printf("| of which %s: %zu | %.1f | %.1f | |\n", generic ? "generic" : "exact", tier.size(), median(tier),
                tier.empty() ? 0 : *std::max_element(tier.begin(), tier.end()));
    (generic ? s.generic_max_ms : s.exact_max_ms) = tier.empty() ? 0 : *std::max_element(tier.begin(), tier.end());
  }
  std::printf("\n| model | compiled | generic | cache hits | failed | capped | not compilable | median ms | max ms | kernels (min–max) |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (const auto& [model, st] : stats) {
    std::vector<double> t;
    size_t kmin = SIZE_MAX, kmax = 0;
    for (size_t i = 1; i < specs.size(); ++i)
      if (specs[i].where.rfind(model + " ", 0) == 0) {
        t.push_back(specs[i].compile_ms);
        kmin = std::min(kmin, specs[i].kernels), kmax = std::max(kmax, specs[i].kernels);
      }
    std::printf("| %s | %llu | %llu | %llu | %llu | %llu | %llu | %.1f | %.1f | %s |\n", model.c_str(),
                static_cast<unsigned long long>(st.compiled), static_cast<unsigned long long>(st.generic),
                static_cast<unsigned long long>(st.cache_hits), static_cast<unsigned long long>(st.failed),
                static_cast<unsigned long long>(st.capped), static_cast<unsigned long long>(st.not_compilable),
                median(t), t.empty() ? 0 : *std::max_element(t.begin(), t.end()),
                t.empty() ? "-" : (std::to_string(kmin) + "–" + std::to_string(kmax)).c_str());
  }
  return s;
}

// ---- 3. guard check ----------------------------------------------------------

class GuardOnlyRegion : public CompiledRegion {
 public:
  using CompiledRegion::CompiledRegion;
  Status run(const std::vector<Tensor>&, std::vector<Tensor>&) const override { return {}; }
  std::string describe() const override { return "guard-only (benchmark)"; }
};

template <typename T> inline void keep(T& v) { asm volatile("" : "+r"(v) : : "memory"); }

// ns per call: median of 5 rounds of `loop(calls)`.
double ns_per_call(long calls, const std::function<long(long)>& loop) {
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    auto s = Clock::now();
    long found = loop(calls);
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - s).count();
    keep(found);
    rounds.push_back(ns / static_cast<double>(calls));
  }
  return median(rounds);
}

// Worst case the targets table uses: hit on the last of 8 entries.
double guard_bench(bool quick) {
  const long calls = quick ? 2'000'000 : 20'000'000;
  std::printf("\n## 3. Guard check: RegionDispatchTable::find (ns per call, median of 5 rounds of %ld calls)\n\n", calls);
  std::printf("Guards are f32[batch, seq, 32] signatures (4 words); entries differ in batch. "
              "'signature + find' also builds the signature words from the input tensor and hashes them, "
              "as the interpreter does before each region (it needs them for tracing anyway).\n\n");
  std::printf("| entries | find, hit on last | find, miss | signature + hash + find, hit on last |\n|---:|---:|---:|---:|\n");
  double worst = 0;
  for (size_t entries : {1, 4, 8}) {
    RegionDispatchTable table(1);
    for (size_t i = 0; i < entries; ++i) {
      SignatureWords w;
      append_signature(w, Tensor::empty(DType::F32, {static_cast<int64_t>(i + 1), 16, 32}));
      table.install(0, std::make_shared<GuardOnlyRegion>(w));
    }
    SignatureWords hit, miss;
    Tensor hit_tensor = Tensor::empty(DType::F32, {static_cast<int64_t>(entries), 16, 32});
    append_signature(hit, hit_tensor);
    append_signature(miss, Tensor::empty(DType::F32, {999, 16, 32}));
    auto find_loop = [&](const SignatureWords& words) {
      return [&table, &words](long n) {
        long found = 0;
        const int64_t* p = words.data();
        uint64_t h = hash_signature(p, words.size());
        for (long i = 0; i < n; ++i) {
          keep(p), keep(h);
          found += table.find(0, p, 4, h) != nullptr;
        }
        return found;
      };
    };
    double hit_ns = ns_per_call(calls, find_loop(hit));
    double miss_ns = ns_per_call(calls, find_loop(miss));
    SignatureWords scratch;
    scratch.reserve(16);
    double full_ns = ns_per_call(calls, [&](long n) {
      long found = 0;
      for (long i = 0; i < n; ++i) {
        scratch.clear();
        append_signature(scratch, hit_tensor);
        const int64_t* p = scratch.data();
        keep(p);
        found += table.find(0, p, scratch.size(), hash_signature(p, scratch.size())) != nullptr;
      }
      return found;
    });
    if (entries == 8) worst = hit_ns;
    std::printf("| %zu | %.1f | %.1f | %.1f |\n", entries, hit_ns, miss_ns, full_ns);
  }
  return worst;
}

// ---- 4. kernel targets through the specializer ------------------------------

// Median ms of `samples` jit runs after warm-up (run 2 compiles; 3+ run compiled code).
struct ModelTiming {
  double jit_ms = 0, interp_ms = 0, kernel_ms = 0, compile_ms = 0;
  double companion_ms = 0;  // median of the companion, timed just before each jit and kernel sample
  std::string plan;
  Agreement agreement;
};

// `companion` (returns its own ms) runs right before every sample, so a reference
// measured that way sees the same machine load as the kernel it is compared with.
ModelTiming time_text_model(const std::string& text, const std::string& name, const std::vector<Tensor>& inputs,
                            int samples, const std::function<double()>& companion = nullptr) {
  EnginePair e(must_load(load_onnx_text(text, name), name));
  for (int k = 0; k < 3; ++k) run_or_die(*e.jit, inputs, name);
  auto specs = e.specializer->specializations(0);
  if (specs.size() != 1) die(name + ": expected one specialization of R0, got " + std::to_string(specs.size()) +
                             (e.specializer->recent_failures().empty() ? "" : ": " + e.specializer->recent_failures().back()));
  ModelTiming t;
  t.compile_ms = specs[0]->info().compile_ms;
  t.plan = specs[0]->info().plan_text;
  auto want = run_or_die(*e.reference, inputs, name);
  t.agreement = compare(run_or_die(*e.jit, inputs, name), want);
  std::vector<double> tj, ti, tk, tc;
  for (int s = 0; s < samples; ++s) {
    if (companion) tc.push_back(companion());
    auto a = Clock::now();
    run_or_die(*e.jit, inputs, name);
    tj.push_back(ms_since(a));
    if (s < std::max(3, samples / 3)) {  // the interpreter only for the speed-up column
      a = Clock::now();
      run_or_die(*e.reference, inputs, name);
      ti.push_back(ms_since(a));
    }
  }
  // The same compiled kernel with its output allocated once: the kernel alone.
  if (specs[0]->kernels().size() == 1) {
    const LoweredGroup& g = specs[0]->kernels()[0];
    Tensor out = Tensor::empty(DType::F32, g.output_view);
    std::vector<Tensor> views;
    const Graph& graph = *e.model->graph;
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      const ValueInfo& info = graph.value(g.inputs[i]);
      auto at = std::find(graph.inputs.begin(), graph.inputs.end(), g.inputs[i]);
      const Tensor& t = info.constant.defined() ? info.constant : inputs[static_cast<size_t>(at - graph.inputs.begin())];
      views.push_back(t.reshaped(g.input_views[i]));
    }
    for (int s = 0; s < samples + 1; ++s) {
      if (companion && s) tc.push_back(companion());
      auto a = Clock::now();
      Status st = g.kernel->run(views, std::span<const Tensor>(&out, 1));
      if (!st.ok()) die(name + " kernel: " + st.to_string());
      if (s) tk.push_back(ms_since(a));
    }
  }
  t.jit_ms = median(tj), t.interp_ms = median(ti), t.kernel_ms = median(tk), t.companion_ms = median(tc);
  std::fprintf(stderr, "  %s: jit %.3f ms, kernel %.3f ms, interp %.3f ms, compile %.1f ms\n", name.c_str(), t.jit_ms,
               t.kernel_ms, t.interp_ms, t.compile_ms);
  return t;
}

struct Target {
  std::string what, figure, bar;
  bool met = false;
};

void kernel_targets(const BenchOptions& opt, std::vector<Target>& targets) {
  std::printf("\n## 4. Kernel targets through the JIT path (models in ONNX text, compiled by the specializer)\n\n");
  std::printf("'model run': Interpreter::run with the compiled region installed (guard, dispatch, fresh output "
              "tensor). 'kernel only': the same compiled kernel called with a preallocated output.\n\n");
  std::printf("| model | shape | model run ms | GFLOP/s or GB/s (model run) | kernel only | interpreter | compile ms | max abs err |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  const char* gemm_text = R"(<ir_version: 8, opset_import: ["" : 17]>
gemm_bias_relu (float[M, K] x, float[K, N] w, float[N] b) => (float[M, N] y) {
  h = MatMul(x, w)
  z = Add(h, b)
  y = Relu(z)
})";
  for (int64_t n : opt.quick ? std::vector<int64_t>{512} : std::vector<int64_t>{512, 1024}) {
    std::vector<Tensor> in = {random_f32({n, n}, 1, 1.0f), random_f32({n, n}, 2, 1.0f / std::sqrt(float(n))),
                              random_f32({n}, 3, 0.1f)};
    ModelTiming t = time_text_model(gemm_text, "gemm" + std::to_string(n), in, n >= 1024 ? 15 : 31);
    double flop = 2.0 * double(n) * double(n) * double(n);
    auto gf = [&](double ms) { return ms > 0 ? flop / ms / 1e6 : 0; };
    std::printf("| MatMul+Add+Relu | %lld³ | %.3f | %.0f GFLOP/s | %.0f GFLOP/s | %.0f GFLOP/s | %.1f | %.1e%s |\n",
                static_cast<long long>(n), t.jit_ms, gf(t.jit_ms), gf(t.kernel_ms), gf(t.interp_ms), t.compile_ms,
                t.agreement.max_abs, t.agreement.ok ? "" : " **beyond tolerance**");
    std::fprintf(stderr, "  plan: %s\n", t.plan.c_str());
    char fig[96];
    std::snprintf(fig, sizeof fig, "%.0f GFLOP/s (kernel only %.0f)", gf(t.jit_ms), gf(t.kernel_ms));
    targets.push_back({"MatMul+bias+ReLU " + std::to_string(n) + "³, model run", fig, "≥ 180 GFLOP/s",
                       gf(t.jit_ms) >= 180 && t.agreement.ok});
  }

  // STREAM-style copy in this process: 1 thread (memcpy) and all threads (TBB, as the kernels use).
  const int64_t rows = opt.quick ? 1024 : 4096, cols = 4096, n = rows * cols;
  Tensor src = random_f32({n}, 4, 1.0f), dst = Tensor::empty(DType::F32, {n});
  const int reps = 15;
  auto copy_ms = [&](bool parallel, bool fresh, int times) {
    std::vector<double> t;
    for (int r = 0; r < times + 1; ++r) {
      auto a = Clock::now();
      Tensor out = fresh ? Tensor::empty(DType::F32, {n}) : dst;
      const char* s = static_cast<const char*>(src.raw_data());
      char* d = static_cast<char*>(out.raw_data());
      if (parallel)
        tbb::parallel_for(tbb::blocked_range<size_t>(0, src.nbytes(), 1 << 20),
                          [&](const tbb::blocked_range<size_t>& br) { std::memcpy(d + br.begin(), s + br.begin(), br.size()); });
      else
        std::memcpy(d, s, src.nbytes());
      if (r) t.push_back(ms_since(a));
    }
    return median(t);
  };
  const double bytes_copy = 2.0 * double(n) * 4;
  double c1 = copy_ms(false, false, reps), cp = copy_ms(true, false, reps), cf = copy_ms(true, true, reps);
  std::printf("\nSTREAM-style copy of %lld floats (GB/s counts read + write, 8 bytes per element), alone: memcpy 1 "
              "thread %.1f GB/s, TBB %u threads %.1f GB/s, TBB into a fresh allocation each time %.1f GB/s (page "
              "faults: what a fresh output tensor of this size costs). Each chain below is compared with the better "
              "of the first two, timed just before each of its samples ('copy GB/s').\n\n",
              static_cast<long long>(n), bytes_copy / c1 / 1e6, std::thread::hardware_concurrency(),
              bytes_copy / cp / 1e6, bytes_copy / cf / 1e6);
  auto stream_companion = [&] {
    double a = copy_ms(false, false, 1), b = copy_ms(true, false, 1);
    return std::min(a, b);
  };

  if (opt.quick)
    std::printf("(--quick: %lld floats fit in L3, so these compare with cache bandwidth, not memory; the 70%% "
                "target is for the full run's 16M floats.)\n\n", static_cast<long long>(n));
  struct Chain {
    const char* name;
    const char* text;
  };
  const Chain chains[] = {
      {"x*sigmoid(x)+b", R"(<ir_version: 8, opset_import: ["" : 17]>
silu_bias (float[R, C] x, float[C] b) => (float[R, C] y) {
  s = Sigmoid(x)
  m = Mul(x, s)
  y = Add(m, b)
})"},
      {"GELU(x)+b (erf)", R"(<ir_version: 8, opset_import: ["" : 17]>
gelu_then_bias (float[R, C] x, float[C] b) => (float[R, C] y)
<float half = {0.5}, float one = {1.0}, float rsqrt2 = {0.70710678}>
{
  v = Mul(x, rsqrt2)
  e = Erf(v)
  p = Add(e, one)
  q = Mul(x, p)
  g = Mul(q, half)
  y = Add(g, b)
})"},
      // x+b is read twice, both times inside the chain: still one kernel.
      {"GELU(x+b) (erf)", R"(<ir_version: 8, opset_import: ["" : 17]>
gelu_bias (float[R, C] x, float[C] b) => (float[R, C] y)
<float half = {0.5}, float one = {1.0}, float rsqrt2 = {0.70710678}>
{
  u = Add(x, b)
  v = Mul(u, rsqrt2)
  e = Erf(v)
  p = Add(e, one)
  q = Mul(u, p)
  y = Mul(q, half)
})"},
      // Normalizations: a row's statistics, then the row again (from cache).
      {"LayerNorm(x; b, b)", R"(<ir_version: 8, opset_import: ["" : 17]>
layer_norm (float[R, C] x, float[C] b) => (float[R, C] y) {
  y = LayerNormalization <epsilon: float = 0.00001> (x, b, b)
})"},
      {"Softmax(x+b)", R"(<ir_version: 8, opset_import: ["" : 17]>
softmax_bias (float[R, C] x, float[C] b) => (float[R, C] y) {
  u = Add(x, b)
  y = Softmax(u)
})"},
  };
  // The same kernel on 1M floats (8 MB in and out, resident in L3): its compute
  // ceiling, which shows whether it would keep up with a faster memory system
  // (this VM's copy bandwidth has measured both ~42 and ~88 GB/s).
  const int64_t cache_rows = std::min<int64_t>(rows, 256);
  std::printf("| chain | floats | copy GB/s | model run ms | GB/s (model run) | kernel only GB/s | kernel only, %lld floats in L3, GB/s | interpreter GB/s | compile ms | max abs err |\n",
              static_cast<long long>(cache_rows * cols));
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  const double bytes_chain = (2.0 * double(n) + double(cols)) * 4;  // read x, write y, read b
  for (const Chain& c : chains) {
    std::vector<Tensor> in = {src.reshaped({rows, cols}), random_f32({cols}, 5, 0.5f)};
    ModelTiming t = time_text_model(c.text, c.name, in, reps, stream_companion);
    std::vector<Tensor> in_cache = {random_f32({cache_rows, cols}, 6, 1.0f), in[1]};
    ModelTiming tc = time_text_model(c.text, c.name, in_cache, reps, nullptr);  // no copy between samples: stays in L3
    const double cache_gbs = tc.kernel_ms > 0 ? (2.0 * double(cache_rows * cols) + double(cols)) * 4 / tc.kernel_ms / 1e6 : 0;
    const double stream_gbs = bytes_copy / t.companion_ms / 1e6;
    auto gbs = [&](double ms) { return ms > 0 ? bytes_chain / ms / 1e6 : 0; };
    char kernel_only[48] = "— (several kernels)";
    if (t.kernel_ms > 0)
      std::snprintf(kernel_only, sizeof kernel_only, "%.1f (%.0f%%)", gbs(t.kernel_ms), 100 * gbs(t.kernel_ms) / stream_gbs);
    std::printf("| %s | %lld | %.1f | %.2f | %.1f (%.0f%% of copy) | %s | %.1f | %.1f | %.1f | %.1e%s |\n", c.name,
                static_cast<long long>(n), stream_gbs, t.jit_ms, gbs(t.jit_ms), 100 * gbs(t.jit_ms) / stream_gbs, kernel_only,
                cache_gbs, gbs(t.interp_ms), t.compile_ms, std::max(t.agreement.max_abs, tc.agreement.max_abs),
                t.agreement.ok && tc.agreement.ok ? "" : " **beyond tolerance**");
    std::fprintf(stderr, "  plan: %s\n", t.plan.c_str());
    for (bool model_run : {true, false}) {
      if (!model_run && t.kernel_ms == 0) continue;  // several kernels: no single kernel to time
      double frac = (model_run ? gbs(t.jit_ms) : gbs(t.kernel_ms)) / stream_gbs;
      char fig[96];
      std::snprintf(fig, sizeof fig, "%.0f%% (%.1f of %.1f GB/s)", 100 * frac,
                    model_run ? gbs(t.jit_ms) : gbs(t.kernel_ms), stream_gbs);
      targets.push_back({std::string(c.name) + ", " + (model_run ? "model run" : "kernel only"), fig,
                         "≥ 70% of copy", frac >= 0.7 && t.agreement.ok});
    }
  }
  std::printf("\nSoftmax(x+b) and LayerNorm are one kernel each (the Add is the Softmax's prologue); bytes count "
              "one read of x and one write of y.\n");
}

void usage() {
  std::printf(
      "usage: jit_model_bench [--quick] [--samples N] [--models-dir DIR] [--only MODEL] [--no-targets]\n"
      "  Steady-state latency of the JIT vs the interpreter on the bundled models, compile time per\n"
      "  specialization, guard-check cost, and the JIT kernel targets (GEMM GFLOP/s, elementwise\n"
      "  chain vs STREAM copy), with a MET/MISSED table. Tables on stdout (Markdown), progress on stderr.\n"
      "  --quick        fewer shapes and samples, smaller kernel targets (a smoke run, ~10 s)\n"
      "  --samples N    timed blocks per engine and row in section 1 (default 31; quick 7)\n"
      "  --models-dir   where the bundled .onnx files are (default: models, run from the repo root)\n"
      "  --only MODEL   section 1 for one model only\n"
      "  --no-targets   skip section 4\n");
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions opt;
  bool samples_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--samples" && i + 1 < argc) {
      opt.samples = std::max(1, std::atoi(argv[++i])), samples_set = true;
    } else if (a == "--models-dir" && i + 1 < argc) {
      opt.models_dir = argv[++i];
    } else if (a == "--only" && i + 1 < argc) {
      opt.only = argv[++i];
    } else if (a == "--no-targets") {
      opt.targets = false;
    } else {
      std::fprintf(stderr, "jit_model_bench: unknown argument '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  if (opt.quick && !samples_set) opt.samples = 7;
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M %Z", std::localtime(&now));
  std::printf("# jit_model_bench%s\n\n%s · %s · %u hardware threads · load average at start %s\n", opt.quick ? " (quick)" : "",
              date, cpu_model().c_str(), std::thread::hardware_concurrency(), load_average().c_str());

  std::vector<LatencyRow> rows;
  std::vector<SpecRecord> specs;
  std::set<const void*> seen;
  std::vector<std::pair<std::string, SpecializerStats>> stats;
  for (const char* name : {"dynamic_mlp", "tiny_encoder", "early_exit", "moe_router", "greedy_loop"}) {
    if (!opt.only.empty() && opt.only != name) continue;
    std::fprintf(stderr, "[1] %s\n", name);
    EnginePair e(must_load(load_model_file(opt.models_dir + "/" + name + ".onnx"), name));
    for (const Case& c : cases_for(name, *e.reference, opt.quick)) rows.push_back(measure_case(e, name, c, opt, seen, specs));
    stats.emplace_back(name, e.specializer->stats());
    for (const std::string& f : e.specializer->recent_failures()) std::fprintf(stderr, "  compile failure: %s\n", f.c_str());
  }
  print_latency_table(rows);
  auto session = jit::OrcSession::get();
  CompileSummary compile = print_compile_table(specs, session.ok() ? (*session)->runtime_load_ms() : 0, stats);

  std::fprintf(stderr, "[3] guard check\n");
  double guard_ns = guard_bench(opt.quick);

  std::vector<Target> targets;
  if (opt.targets) {
    std::fprintf(stderr, "[4] kernel targets\n");
    kernel_targets(opt, targets);
  }
  char fig[64];
  std::snprintf(fig, sizeof fig, "%.1f ms over %zu", compile.median_ms, compile.count);
  targets.push_back({"compile time per specialization, median (excl. first)", fig, "< 100 ms",
                     compile.count > 0 && compile.median_ms < 100});
  std::snprintf(fig, sizeof fig, "%.1f ms", compile.max_ms);
  targets.push_back({"compile time per specialization, max (excl. first)", fig, "< 500 ms", compile.count > 0 && compile.max_ms < 500});
  std::snprintf(fig, sizeof fig, "%.1f ms (generic tier: %.1f ms)", compile.exact_max_ms, compile.generic_max_ms);
  targets.push_back({"  the same, exact specializations only", fig, "< 500 ms", compile.count > 0 && compile.exact_max_ms < 500});
  std::snprintf(fig, sizeof fig, "%.1f ns", guard_ns);
  targets.push_back({"guard check, find() with 8 entries, hit on the last", fig, "< 50 ns", guard_ns < 50});
  bool all_agree = std::all_of(rows.begin(), rows.end(), [](const LatencyRow& r) { return r.agreement.ok; });
  targets.push_back({"JIT outputs = interpreter's (1e-4 abs+rel) on every row of (1)", all_agree ? "all rows" : "**some rows differ**",
                     "all rows", all_agree});

  std::printf("\n## Targets\n\n| target | figure | bar | |\n|---|---|---|---|\n");
  for (const Target& t : targets)
    std::printf("| %s | %s | %s | %s |\n", t.what.c_str(), t.figure.c_str(), t.bar.c_str(), t.met ? "MET" : "**MISSED**");
  std::printf("\nLoad average at end: %s\n", load_average().c_str());
  return 0;
}
