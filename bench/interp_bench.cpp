// interp_bench: what the reference interpreter costs, printed as a table.
//
//   (a) per-node overhead: a chain of tiny ops (Add/Mul/Relu on f32 [1,8]) run
//       through the Interpreter, reported as median ns per run / node count; the
//       same chain as direct kernel calls through OpRegistry, and the difference
//       (the interpreter's own bookkeeping per node). Also the chain's load time.
//   (b) MatMul GFLOP/s for square f32 N x N through the Interpreter (one node);
//   (c) the same MatMul kernel called directly through OpRegistry, to show the
//       interpreter adds nothing measurable at these sizes.
//
// Models are built in memory from ONNX text syntax (dj::load_onnx_text). Every
// result is checked once before timing (chain against a scalar C++ loop, MatMul
// against sampled dot products in double) so a broken kernel cannot report a fast
// time. Each row gives the median wall time, the fastest run, and the median
// process CPU time (steadier on a shared machine); cases that are compared are
// timed in alternation. Progress goes to stderr, the table to stdout, --json FILE
// writes the same numbers. A benchmark program, not a test: it asserts no times.
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <time.h>
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

// ---- results -----------------------------------------------------------------

struct ResultRow {
  std::string benchmark;  // what was timed
  std::string size;       // e.g. "1000 nodes, f32[1,8]" or "N=512"
  double median_ns = 0;   // per run
  double min_ns = 0;      // fastest run: on a shared machine, the least disturbed
  double median_cpu_ns = 0;
  double metric = 0;      // ns/node or GFLOP/s, from the median
  double metric_best = 0; // the same from the fastest run
  double metric_cpu = 0;  // the same from the median process CPU time
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
  std::printf("| benchmark | size | runs | median wall per run | result: median wall | result: fastest wall "
              "| result: median CPU time |\n");
  std::printf("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (const ResultRow& r : rows) {
    if (!r.error.empty()) {
      std::printf("| %s | %s | - | - | FAILED: %s | - | - |\n", r.benchmark.c_str(), r.size.c_str(),
                  r.error.c_str());
      continue;
    }
    std::string median = r.median_ns > 0 ? format_time(r.median_ns) : "-";
    std::string runs = r.runs > 0 ? std::to_string(r.runs) : "-";
    std::printf("| %s | %s | %s | %s | %.1f %s | %.1f %s | %.1f %s |\n", r.benchmark.c_str(), r.size.c_str(),
                runs.c_str(), median.c_str(), r.metric, r.unit.c_str(), r.metric_best, r.unit.c_str(), r.metric_cpu,
                r.unit == "GFLOP/s" ? "GFLOP/CPU-s" : r.unit.c_str());
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
        << "\", \"median_ns\": " << r.median_ns << ", \"min_ns\": " << r.min_ns << ", \"median_cpu_ns\": " << r.median_cpu_ns << ", \"value\": " << r.metric
        << ", \"value_fastest\": " << r.metric_best << ", \"value_cpu_time\": " << r.metric_cpu << ", \"unit\": \"" << r.unit
        << "\", \"runs\": " << r.runs;
    if (!r.error.empty()) out << ", \"error\": \"" << json_escape(r.error) << "\"";
    out << "}" << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
  return static_cast<bool>(out);
}

// ---- timing ------------------------------------------------------------------
//
// Wall time is what a user waits; on a machine shared with other jobs it also
// counts time this process was not scheduled, so runs longer than a scheduler
// slice are inflated. Process CPU time (all threads) counts only work done, which
// makes it the steadier figure under load (it also counts TBB workers' spinning).
// Cases compared with each other (interpreter vs direct kernel call) are timed in
// alternation, run by run, so that both see the same load.

struct Sample {
  double median_ns = 0;      // wall
  double min_ns = 0;         // wall, fastest run
  double median_cpu_ns = 0;  // process CPU time
  int runs = 0;
};

double process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// One thing to time. `run(check)` runs it once and returns "" or what went wrong;
// with check == true it also verifies the result (only the untimed warm-up does).
struct TimedCase {
  TimedCase(ResultRow* r, std::function<std::string(bool)> f) : row(r), run(std::move(f)) {}
  ResultRow* row;
  std::function<std::string(bool check)> run;
  std::optional<Sample> sample;  // set when it ran and its result was right
};

// Warms up and checks each case (a failing case gets its row's error and is left
// out), then runs the rest in alternation at least `min_runs` times and for at
// least `min_seconds`, at most `max_runs` times.
void time_cases(std::vector<TimedCase>& cases, int min_runs, double min_seconds, int max_runs) {
  std::vector<TimedCase*> live;
  for (TimedCase& c : cases) {
    std::string error = c.run(true);
    if (error.empty()) live.push_back(&c);
    else c.row->error = error;
  }
  std::vector<std::vector<double>> wall(live.size()), cpu(live.size());
  auto start = Clock::now();
  for (int r = 0; r < max_runs && !live.empty(); ++r) {
    for (size_t i = 0; i < live.size();) {
      const double c0 = process_cpu_ns();
      auto t0 = Clock::now();
      std::string error = live[i]->run(false);
      auto t1 = Clock::now();
      const double c1 = process_cpu_ns();
      if (!error.empty()) {  // a kernel that worked once and then failed: report, stop timing it
        live[i]->row->error = error;
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
        wall.erase(wall.begin() + static_cast<std::ptrdiff_t>(i));
        cpu.erase(cpu.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      wall[i].push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
      cpu[i].push_back(c1 - c0);
      ++i;
    }
    if (r + 1 >= min_runs && std::chrono::duration<double>(Clock::now() - start).count() >= min_seconds) break;
  }
  for (size_t i = 0; i < live.size(); ++i) {
    std::sort(wall[i].begin(), wall[i].end());
    std::sort(cpu[i].begin(), cpu[i].end());
    live[i]->sample = Sample{wall[i][wall[i].size() / 2], wall[i].front(), cpu[i][cpu[i].size() / 2],
                             static_cast<int>(wall[i].size())};
  }
}

void fill_per_node(ResultRow& row, const Sample& sample, int nodes) {
  row.median_ns = sample.median_ns;
  row.min_ns = sample.min_ns;
  row.median_cpu_ns = sample.median_cpu_ns;
  row.metric = sample.median_ns / nodes;
  row.metric_best = sample.min_ns / nodes;
  row.metric_cpu = sample.median_cpu_ns / nodes;
  row.unit = "ns/node";
  row.runs = sample.runs;
}

void fill_gflops(ResultRow& row, const Sample& sample, int64_t n) {
  const double flops = 2.0 * static_cast<double>(n) * n * n;
  row.median_ns = sample.median_ns;
  row.min_ns = sample.min_ns;
  row.median_cpu_ns = sample.median_cpu_ns;
  row.metric = flops / sample.median_ns;  // flop per ns == GFLOP/s
  row.metric_best = flops / sample.min_ns;
  row.metric_cpu = flops / sample.median_cpu_ns;  // per CPU-second: per-core throughput
  row.unit = "GFLOP/s";
  row.runs = sample.runs;
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
  std::vector<TimedCase> load_case{{&load_row, [&](bool) -> std::string {
                                      auto m = dj::load_onnx_text(text, "chain");
                                      if (!m.ok()) return m.status().to_string();
                                      model = std::make_shared<const dj::Model>(std::move(m).value());
                                      return "";
                                    }}};
  time_cases(load_case, 5, 0.2, 50);
  if (load_case[0].sample) fill_per_node(load_row, *load_case[0].sample, nodes);
  rows.push_back(load_row);

  ResultRow interp_row = make_row("interpreter: Add/Mul/Relu chain", size);
  std::unique_ptr<dj::Interpreter> interp;
  if (model) interp = std::make_unique<dj::Interpreter>(model);
  auto run_interp = [&](bool check) -> std::string {
    if (!interp) return "the chain model did not load";
    auto out = interp->run({x, s, b});
    if (!out.ok()) return out.status().to_string();
    return check ? check_close(out.value().at(0), want) : "";
  };

  // The same chain as bare kernel calls through OpRegistry: what the ops cost.
  ResultRow direct_row = make_row("direct kernel calls: same chain", size);
  const dj::OpRegistry& reg = dj::OpRegistry::builtin();
  const dj::OpSchema* add = reg.find("", "Add");
  const dj::OpSchema* mul = reg.find("", "Mul");
  const dj::OpSchema* relu = reg.find("", "Relu");
  dj::Node add_node, mul_node, relu_node;
  add_node.op_type = "Add", mul_node.op_type = "Mul", relu_node.op_type = "Relu";
  add_node.inputs = mul_node.inputs = {0, 1};
  relu_node.inputs = {0};
  add_node.outputs = mul_node.outputs = relu_node.outputs = {2};
  auto run_direct = [&](bool check) -> std::string {
    if (!add || !mul || !relu || !add->kernel || !mul->kernel || !relu->kernel)
      return "Add, Mul or Relu has no kernel in OpRegistry";
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
      if (!st.ok()) return node.op_type + ": " + st.to_string();
      v = std::move(ctx.outputs()[0]);
    }
    return check ? check_close(v, want) : "";
  };

  std::cerr << "[interp_bench] chain through the interpreter and as direct kernel calls, " << opt.chain_runs
            << " runs each\n";
  std::vector<TimedCase> cases{{&interp_row, run_interp}, {&direct_row, run_direct}};
  time_cases(cases, opt.chain_runs, 0.0, opt.chain_runs);
  if (cases[0].sample) fill_per_node(interp_row, *cases[0].sample, nodes);
  if (cases[1].sample) fill_per_node(direct_row, *cases[1].sample, nodes);
  rows.push_back(interp_row);
  rows.push_back(direct_row);
  if (cases[0].sample && cases[1].sample) {
    const Sample& i = *cases[0].sample;
    const Sample& d = *cases[1].sample;
    ResultRow diff = make_row("interpreter's own cost (difference)", size);
    diff.metric = (i.median_ns - d.median_ns) / nodes;
    diff.metric_best = (i.min_ns - d.min_ns) / nodes;
    diff.metric_cpu = (i.median_cpu_ns - d.median_cpu_ns) / nodes;
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

void run_matmul_benchmarks(const BenchOptions& opt, int64_t n, std::vector<ResultRow>& rows) {
  const std::string size = "N=" + std::to_string(n);
  Tensor a = random_tensor({n, n}, 11, -1.0f, 1.0f);
  Tensor b = random_tensor({n, n}, 12, -1.0f, 1.0f);

  ResultRow interp_row = make_row("interpreter: MatMul", size);
  const std::string dims = "[" + std::to_string(n) + "," + std::to_string(n) + "]";
  const std::string text = "<ir_version: 8, opset_import: [\"\" : 17]>\nmm (float" + dims + " a, float" + dims +
                           " b) => (float" + dims + " c) {\n  c = MatMul(a, b)\n}\n";
  auto model = dj::load_onnx_text(text, "matmul");
  std::unique_ptr<dj::Interpreter> interp;
  if (model.ok()) interp = std::make_unique<dj::Interpreter>(std::make_shared<const dj::Model>(std::move(model).value()));
  auto run_interp = [&](bool check) -> std::string {
    if (!interp) return model.status().to_string();
    auto out = interp->run({a, b});
    if (!out.ok()) return out.status().to_string();
    return check ? check_matmul(a, b, out.value().at(0), n) : "";
  };

  ResultRow direct_row = make_row("direct kernel call: MatMul", size);
  const dj::OpSchema* schema = dj::OpRegistry::builtin().find("", "MatMul");
  dj::Node node;
  node.op_type = "MatMul";
  node.inputs = {0, 1};
  node.outputs = {2};
  auto run_direct = [&](bool check) -> std::string {
    if (!schema || !schema->kernel) return "MatMul has no kernel in OpRegistry";
    dj::KernelContext ctx(node, 17, {a, b}, nullptr);
    dj::Status st = schema->kernel(ctx);
    if (!st.ok()) return st.to_string();
    return check ? check_matmul(a, b, ctx.outputs()[0], n) : "";
  };

  std::cerr << "[interp_bench] MatMul " << n << "x" << n << " through the interpreter and as a direct kernel call\n";
  std::vector<TimedCase> cases{{&interp_row, run_interp}, {&direct_row, run_direct}};
  time_cases(cases, opt.matmul_min_runs, opt.matmul_min_seconds, 10000);
  if (cases[0].sample) fill_gflops(interp_row, *cases[0].sample, n);
  if (cases[1].sample) fill_gflops(direct_row, *cases[1].sample, n);
  rows.push_back(interp_row);
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
