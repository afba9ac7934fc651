// The ONNX conformance runner: loads each test's model.onnx, feeds every
// test_data_set_*/input_*.pb and compares with output_*.pb.
//
// Layout (ONNX's backend test data): DIR/<test>/model.onnx and
// DIR/<test>/test_data_set_<k>/{input,output}_<i>.pb. Given directories are
// either a test directory or a directory of tests; by default libonnx-testdata's
// node, pytorch-converted, pytorch-operator and simple suites run.
// A test is "skipped" when the loader reports Unsupported (an op or a type
// DynaJIT does not implement); the reasons are listed with counts.
// Tolerances (stated here, applied per dtype): f32/f64 |a-e| <= 1e-5 + 1e-3*|e|;
// f16/bf16 |a-e| <= 1e-3 + 1e-2*|e| (bf16: 4e-2); integers and bool exact; NaN == NaN.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "frontend/OnnxLoader.h"
#include "frontend/OnnxTensor.h"
#include "runtime/InputBinding.h"
#include "runtime/Interpreter.h"
#ifdef DJ_HAVE_JIT
#include "specializer/Specializer.h"
#endif

namespace fs = std::filesystem;
using namespace dj;

namespace {

const char* g_current_test = "";

void on_crash(int sig) {
  const char msg[] = "\nconformance: CRASH (signal) while running test: ";
  (void)!write(2, msg, sizeof(msg) - 1);
  (void)!write(2, g_current_test, std::strlen(g_current_test));
  (void)!write(2, "\n", 1);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

struct Options {
  std::vector<std::string> dirs;
  std::string filter;
  int64_t min_pass = -1;
  int64_t max_fail = 0;
  bool verbose = false;
  bool jit = false;
};

void print_help() {
  std::cout << "usage: dj_conformance [--filter SUBSTR] [--min-pass N] [--max-fail N] [--verbose] [--jit] [DIR...]\n"
               "--jit: run each data set twice, compiling every region on its first run, so the second\n"
               "runs the JIT's code; both runs are checked against the expected outputs.\n"
               "Runs ONNX backend conformance tests (model.onnx + test_data_set_*/{input,output}_*.pb).\n"
               "DIR is a test directory or a directory of them; default: libonnx-testdata's node,\n"
               "pytorch-converted, pytorch-operator and simple suites.\n"
               "Prints one line per failure and 'conformance: N passed, N failed, N skipped'.\n"
               "Exit status 1 if fewer than --min-pass tests pass or more than --max-fail (default 0) fail.\n";
}

// ONNX 1.12's bfloat16 test data stores bf16 tensors as uint16 bit patterns; read
// them as the bf16 the model declares (same bits, no conversion).
Tensor as_declared_bf16(const Tensor& t, std::optional<DType> declared) {
  if (declared == DType::BF16 && t.dtype() == DType::U16)
    return Tensor::borrow(const_cast<void*>(t.raw_data()), DType::BF16, t.shape(), {}, [keep = t] {});
  return t;
}

// Numeric comparison with the stated per-dtype tolerance.
std::string compare(const Tensor& actual, const Tensor& expected_in) {
  Tensor expected = as_declared_bf16(expected_in, actual.dtype());
  if (actual.dtype() != expected.dtype())
    return std::string("dtype ") + dtype_name(actual.dtype()) + ", expected " + dtype_name(expected.dtype());
  if (actual.shape() != expected.shape())
    return "shape " + shape_to_string(actual.shape()) + ", expected " + shape_to_string(expected.shape());
  Tensor a = actual.contiguous();
  std::string err;
  dispatch_dtype(a.dtype(), AllTypes{}, [&](auto tag) {
    using T = decltype(tag);
    using C = typename ComputeType<T>::type;
    const T* x = a.data<T>();
    const T* e = expected.data<T>();
    for (int64_t i = 0; i < a.numel(); ++i) {
      bool ok;
      if constexpr (std::is_floating_point_v<C>) {
        double xv = static_cast<C>(x[i]), ev = static_cast<C>(e[i]);
        double atol = 1e-5, rtol = 1e-3;
        if (a.dtype() == DType::F16) atol = 1e-3, rtol = 1e-2;
        if (a.dtype() == DType::BF16) atol = 1e-2, rtol = 4e-2;
        if (std::isnan(ev)) ok = std::isnan(xv);
        else if (std::isinf(ev)) ok = xv == ev;
        else ok = std::fabs(xv - ev) <= atol + rtol * std::fabs(ev);
        if (!ok) {
          err = "element " + std::to_string(i) + " is " + std::to_string(xv) + ", expected " + std::to_string(ev);
          return;
        }
      } else {
        ok = x[i] == e[i];
        if (!ok) {
          err = "element " + std::to_string(i) + " is " + std::to_string(static_cast<int64_t>(x[i])) +
                ", expected " + std::to_string(static_cast<int64_t>(e[i]));
          return;
        }
      }
    }
  });
  return err;
}

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> files;
  std::regex re(prefix + "_([0-9]+)\\.pb");
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::smatch m;
    std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, re)) files.emplace_back(std::stoi(m[1]), entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<fs::path> out;
  for (auto& f : files) out.push_back(f.second);
  return out;
}

// Short reason for a skip, grouped in the summary: "op Foo" or "sequence type".
std::string skip_reason(const std::string& message) {
  std::smatch m;
  if (std::regex_search(message, m, std::regex("unsupported op '([^']+)'"))) return "op " + m[1].str();
  if (std::regex_search(message, m, std::regex("has an? ([a-z-]+) type"))) return m[1].str() + " type";
  if (std::regex_search(message, m, std::regex("element type ([A-Z0-9]+)"))) return "element type " + m[1].str();
  if (std::regex_search(message, m, std::regex("opset ([0-9]+) is newer"))) return "opset " + m[1].str();
  std::string s = message.substr(message.rfind(": ") == std::string::npos ? 0 : message.rfind(": ") + 2);
  return s.substr(0, 80);
}

enum class Outcome { Pass, Fail, Skip };

// What the JIT did across the run (--jit).
struct JitTally {
  uint64_t tests_with_compiled_runs = 0;
  uint64_t specializations = 0;
  uint64_t compile_failures = 0;
  std::vector<std::string> failures;
};
JitTally g_jit_tally;

Outcome run_test(const fs::path& dir, std::string& reason, bool jit) {
  auto model = load_model_file((dir / "model.onnx").string());
  if (!model.ok()) {
    reason = model.status().message();
    return model.status().code() == StatusCode::Unsupported ? Outcome::Skip : Outcome::Fail;
  }
  auto shared = std::make_shared<const Model>(std::move(model).value());
  InterpreterOptions options;
  options.trace = true;
  options.trace_options.hotness.min_count = 1;  // --jit: compile on first sight, run compiled the second time
  Interpreter interp(shared, options);
#ifdef DJ_HAVE_JIT
  std::shared_ptr<specializer::Specializer> specializer;
  if (jit) {
    specializer::SpecializerOptions so;
    so.background = false;
    so.use_cache = false;  // compile every time: this checks the compiler, not the cache
    so.compile_unfused_plans = true;  // one-op models too: each op's lowering is under test
    specializer = specializer::Specializer::attach(interp, so);
  }
  struct Detach {
    std::shared_ptr<specializer::Specializer>& s;
    const Interpreter& interp;
    ~Detach() {
      if (!s) return;
      auto st = s->stats();
      g_jit_tally.specializations += st.compiled;
      g_jit_tally.compile_failures += st.failed;
      for (const auto& f : s->recent_failures()) g_jit_tally.failures.push_back(f);
      uint64_t compiled = 0;
      for (const RegionStats& r : interp.tracer()->all_region_stats()) compiled += r.compiled;
      if (compiled) g_jit_tally.tests_with_compiled_runs += 1;
      s->detach();
    }
  } detach{specializer, interp};
#endif
  const int passes = jit ? 2 : 1;  // with --jit: the interpreted (compiling) run, then the compiled one
  const Graph& graph = *shared->graph;
  int data_sets = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory() || entry.path().filename().string().rfind("test_data_set_", 0) != 0) continue;
    ++data_sets;
    std::vector<NamedTensor> inputs;
    auto input_files = sorted_files(entry.path(), "input");
    for (size_t i = 0; i < input_files.size(); ++i) {
      auto t = read_tensor_pb_file(input_files[i].string());
      if (!t.ok()) {
        reason = t.status().message();
        return t.status().code() == StatusCode::Unsupported ? Outcome::Skip : Outcome::Fail;
      }
      inputs.push_back({"", std::move(t).value()});
    }
    // Test inputs are positional in graph-input order (their proto names are optional).
    if (inputs.size() > graph.inputs.size()) {
      reason = "test has " + std::to_string(inputs.size()) + " inputs, model has " + std::to_string(graph.inputs.size());
      return Outcome::Fail;
    }
    std::vector<Tensor> ordered(graph.inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i)
      ordered[i] = as_declared_bf16(inputs[i].tensor, graph.value(graph.inputs[i]).dtype);
    for (int pass = 0; pass < passes; ++pass) {
    auto out = interp.run(ordered);
    if (!out.ok()) {
      reason = entry.path().filename().string() + (pass ? " (2nd run, JIT)" : "") + ": " + out.status().to_string();
      return out.status().code() == StatusCode::Unsupported ? Outcome::Skip : Outcome::Fail;
    }
    auto expected_files = sorted_files(entry.path(), "output");
    if (expected_files.size() != out->size()) {
      reason = "produced " + std::to_string(out->size()) + " outputs, expected " + std::to_string(expected_files.size());
      return Outcome::Fail;
    }
    for (size_t i = 0; i < expected_files.size(); ++i) {
      auto e = read_tensor_pb_file(expected_files[i].string());
      if (!e.ok()) {
        reason = e.status().message();
        return e.status().code() == StatusCode::Unsupported ? Outcome::Skip : Outcome::Fail;
      }
      std::string diff = compare((*out)[i], *e);
      if (!diff.empty()) {
        reason = entry.path().filename().string() + (pass ? " (2nd run, JIT)" : "") + ": output " +
                 std::to_string(i) + " ('" + graph.value(graph.outputs[i]).name + "'): " + diff;
        return Outcome::Fail;
      }
    }
    }
  }
  if (data_sets == 0) {
    reason = "no test_data_set_* directory";
    return Outcome::Fail;
  }
  return Outcome::Pass;
}

void collect_tests(const fs::path& dir, std::vector<fs::path>& out) {
  if (fs::exists(dir / "model.onnx")) {
    out.push_back(dir);
    return;
  }
  std::vector<fs::path> children;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory()) children.push_back(entry.path());
  std::sort(children.begin(), children.end());
  for (const auto& c : children)
    if (fs::exists(c / "model.onnx")) out.push_back(c);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      print_help();
      return 0;
    } else if (a == "--filter" && i + 1 < argc) {
      opt.filter = argv[++i];
    } else if (a == "--min-pass" && i + 1 < argc) {
      opt.min_pass = std::atoll(argv[++i]);
    } else if (a == "--max-fail" && i + 1 < argc) {
      opt.max_fail = std::atoll(argv[++i]);
    } else if (a == "--verbose" || a == "-v") {
      opt.verbose = true;
    } else if (a == "--jit") {
#ifdef DJ_HAVE_JIT
      opt.jit = true;
#else
      std::cerr << "dj_conformance: --jit: this build has no JIT (DJ_BUILD_JIT=OFF)\n";
      return 2;
#endif
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "dj_conformance: unknown option '" << a << "'\n";
      print_help();
      return 2;
    } else {
      opt.dirs.push_back(a);
    }
  }
  if (opt.dirs.empty()) {
    const std::string root = "/usr/share/libonnx-testdata/data/";
    for (const char* suite : {"node", "pytorch-converted", "pytorch-operator", "simple"})
      opt.dirs.push_back(root + suite);
  }
  std::signal(SIGSEGV, on_crash);
  std::signal(SIGABRT, on_crash);
  std::signal(SIGFPE, on_crash);

  std::vector<fs::path> tests;
  for (const auto& d : opt.dirs) {
    if (!fs::is_directory(d)) {
      std::cerr << "dj_conformance: '" << d << "' is not a directory (is libonnx-testdata installed?)\n";
      return 2;
    }
    collect_tests(d, tests);
  }
  int64_t passed = 0, failed = 0, skipped = 0;
  std::map<std::string, int> skip_counts;
  std::string current;
  auto start = std::chrono::steady_clock::now();
  for (const auto& t : tests) {
    std::string name = t.parent_path().filename().string() + "/" + t.filename().string();
    if (!opt.filter.empty() && name.find(opt.filter) == std::string::npos) continue;
    current = name;
    g_current_test = current.c_str();
    std::string reason;
    Outcome o = run_test(t, reason, opt.jit);
    if (o == Outcome::Pass) {
      ++passed;
      if (opt.verbose) std::cout << "PASS " << name << "\n";
    } else if (o == Outcome::Fail) {
      ++failed;
      std::cout << "FAIL " << name << ": " << reason << "\n";
    } else {
      ++skipped;
      skip_counts[skip_reason(reason)]++;
      if (opt.verbose) std::cout << "SKIP " << name << ": " << reason << "\n";
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!skip_counts.empty()) {
    std::vector<std::pair<int, std::string>> sorted;
    for (auto& [k, v] : skip_counts) sorted.emplace_back(-v, k);
    std::sort(sorted.begin(), sorted.end());
    std::cout << "skipped by reason:";
    for (auto& [neg, k] : sorted) std::cout << " " << k << " (" << -neg << ");";
    std::cout << "\n";
  }
  std::printf("time: %.1f s\n", secs);
  if (opt.jit) {
    std::printf("jit: compiled code ran in %llu tests; %llu specializations, %llu compile failures\n",
                static_cast<unsigned long long>(g_jit_tally.tests_with_compiled_runs),
                static_cast<unsigned long long>(g_jit_tally.specializations),
                static_cast<unsigned long long>(g_jit_tally.compile_failures));
    for (const std::string& f : g_jit_tally.failures) std::printf("jit compile failure: %s\n", f.c_str());
  }
  std::printf("conformance: %lld passed, %lld failed, %lld skipped\n", static_cast<long long>(passed),
              static_cast<long long>(failed), static_cast<long long>(skipped));
  int rc = 0;
  if (opt.min_pass >= 0 && passed < opt.min_pass) {
    std::printf("conformance: %lld passed is below the floor of %lld\n", static_cast<long long>(passed),
                static_cast<long long>(opt.min_pass));
    rc = 1;
  }
  if (failed > opt.max_fail) {
    std::printf("conformance: %lld failed, more than the allowed %lld\n", static_cast<long long>(failed),
                static_cast<long long>(opt.max_fail));
    rc = 1;
  }
  return rc;
}
