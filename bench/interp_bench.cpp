// interp_bench: what the reference interpreter costs, printed as a table.
//
//   (a) per-node overhead: a chain of tiny ops (Add/Mul/Relu on f32 [1,8]) run
//       through the Interpreter, reported as median ns per run / node count; the
//       same chain as direct kernel calls through OpRegistry, and the difference
//       (the interpreter's own bookkeeping per node).
//   (b) MatMul GFLOP/s for square f32 N x N through the Interpreter (one node);
//   (c) the same MatMul kernel called directly through OpRegistry, to show the
//       interpreter adds nothing measurable at these sizes.
//
// Models are built in memory from ONNX text syntax (dj::load_onnx_text). Every
// result is checked (chain against a scalar C++ loop, MatMul against sampled
// dot products in double) so a broken kernel cannot report a fast time. Timings
// are medians of repeated runs after a warm-up. Progress goes to stderr, the
// table to stdout, and --json FILE writes the same numbers for tooling.
// This is a benchmark program, not a test: it asserts nothing about time.
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "frontend/OnnxLoader.h"
#include "runtime/Interpreter.h"
#include "runtime/OpRegistry.h"

namespace {

using dj::Tensor;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
  int chain_nodes = 1000;
  int chain_runs = 2000;
  std::vector<int64_t> matmul_sizes = {256, 512, 1024};
  int matmul_min_runs = 7;
  double matmul_min_seconds = 0.5;
  int threads = 0;  // 0: TBB's default
  std::string json_path;
};

const char* kUsage =
    "usage: interp_bench [options]\n"
    "  Measures the DynaJIT reference interpreter: per-node overhead on a chain of\n"
    "  tiny ops, and MatMul GFLOP/s through the interpreter and through a direct\n"
    "  kernel call. Prints a table on stdout, progress on stderr.\n"
    "options:\n"
    "  --chain-nodes N     nodes in the tiny-op chain (default 1000)\n"
    "  --chain-runs N      timed runs of the chain (default 2000)\n"
    "  --sizes A,B,...     square MatMul sizes (default 256,512,1024)\n"
    "  --matmul-runs N     at least N timed MatMul runs per size (default 7)\n"
    "  --min-seconds S     and at least S seconds per MatMul size (default 0.5)\n"
    "  --threads N         cap TBB's threads (default: TBB's default)\n"
    "  --json FILE         also write the results as JSON\n"
    "  --help              this text\n";

std::optional<std::vector<int64_t>> parse_sizes(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    long long v = std::strtoll(item.c_str(), &end, 10);
    if (end == item.c_str() || *end != '\0' || v <= 0 || v > 16384) return std::nullopt;
    out.push_back(v);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// Returns false (after printing why) on a bad command line.
bool parse_args(int argc, char** argv, BenchOptions& opt, bool& help) {
  auto positive_int = [](const char* s, int& out) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end == s || *end != '\0' || v <= 0 || v > 100000000) return false;
    out = static_cast<int>(v);
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      help = true;
      return true;
    }
    if (i + 1 >= argc) {
      std::cerr << "interp_bench: option '" << a << "' needs a value (or is unknown)\n" << kUsage;
      return false;
    }
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--chain-nodes") ok = positive_int(v, opt.chain_nodes);
    else if (a == "--chain-runs") ok = positive_int(v, opt.chain_runs);
    else if (a == "--matmul-runs") ok = positive_int(v, opt.matmul_min_runs);
    else if (a == "--threads") ok = positive_int(v, opt.threads);
    else if (a == "--json") opt.json_path = v;
    else if (a == "--min-seconds") {
      char* end = nullptr;
      opt.matmul_min_seconds = std::strtod(v, &end);
      ok = end != v && *end == '\0' && opt.matmul_min_seconds >= 0;
    } else if (a == "--sizes") {
      auto s = parse_sizes(v);
      ok = s.has_value();
      if (ok) opt.matmul_sizes = *s;
    } else {
      std::cerr << "interp_bench: unknown option '" << a << "'\n" << kUsage;
      return false;
    }
    if (!ok) {
      std::cerr << "interp_bench: bad value '" << v << "' for " << a << "\n";
      return false;
    }
  }
  return true;
}

// ---- the machine -------------------------------------------------------------

struct MachineInfo {
  std::string cpu_model = "unknown";
  unsigned hardware_threads = 0;
  int tbb_threads = 0;
  std::string date;
  std::string compiler;
};

std::string read_loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  if (!(in >> one >> five >> fifteen)) return "unknown";
  return one + " " + five + " " + fifteen;
}

MachineInfo describe_machine() {
  MachineInfo m;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) m.cpu_model = line.substr(line.find_first_not_of(" \t", colon + 1));
      break;
    }
  }
  m.hardware_threads = std::thread::hardware_concurrency();
  m.tbb_threads = static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
  m.tbb_threads = std::min(m.tbb_threads, tbb::this_task_arena::max_concurrency());
  char buf[64];
  std::time_t now = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  m.date = buf;
#if defined(__clang__)
  m.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  m.compiler = "gcc " __VERSION__;
#endif
#if defined(__OPTIMIZE__)
  m.compiler += " (optimized)";
#else
  m.compiler += " (NOT optimized: numbers are meaningless)";
#endif
  return m;
}

// ---- timing ------------------------------------------------------------------

struct Sample {
  double median_ns = 0;
  double min_ns = 0;
  int runs = 0;
};

// Runs `fn` once to warm up, then at least `min_runs` times and at least
// `min_seconds` (at most max_runs); returns the median. `fn` returns false to stop.
std::optional<Sample> time_runs(const std::function<bool()>& fn, int min_runs, double min_seconds, int max_runs) {
  if (!fn()) return std::nullopt;
  std::vector<double> ns;
  auto start = Clock::now();
  while (static_cast<int>(ns.size()) < max_runs) {
    auto t0 = Clock::now();
    if (!fn()) return std::nullopt;
    auto t1 = Clock::now();
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
    double elapsed = std::chrono::duration<double>(t1 - start).count();
    if (static_cast<int>(ns.size()) >= min_runs && elapsed >= min_seconds) break;
  }
  std::sort(ns.begin(), ns.end());
  return Sample{ns[ns.size() / 2], ns.front(), static_cast<int>(ns.size())};
}

// ---- results -----------------------------------------------------------------

struct ResultRow {
  std::string benchmark;  // what was timed
  std::string size;       // e.g. "1000 nodes, f32[1,8]" or "N=512"
  double median_ns = 0;   // per run
  double metric = 0;      // ns/node or GFLOP/s
  std::string unit;       // "ns/node", "GFLOP/s"
  int runs = 0;
  std::string error;      // non-empty: this row failed
};

ResultRow make_row(std::string benchmark, std::string size) {
  ResultRow r;
  r.benchmark = std::move(benchmark);
  r.size = std::move(size);
  return r;
}

std::string format_time(double ns) {
  char buf[64];
  if (ns >= 1e6) std::snprintf(buf, sizeof buf, "%.3f ms", ns / 1e6);
  else if (ns >= 1e3) std::snprintf(buf, sizeof buf, "%.2f us", ns / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  return buf;
}

void print_table(const std::vector<ResultRow>& rows) {
  std::printf("| benchmark | size | median per run | result | runs |\n");
  std::printf("| --- | --- | ---: | ---: | ---: |\n");
  for (const ResultRow& r : rows) {
    if (!r.error.empty()) {
      std::printf("| %s | %s | - | FAILED: %s | - |\n", r.benchmark.c_str(), r.size.c_str(), r.error.c_str());
      continue;
    }
    std::string time = r.median_ns > 0 ? format_time(r.median_ns) : "-";
    std::string runs = r.runs > 0 ? std::to_string(r.runs) : "-";
    std::printf("| %s | %s | %s | %.1f %s | %s |\n", r.benchmark.c_str(), r.size.c_str(), time.c_str(), r.metric,
                r.unit.c_str(), runs.c_str());
  }
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

bool write_json(const std::string& path, const MachineInfo& m, const std::string& load_before,
                const std::string& load_after, const std::vector<ResultRow>& rows) {
  std::ofstream out(path);
  if (!out) return false;
  out << "{\n  \"benchmark\": \"interp_bench\",\n  \"date\": \"" << json_escape(m.date) << "\",\n"
      << "  \"machine\": {\"cpu\": \"" << json_escape(m.cpu_model) << "\", \"hardware_threads\": "
      << m.hardware_threads << ", \"tbb_threads\": " << m.tbb_threads << ", \"compiler\": \""
      << json_escape(m.compiler) << "\", \"loadavg_before\": \"" << load_before << "\", \"loadavg_after\": \""
      << load_after << "\"},\n  \"results\": [\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const ResultRow& r = rows[i];
    out << "    {\"benchmark\": \"" << json_escape(r.benchmark) << "\", \"size\": \"" << json_escape(r.size)
        << "\", \"median_ns\": " << r.median_ns << ", \"value\": " << r.metric << ", \"unit\": \"" << r.unit
        << "\", \"runs\": " << r.runs;
    if (!r.error.empty()) out << ", \"error\": \"" << json_escape(r.error) << "\"";
    out << "}" << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
  return static_cast<bool>(out);
}

// ---- inputs --------------------------------------------------------------------

Tensor random_tensor(const dj::Shape& shape, uint32_t seed, float lo, float hi) {
  Tensor t = Tensor::empty(dj::DType::F32, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* d = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) d[i] = dist(gen);
  return t;
}

// ---- (a) per-node overhead: a chain of tiny ops ------------------------------------

// Node i computes v_i = Add(v, b) | Mul(v, s) | Relu(v) for i % 3 == 0 | 1 | 2. With
// s in [0.5, 0.9] and b in [-0.5, 0.5] the values stay bounded for any length.
char chain_op(int i) { return "AMR"[i % 3]; }

std::string chain_model_text(int nodes) {
  std::ostringstream t;
  t << "<ir_version: 8, opset_import: [\"\" : 17]>\n"
    << "chain (float[1,8] x, float[1,8] s, float[1,8] b) => (float[1,8] y) {\n";
  for (int i = 0; i < nodes; ++i) {
    t << "  ";
    if (i + 1 == nodes) t << "y";
    else t << "v" << i;
    t << " = ";
    const char op = chain_op(i);
    t << (op == 'A' ? "Add(" : op == 'M' ? "Mul(" : "Relu(");
    if (i == 0) t << "x";
    else t << "v" << i - 1;
    t << (op == 'A' ? ", b)\n" : op == 'M' ? ", s)\n" : ")\n");
  }
  t << "}\n";
  return t.str();
}

std::vector<float> chain_reference(int nodes, const Tensor& x, const Tensor& s, const Tensor& b) {
  std::vector<float> v(x.data<float>(), x.data<float>() + 8);
  for (int i = 0; i < nodes; ++i)
    for (int k = 0; k < 8; ++k) {
      switch (chain_op(i)) {
        case 'A': v[k] = v[k] + b.data<float>()[k]; break;
        case 'M': v[k] = v[k] * s.data<float>()[k]; break;
        default: v[k] = v[k] > 0 ? v[k] : 0.0f; break;
      }
    }
  return v;
}

std::string check_close(const Tensor& got, const std::vector<float>& want) {
  if (got.dtype() != dj::DType::F32 || got.numel() != static_cast<int64_t>(want.size()))
    return "chain output is " + got.describe() + ", expected f32 with " + std::to_string(want.size()) + " elements";
  for (size_t k = 0; k < want.size(); ++k)
    if (std::fabs(got.data<float>()[k] - want[k]) > 1e-5f * (1.0f + std::fabs(want[k])))
      return "chain output element " + std::to_string(k) + " is " + std::to_string(got.data<float>()[k]) +
             ", expected " + std::to_string(want[k]);
  return "";
}

void run_chain_benchmarks(const BenchOptions& opt, std::vector<ResultRow>& rows) {
  const int nodes = opt.chain_nodes;
  const std::string size = std::to_string(nodes) + " nodes, f32[1,8]";
  Tensor x = random_tensor({1, 8}, 1, -1.0f, 1.0f);
  Tensor s = random_tensor({1, 8}, 2, 0.5f, 0.9f);
  Tensor b = random_tensor({1, 8}, 3, -0.5f, 0.5f);
  const std::vector<float> want = chain_reference(nodes, x, s, b);
  const std::string text = chain_model_text(nodes);

  std::cerr << "[interp_bench] loading the " << nodes << "-node chain\n";
  ResultRow load_row = make_row("load_onnx_text + shape inference", size);
  std::shared_ptr<const dj::Model> model;
  std::string error;
  auto load_sample = time_runs(
      [&] {
        auto m = dj::load_onnx_text(text, "chain");
        if (!m.ok()) {
          error = m.status().to_string();
          return false;
        }
        model = std::make_shared<const dj::Model>(std::move(m).value());
        return true;
      },
      5, 0.2, 50);
  if (!load_sample) {
    load_row.error = error;
    rows.push_back(load_row);
    ResultRow skipped = make_row("interpreter: Add/Mul/Relu chain", size);
    skipped.error = "the chain model did not load";
    rows.push_back(skipped);
  } else {
    load_row.median_ns = load_sample->median_ns;
    load_row.metric = load_sample->median_ns / nodes;
    load_row.unit = "ns/node";
    load_row.runs = load_sample->runs;
    rows.push_back(load_row);
  }

  std::optional<Sample> interp_sample;
  if (model) {
    std::cerr << "[interp_bench] chain through the interpreter, " << opt.chain_runs << " runs\n";
    dj::Interpreter interp(model);
    ResultRow row = make_row("interpreter: Add/Mul/Relu chain", size);
    auto run_once = [&] {
      auto out = interp.run({x, s, b});
      if (!out.ok()) {
        error = out.status().to_string();
        return false;
      }
      error = check_close(out.value().at(0), want);
      return error.empty();
    };
    auto run_unchecked = [&] {
      auto out = interp.run({x, s, b});
      if (!out.ok()) error = out.status().to_string();
      return out.ok();
    };
    // Check the result once, then time without the check.
    if (run_once()) interp_sample = time_runs(run_unchecked, opt.chain_runs, 0.0, opt.chain_runs);
    if (!interp_sample) {
      row.error = error;
    } else {
      row.median_ns = interp_sample->median_ns;
      row.metric = interp_sample->median_ns / nodes;
      row.unit = "ns/node";
      row.runs = interp_sample->runs;
    }
    rows.push_back(row);
  }

  // The same chain as bare kernel calls: what the ops themselves cost.
  std::cerr << "[interp_bench] chain as direct kernel calls, " << opt.chain_runs << " runs\n";
  ResultRow direct_row = make_row("direct kernel calls: same chain", size);
  const dj::OpRegistry& reg = dj::OpRegistry::builtin();
  const dj::OpSchema* add = reg.find("", "Add");
  const dj::OpSchema* mul = reg.find("", "Mul");
  const dj::OpSchema* relu = reg.find("", "Relu");
  std::optional<Sample> direct_sample;
  if (!add || !mul || !relu || !add->kernel || !mul->kernel || !relu->kernel) {
    direct_row.error = "Add, Mul or Relu has no kernel in OpRegistry";
  } else {
    dj::Node add_node, mul_node, relu_node;
    add_node.op_type = "Add", mul_node.op_type = "Mul", relu_node.op_type = "Relu";
    add_node.inputs = mul_node.inputs = {0, 1};
    relu_node.inputs = {0};
    add_node.outputs = mul_node.outputs = relu_node.outputs = {2};
    Tensor last;
    auto run_chain = [&] {
      Tensor v = x;
      for (int i = 0; i < nodes; ++i) {
        const char op = chain_op(i);
        const dj::Node& node = op == 'A' ? add_node : op == 'M' ? mul_node : relu_node;
        const dj::OpSchema* schema = op == 'A' ? add : op == 'M' ? mul : relu;
        std::vector<Tensor> in;
        in.reserve(2);
        in.push_back(std::move(v));
        if (op != 'R') in.push_back(op == 'A' ? b : s);
        dj::KernelContext ctx(node, 17, std::move(in), nullptr);
        dj::Status st = schema->kernel(ctx);
        if (!st.ok()) {
          error = node.op_type + ": " + st.to_string();
          return false;
        }
        v = std::move(ctx.outputs()[0]);
      }
      last = std::move(v);
      return true;
    };
    direct_sample = time_runs(run_chain, opt.chain_runs, 0.0, opt.chain_runs);
    if (direct_sample) error = check_close(last, want);
    if (!direct_sample || !error.empty()) {
      direct_row.error = error;
      direct_sample.reset();
    } else {
      direct_row.median_ns = direct_sample->median_ns;
      direct_row.metric = direct_sample->median_ns / nodes;
      direct_row.unit = "ns/node";
      direct_row.runs = direct_sample->runs;
    }
  }
  rows.push_back(direct_row);

  if (interp_sample && direct_sample) {
    ResultRow diff = make_row("interpreter's own cost (difference)", size);
    diff.metric = (interp_sample->median_ns - direct_sample->median_ns) / nodes;
    diff.unit = "ns/node";
    rows.push_back(diff);
  }
}

// ---- (b), (c) MatMul through the interpreter and directly -----------------------

// Compares 64 sampled elements of c = a * b with dot products in double.
std::string check_matmul(const Tensor& a, const Tensor& b, const Tensor& c, int64_t n) {
  if (c.dtype() != dj::DType::F32 || c.shape() != dj::Shape{n, n})
    return "MatMul output is " + c.describe() + ", expected f32[" + std::to_string(n) + "," + std::to_string(n) + "]";
  std::mt19937 gen(7);
  std::uniform_int_distribution<int64_t> pick(0, n - 1);
  for (int k = 0; k < 64; ++k) {
    int64_t i = pick(gen), j = pick(gen);
    double ref = 0, mag = 0;
    for (int64_t p = 0; p < n; ++p) {
      double prod = static_cast<double>(a.data<float>()[i * n + p]) * b.data<float>()[p * n + j];
      ref += prod;
      mag += std::fabs(prod);
    }
    double got = c.data<float>()[i * n + j];
    if (std::fabs(got - ref) > 1e-5 * mag + 1e-6)
      return "MatMul element (" + std::to_string(i) + "," + std::to_string(j) + ") is " + std::to_string(got) +
             ", expected " + std::to_string(ref);
  }
  return "";
}

void fill_gflops(ResultRow& row, const std::optional<Sample>& sample, int64_t n, const std::string& error) {
  if (!sample || !error.empty()) {
    row.error = error.empty() ? "failed" : error;
    return;
  }
  row.median_ns = sample->median_ns;
  row.metric = 2.0 * static_cast<double>(n) * n * n / sample->median_ns;  // flop per ns == GFLOP/s
  row.unit = "GFLOP/s";
  row.runs = sample->runs;
}

void run_matmul_benchmarks(const BenchOptions& opt, int64_t n, std::vector<ResultRow>& rows) {
  const std::string size = "N=" + std::to_string(n);
  Tensor a = random_tensor({n, n}, 11, -1.0f, 1.0f);
  Tensor b = random_tensor({n, n}, 12, -1.0f, 1.0f);
  const int max_runs = 10000;
  std::string error;

  std::cerr << "[interp_bench] MatMul " << n << "x" << n << " through the interpreter\n";
  ResultRow interp_row = make_row("interpreter: MatMul", size);
  std::string text = "<ir_version: 8, opset_import: [\"\" : 17]>\nmm (float[" + std::to_string(n) + "," +
                     std::to_string(n) + "] a, float[" + std::to_string(n) + "," + std::to_string(n) +
                     "] b) => (float[" + std::to_string(n) + "," + std::to_string(n) + "] c) {\n  c = MatMul(a, b)\n}\n";
  auto model = dj::load_onnx_text(text, "matmul");
  if (!model.ok()) {
    interp_row.error = model.status().to_string();
  } else {
    dj::Interpreter interp(std::make_shared<const dj::Model>(std::move(model).value()));
    Tensor c;
    auto sample = time_runs(
        [&] {
          auto out = interp.run({a, b});
          if (!out.ok()) {
            error = out.status().to_string();
            return false;
          }
          c = out.value().at(0);
          return true;
        },
        opt.matmul_min_runs, opt.matmul_min_seconds, max_runs);
    if (sample) error = check_matmul(a, b, c, n);
    fill_gflops(interp_row, sample, n, error);
  }
  rows.push_back(interp_row);

  std::cerr << "[interp_bench] MatMul " << n << "x" << n << " as a direct kernel call\n";
  ResultRow direct_row = make_row("direct kernel call: MatMul", size);
  const dj::OpSchema* schema = dj::OpRegistry::builtin().find("", "MatMul");
  if (!schema || !schema->kernel) {
    direct_row.error = "MatMul has no kernel in OpRegistry";
  } else {
    dj::Node node;
    node.op_type = "MatMul";
    node.inputs = {0, 1};
    node.outputs = {2};
    Tensor c;
    error.clear();
    auto sample = time_runs(
        [&] {
          dj::KernelContext ctx(node, 17, {a, b}, nullptr);
          dj::Status st = schema->kernel(ctx);
          if (!st.ok()) {
            error = st.to_string();
            return false;
          }
          c = std::move(ctx.outputs()[0]);
          return true;
        },
        opt.matmul_min_runs, opt.matmul_min_seconds, max_runs);
    if (sample) error = check_matmul(a, b, c, n);
    fill_gflops(direct_row, sample, n, error);
  }
  rows.push_back(direct_row);
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions opt;
  bool help = false;
  if (!parse_args(argc, argv, opt, help)) return 2;
  if (help) {
    std::cout << kUsage;
    return 0;
  }
  std::optional<tbb::global_control> thread_cap;
  if (opt.threads > 0) thread_cap.emplace(tbb::global_control::max_allowed_parallelism, opt.threads);

  MachineInfo machine = describe_machine();
  std::string load_before = read_loadavg();
  std::printf("interp_bench  %s\n", machine.date.c_str());
  std::printf("cpu: %s | hardware threads: %u | TBB threads: %d\n", machine.cpu_model.c_str(),
              machine.hardware_threads, machine.tbb_threads);
  std::printf("compiler: %s\nload average before: %s\n\n", machine.compiler.c_str(), load_before.c_str());
  std::fflush(stdout);

  std::vector<ResultRow> rows;
  run_chain_benchmarks(opt, rows);
  for (int64_t n : opt.matmul_sizes) run_matmul_benchmarks(opt, n, rows);

  std::string load_after = read_loadavg();
  print_table(rows);
  std::printf("\nload average after: %s\n", load_after.c_str());

  if (!opt.json_path.empty()) {
    if (!write_json(opt.json_path, machine, load_before, load_after, rows)) {
      std::cerr << "interp_bench: cannot write '" << opt.json_path << "'\n";
      return 1;
    }
    std::cerr << "[interp_bench] wrote " << opt.json_path << "\n";
  }
  bool any_failed = std::any_of(rows.begin(), rows.end(), [](const ResultRow& r) { return !r.error.empty(); });
  return any_failed ? 1 : 0;
}
