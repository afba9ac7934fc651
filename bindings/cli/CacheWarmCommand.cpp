// `dj cache warm MODEL --shape "NAME=SHAPE ..." ...`: compiles a model's regions
// for the given input shapes ahead of deployment and stores them in the code
// cache, so that a server started with DJ_WARM_CACHE=1 runs them compiled from its
// first request. One run per --shape, on random data; already-cached regions are
// loaded rather than compiled again.
#include <cstdlib>
#include <iostream>

#include "bindings/cli/CliCommands.h"
#include "bindings/cli/InputSpec.h"
#include "bindings/cli/RunInputs.h"
#include "frontend/OnnxLoader.h"
#include "runtime/InputBinding.h"
#include "runtime/Interpreter.h"
#ifdef DJ_HAVE_JIT
#include "specializer/JitReport.h"
#include "specializer/Specializer.h"
#endif

namespace dj {
namespace {

const char kWarmUsage[] =
    "usage: dj cache warm MODEL --shape \"NAME=SHAPE[:DTYPE] ...\" [--shape ...] [--dir DIR]\n"
    "\n"
    "Compiles MODEL's regions for each --shape (one set of inputs, like dj run's\n"
    "--input; inputs not named get their declared shape, symbolic dims from the named\n"
    "ones) and stores the code in the cache (DJ_CACHE_DIR, or --dir). Shape-generic\n"
    "versions are made once a region has more shapes than DJ_JIT_MAX_SPECS.\n"
    "\n"
    "example: dj cache warm models/tiny_encoder.onnx --shape \"tokens=1x64x32\" --shape \"tokens=8x128x32\"\n";

}  // namespace

int cache_warm_command(const std::vector<std::string>& args) {
  std::string model_path, dir;
  std::vector<std::vector<InputSpec>> runs;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string value;
    bool missing = false;
    if (a == "-h" || a == "--help") {
      std::cout << kWarmUsage;
      return 0;
    }
    if (take_flag_value(args, i, "--shape", value, missing)) {
      if (missing) return report_usage_error("--shape needs inputs, like \"x=1x16\"", "cache warm");
      std::vector<InputSpec> specs;
      size_t at = 0;
      while (at < value.size()) {
        size_t end = value.find(' ', at);
        std::string word = value.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (!word.empty()) {
          auto spec = parse_input_spec(word);
          if (!spec.ok()) return report_usage_error(spec.status().message(), "cache warm");
          specs.push_back(std::move(spec).value());
        }
        if (end == std::string::npos) break;
        at = end + 1;
      }
      runs.push_back(std::move(specs));
    } else if (take_flag_value(args, i, "--dir", dir, missing)) {
      if (missing) return report_usage_error("--dir needs a directory", "cache warm");
    } else if (!a.empty() && a[0] == '-') {
      return report_usage_error("unknown option '" + a + "'", "cache warm");
    } else if (model_path.empty()) {
      model_path = a;
    } else {
      return report_usage_error("unexpected argument '" + a + "'", "cache warm");
    }
  }
  if (model_path.empty()) return report_usage_error("no MODEL given", "cache warm");
  if (runs.empty()) return report_usage_error("no --shape given: which shapes should be compiled?", "cache warm");
#ifndef DJ_HAVE_JIT
  return report_error(Status(StatusCode::Unsupported, "this build has no JIT (DJ_BUILD_JIT=OFF)"));
#else
  if (!dir.empty()) setenv("DJ_CACHE_DIR", dir.c_str(), 1);  // the specializer opens the cache from the environment
  auto loaded = load_model_file(model_path);
  if (!loaded.ok()) return report_error(loaded.status());
  auto model = std::make_shared<const Model>(std::move(loaded).value());
  InterpreterOptions io = InterpreterOptions::from_environment();
  io.trace = true;
  io.trace_options.hotness.min_count = 1;  // every region seen once is compiled
  Interpreter interpreter(model, io);
  specializer::SpecializerOptions so = specializer::SpecializerOptions::from_environment();
  so.background = false;
  so.warm_cache = false;
  auto jit = specializer::Specializer::attach(interpreter, so);
  if (!jit->has_cache()) {
    jit->detach();
    return report_error(Status(StatusCode::IoError, "the code cache is off or its directory was refused (see above)"));
  }
  for (size_t r = 0; r < runs.size(); ++r) {
    auto prepared = prepare_run_inputs(*model->graph, runs[r], {}, r);
    if (!prepared.ok()) return report_error(prepared.status());
    auto bound = bind_inputs(*model->graph, prepared->tensors);
    if (!bound.ok()) return report_error(bound.status());
    std::cerr << "cache warm: shape " << r + 1 << "/" << runs.size() << ":";
    for (const auto& t : prepared->tensors) std::cerr << " " << t.name << "=" << t.tensor.describe();
    std::cerr << "\n";
    auto out = interpreter.run(std::move(bound).value());
    if (!out.ok()) return report_error(out.status());
  }
  std::cout << specializer::format_specializations(*jit, interpreter.regions());
  specializer::SpecializerStats st = jit->stats();
  jit->detach();
  return st.failed ? 1 : 0;
#endif
}

}  // namespace dj
