// trace_bench: what always-on tracing costs the interpreter, per bundled model.
//
// For each model in models/ (inputs: its reference data sets in models/testdata,
// cycled so the tracer sees several signatures and paths), two interpreters run
// the same inputs — tracing off and tracing on — in interleaved blocks, so that
// load on the machine hits both alike. Reported: median time per run of each,
// the overhead (on/off - 1) from the medians, and region executions per run.
//
//   usage: trace_bench [--blocks N] [--runs-per-block N] [MODEL_DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "frontend/OnnxLoader.h"
#include "frontend/OnnxTensor.h"
#include "runtime/Interpreter.h"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

// The input sets of one model's reference data, each in graph input order.
std::vector<std::vector<dj::Tensor>> load_input_sets(const std::filesystem::path& dir, size_t num_inputs) {
  std::vector<std::vector<dj::Tensor>> sets;
  for (int k = 0;; ++k) {
    auto set_dir = dir / ("test_data_set_" + std::to_string(k));
    if (!std::filesystem::exists(set_dir)) break;
    std::vector<dj::Tensor> inputs;
    for (size_t i = 0; i < num_inputs; ++i) {
      auto t = dj::read_tensor_pb_file((set_dir / ("input_" + std::to_string(i) + ".pb")).string());
      if (!t.ok()) return {};
      inputs.push_back(std::move(t).value());
    }
    sets.push_back(std::move(inputs));
  }
  return sets;
}

// Seconds for `runs` runs cycling through the input sets.
double time_block(const dj::Interpreter& interp, const std::vector<std::vector<dj::Tensor>>& sets, int runs) {
  auto start = Clock::now();
  for (int r = 0; r < runs; ++r) {
    auto out = interp.run(sets[static_cast<size_t>(r) % sets.size()]);
    if (!out.ok()) {
      std::fprintf(stderr, "trace_bench: run failed: %s\n", out.status().message().c_str());
      std::exit(1);
    }
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int blocks = 41, runs_per_block = 200;
  std::string model_dir = "models";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("usage: trace_bench [--blocks N] [--runs-per-block N] [MODEL_DIR (default models)]\n"
                  "Times each bundled model with tracing off and on, interleaved, and prints the overhead.\n");
      return 0;
    } else if (a == "--blocks" && i + 1 < argc) {
      blocks = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--runs-per-block" && i + 1 < argc) {
      runs_per_block = std::max(1, std::atoi(argv[++i]));
    } else if (!a.empty() && a[0] != '-') {
      model_dir = a;
    } else {
      std::fprintf(stderr, "trace_bench: unknown argument '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  std::printf("tracing overhead on the interpreter: %d interleaved blocks of %d runs per model, median per run\n\n",
              blocks, runs_per_block);
  std::printf("%-14s %8s %9s %14s %14s %10s\n", "model", "inputs", "regions", "off us/run", "on us/run", "overhead");
  std::vector<double> overheads;
  for (const char* name : {"dynamic_mlp", "tiny_encoder", "early_exit", "moe_router", "greedy_loop"}) {
    std::filesystem::path path = std::filesystem::path(model_dir) / (std::string(name) + ".onnx");
    auto loaded = dj::load_model_file(path.string());
    if (!loaded.ok()) {
      std::fprintf(stderr, "trace_bench: %s\n", loaded.status().message().c_str());
      return 1;
    }
    auto model = std::make_shared<const dj::Model>(std::move(loaded).value());
    auto sets = load_input_sets(std::filesystem::path(model_dir) / "testdata" / name, model->graph->inputs.size());
    if (sets.empty()) {
      std::fprintf(stderr, "trace_bench: no reference inputs for %s\n", name);
      return 1;
    }
    dj::InterpreterOptions off, on;
    off.trace = false;
    on.trace = true;
    dj::Interpreter plain(model, off), traced(model, on);
    time_block(plain, sets, runs_per_block);  // warm up both
    time_block(traced, sets, runs_per_block);
    traced.tracer()->reset();
    std::vector<double> t_off, t_on;
    for (int b = 0; b < blocks; ++b) {
      bool on_first = b % 2;  // alternate the order inside a block pair
      if (on_first) t_on.push_back(time_block(traced, sets, runs_per_block));
      t_off.push_back(time_block(plain, sets, runs_per_block));
      if (!on_first) t_on.push_back(time_block(traced, sets, runs_per_block));
    }
    double off_us = median(t_off) / runs_per_block * 1e6, on_us = median(t_on) / runs_per_block * 1e6;
    uint64_t region_execs = 0;
    for (const auto& r : traced.tracer()->all_region_stats()) region_execs += r.count;
    double per_run = static_cast<double>(region_execs) / static_cast<double>(traced.tracer()->runs());
    double overhead = on_us / off_us - 1;
    overheads.push_back(overhead);
    std::printf("%-14s %8zu %9.1f %14.2f %14.2f %9.2f%%\n", name, sets.size(), per_run, off_us, on_us,
                100 * overhead);
  }
  std::printf("\n(regions: region executions per run, Loop bodies counted per iteration; inputs: the reference "
              "data sets cycled)\n");
  return 0;
}
