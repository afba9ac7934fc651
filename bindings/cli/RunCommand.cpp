// `dj run MODEL ...`: runs a model on given or random inputs and reports the
// outputs, the time of the run(s) and peak memory.
//
// Uses the C++ runtime directly (frontend loader, bind_inputs, Interpreter), the
// same calls the C API makes, so errors read the same through both.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "bindings/cli/CliCommands.h"
#include "bindings/cli/InputSpec.h"
#include "bindings/cli/NpyFile.h"
#include "bindings/cli/RunInputs.h"
#include "bindings/cli/TensorSummary.h"
#include "bindings/cli/TraceTables.h"
#include "frontend/OnnxLoader.h"
#include "runtime/Allocator.h"
#include "runtime/Device.h"
#include "runtime/InputBinding.h"
#include "runtime/Interpreter.h"
#include "runtime/Log.h"
#include "runtime/TraceReport.h"
#ifdef DJ_HAVE_JIT
#include "specializer/DevicePlacement.h"
#include "specializer/JitReport.h"
#endif

namespace dj {
namespace {

const char kRunUsage[] =
    "usage: dj run MODEL [options]\n"
    "\n"
    "Runs MODEL (ONNX, binary or text) once and prints each input's dtype and shape,\n"
    "each output's dtype, shape, min/max/mean and first values, the run time, and\n"
    "peak memory (tensor bytes, and the process's peak resident set).\n"
    "\n"
    "options:\n"
    "  --input NAME=SHAPE[:DTYPE]  random data of this shape for input NAME; SHAPE is\n"
    "                              like 1x37x256, or 'scalar'; DTYPE (f32 f64 f16 bf16\n"
    "                              i64 i32 i16 i8 u64 u32 u16 u8 bool) defaults to the\n"
    "                              model's declared dtype\n"
    "  --input NAME=:DTYPE         random data of the declared shape, in DTYPE\n"
    "  --input NAME=FILE.npy       the data in a NumPy .npy file\n"
    "  --dim SYMBOL=N              the size of a symbolic dim (e.g. batch=4) for inputs\n"
    "                              made up by dj\n"
    "  --seed N                    seed of the random data (default 0)\n"
    "  --repeat N                  run N times; print the median time (default 1)\n"
    "  --print-values              print every value of each output (default: the first 8)\n"
    "  --save-outputs DIR          write each output to DIR/NAME.npy (bf16 as f32)\n"
    "  --stats                     after the runs, print what the tracer recorded: time per\n"
    "                              region, If/Loop paths and expert routing\n"
    "  --stats-json                the same statistics as JSON (what dj_model_stats returns)\n"
    "  --device cpu|cuda|auto      where compiled regions run (default: DJ_DEVICE, else cpu);\n"
    "                              cuda fails, naming why, without a usable GPU; auto\n"
    "                              falls back to the CPU (DJ_LOG=info says why)\n"
    "  -h, --help                  this help\n"
    "\n"
    "Inputs not given with --input get random data of their declared dtype and shape;\n"
    "each symbolic dim takes its size from --dim, else from a given input with the\n"
    "same symbol, else 1 (a note on stderr says so). Random data: floats uniform in\n"
    "[-1, 1), integers in [0, 10), bools 0 or 1.\n"
    "\n"
    "Environment: DJ_LOG=info (or debug) logs the load time (and each run's time, and\n"
    "what the JIT compiles) on stderr; DJ_MAX_MEMORY_MB caps tensor memory; DJ_JIT=off\n"
    "runs everything interpreted; DJ_JIT_THRESHOLD=N compiles a region's shape after N\n"
    "runs (default 8), in the background.\n"
    "\n"
    "example: dj run model.onnx --input x=1x37x256:f32 --repeat 10\n";

struct RunOptions {
  std::string model_path;
  std::vector<InputSpec> inputs;
  std::map<std::string, int64_t> dims;
  uint64_t seed = 0;
  int64_t repeat = 1;
  bool print_values = false;
  std::string save_dir;
  bool stats = false;
  bool stats_json = false;
  std::optional<DeviceRequest> device;
};

// Returns an exit code when parsing ends the command (help or a usage error).
std::optional<int> parse_run_options(const std::vector<std::string>& args, RunOptions& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string value;
    bool missing = false;
    if (a == "-h" || a == "--help") {
      std::cout << kRunUsage;
      return 0;
    }
    if (a == "--print-values") {
      o.print_values = true;
    } else if (a == "--stats") {
      o.stats = true;
    } else if (a == "--stats-json") {
      o.stats_json = true;
    } else if (take_flag_value(args, i, "--input", value, missing)) {
      if (missing) return report_usage_error("--input needs a value", "run");
      auto spec = parse_input_spec(value);
      if (!spec.ok()) return report_usage_error(spec.status().message(), "run");
      o.inputs.push_back(std::move(spec).value());
    } else if (take_flag_value(args, i, "--dim", value, missing)) {
      if (missing) return report_usage_error("--dim needs a value", "run");
      auto dim = parse_dim_binding(value);
      if (!dim.ok()) return report_usage_error(dim.status().message(), "run");
      o.dims[dim->first] = dim->second;
    } else if (take_flag_value(args, i, "--seed", value, missing)) {
      auto v = missing ? std::nullopt : parse_count(value);
      if (!v) return report_usage_error("--seed needs a non-negative integer", "run");
      o.seed = static_cast<uint64_t>(*v);
    } else if (take_flag_value(args, i, "--repeat", value, missing)) {
      auto v = missing ? std::nullopt : parse_count(value);
      if (!v || *v < 1) return report_usage_error("--repeat needs a positive integer", "run");
      o.repeat = *v;
    } else if (take_flag_value(args, i, "--device", value, missing)) {
      if (missing) return report_usage_error("--device needs cpu, cuda or auto", "run");
      auto device = parse_device_request(value);
      if (!device.ok()) return report_usage_error(device.status().message(), "run");
      o.device = *device;
    } else if (take_flag_value(args, i, "--save-outputs", value, missing)) {
      if (missing || value.empty()) return report_usage_error("--save-outputs needs a directory", "run");
      o.save_dir = value;
    } else if (!a.empty() && a[0] == '-') {
      return report_usage_error("unknown option '" + a + "'", "run");
    } else if (o.model_path.empty()) {
      o.model_path = a;
    } else {
      return report_usage_error("unexpected argument '" + a + "' (the model is '" + o.model_path + "')", "run");
    }
  }
  if (o.model_path.empty()) return report_usage_error("no MODEL given", "run");
  return std::nullopt;
}

// A file name for an output: the value name with anything but [A-Za-z0-9._-] as '_'.
std::string file_name_for(const std::string& value_name) {
  std::string s = value_name.empty() ? "output" : value_name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  if (s[0] == '.') s[0] = '_';
  return s + ".npy";
}

double peak_rss_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<double>(usage.ru_maxrss) * 1024.0;  // Linux reports KiB
}


}  // namespace

int run_command(const std::vector<std::string>& args) {
  RunOptions o;
  if (auto exit_code = parse_run_options(args, o)) return *exit_code;

  auto load_start = std::chrono::steady_clock::now();
  auto loaded = load_model_file(o.model_path);
  if (!loaded.ok()) return report_error(loaded.status());
  DJ_LOG_INFO("loaded '" << o.model_path << "' in "
                         << format_ms(std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count()));
  auto model = std::make_shared<const Model>(std::move(loaded).value());
  const Graph& graph = *model->graph;
  std::cout << "model: " << o.model_path << " (opset " << model->opset << ", " << graph.count_nodes_recursive()
            << " nodes)\n";

  auto prepared = prepare_run_inputs(graph, o.inputs, o.dims, o.seed);
  if (!prepared.ok()) return report_error(prepared.status());
  for (const std::string& note : prepared->notes) std::cerr << "dj: note: " << note << "\n";
  std::cout << "inputs:\n";
  for (size_t i = 0; i < prepared->tensors.size(); ++i)
    std::cout << "  " << prepared->tensors[i].name << ": " << prepared->tensors[i].tensor.describe() << "  "
              << prepared->origins[i] << (prepared->origins[i].rfind("random", 0) == 0 ? ", seed " + std::to_string(o.seed) : "")
              << "\n";

  auto bound = bind_inputs(graph, prepared->tensors);
  if (!bound.ok()) return report_error(bound.status());
  prepared->tensors.clear();  // bound holds the inputs now

  Interpreter interpreter(model);
  const DeviceRequest device = o.device.value_or(device_request_from_env(DeviceRequest::Cpu));
#ifdef DJ_HAVE_JIT
  auto attached = specializer::attach_on_device(interpreter, specializer::SpecializerOptions::from_environment(), device);
  if (!attached.ok()) return report_error(attached.status());
  std::shared_ptr<specializer::Specializer> jit = *attached;
  struct DetachOnExit {
    std::shared_ptr<specializer::Specializer>& jit;
    ~DetachOnExit() {
      if (jit) jit->detach();
    }
  } detach_on_exit{jit};
#else
  if (auto resolved = resolve_device(device); !resolved.ok() || *resolved != DeviceKind::Cpu)
    return report_error(resolved.ok() ? Status(StatusCode::Unsupported, "this build has no JIT: nothing runs on a GPU")
                                      : resolved.status());
#endif
  const int64_t live_before = CpuAllocator::live_bytes();
  CpuAllocator::reset_peak();
  std::vector<double> seconds;
  std::vector<Tensor> outputs;
  for (int64_t r = 0; r < o.repeat; ++r) {
    auto start = std::chrono::steady_clock::now();
    auto result = interpreter.run(bound.value());
    auto stop = std::chrono::steady_clock::now();
    if (!result.ok()) return report_error(result.status());
    seconds.push_back(std::chrono::duration<double>(stop - start).count());
    DJ_LOG_DEBUG("run " << r + 1 << "/" << o.repeat << ": " << format_ms(seconds.back()));
    outputs = std::move(result).value();
  }
  const int64_t peak_tensor_bytes = CpuAllocator::peak_bytes();

  std::cout << "outputs:\n";
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string& name = graph.value(graph.outputs[i]).name;
    const Tensor& t = outputs[i];
    std::cout << "  " << name << ": " << t.describe() << "  " << summarize_tensor(t) << "\n";
    std::string values = format_values(t, o.print_values ? 0 : 8);
    for (size_t at = values.find('\n'); at != std::string::npos; at = values.find('\n', at + 1))
      values.insert(at + 1, "    ");
    std::cout << "    " << values << "\n";
  }

  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                          : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  if (o.repeat == 1)
    std::cout << "time: " << format_ms(median) << " (one run)\n";
  else
    std::cout << "time: " << format_ms(median) << " median of " << o.repeat << " runs (min "
              << format_ms(sorted.front()) << ", max " << format_ms(sorted.back()) << ")\n";
  std::cout << "memory: peak tensor memory " << format_bytes(static_cast<double>(peak_tensor_bytes)) << " ("
            << format_bytes(static_cast<double>(live_before)) << " of it weights and inputs), peak RSS "
            << format_bytes(peak_rss_bytes()) << "\n";

  if (o.stats && interpreter.tracer()) {
    const RegionPlan& plan = interpreter.regions();
    std::cout << "stats:\n" << format_profile(plan, *interpreter.tracer());
    std::cout << format_hot(plan, *interpreter.tracer(), 10);
    bool control = false, routed = false;
    for (const Region& r : plan.regions()) {
      control |= r.kind == RegionKind::Control;
      routed |= !r.routers.empty();
    }
    if (control) std::cout << format_paths(plan, *interpreter.tracer());
    if (routed) std::cout << format_routes(plan, *interpreter.tracer());
#ifdef DJ_HAVE_JIT
    std::cout << (jit ? "jit: " + specializer::format_specializations(*jit, plan) : std::string("jit: off (DJ_JIT=off)\n"));
#endif
  }
  if (o.stats_json) {
    std::function<void(JsonWriter&)> jit_section;
#ifdef DJ_HAVE_JIT
    if (jit) jit_section = [&](JsonWriter& w) { specializer::write_jit_json(w, *jit, interpreter.regions()); };
#endif
    std::cout << trace_stats_json(*model, interpreter.regions(), interpreter.tracer(), jit_section) << "\n";
  }
  if ((o.stats || o.stats_json) && !interpreter.tracer()) std::cerr << "dj: note: tracing is off (DJ_TRACE=off)\n";

  if (!o.save_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.save_dir, ec);
    if (ec) return report_error(make_error(StatusCode::IoError, "cannot create directory '", o.save_dir, "': ", ec.message()));
    std::set<std::string> used;  // two names may map to one file name
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::string file = file_name_for(graph.value(graph.outputs[i]).name);
      if (!used.insert(file).second) {
        file = file.substr(0, file.size() - 4) + "_" + std::to_string(i) + ".npy";
        used.insert(file);
      }
      std::string path = (std::filesystem::path(o.save_dir) / file).string();
      Status s = write_npy(path, outputs[i]);
      if (!s.ok()) return report_error(s);
      std::cout << "saved: " << path << "\n";
    }
  }
  return 0;
}

}  // namespace dj
