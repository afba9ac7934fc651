// jit_cache_bench: what the on-disk code cache buys at process start (issue 5).
//
// Each measurement is a fresh process (this program re-run with a role), since
// the costs that matter are per process (the Halide runtime, LLVM start-up):
//   cold   empty cache: load the model, run one shape until a run comes back from
//          compiled code (compiles in the background, as in a server);
//   fill   compile N specializations of dynamic_mlp (batch 1..N) into the cache;
//   warm   DJ_WARM_CACHE=1: load the model (which installs the N cached
//          specializations) and run; the first run should already be compiled.
// Printed: time to the first compiled result, cold vs warm; the warm load's total
// and per-entry cost. Target (issue 5): a warm start with 20 cached
// specializations under 30 ms.
//
//   usage: jit_cache_bench [--entries N] [--models-dir DIR]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "frontend/OnnxLoader.h"
#include "runtime/Interpreter.h"
#include "specializer/Specializer.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

dj::Tensor ones(int64_t batch) {
  dj::Tensor t = dj::Tensor::empty(dj::DType::F32, {batch, 16});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = 0.01f * static_cast<float>(i % 97);
  return t;
}

uint64_t compiled_runs(const dj::Interpreter& interp) {
  uint64_t n = 0;
  for (const auto& r : interp.tracer()->all_region_stats()) n += r.compiled;
  return n;
}

// The child side: prints "key value" lines for the parent.
int child(const std::string& role, const std::string& models, int entries) {
  auto started = Clock::now();
  auto loaded = dj::load_model_file(models + "/dynamic_mlp.onnx");
  if (!loaded.ok()) return 1;
  auto model = std::make_shared<const dj::Model>(std::move(loaded).value());
  dj::InterpreterOptions io;
  io.trace_options.hotness.min_count = 1;
  dj::Interpreter interp(model, io);
  auto so = dj::specializer::SpecializerOptions::from_environment();
  so.max_per_region = static_cast<size_t>(entries) + 1;
  so.background = role != "fill";
  so.warm_cache = role == "warm";
  auto attach_start = Clock::now();
  auto jit = dj::specializer::Specializer::attach(interp, so);
  double attach_ms = ms_since(attach_start);
  if (!jit->has_cache()) return 2;
  if (role == "fill") {
    for (int b = 1; b <= entries; ++b) (void)interp.run({ones(b)});
    std::printf("compiled %llu\n", static_cast<unsigned long long>(jit->stats().compiled));
  } else {
    // Run batch 7 until a run comes back compiled.
    int runs = 0;
    double first_run_ms = 0;
    while (compiled_runs(interp) == 0 && runs < 100000) {
      auto t = Clock::now();
      (void)interp.run({ones(7)});
      if (runs == 0) first_run_ms = ms_since(t);
      ++runs;
    }
    std::printf("to_first_compiled_ms %.3f\nruns %d\nattach_ms %.3f\nfirst_run_ms %.3f\nwarm_loaded %llu\ncompiled %llu\n",
                ms_since(started), runs, attach_ms, first_run_ms,
                static_cast<unsigned long long>(jit->stats().warm_loaded),
                static_cast<unsigned long long>(jit->stats().compiled));
  }
  jit->detach();
  return 0;
}

std::string run_child(const std::string& self, const std::string& role, const fs::path& cache, int entries,
                      const std::string& models) {
  fs::path out = cache.parent_path() / (role + ".out");
  std::string cmd = "DJ_CACHE_DIR=" + cache.string() + " " + self + " --role " + role + " --entries " +
                    std::to_string(entries) + " --models-dir " + models + " > " + out.string() + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "jit_cache_bench: child '%s' failed\n", role.c_str());
    std::exit(1);
  }
  std::ifstream f(out);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

double field(const std::string& text, const std::string& key) {
  size_t at = text.find(key + " ");
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + key.size() + 1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string role, models = "models";
  int entries = 20, repeats = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("usage: jit_cache_bench [--entries N (default 20)] [--repeats N (default 5)] [--models-dir DIR]\n"
                  "Times process start to the first compiled result with an empty and with a warm code cache.\n");
      return 0;
    } else if (a == "--role" && i + 1 < argc) {
      role = argv[++i];
    } else if (a == "--entries" && i + 1 < argc) {
      entries = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--models-dir" && i + 1 < argc) {
      models = argv[++i];
    } else {
      std::fprintf(stderr, "jit_cache_bench: unknown argument '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  if (!role.empty()) return child(role, models, entries);

  const std::string self = fs::read_symlink("/proc/self/exe").string();
  fs::path base = fs::temp_directory_path() / ("dj_cache_bench_" + std::to_string(::getpid()));
  std::printf("code cache at process start: dynamic_mlp, %d cached specializations, %d repeats (median)\n\n", entries,
              repeats);
  std::vector<double> cold_ms, warm_ms, warm_attach, warm_first;
  int warm_runs_max = 0;
  double warm_loaded = 0, warm_compiled = 0;
  for (int r = 0; r < repeats; ++r) {
    std::fprintf(stderr, "jit_cache_bench: round %d/%d\n", r + 1, repeats);
    fs::remove_all(base);
    fs::create_directories(base / "cache");
    fs::permissions(base / "cache", fs::perms::owner_all, fs::perm_options::replace);
    cold_ms.push_back(field(run_child(self, "cold", base / "cache", entries, models), "to_first_compiled_ms"));
    fs::remove_all(base / "cache");
    fs::create_directories(base / "cache");
    fs::permissions(base / "cache", fs::perms::owner_all, fs::perm_options::replace);
    run_child(self, "fill", base / "cache", entries, models);
    std::string warm = run_child(self, "warm", base / "cache", entries, models);
    warm_ms.push_back(field(warm, "to_first_compiled_ms"));
    warm_attach.push_back(field(warm, "attach_ms"));
    warm_first.push_back(field(warm, "first_run_ms"));
    warm_runs_max = std::max(warm_runs_max, static_cast<int>(field(warm, "runs")));
    warm_loaded = field(warm, "warm_loaded");
    warm_compiled = field(warm, "compiled");
  }
  fs::remove_all(base);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("| start | process start -> first compiled result (ms) |\n|---|---:|\n");
  std::printf("| cold: empty cache (kernels compiled in the background; the Halide runtime is embedded) | %.1f |\n", median(cold_ms));
  std::printf("| warm: DJ_WARM_CACHE=1 | %.1f |\n\n", median(warm_ms));
  std::printf("| warm start detail | figure |\n|---|---:|\n");
  std::printf("| specializations installed at load (of %d cached) | %.0f |\n", entries, warm_loaded);
  std::printf("| compiles in the warm process | %.0f |\n", warm_compiled);
  std::printf("| runs until the first compiled one (max over repeats; 1 = the first request) | %d |\n", warm_runs_max);
  std::printf("| attach with warm load, total (all entries; the runtime comes from the library) | %.2f ms |\n", median(warm_attach));
  std::printf("| per cached entry | %.3f ms |\n", median(warm_attach) / std::max(1.0, warm_loaded));
  std::printf("| first run (compiled) | %.3f ms |\n\n", median(warm_first));
  bool met = median(warm_attach) < 30.0 && warm_loaded >= entries;
  std::printf("target: warm start with %d cached specializations under 30 ms: %.1f ms -> %s\n", entries,
              median(warm_attach), met ? "MET" : "MISSED");
  return 0;
}
