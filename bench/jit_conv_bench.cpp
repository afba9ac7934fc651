// jit_conv_bench: the scheduled Halide convolution (jit/ConvPipeline) against the
// interpreter's Conv kernel (runtime/ops/ConvForward.cpp, called directly through
// OpRegistry) on the conv layers of the benchmark suite's small ResNet
// (bench/models/cnn.py), batch 1, f32, bias on (BatchNorm folded), no ReLU (the
// interpreter's Conv has none), and on a few shapes that ResNet lacks.
//
// Per layer: compile time of the Halide kernel (lower + LLVM + object + load), median
// wall time of both over interleaved runs (machine load hits both alike),
// GFLOP/s (2 flops per multiply-add), and the speedup. Each Halide output is checked
// against the interpreter's before timing, so a broken kernel cannot report a time.
// The process's first compile also pays for the Halide runtime and LLVM start-up: it
// is made on a small warm-up layer and reported apart. Compare figures within one
// run only (the machine is shared). A benchmark program, not a test.
//
//   usage: jit_conv_bench [--sizes 224,512] [--runs N] [--min-seconds S] [--threads N]
//                         [--schedule auto|register-tiled|simple] [--only LAYER]
//                         [--no-others] [--listings DIR]
//   --no-others    only the ResNet layers (not the extra 1x1/1, 7x7, depthwise, batch-2 shapes)
//   --listings DIR Halide stmt + assembly per kernel, for tuning
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "jit/ConvPipeline.h"
#include "jit/HostTarget.h"
#include "jit/KernelCompiler.h"
#include "runtime/Graph.h"
#include "runtime/OpRegistry.h"

namespace {

using dj::Tensor;
using dj::jit::ConvSchedule;
using dj::jit::ConvShape;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<int> sizes = {224, 512};
  int runs = 9;
  double min_seconds = 0.3;
  int threads = 0;
  ConvSchedule schedule = ConvSchedule::Auto;
  std::string only;          // run only layers whose name contains this
  std::string listings_dir;  // write <kernel>.stmt / <kernel>.s here
  bool others = true;        // also the shapes the ResNet lacks
};

struct Layer {
  std::string name;
  int cin, cout, k, stride, in_size;
  int group = 1, batch = 1;
};

// bench/models/cnn.py: stem 3x3/2 (32), then basic blocks (32,1) (64,2) (128,2) (256,2),
// with 1x1/2 projection shortcuts; pads k/2. Block 1's two convs have one shape.
std::vector<Layer> resnet_layers(int s) {
  return {{"stem", 3, 32, 3, 2, s},
          {"b1.conv1/2", 32, 32, 3, 1, s / 2},
          {"b2.conv1", 32, 64, 3, 2, s / 2},
          {"b2.conv2", 64, 64, 3, 1, s / 4},
          {"b2.shortcut", 32, 64, 1, 2, s / 2},
          {"b3.conv1", 64, 128, 3, 2, s / 4},
          {"b3.conv2", 128, 128, 3, 1, s / 8},
          {"b3.shortcut", 64, 128, 1, 2, s / 4},
          {"b4.conv1", 128, 256, 3, 2, s / 8},
          {"b4.conv2", 256, 256, 3, 1, s / 16},
          {"b4.shortcut", 128, 256, 1, 2, s / 8}};
}

// Shapes the ResNet above lacks: 1x1 stride 1 (bottleneck blocks; 32x32 planes are
// 4 KB), ResNet-50's 7x7/2 stem, a depthwise conv, batch 2.
std::vector<Layer> other_layers() {
  return {{"1x1.expand", 64, 256, 1, 1, 56},   {"1x1.reduce", 256, 64, 1, 1, 56},
          {"1x1.4kplane", 128, 128, 1, 1, 32}, {"7x7.stem", 3, 64, 7, 2, 224},
          {"dw3x3", 64, 64, 3, 1, 56, 64},     {"3x3.batch2", 64, 64, 3, 1, 56, 1, 2}};
}

ConvShape shape_of(const Layer& l) {
  ConvShape s;
  s.n = l.batch, s.group = l.group, s.c = l.cin, s.h = s.w = l.in_size, s.co = l.cout, s.kh = s.kw = l.k;
  s.stride_h = s.stride_w = l.stride;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = l.k / 2;
  return s;
}

Tensor random_tensor(const dj::Shape& shape, uint32_t seed) {
  Tensor t = Tensor::empty(dj::DType::F32, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

dj::Expected<dj::jit::CompiledKernel> compile_conv(const ConvShape& s, ConvSchedule force, const std::string& name,
                                                   ConvSchedule* chosen, bool listings = false) {
  Halide::ImageParam input(Halide::Float(32), 4, "input"), weights(Halide::Float(32), 4, "weights"),
      bias(Halide::Float(32), 1, "bias");
  dj::jit::ConvDefinition def;
  def.input = input;
  def.weights = weights;
  def.bias = bias;
  auto pipeline = dj::jit::build_conv2d(def, s, force);
  if (!pipeline.ok()) return pipeline.status();
  *chosen = pipeline->schedule;
  dj::jit::CompileOptions options;
  options.emit_halide_stmt = options.emit_assembly = listings;
  return dj::jit::compile_pipeline(dj::jit::PipelineSpec{Halide::Pipeline(pipeline->out), {input, weights, bias}, name},
                                   options);
}

dj::Attribute ints_attr(std::vector<int64_t> v) {
  dj::Attribute a;
  a.kind = dj::Attribute::Kind::Ints;
  a.ints = std::move(v);
  return a;
}

// The interpreter's Conv kernel as one direct call.
struct InterpreterConv {
  dj::Node node;
  const dj::OpSchema* schema = nullptr;

  explicit InterpreterConv(const ConvShape& s) {
    node.name = "bench_conv";
    node.op_type = "Conv";
    node.inputs = {0, 1, 2};
    node.outputs = {3};
    node.attributes["kernel_shape"] = ints_attr({s.kh, s.kw});
    node.attributes["strides"] = ints_attr({s.stride_h, s.stride_w});
    node.attributes["dilations"] = ints_attr({s.dilation_h, s.dilation_w});
    node.attributes["pads"] = ints_attr({s.pad_top, s.pad_left, s.pad_bottom, s.pad_right});
    dj::Attribute group;
    group.kind = dj::Attribute::Kind::Int;
    group.i = s.group;
    node.attributes["group"] = group;
    schema = dj::OpRegistry::builtin().find("", "Conv");
  }
  dj::Expected<Tensor> run(const Tensor& x, const Tensor& w, const Tensor& b) const {
    if (!schema || !schema->kernel) return dj::Status(dj::StatusCode::Unsupported, "Conv has no kernel in OpRegistry");
    dj::KernelContext ctx(node, 17, {x, w, b}, nullptr);
    DJ_RETURN_IF_ERROR(schema->kernel(ctx));
    return ctx.outputs()[0];
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// max |a - b| / max |b|: the kernels sum in different orders, so a few ulps of the
// largest value are expected; a wrong tap is off by a whole term.
double relative_error(const Tensor& a, const Tensor& b) {
  double worst = 0, scale = 1e-30;
  for (int64_t i = 0; i < b.numel(); ++i) {
    worst = std::max(worst, std::fabs(double(a.data<float>()[i]) - b.data<float>()[i]));
    scale = std::max(scale, std::fabs(double(b.data<float>()[i])));
  }
  return std::isnan(worst) ? INFINITY : worst / scale;
}

struct LayerRow {
  ConvSchedule schedule = ConvSchedule::Auto;
  dj::jit::CompileTimes times;
  double halide_ms = 0, interp_ms = 0, relative_error = 0;
};

// Compiles the layer's kernel, checks it against the interpreter once, then times
// both in alternation: at least opt.runs pairs and opt.min_seconds.
dj::Expected<LayerRow> measure_layer(const std::string& column, const Layer& layer, const Options& opt) {
  const ConvShape s = shape_of(layer);
  std::fprintf(stderr, "[jit_conv_bench] %s %s %s\n", column.c_str(), layer.name.c_str(), s.to_string().c_str());
  std::string name = "conv_" + column + "_" + layer.name;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  LayerRow row;
  auto kernel = compile_conv(s, opt.schedule, name, &row.schedule, !opt.listings_dir.empty());
  if (!kernel.ok()) return kernel.status().with_context("compile: ");
  row.times = kernel->times;
  if (!opt.listings_dir.empty()) {
    std::ofstream(opt.listings_dir + "/" + name + ".stmt") << kernel->listings.halide_stmt;
    std::ofstream(opt.listings_dir + "/" + name + ".s") << kernel->listings.assembly;
  }
  Tensor x = random_tensor({s.n, s.c, s.h, s.w}, 1);
  Tensor w = random_tensor({s.co, s.c / s.group, s.kh, s.kw}, 2);
  Tensor b = random_tensor({s.co}, 3);
  Tensor out = Tensor::zeros(dj::DType::F32, {s.n, s.co, s.out_h(), s.out_w()});
  Tensor inputs[] = {x, w, b};
  InterpreterConv interp(s);
  DJ_RETURN_IF_ERROR(kernel->run(inputs, std::span<const Tensor>(&out, 1)).with_context("halide run: "));
  auto want = interp.run(x, w, b);
  if (!want.ok()) return want.status().with_context("interpreter run: ");
  row.relative_error = relative_error(out, *want);

  std::vector<double> halide_ms, interp_ms;
  const auto start = Clock::now();
  while (static_cast<int>(halide_ms.size()) < opt.runs ||
         std::chrono::duration<double>(Clock::now() - start).count() < opt.min_seconds) {
    auto t0 = Clock::now();
    dj::Status r = kernel->run(inputs, std::span<const Tensor>(&out, 1));
    auto t1 = Clock::now();
    auto y = interp.run(x, w, b);
    auto t2 = Clock::now();
    if (!r.ok()) return r;
    if (!y.ok()) return y.status();
    halide_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    interp_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    if (halide_ms.size() >= 1000) break;
  }
  row.halide_ms = median(halide_ms);
  row.interp_ms = median(interp_ms);
  return row;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--sizes" && (v = next())) {
      o.sizes.clear();
      std::stringstream in(v);
      std::string item;
      while (std::getline(in, item, ',')) {
        const int s = std::atoi(item.c_str());
        if (s < 16 || s > 4096) return std::nullopt;
        o.sizes.push_back(s);
      }
    } else if (a == "--runs" && (v = next())) {
      o.runs = std::max(1, std::atoi(v));
    } else if (a == "--min-seconds" && (v = next())) {
      o.min_seconds = std::atof(v);
    } else if (a == "--threads" && (v = next())) {
      o.threads = std::max(1, std::atoi(v));
    } else if (a == "--schedule" && (v = next())) {
      std::string s = v;
      if (s == "auto") o.schedule = ConvSchedule::Auto;
      else if (s == "register-tiled") o.schedule = ConvSchedule::RegisterTiled;
      else if (s == "simple") o.schedule = ConvSchedule::Simple;
      else return std::nullopt;
    } else if (a == "--only" && (v = next())) {
      o.only = v;
    } else if (a == "--no-others") {
      o.others = false;
    } else if (a == "--listings" && (v = next())) {
      o.listings_dir = v;
    } else {
      return std::nullopt;
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse(argc, argv);
  if (!parsed) {
    std::fprintf(stderr,
                 "usage: jit_conv_bench [--sizes 224,512] [--runs N] [--min-seconds S] [--threads N]\n"
                 "                      [--schedule auto|register-tiled|simple] [--only LAYER]\n"
                 "                      [--no-others] [--listings DIR]\n");
    return 2;
  }
  const Options opt = *parsed;
  std::unique_ptr<tbb::global_control> threads_cap;
  if (opt.threads > 0)
    threads_cap = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, opt.threads);

  std::printf("jit_conv_bench: Halide conv (jit/ConvPipeline) vs interpreter Conv, f32, bias, no ReLU\n");
  std::printf("target %s, %u hardware threads, load average %s\n", dj::jit::host_target().key.c_str(),
              std::thread::hardware_concurrency(), load_average().c_str());

  {  // The process's first compile: Halide runtime + LLVM start-up.
    ConvShape warm;
    warm.c = 4, warm.h = warm.w = 8, warm.co = 4, warm.kh = warm.kw = 3;
    ConvSchedule chosen;
    auto t0 = Clock::now();
    auto k = compile_conv(warm, ConvSchedule::Auto, "conv_warmup", &chosen);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!k.ok()) {
      std::fprintf(stderr, "warm-up compile failed: %s\n", k.status().to_string().c_str());
      return 1;
    }
    std::printf("first compile in the process (tiny conv, includes runtime + LLVM start-up): %.0f ms\n\n", ms);
  }

  std::printf("%-5s %-12s %-24s %-14s %8s %-14s %9s %8s %9s %8s %7s %9s\n", "input", "layer", "shape", "schedule",
              "compile", "lower/llvm/obj", "halide", "GFLOP/s", "interp", "GFLOP/s", "speedup", "rel.err");
  std::printf("%-5s %-12s %-24s %-14s %8s %-14s %9s %8s %9s %8s %7s %9s\n", "", "", "", "", "ms", "ms", "ms(med)", "",
              "ms(med)", "", "", "");
  std::vector<std::pair<std::string, Layer>> layers;  // (input column, layer)
  for (int size : opt.sizes)
    for (const Layer& layer : resnet_layers(size)) layers.emplace_back(std::to_string(size), layer);
  if (opt.others)
    for (const Layer& layer : other_layers()) layers.emplace_back("other", layer);
  int failures = 0;
  struct Totals {
    double halide = 0, interp = 0, compile = 0;
    int kernels = 0;
  };
  std::map<std::string, Totals> totals;  // per input column
  for (const auto& [column, layer] : layers) {
    if (!opt.only.empty() && layer.name.find(opt.only) == std::string::npos) continue;
    auto row = measure_layer(column, layer, opt);
    if (!row.ok()) {
      std::printf("%-5s %-12s %s\n", column.c_str(), layer.name.c_str(), row.status().to_string().c_str());
      ++failures;
      continue;
    }
    const ConvShape s = shape_of(layer);
    const double gflop = 2.0 * double(s.macs()) * 1e-9;
    const bool right = row->relative_error < 1e-5;
    if (!right) ++failures;
    Totals& t = totals[column];
    t.halide += row->halide_ms, t.interp += row->interp_ms, t.compile += row->times.total_ms(), ++t.kernels;
    char shape_text[64], phases[48];
    std::snprintf(shape_text, sizeof shape_text, "%s%dx%d %d->%d %dx%d/%d%s", s.n > 1 ? "2x" : "", s.h, s.w, s.c,
                  s.co, s.kh, s.kw, s.stride_h, s.group > 1 ? " dw" : "");
    std::snprintf(phases, sizeof phases, "%.0f/%.0f/%.0f", row->times.lower_ms, row->times.llvm_ms,
                  row->times.object_ms);
    std::printf("%-5s %-12s %-24s %-14s %8.1f %-14s %9.3f %8.1f %9.3f %8.1f %6.2fx %9.1e%s\n", column.c_str(),
                layer.name.c_str(), shape_text, dj::jit::conv_schedule_name(row->schedule), row->times.total_ms(),
                phases, row->halide_ms, gflop / (row->halide_ms * 1e-3), row->interp_ms,
                gflop / (row->interp_ms * 1e-3), row->interp_ms / row->halide_ms, row->relative_error,
                right ? "" : "  WRONG");
    std::fflush(stdout);
  }
  std::printf("\n");
  for (const auto& [column, t] : totals)
    std::printf("sum over the %s layers (each once): halide %.2f ms, interpreter %.2f ms (%.2fx), compile %.0f ms "
                "(%d kernels, %.0f ms each)\n",
                column.c_str(), t.halide, t.interp, t.interp / std::max(t.halide, 1e-9), t.compile, t.kernels,
                t.compile / std::max(t.kernels, 1));
  std::printf("load average at the end %s\n", load_average().c_str());
  return failures ? 1 : 0;
}
