// `dj bench MODEL ...`: latency, memory and compile time of a model, interpreter
// against JIT, over one or more input shapes, in one process.
//
// Two engines share the loaded model: the reference (an Interpreter with no
// tracing and no JIT) and the JIT one (traced, a Specializer attached through
// attach_on_device, as `dj run` does). Per shape set: warm-up runs on both, then a
// wait until every background compile is installed, one checked run of each
// (outputs must agree within 1e-4 + 1e-4*|ref|), then N timed runs alternating the
// engines so machine load hits both alike. Invariants: the JIT's figures are
// taken after its compiles finished (compile time is reported apart, never inside
// a latency); hotness is by count only, so what compiles does not depend on load;
// the code cache is off unless --cache, so compile times are compiles.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <set>

#include "bindings/cli/CliCommands.h"
#include "bindings/cli/InputSpec.h"
#include "bindings/cli/RunInputs.h"
#include "frontend/OnnxLoader.h"
#include "runtime/Allocator.h"
#include "runtime/Device.h"
#include "runtime/InputBinding.h"
#include "runtime/Interpreter.h"
#include "runtime/JsonWriter.h"
#ifdef DJ_HAVE_JIT
#include "specializer/DevicePlacement.h"
#endif

namespace dj {
namespace {

const char kBenchUsage[] =
    "usage: dj bench MODEL [options]\n"
    "\n"
    "Times MODEL on the reference interpreter and on the JIT, in one process, for each\n"
    "shape set, and prints per set: median and p90 latency of each engine, the ratio\n"
    "interpreter/JIT, how many region runs of the JIT engine ran compiled code, the\n"
    "compile time and specializations it took, peak tensor memory, and the largest\n"
    "difference between the two engines' outputs.\n"
    "\n"
    "options:\n"
    "  --shape \"NAME=SHAPE[:DTYPE] ...\"\n"
    "                              one shape set: its inputs, separated by spaces or commas\n"
    "                              (SHAPE like 1x37x256, or 'scalar'; NAME=FILE.npy works\n"
    "                              too); repeat for more sets, as in 'dj cache warm'\n"
    "  --shapes 'SET;SET;...'      several shape sets at once, separated by ';', e.g.\n"
    "                              --shapes 'x=1x16;x=256x16' or 'a=2x3,b=2x3;a=8x3,b=8x3'\n"
    "  --dim SYMBOL=N              the size of a symbolic dim for inputs made up by dj\n"
    "  --runs N                    timed runs per engine and set (default 50)\n"
    "  --warmup N                  untimed runs per engine and set first (default 10)\n"
    "  --seed N                    seed of the random input data (default 0)\n"
    "  --jit-only, --interp-only   time one engine only (no output comparison)\n"
    "  --cache                     use the on-disk code cache (default: off, so compile\n"
    "                              times are real compiles)\n"
    "  --json FILE                 also write the figures to FILE as JSON\n"
    "  --device cpu|cuda|auto      where compiled regions run (default: DJ_DEVICE, else cpu)\n"
    "  -h, --help                  this help\n"
    "\n"
    "Inputs a set does not give are made up as by 'dj run': the declared dtype and shape,\n"
    "each symbolic dim from --dim, else from a given input with the same symbol, else 1.\n"
    "Sets run in the order given; with no --shape or --shapes there is one set, all made\n"
    "up. The JIT engine compiles a shape once it ran min(DJ_JIT_THRESHOLD, --warmup)\n"
    "times (DJ_JIT is ignored: the options above choose the engines), in the background;\n"
    "timing starts after every compile is installed. The first compile of a process also\n"
    "pays for starting LLVM. Peak tensor memory counts host tensors (weights and inputs\n"
    "included), the highest of any one run.\n"
    "\n"
    "Exit status: 0; 1 when the model cannot run or the outputs of the two engines\n"
    "differ beyond 1e-4 + 1e-4*|reference|; 2 for a usage error.\n"
    "\n"
    "example: dj bench models/dynamic_mlp.onnx --shapes 'x=1x16;x=256x16' --runs 100\n";

struct BenchOptions {
  std::string model_path;
  std::vector<std::vector<InputSpec>> sets;  // --shape and --shapes, in order
  std::map<std::string, int64_t> dims;
  int64_t runs = 50;
  int64_t warmup = 10;
  uint64_t seed = 0;
  bool interp = true, jit = true, cache = false;
  std::string json_path;
  std::optional<DeviceRequest> device;
};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "x=1x16;x=256x16" or "a=2x3 b=2x3;a=4x3,b=4x3": sets split on ';', inputs on ',' or spaces.
Status parse_shape_sets(std::string_view text, const std::string& flag, std::vector<std::vector<InputSpec>>& sets) {
  size_t before = sets.size();
  for (size_t start = 0; start <= text.size();) {
    size_t end = std::min(text.find(';', start), text.size());
    std::string_view set_text = trimmed(text.substr(start, end - start));
    start = end + 1;
    if (set_text.empty()) continue;  // "a;;b" and a trailing ';' mean nothing more
    std::vector<InputSpec> set;
    for (size_t at = 0; at <= set_text.size();) {
      size_t end = std::min(set_text.find_first_of(", \t", at), set_text.size());
      std::string_view item = set_text.substr(at, end - at);
      at = end + 1;
      if (item.empty() && end < set_text.size() && set_text[end] != ',') continue;  // a run of spaces
      auto spec = parse_input_spec(item);
      if (!spec.ok()) return spec.status().with_context(flag + " set '" + std::string(set_text) + "': ");
      set.push_back(std::move(spec).value());
    }
    sets.push_back(std::move(set));
  }
  if (sets.size() == before)
    return make_error(StatusCode::InvalidArgument, flag, " '", text, "' has no shape set (write e.g. 'x=1x16;x=8x16')");
  return {};
}

// Returns an exit code when parsing ends the command (help or a usage error).
std::optional<int> parse_bench_options(const std::vector<std::string>& args, BenchOptions& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string value;
    bool missing = false;
    if (a == "-h" || a == "--help") {
      std::cout << kBenchUsage;
      return 0;
    }
    if (a == "--jit-only" || a == "--interp-only") {
      (a == "--jit-only" ? o.interp : o.jit) = false;
    } else if (a == "--cache") {
      o.cache = true;
    } else if (take_flag_value(args, i, "--shape", value, missing) || take_flag_value(args, i, "--shapes", value, missing)) {
      const std::string flag = a.rfind("--shapes", 0) == 0 ? "--shapes" : "--shape";
      if (missing) return report_usage_error(flag + " needs inputs, like 'x=1x16'", "bench");
      if (Status s = parse_shape_sets(value, flag, o.sets); !s.ok()) return report_usage_error(s.message(), "bench");
    } else if (take_flag_value(args, i, "--dim", value, missing)) {
      if (missing) return report_usage_error("--dim needs a value", "bench");
      auto dim = parse_dim_binding(value);
      if (!dim.ok()) return report_usage_error(dim.status().message(), "bench");
      o.dims[dim->first] = dim->second;
    } else if (take_flag_value(args, i, "--runs", value, missing)) {
      auto v = missing ? std::nullopt : parse_count(value);
      if (!v || *v < 1) return report_usage_error("--runs needs a positive integer", "bench");
      o.runs = *v;
    } else if (take_flag_value(args, i, "--warmup", value, missing)) {
      auto v = missing ? std::nullopt : parse_count(value);
      if (!v) return report_usage_error("--warmup needs a non-negative integer", "bench");
      o.warmup = *v;
    } else if (take_flag_value(args, i, "--seed", value, missing)) {
      auto v = missing ? std::nullopt : parse_count(value);
      if (!v) return report_usage_error("--seed needs a non-negative integer", "bench");
      o.seed = static_cast<uint64_t>(*v);
    } else if (take_flag_value(args, i, "--json", value, missing)) {
      if (missing || value.empty()) return report_usage_error("--json needs a file name", "bench");
      o.json_path = value;
    } else if (take_flag_value(args, i, "--device", value, missing)) {
      if (missing) return report_usage_error("--device needs cpu, cuda or auto", "bench");
      auto device = parse_device_request(value);
      if (!device.ok()) return report_usage_error(device.status().message(), "bench");
      o.device = *device;
    } else if (!a.empty() && a[0] == '-') {
      return report_usage_error("unknown option '" + a + "'", "bench");
    } else if (o.model_path.empty()) {
      o.model_path = a;
    } else {
      return report_usage_error("unexpected argument '" + a + "' (the model is '" + o.model_path + "')", "bench");
    }
  }
  if (!o.interp && !o.jit) return report_usage_error("--jit-only and --interp-only exclude each other", "bench");
  if (o.model_path.empty()) return report_usage_error("no MODEL given", "bench");
  return std::nullopt;
}

// The largest |jit - reference| over all outputs, and whether every element is
// within 1e-4 + 1e-4*|reference| (NaN must match NaN; non-float outputs: equal).
struct Agreement {
  double max_abs_error = 0;
  bool ok = true;
  std::string worst;  // the first output out of tolerance, described
};

Agreement compare_outputs(const Graph& graph, const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
  Agreement a;
  if (got.size() != want.size()) return {INFINITY, false, "the number of outputs differs"};
  for (size_t o = 0; o < got.size(); ++o) {
    const std::string& name = graph.value(graph.outputs[o]).name;
    if (!got[o].on_host() || !want[o].on_host())
      return {INFINITY, false, "output '" + name + "' was left on a device"};
    if (got[o].shape() != want[o].shape() || got[o].dtype() != want[o].dtype())
      return {INFINITY, false, "output '" + name + "' is " + got[o].describe() + ", expected " + want[o].describe()};
    Tensor g = got[o].contiguous(), w = want[o].contiguous();
    const bool is_float = dtype_is_float(g.dtype());
    bool output_ok = is_float || std::memcmp(g.raw_data(), w.raw_data(), g.nbytes()) == 0;
    dispatch_dtype(g.dtype(), AllTypes{}, [&](auto tag) {
      using T = decltype(tag);
      using C = typename ComputeType<T>::type;
      for (int64_t i = 0; i < g.numel(); ++i) {
        double x = static_cast<double>(static_cast<C>(g.data<T>()[i]));
        double y = static_cast<double>(static_cast<C>(w.data<T>()[i]));
        if (std::isnan(x) && std::isnan(y)) continue;
        double d = std::isnan(x) != std::isnan(y) ? INFINITY : std::fabs(x - y);
        if (x == y) d = 0;  // equal infinities
        a.max_abs_error = std::max(a.max_abs_error, d);
        if (is_float && !(d <= 1e-4 + 1e-4 * std::fabs(y))) output_ok = false;
      }
    });
    if (!output_ok && a.ok) a.worst = "output '" + name + "' " + g.describe() + " differs";
    a.ok = a.ok && output_ok;
  }
  return a;
}

struct EngineFigures {
  std::vector<double> ms;  // one per timed run
  int64_t peak_tensor_bytes = 0;
  double median() const { return percentile(0.5); }
  double p90() const { return percentile(0.9); }
  double percentile(double q) const {  // nearest rank
    if (ms.empty()) return 0;
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(s.size())));
    return s[std::clamp<size_t>(rank, 1, s.size()) - 1];
  }
};

// What the JIT engine did: its counters, and per shape set their growth.
struct JitWork {
  uint64_t region_runs = 0, compiled_region_runs = 0;  // per set: during the timed runs only
  uint64_t specializations = 0, cache_hits = 0, failed = 0;
  double compile_ms = 0, cache_load_ms = 0;
};

struct SetResult {
  std::string label;  // "x=f32[1,16]"
  std::vector<std::string> input_names;
  std::vector<Tensor> inputs;  // model input order
  std::optional<EngineFigures> interp, jit;
  JitWork work;
  std::optional<Agreement> agreement;
};

// The two engines over one model; the specializer is detached before the
// interpreter it listens to goes away.
struct Engines {
  std::unique_ptr<Interpreter> reference, jit;
#ifdef DJ_HAVE_JIT
  std::shared_ptr<specializer::Specializer> specializer;
  ~Engines() {
    if (specializer) specializer->detach();
  }
#endif
  void wait_for_compiles(const std::string& label) const {
#ifdef DJ_HAVE_JIT
    if (size_t n = specializer ? specializer->compiles_in_flight() : 0)
      std::cerr << "bench: " << label << ": waiting for " << n << " compile" << (n == 1 ? "" : "s") << "\n";
    if (specializer) specializer->wait_idle();
#endif
  }
  JitWork counters() const {
    JitWork w;
    if (jit && jit->tracer())
      for (const RegionStats& r : jit->tracer()->all_region_stats()) {
        w.region_runs += r.count;
        w.compiled_region_runs += r.compiled;
      }
#ifdef DJ_HAVE_JIT
    if (specializer) {
      const specializer::SpecializerStats s = specializer->stats();
      w.specializations = s.compiled;  // cache hits are counted apart
      w.cache_hits = s.cache_hits;
      w.failed = s.failed;
      w.compile_ms = s.compile_ms;
      w.cache_load_ms = s.cache_load_ms;
    }
#endif
    return w;
  }
};

Status make_engines(const std::shared_ptr<const Model>& model, const BenchOptions& o, DeviceRequest device,
                    Engines& e) {
  InterpreterOptions plain = InterpreterOptions::from_environment();
  plain.trace = false;
  if (o.interp) e.reference = std::make_unique<Interpreter>(model, plain);
  if (!o.jit) return {};
#ifdef DJ_HAVE_JIT
  InterpreterOptions traced = InterpreterOptions::from_environment();
  traced.trace = true;
  HotnessPolicy& hot = traced.trace_options.hotness;
  hot.min_count = std::clamp<uint64_t>(hot.min_count, 1, std::max<uint64_t>(1, static_cast<uint64_t>(o.warmup)));
  hot.min_total_ms = std::numeric_limits<double>::infinity();  // count only: what compiles must not depend on load
  e.jit = std::make_unique<Interpreter>(model, traced);
  specializer::SpecializerOptions so = specializer::SpecializerOptions::from_environment();
  so.enabled = true;
  so.use_cache = o.cache;
  so.warm_cache = o.cache && so.warm_cache;
  DJ_ASSIGN_OR_RETURN(e.specializer, specializer::attach_on_device(*e.jit, so, device));
  return {};
#else
  return Status(StatusCode::Unsupported, "this build of DynaJIT has no JIT; use --interp-only");
#endif
}

Status timed_run(const Interpreter& engine, const std::vector<Tensor>& inputs, EngineFigures& f) {
  CpuAllocator::reset_peak();
  auto start = std::chrono::steady_clock::now();
  auto result = engine.run(inputs);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) return result.status();
  f.ms.push_back(ms);
  f.peak_tensor_bytes = std::max(f.peak_tensor_bytes, CpuAllocator::peak_bytes());
  return {};
}

Status bench_set(const Engines& e, const Graph& graph, const BenchOptions& o, SetResult& r) {
  std::cerr << "bench: " << r.label << ": " << o.warmup << " warm-up run" << (o.warmup == 1 ? "" : "s") << "\n";
  const JitWork before = e.counters();
  for (int64_t w = 0; w < o.warmup; ++w) {
    for (const Interpreter* engine : {e.reference.get(), e.jit.get()})
      if (engine) DJ_RETURN_IF_ERROR(engine->run(r.inputs).status());
  }
  e.wait_for_compiles(r.label);
  if (e.reference && e.jit) {
    DJ_ASSIGN_OR_RETURN(std::vector<Tensor> want, e.reference->run(r.inputs));
    DJ_ASSIGN_OR_RETURN(std::vector<Tensor> got, e.jit->run(r.inputs));
    r.agreement = compare_outputs(graph, got, want);
  }
  std::cerr << "bench: " << r.label << ": " << o.runs << " timed run" << (o.runs == 1 ? "" : "s") << "\n";
  if (e.reference) r.interp.emplace();
  if (e.jit) r.jit.emplace();
  const JitWork timed_from = e.counters();
  for (int64_t k = 0; k < o.runs; ++k) {
    // Alternate which engine goes first, so neither always runs on the other's warm cache lines.
    if (e.jit && k % 2) DJ_RETURN_IF_ERROR(timed_run(*e.jit, r.inputs, *r.jit));
    if (e.reference) DJ_RETURN_IF_ERROR(timed_run(*e.reference, r.inputs, *r.interp));
    if (e.jit && !(k % 2)) DJ_RETURN_IF_ERROR(timed_run(*e.jit, r.inputs, *r.jit));
  }
  const JitWork timed_to = e.counters();
  e.wait_for_compiles(r.label);  // a compile the timed runs started belongs to this set
  const JitWork after = e.counters();
  r.work = {timed_to.region_runs - timed_from.region_runs,
            timed_to.compiled_region_runs - timed_from.compiled_region_runs,
            after.specializations - before.specializations,
            after.cache_hits - before.cache_hits,
            after.failed - before.failed,
            after.compile_ms - before.compile_ms,
            after.cache_load_ms - before.cache_load_ms};
  return {};
}

// Checked here rather than left to prepare_run_inputs, whose message speaks of --input.
Status check_input_names(const Graph& graph, const std::vector<InputSpec>& set) {
  std::string names;
  for (ValueId id : graph.inputs) names += (names.empty() ? "" : ", ") + graph.value(id).name;
  for (const InputSpec& spec : set)
    if (std::none_of(graph.inputs.begin(), graph.inputs.end(),
                     [&](ValueId id) { return graph.value(id).name == spec.name; }))
      return make_error(StatusCode::InvalidArgument, "the model has no input '", spec.name, "' (its inputs: ", names, ")");
  return {};
}

std::string fixed(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string table_row(const char* name, const std::string& median, const std::string& p90, const std::string& memory,
                      const std::string& compiled) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "  %-12s %11s %11s %16s %21s\n", name, median.c_str(), p90.c_str(), memory.c_str(),
                compiled.c_str());
  return buf;
}

void print_set(const SetResult& r, bool cache) {
  std::cout << "\nshape " << r.label << "\n"
            << table_row("engine", "median ms", "p90 ms", "peak tensor mem", "compiled region runs");
  auto row = [&](const char* name, const EngineFigures& f, const std::string& compiled) {
    std::cout << table_row(name, fixed("%.4f", f.median()), fixed("%.4f", f.p90()),
                           format_bytes(static_cast<double>(f.peak_tensor_bytes)), compiled);
  };
  if (r.interp) row("interpreter", *r.interp, "-");
  if (r.jit)
    row("jit", *r.jit, std::to_string(r.work.compiled_region_runs) + "/" + std::to_string(r.work.region_runs));
  if (r.interp && r.jit) std::cout << "  interp/jit: " << fixed("%.2fx", r.interp->median() / r.jit->median()) << "\n";
  if (r.jit) {
    std::cout << "  specializations: " << r.work.specializations << " compiled in " << fixed("%.1f ms", r.work.compile_ms);
    if (cache) std::cout << ", " << r.work.cache_hits << " loaded from the cache in " << fixed("%.1f ms", r.work.cache_load_ms);
    if (r.work.failed) std::cout << ", " << r.work.failed << " failed (see the warnings above)";
    std::cout << "\n";
  }
  if (r.agreement)
    std::cout << "  outputs: max abs error " << fixed("%.3g", r.agreement->max_abs_error)
              << (r.agreement->ok ? " (agree)" : " (DIFFER: " + r.agreement->worst + ")") << "\n";
}

void write_engine_json(JsonWriter& w, const char* key, const std::optional<EngineFigures>& f) {
  w.key(key);
  if (!f) return void(w.null());
  w.begin_object().field("median_ms", f->median()).field("p90_ms", f->p90());
  w.field("min_ms", *std::min_element(f->ms.begin(), f->ms.end()));
  w.field("peak_tensor_bytes", f->peak_tensor_bytes).end_object();
}

std::string bench_json(const BenchOptions& o, DeviceKind device, const std::vector<SetResult>& results) {
  JsonWriter w;
  w.begin_object().field("model", o.model_path).field("device", device_kind_name(device));
  w.field("runs", o.runs).field("warmup", o.warmup).field("seed", o.seed).field("cache", o.cache);
  w.key("shapes").begin_array();
  for (const SetResult& r : results) {
    w.begin_object().field("label", r.label).key("inputs").begin_array();
    for (size_t i = 0; i < r.inputs.size(); ++i) {
      w.begin_object().field("name", r.input_names[i]).field("dtype", dtype_name(r.inputs[i].dtype())).key("shape").begin_array();
      for (int64_t d : r.inputs[i].shape()) w.value(d);
      w.end_array().end_object();
    }
    w.end_array();
    write_engine_json(w, "interpreter", r.interp);
    write_engine_json(w, "jit", r.jit);
    w.key("ratio_interp_over_jit");
    r.interp && r.jit ? w.value(r.interp->median() / r.jit->median()) : w.null();
    if (r.jit) {
      w.key("jit_work").begin_object().field("region_runs", r.work.region_runs);
      w.field("compiled_region_runs", r.work.compiled_region_runs).field("specializations", r.work.specializations);
      w.field("compile_ms", r.work.compile_ms).field("cache_hits", r.work.cache_hits);
      w.field("cache_load_ms", r.work.cache_load_ms).field("failed", r.work.failed).end_object();
    }
    w.key("max_abs_error");
    r.agreement ? w.value(r.agreement->max_abs_error) : w.null();
    w.key("outputs_agree");
    r.agreement ? w.value(r.agreement->ok) : w.null();
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
  BenchOptions o;
  if (auto exit_code = parse_bench_options(args, o)) return *exit_code;
  const DeviceRequest device = o.device.value_or(device_request_from_env(DeviceRequest::Cpu));
  auto resolved = resolve_device(device);  // first, so that an unusable GPU is said before any work
  if (!resolved.ok()) return report_error(resolved.status());

  auto loaded = load_model_file(o.model_path);
  if (!loaded.ok()) return report_error(loaded.status());
  auto model = std::make_shared<const Model>(std::move(loaded).value());
  const Graph& graph = *model->graph;

  const std::vector<std::vector<InputSpec>> sets = o.sets.empty() ? std::vector<std::vector<InputSpec>>(1) : o.sets;
  std::vector<SetResult> results(sets.size());
  std::set<std::string> notes_said;
  for (size_t s = 0; s < sets.size(); ++s) {
    const std::string set_name = "shape set " + std::to_string(s + 1) + ": ";
    if (Status st = check_input_names(graph, sets[s]); !st.ok()) return report_error(st.with_context(set_name));
    auto prepared = prepare_run_inputs(graph, sets[s], o.dims, o.seed);
    if (!prepared.ok()) return report_error(prepared.status().with_context(set_name));
    for (const std::string& note : prepared->notes)
      if (notes_said.insert(note).second) std::cerr << "dj: note: " << note << "\n";
    for (const NamedTensor& t : prepared->tensors) {
      results[s].input_names.push_back(t.name);
      results[s].label += (results[s].label.empty() ? "" : ", ") + t.name + "=" + t.tensor.describe();
    }
    auto bound = bind_inputs(graph, prepared->tensors);
    if (!bound.ok()) return report_error(bound.status().with_context(set_name));
    results[s].inputs = std::move(bound).value();
  }

  Engines engines;
  if (Status s = make_engines(model, o, device, engines); !s.ok()) return report_error(s);
  std::cout << "model: " << o.model_path << " (opset " << model->opset << ", " << graph.count_nodes_recursive()
            << " nodes), device " << device_kind_name(*resolved) << ", " << o.runs << " timed runs after " << o.warmup
            << " warm-up, code cache " << (o.cache ? "on" : "off") << "\n";
  for (SetResult& r : results) {
    if (Status s = bench_set(engines, graph, o, r); !s.ok()) return report_error(s.with_context(r.label + ": "));
    print_set(r, o.cache);
  }
  if (!o.json_path.empty()) {
    std::ofstream json(o.json_path);
    json << bench_json(o, *resolved, results) << "\n";
    if (!json.good()) return report_error(make_error(StatusCode::IoError, "cannot write '", o.json_path, "'"));
  }
  for (const SetResult& r : results)
    if (r.agreement && !r.agreement->ok)
      return report_error(make_error(StatusCode::Internal, "the JIT's outputs differ from the interpreter's for ",
                                     r.label, ": ", r.agreement->worst, " (max abs error ", r.agreement->max_abs_error,
                                     ", tolerance 1e-4 + 1e-4*|reference|)"));
  return 0;
}

}  // namespace dj
