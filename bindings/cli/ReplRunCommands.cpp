// The REPL's commands that run the model: `run` (one run on given or random
// inputs) and `sweep` (many runs over shapes drawn from ranges), plus `seed`.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include "bindings/cli/CliCommands.h"
#include "bindings/cli/InputSpec.h"
#include "bindings/cli/ReplSession.h"
#include "bindings/cli/RunInputs.h"
#include "bindings/cli/TensorSummary.h"
#include "runtime/InputBinding.h"

namespace dj {
namespace {

Expected<int64_t> parse_non_negative(const std::string& key, const std::string& text) {
  if (auto v = parse_count(text)) return *v;
  return make_error(StatusCode::InvalidArgument, key, " needs a non-negative integer, got '", text, "'");
}

// Runs once; returns the outputs and the wall time.
Expected<std::vector<Tensor>> run_once(ReplSession& s, std::vector<NamedTensor> inputs, double& seconds) {
  DJ_ASSIGN_OR_RETURN(std::vector<Tensor> bound, bind_inputs(s.graph(), inputs));
  auto start = std::chrono::steady_clock::now();
  auto out = s.interpreter().run(std::move(bound));
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

Status run_command(ReplSession& s, const ReplArgs& args) {
  std::vector<InputSpec> specs;
  int64_t repeat = 1;
  bool print_values = false;
  uint64_t seed = s.next_seed();
  for (const std::string& a : args) {
    if (a == "print") {
      print_values = true;
      continue;
    }
    auto kv = split_key_value(a);
    if (!kv) return make_error(StatusCode::InvalidArgument, "expected NAME=SHAPE, seed=N, repeat=N or print; got '", a, "'");
    if (kv->first == "seed") {
      DJ_ASSIGN_OR_RETURN(int64_t v, parse_non_negative("seed", kv->second));
      seed = static_cast<uint64_t>(v);
    } else if (kv->first == "repeat") {
      DJ_ASSIGN_OR_RETURN(repeat, parse_non_negative("repeat", kv->second));
      if (repeat < 1) return Status(StatusCode::InvalidArgument, "repeat must be at least 1");
    } else {
      DJ_ASSIGN_OR_RETURN(InputSpec spec, parse_input_spec(a));
      specs.push_back(std::move(spec));
    }
  }
  DJ_ASSIGN_OR_RETURN(RunInputs prepared, prepare_run_inputs(s.graph(), specs, {}, seed));
  for (const std::string& note : prepared.notes) s.out() << "note: " << note << "\n";
  std::vector<Tensor> outputs;
  double total = 0, seconds = 0;
  for (int64_t r = 0; r < repeat; ++r) {
    DJ_ASSIGN_OR_RETURN(outputs, run_once(s, prepared.tensors, seconds));
    total += seconds;
  }
  for (size_t i = 0; i < prepared.tensors.size(); ++i)
    s.out() << "in  " << prepared.tensors[i].name << ": " << prepared.tensors[i].tensor.describe() << "  ("
            << prepared.origins[i] << ")\n";
  for (size_t i = 0; i < outputs.size(); ++i) {
    s.out() << "out " << s.graph().value(s.graph().outputs[i]).name << ": " << outputs[i].describe() << "  "
            << summarize_tensor(outputs[i]) << "\n";
    std::string values = format_values(outputs[i], print_values ? 0 : 8);
    for (size_t at = values.find('\n'); at != std::string::npos; at = values.find('\n', at + 1)) values.insert(at + 1, "    ");
    s.out() << "    " << values << "\n";
  }
  s.out() << "time: " << format_ms(total / static_cast<double>(repeat))
          << (repeat > 1 ? " mean of " + std::to_string(repeat) + " runs" : "") << " (seed " << seed << ")\n";
  return {};
}

// One dim of a sweep template: a fixed size or an inclusive range.
struct DimRange {
  int64_t lo = 0, hi = 0;
};

struct SweepInput {
  std::string name;
  std::vector<DimRange> dims;
  std::optional<DType> dtype;
};

// "1x[1..128]x64[:f32]".
Expected<SweepInput> parse_sweep_input(const std::string& name, const std::string& text) {
  SweepInput in;
  in.name = name;
  std::string shape = text;
  if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    in.dtype = dtype_from_name(text.substr(colon + 1));
    if (!in.dtype) return make_error(StatusCode::InvalidArgument, "unknown dtype '", text.substr(colon + 1), "'");
    shape = text.substr(0, colon);
  }
  if (shape == "scalar") return in;
  size_t at = 0;
  while (at <= shape.size()) {
    size_t x = shape.find('x', at);
    std::string part = shape.substr(at, x == std::string::npos ? std::string::npos : x - at);
    DimRange d;
    if (!part.empty() && part.front() == '[' && part.back() == ']') {
      size_t dots = part.find("..");
      if (dots == std::string::npos)
        return make_error(StatusCode::InvalidArgument, "range '", part, "' must look like [LO..HI]");
      DJ_ASSIGN_OR_RETURN(d.lo, parse_non_negative("a range bound", part.substr(1, dots - 1)));
      DJ_ASSIGN_OR_RETURN(d.hi, parse_non_negative("a range bound", part.substr(dots + 2, part.size() - dots - 3)));
      if (d.lo > d.hi) return make_error(StatusCode::InvalidArgument, "range '", part, "' is empty (LO > HI)");
    } else {
      DJ_ASSIGN_OR_RETURN(d.lo, parse_non_negative("a dim", part));
      d.hi = d.lo;
    }
    in.dims.push_back(d);
    if (x == std::string::npos) break;
    at = x + 1;
  }
  return in;
}

Status sweep_command(ReplSession& s, const ReplArgs& args) {
  std::vector<SweepInput> inputs;
  int64_t n = 100;
  uint64_t seed = s.next_seed();
  for (const std::string& a : args) {
    auto kv = split_key_value(a);
    if (!kv) return make_error(StatusCode::InvalidArgument, "expected NAME=DIMS, n=N or seed=N; got '", a, "'");
    if (kv->first == "n") {
      DJ_ASSIGN_OR_RETURN(n, parse_non_negative("n", kv->second));
    } else if (kv->first == "seed") {
      DJ_ASSIGN_OR_RETURN(int64_t v, parse_non_negative("seed", kv->second));
      seed = static_cast<uint64_t>(v);
    } else {
      if (s.graph().find_value(kv->first) == kNoValue)
        return make_error(StatusCode::InvalidArgument, "the model has no input '", kv->first, "'");
      DJ_ASSIGN_OR_RETURN(SweepInput in, parse_sweep_input(kv->first, kv->second));
      inputs.push_back(std::move(in));
    }
  }
  std::mt19937_64 rng(seed);
  auto start = std::chrono::steady_clock::now();
  size_t signatures_before = 0;
  for (const RegionStats& r : s.tracer().all_region_stats()) signatures_before += r.signatures.size();
  const bool progress = n >= 50;
  for (int64_t run = 0; run < n; ++run) {
    // A dim drawn for a symbol is reused wherever that symbol appears, so inputs
    // that share "batch" or "seq" stay consistent.
    std::map<std::string, int64_t> drawn;
    std::vector<InputSpec> specs;
    for (const SweepInput& in : inputs) {
      const ValueInfo& declared = s.graph().value(s.graph().find_value(in.name));
      Shape shape;
      for (size_t d = 0; d < in.dims.size(); ++d) {
        const DimRange& range = in.dims[d];
        std::optional<std::string> symbol;
        if (declared.shape && d < declared.shape->size() && (*declared.shape)[d].is_symbol())
          symbol = (*declared.shape)[d].symbol_name();
        int64_t v = range.lo;
        if (range.hi > range.lo) {
          if (symbol && drawn.count(*symbol)) {
            v = drawn[*symbol];
          } else {
            v = std::uniform_int_distribution<int64_t>(range.lo, range.hi)(rng);
          }
        }
        if (symbol && !drawn.count(*symbol)) drawn[*symbol] = v;
        shape.push_back(v);
      }
      InputSpec spec;
      spec.name = in.name;
      spec.shape = shape;
      spec.dtype = in.dtype;
      specs.push_back(std::move(spec));
    }
    DJ_ASSIGN_OR_RETURN(RunInputs prepared, prepare_run_inputs(s.graph(), specs, drawn, seed + 1 + run));
    double seconds = 0;
    auto out = run_once(s, std::move(prepared.tensors), seconds);
    if (!out.ok()) return out.status().with_context("run " + std::to_string(run + 1) + " of " + std::to_string(n) + ": ");
    if (progress && ((run + 1) % std::max<int64_t>(1, n / 10) == 0 || run + 1 == n)) {
      // On a terminal one line that updates; in a log, one line per tenth.
      if (isatty(STDERR_FILENO))
        std::cerr << "\rsweep: " << run + 1 << "/" << n << " runs" << (run + 1 == n ? "\n" : "") << std::flush;
      else
        std::cerr << "sweep: " << run + 1 << "/" << n << " runs\n";
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size_t signatures_after = 0;
  for (const RegionStats& r : s.tracer().all_region_stats()) signatures_after += r.signatures.size();
  s.out() << "sweep: " << n << " runs in " << format_ms(seconds) << " (seed " << seed << "); "
          << static_cast<int64_t>(signatures_after) - static_cast<int64_t>(signatures_before)
          << " new (region, signature) pairs; 'hot', 'paths', 'routes', 'prof' show what happened\n";
  return {};
}

Status seed_command(ReplSession& s, const ReplArgs& args) {
  if (args.size() != 1) return Status(StatusCode::InvalidArgument, "expected one number");
  DJ_ASSIGN_OR_RETURN(int64_t v, parse_non_negative("seed", args[0]));
  s.set_seed(static_cast<uint64_t>(v));
  s.out() << "next random inputs use seed " << v << "\n";
  return {};
}

}  // namespace

void register_run_commands(ReplCommandTable& table) {
  table.add({"run", "run [NAME=SHAPE[:DTYPE] | NAME=FILE.npy ...] [seed=N] [repeat=N] [print]",
             "run the model once on given or random inputs and show the outputs",
             "Inputs not named get random data of their declared shape (symbolic dims from the\n"
             "given inputs, else 1). SHAPE is like 1x17x64 or 'scalar'. 'print' shows every value.",
             run_command});
  table.add({"sweep", "sweep NAME=DIMS ... [n=N] [seed=N]",
             "run N times on random shapes drawn from ranges, e.g. sweep x=1x[1..128]x64 n=200",
             "Each dim is a size or an inclusive range [LO..HI] drawn uniformly per run; a symbol\n"
             "shared by several inputs (e.g. 'seq') is drawn once per run. Default n=100.",
             sweep_command});
  table.add({"seed", "seed N", "set the seed of the next random inputs", "", seed_command});
}

}  // namespace dj
