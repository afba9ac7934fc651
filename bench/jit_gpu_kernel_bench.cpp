// jit_gpu_kernel_bench: the GPU kernel targets of issue 8, measured on the device
// in one run, as a table.
//
// (a) Memory-bound kernels from jit/cuda's generator (generate_cuda_kernel ->
//     nvrtc_compile for the device's sm -> CudaModule), the way the JIT builds them:
//     fused elementwise chains over 16M floats (x*w+b -> Relu -> Sigmoid with w and b
//     broadcast along rows; x*y+b -> Relu -> Sigmoid with y full) and RowSoftmax /
//     RowLayerNorm over [8192, 1024], each as a concrete spec (shapes baked in) and
//     a generic one (shapes read at run time). Reported: GB/s (bytes every input
//     and the output occupy, each counted once) and % of the copy kernel of the
//     same element count. The copy kernel is itself an Elementwise spec with one
//     Identity step, so it goes through the same generator; the driver's
//     device-to-device memcpy is printed beside it for reference.
//     Target: every fused kernel >= 80% of copy.
// (b) f32 GEMM through cuBLASLt (CublasLt::gemm_f32) at 512^3, 1024^3, 2048^3 with
//     the ReluBias epilogue vs None. Reported: TFLOP/s (2mnk / time) and the
//     epilogue's time over the plain one. Target: within 10% (ratio <= 1.10). The
//     generated tiled Gemm kernel (bias + ReLU fused) is timed for reference.
//
// Method: one CudaEvent pair around each launch on this thread's stream, median of
// --iters launches after --warmup untimed ones. Unless --no-l2-flush, a 256 MiB
// device fill runs before every timed launch, outside the events, so no kernel
// reads inputs a previous launch left in L2 (H100/H200 have 50 MiB). Every kernel's
// output is checked once against a host reference before timing (double precision
// on the host; GEMMs on up to 256 evenly spaced rows); the max abs error is printed
// and a result over tolerance is marked WRONG (exit status 1).
//
// Without a usable GPU (no driver, no device) it prints CudaContext::get()'s reason
// and exits 0; built without the CUDA toolkit it says so and exits 0.
//
// --compile-only [--sm N] runs every kernel through the generator and NVRTC for
// sm_N without touching a GPU (a check this machine can do without one).
//
//   usage: jit_gpu_kernel_bench [--iters N] [--warmup N] [--tf32] [--no-l2-flush] [--help]
//          jit_gpu_kernel_bench --compile-only [--sm N]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#if DJ_HAVE_CUDA
#include "jit/cuda/CudaKernelSpec.h"
#include "jit/cuda/CudaLaunch.h"
#include "jit/cuda/CudaSource.h"
#include "jit/cuda/NvrtcLibrary.h"
#include "jit/cuda/NvrtcCompiler.h"
#include "runtime/cuda/CublasLt.h"
#include "runtime/cuda/CudaContext.h"
#include "runtime/cuda/CudaEvent.h"
#include "runtime/cuda/CudaModule.h"
#include "runtime/cuda/CudaTransfer.h"
#endif

namespace {

struct BenchOptions {
  int iters = 50;
  int warmup = 5;
  bool tf32 = false;       // cuBLASLt may use TF32 tensor cores
  bool flush_l2 = true;
  bool compile_only = false;  // generate and NVRTC-compile only, for sm (no GPU)
  int sm = 90;
};

const char* kUsage =
    "usage: jit_gpu_kernel_bench [--iters N] [--warmup N] [--tf32] [--no-l2-flush]\n"
    "       jit_gpu_kernel_bench --compile-only [--sm N]\n"
    "  Issue 8's GPU kernel targets on CUDA device 0 (DJ_CUDA_DEVICE=N): generated kernels'\n"
    "  GB/s vs a generated copy (>= 80%), cuBLASLt GEMM ReluBias vs None (within 10%).\n"
    "  --iters N       timed launches per kernel, median reported (default 50)\n"
    "  --warmup N      untimed launches first (default 5)\n"
    "  --tf32          let cuBLASLt use TF32 tensor cores (default: true f32)\n"
    "  --no-l2-flush   do not evict L2 before each timed launch\n"
    "  --compile-only  only generate and NVRTC-compile every kernel, for sm_N (--sm, default 90);\n"
    "                  needs NVRTC, no GPU\n"
    "  Without a GPU it says why and exits 0.\n";

// 0: run; 1: --help printed; -1: bad arguments (message printed).
int parse_args(int argc, char** argv, BenchOptions& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto count = [&](int& out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      const long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > 100000) return false;
      out = static_cast<int>(v);
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 1;
    } else if (a == "--iters" || a == "--warmup") {
      if (!count(a == "--iters" ? o.iters : o.warmup)) {
        std::fprintf(stderr, "%s takes a count from 1 to 100000\n%s", a.c_str(), kUsage);
        return -1;
      }
    } else if (a == "--tf32") {
      o.tf32 = true;
    } else if (a == "--compile-only") {
      o.compile_only = true;
    } else if (a == "--sm") {
      if (!count(o.sm) || o.sm < 50) {
        std::fprintf(stderr, "--sm takes a compute capability such as 90\n%s", kUsage);
        return -1;
      }
    } else if (a == "--no-l2-flush") {
      o.flush_l2 = false;
    } else {
      std::fprintf(stderr, "unknown argument '%s'\n%s", a.c_str(), kUsage);
      return -1;
    }
  }
  return 0;
}

#if DJ_HAVE_CUDA

using dj::CudaContext;
using dj::DevicePtr;
using dj::DeviceBuffer;
using dj::Expected;
using dj::Shape;
using dj::Status;
using dj::StatusCode;
using dj::Tensor;
namespace jc = dj::jit::cuda;

dj::StreamKey key_of(CUstream s) { return reinterpret_cast<dj::StreamKey>(s); }

Tensor random_tensor(const Shape& shape, float lo, float hi, unsigned seed) {
  Tensor t = Tensor::empty(dj::DType::F32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

// Times launches with an event pair; optionally evicts L2 before each one.
class LaunchTimer {
 public:
  static Expected<LaunchTimer> create(CudaContext& ctx, CUstream stream, const BenchOptions& options) {
    DJ_ASSIGN_OR_RETURN(dj::CudaEvent start, dj::CudaEvent::create(ctx));
    DJ_ASSIGN_OR_RETURN(dj::CudaEvent end, dj::CudaEvent::create(ctx));
    DeviceBuffer flush;
    if (options.flush_l2) {
      DJ_ASSIGN_OR_RETURN(flush, DeviceBuffer::allocate(ctx.allocator(), size_t{256} << 20, key_of(stream)));
    }
    return LaunchTimer(ctx, stream, options, std::move(start), std::move(end), std::move(flush));
  }

  // Median GPU time of one launch, in microseconds.
  Expected<double> median_us(const std::function<Status()>& launch) {
    for (int i = 0; i < options_.warmup; ++i) DJ_RETURN_IF_ERROR(launch());
    std::vector<double> us;
    for (int i = 0; i < options_.iters; ++i) {
      if (!flush_.empty())
        DJ_RETURN_IF_ERROR(dj::fill_device_bytes(*ctx_, flush_.ptr(), static_cast<unsigned char>(i), flush_.capacity(),
                                                 stream_));
      DJ_RETURN_IF_ERROR(start_.record(stream_));
      DJ_RETURN_IF_ERROR(launch());
      DJ_RETURN_IF_ERROR(end_.record(stream_));
      DJ_RETURN_IF_ERROR(end_.synchronize());
      DJ_ASSIGN_OR_RETURN(float ms, dj::CudaEvent::elapsed_ms(start_, end_));
      us.push_back(1000.0 * ms);
    }
    std::sort(us.begin(), us.end());
    const size_t n = us.size();
    return n % 2 ? us[n / 2] : 0.5 * (us[n / 2 - 1] + us[n / 2]);
  }

 private:
  LaunchTimer(CudaContext& ctx, CUstream stream, const BenchOptions& options, dj::CudaEvent start, dj::CudaEvent end,
              DeviceBuffer flush)
      : ctx_(&ctx), stream_(stream), options_(options), start_(std::move(start)), end_(std::move(end)),
        flush_(std::move(flush)) {}
  CudaContext* ctx_;
  CUstream stream_;
  BenchOptions options_;
  dj::CudaEvent start_, end_;
  DeviceBuffer flush_;
};

// A generated kernel, compiled by NVRTC for the device and loaded.
struct BuiltKernel {
  jc::CudaKernelSpec spec;
  std::unique_ptr<dj::CudaModule> module;
  CUfunction function = nullptr;
  double compile_ms = 0;
};

Expected<BuiltKernel> build_kernel(CudaContext& ctx, const jc::CudaKernelSpec& spec) {
  BuiltKernel k;
  k.spec = spec;
  DJ_ASSIGN_OR_RETURN(jc::CudaKernelSource source, jc::generate_cuda_kernel(spec));
  jc::NvrtcOptions options;  // as the JIT compiles (specializer/CudaGroupLowering.cpp)
  options.sm = ctx.properties().sm_major * 10 + ctx.properties().sm_minor;
  DJ_ASSIGN_OR_RETURN(jc::NvrtcOutput binary, jc::nvrtc_compile(source.source, source.name, options));
  k.compile_ms = binary.compile_ms;
  const std::string_view image = !binary.cubin.empty()
                                     ? std::string_view(binary.cubin.data(), binary.cubin.size())
                                     : std::string_view(binary.ptx);
  DJ_ASSIGN_OR_RETURN(k.module, dj::CudaModule::load(ctx, image));
  DJ_ASSIGN_OR_RETURN(k.function, k.module->function(spec.name));
  return Expected<BuiltKernel>(std::move(k));
}

// One call's parameters and grid, filled once so timed launches do nothing else.
struct PreparedLaunch {
  CUfunction function = nullptr;
  DjKernelParams params{};
  jc::LaunchDims dims;
};

Expected<PreparedLaunch> prepare_launch(const BuiltKernel& k, const std::vector<DevicePtr>& inputs,
                                        const std::vector<Shape>& input_shapes, DevicePtr out, const Shape& out_shape) {
  PreparedLaunch p;
  p.function = k.function;
  DJ_RETURN_IF_ERROR(jc::fill_params(k.spec, input_shapes, out_shape, p.params));
  for (size_t i = 0; i < inputs.size(); ++i)
    p.params.in[i] = reinterpret_cast<const float*>(static_cast<uintptr_t>(inputs[i]));
  p.params.out = reinterpret_cast<float*>(static_cast<uintptr_t>(out));
  p.dims = jc::launch_dims(k.spec, p.params);
  return p;
}

Status launch(CudaContext& ctx, const PreparedLaunch& p, CUstream stream) {
  return dj::launch_kernel(ctx, p.function, {p.dims.grid_x, p.dims.grid_y, p.dims.grid_z},
                           {p.dims.block_x, p.dims.block_y, p.dims.block_z}, p.dims.shared_bytes, &p.params, stream);
}

// ---------------------------------------------------------------- (a) bandwidth

// Host evaluation of an elementwise chain whose inputs are [rows, cols] or [cols]
// (broadcast along rows): the independent reference for the generated kernels.
Expected<Tensor> host_elementwise(const jc::CudaKernelSpec& spec, const std::vector<Tensor>& in) {
  const int64_t rows = spec.output_shape[0], cols = spec.output_shape[1];
  const size_t ni = in.size();
  Tensor out = Tensor::empty(dj::DType::F32, spec.output_shape);
  std::vector<double> v(ni + spec.steps.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      for (size_t i = 0; i < ni; ++i) v[i] = in[i].data<float>()[in[i].shape().size() == 2 ? r * cols + c : c];
      for (size_t s = 0; s < spec.steps.size(); ++s) {
        const jc::ElementwiseStep& st = spec.steps[s];
        const double a = v[static_cast<size_t>(st.operands[0])];
        const double b = st.operands.size() > 1 ? v[static_cast<size_t>(st.operands[1])] : 0.0;
        double y;
        if (st.op == "Identity") y = a;
        else if (st.op == "Mul") y = a * b;
        else if (st.op == "Add") y = a + b;
        else if (st.op == "Relu") y = a < 0 ? 0 : a;
        else if (st.op == "Sigmoid") y = 1.0 / (1.0 + std::exp(-a));
        else return dj::make_error(StatusCode::Internal, "host reference lacks op ", st.op);
        v[ni + s] = y;
      }
      out.data<float>()[r * cols + c] = static_cast<float>(v.back());
    }
  return out;
}

Tensor host_rows(const jc::CudaKernelSpec& spec, const std::vector<Tensor>& in) {
  const int64_t rows = spec.rows, cols = spec.cols;
  Tensor out = Tensor::empty(dj::DType::F32, {rows, cols});
  const float* x = in[0].data<float>();
  float* y = out.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    if (spec.kind == jc::CudaKernelKind::RowSoftmax) {
      double mx = xr[0], sum = 0;
      for (int64_t c = 1; c < cols; ++c) mx = std::max<double>(mx, xr[c]);
      for (int64_t c = 0; c < cols; ++c) sum += std::exp(xr[c] - mx);
      for (int64_t c = 0; c < cols; ++c) yr[c] = static_cast<float>(std::exp(xr[c] - mx) / sum);
    } else {  // RowLayerNorm: biased variance
      double mean = 0, var = 0;
      for (int64_t c = 0; c < cols; ++c) mean += xr[c];
      mean /= static_cast<double>(cols);
      for (int64_t c = 0; c < cols; ++c) var += (xr[c] - mean) * (xr[c] - mean);
      var /= static_cast<double>(cols);
      const double inv = 1.0 / std::sqrt(var + spec.epsilon);
      for (int64_t c = 0; c < cols; ++c)
        yr[c] = static_cast<float>((xr[c] - mean) * inv * in[1].data<float>()[c] +
                                   (in.size() > 2 ? in[2].data<float>()[c] : 0.0));
    }
  }
  return out;
}

double max_abs_error(const Tensor& got, const Tensor& want) {
  double e = 0;
  for (int64_t i = 0; i < want.numel(); ++i)
    e = std::max(e, std::fabs(static_cast<double>(got.data<float>()[i]) - want.data<float>()[i]));
  return e;
}

struct InputSpec {
  Shape shape;
  float lo, hi;  // uniform random values in [lo, hi)
};

struct MemoryCase {
  std::string label;
  jc::CudaKernelSpec spec;
  std::vector<InputSpec> inputs;
  bool is_copy = false;  // the baseline of its element count
};

jc::CudaKernelSpec elementwise(const std::string& name, bool generic, const Shape& out, const std::vector<Shape>& ins,
                               std::vector<jc::ElementwiseStep> steps) {
  jc::CudaKernelSpec s;
  s.kind = jc::CudaKernelKind::Elementwise;
  s.name = name;
  s.generic = generic;
  s.output_shape = out;
  s.input_shapes = ins;
  s.steps = std::move(steps);
  if (generic)  // what the JIT knows symbolically: which dims each input broadcasts along
    for (const Shape& in : ins) s.input_broadcast.push_back({in.size() < 2, false});
  return s;
}

jc::CudaKernelSpec rows_spec(jc::CudaKernelKind kind, const std::string& name, bool generic, int64_t rows, int64_t cols) {
  jc::CudaKernelSpec s;
  s.kind = kind;
  s.name = name;
  s.generic = generic;
  s.rows = rows;
  s.cols = cols;
  s.num_inputs = kind == jc::CudaKernelKind::RowLayerNorm ? 3 : 1;
  return s;
}

std::vector<MemoryCase> memory_cases() {
  const int64_t R = 4096, C = 4096;      // 16M floats
  const int64_t RR = 8192, RC = 1024;    // row kernels
  const Shape full{R, C}, row{C}, rows_shape{RR, RC};
  const std::vector<jc::ElementwiseStep> chain = {{"Mul", {0, 1}}, {"Add", {3, 2}}, {"Relu", {4}}, {"Sigmoid", {5}}};
  std::vector<MemoryCase> cases;
  cases.push_back({"copy (Identity) 16M", elementwise("copy_16m", false, full, {full}, {{"Identity", {0}}}),
                   {{full, -1, 1}}, true});
  cases.push_back({"copy (Identity) 8M", elementwise("copy_8m", false, rows_shape, {rows_shape}, {{"Identity", {0}}}),
                   {{rows_shape, -1, 1}}, true});
  for (bool generic : {false, true}) {
    const std::string g = generic ? " generic" : "";
    cases.push_back({"x*w[c]+b[c],Relu,Sigmoid 16M" + g,
                     elementwise(generic ? "chain_bcast_g" : "chain_bcast", generic, full, {full, row, row}, chain),
                     {{full, -4, 4}, {row, -1, 1}, {row, -1, 1}}});
    cases.push_back({"x*y+b[c],Relu,Sigmoid 16M" + g,
                     elementwise(generic ? "chain_full_g" : "chain_full", generic, full, {full, full, row}, chain),
                     {{full, -4, 4}, {full, -1, 1}, {row, -1, 1}}});
    cases.push_back({"RowSoftmax 8192x1024" + g,
                     rows_spec(jc::CudaKernelKind::RowSoftmax, generic ? "softmax_g" : "softmax", generic, RR, RC),
                     {{rows_shape, -8, 8}}});
    cases.push_back({"RowLayerNorm 8192x1024" + g,
                     rows_spec(jc::CudaKernelKind::RowLayerNorm, generic ? "layernorm_g" : "layernorm", generic, RR, RC),
                     {{rows_shape, -3, 5}, {row, 0.5f, 1.5f}, {row, -1, 1}}});
  }
  return cases;
}

const int64_t kGemmSizes[] = {512, 1024, 2048};

// The generated tiled GEMM with bias and ReLU fused, m = n = k = size.
jc::CudaKernelSpec gemm_spec(int64_t size) {
  jc::CudaKernelSpec s;
  s.kind = jc::CudaKernelKind::Gemm;
  s.name = "gemm_relu_bias_" + std::to_string(size);
  s.m = s.n = s.k = size;
  s.has_bias = s.relu = true;
  return s;
}

struct Failures {
  int count = 0;
  void note(const std::string& what, const Status& s) {
    ++count;
    std::printf("  %-38s ERROR: %s\n", what.c_str(), s.to_string().c_str());
  }
};

void print_memory_header() {
  std::printf("\n(a) memory-bound kernels: GB/s over every input and the output once; %% of the generated copy\n");
  std::printf("    of the same element count (target >= 80%%)\n");
  std::printf("  %-38s %9s %9s %8s %7s %6s %13s %10s\n", "kernel", "MB moved", "median us", "GB/s", "% copy",
              ">=80%", "max abs err", "compile ms");
}

// Times a driver memcpy of `n` floats: the hardware's copy rate, for reference.
void driver_copy_row(CudaContext& ctx, CUstream stream, LaunchTimer& timer, int64_t n, Failures& failures) {
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  const std::string label = "cuMemcpyDtoD " + std::to_string(n >> 20) + "M (driver)";
  auto src = DeviceBuffer::allocate(ctx.allocator(), bytes, key_of(stream));
  auto dst = DeviceBuffer::allocate(ctx.allocator(), bytes, key_of(stream));
  if (!src.ok() || !dst.ok()) return failures.note(label, src.ok() ? dst.status() : src.status());
  auto us = timer.median_us([&] { return dj::copy_device_to_device(ctx, dst->ptr(), src->ptr(), bytes, stream); });
  if (!us.ok()) return failures.note(label, us.status());
  const double gbps = 2.0 * static_cast<double>(bytes) / (*us * 1e3);
  std::printf("  %-38s %9.1f %9.1f %8.0f %7s %6s %13s %10s\n", label.c_str(), 2.0 * bytes / 1e6, *us, gbps, "", "",
              "", "");
}

void run_memory_case(CudaContext& ctx, CUstream stream, LaunchTimer& timer, const MemoryCase& c, unsigned seed,
                     std::map<int64_t, double>& copy_gbps, Failures& failures) {
  auto built = build_kernel(ctx, c.spec);
  if (!built.ok()) return failures.note(c.label, built.status());
  const bool rows = c.spec.kind != jc::CudaKernelKind::Elementwise;
  const Shape out_shape = rows ? Shape{c.spec.rows, c.spec.cols} : c.spec.output_shape;
  std::vector<Tensor> host_inputs;
  for (const InputSpec& in : c.inputs) host_inputs.push_back(random_tensor(in.shape, in.lo, in.hi, seed++));
  std::vector<DeviceBuffer> device_inputs;
  std::vector<DevicePtr> ptrs;
  std::vector<Shape> shapes;
  size_t bytes = 0;
  for (const Tensor& t : host_inputs) {
    auto up = dj::upload_to_new_buffer(ctx, t, stream);
    if (!up.ok()) return failures.note(c.label, up.status());
    ptrs.push_back(up->ptr());
    shapes.push_back(t.shape());
    bytes += t.nbytes();
    device_inputs.push_back(std::move(up).value());
  }
  const int64_t numel = dj::shape_numel(out_shape);
  bytes += static_cast<size_t>(numel) * sizeof(float);
  auto out = DeviceBuffer::allocate(ctx.allocator(), static_cast<size_t>(numel) * sizeof(float), key_of(stream));
  if (!out.ok()) return failures.note(c.label, out.status());
  auto prepared = prepare_launch(*built, ptrs, shapes, out->ptr(), out_shape);
  if (!prepared.ok()) return failures.note(c.label, prepared.status());

  // Verify once, before timing.
  Status first = launch(ctx, *prepared, stream);
  if (!first.ok()) return failures.note(c.label, first);
  auto got = dj::download_tensor(ctx, out->ptr(), out->capacity(), dj::DType::F32, out_shape, stream);
  if (!got.ok()) return failures.note(c.label, got.status());
  Expected<Tensor> want =
      rows ? Expected<Tensor>(host_rows(c.spec, host_inputs)) : host_elementwise(c.spec, host_inputs);
  if (!want.ok()) return failures.note(c.label, want.status());
  const double err = max_abs_error(*got, *want);
  const bool correct = err <= 1e-4;  // outputs are O(1): float rounding gives ~1e-6
  if (!correct) ++failures.count;

  auto us = timer.median_us([&] { return launch(ctx, *prepared, stream); });
  if (!us.ok()) return failures.note(c.label, us.status());
  const double gbps = static_cast<double>(bytes) / (*us * 1e3);
  if (c.is_copy) copy_gbps[numel] = gbps;
  char pct[16] = "", target[8] = "";
  if (!c.is_copy && copy_gbps.count(numel)) {
    const double p = 100.0 * gbps / copy_gbps[numel];
    std::snprintf(pct, sizeof pct, "%.0f%%", p);
    std::snprintf(target, sizeof target, "%s", p >= 80.0 ? "yes" : "NO");
  }
  char err_text[24];
  std::snprintf(err_text, sizeof err_text, "%.1e%s", err, correct ? "" : " WRONG");
  std::printf("  %-38s %9.1f %9.1f %8.0f %7s %6s %13s %10.0f\n", c.label.c_str(), bytes / 1e6, *us, gbps, pct, target,
              err_text, built->compile_ms);
}

// ---------------------------------------------------------------- (b) GEMM

// Reference rows of out = A·B and of relu(A·B + bias), in double.
struct GemmReference {
  std::vector<int64_t> rows;
  std::vector<double> plain, relu_bias;  // rows.size() x n
};

GemmReference gemm_reference(const Tensor& a, const Tensor& b, const Tensor& bias, int64_t m, int64_t n, int64_t k) {
  GemmReference ref;
  const int64_t sampled = std::min<int64_t>(m, 256);
  for (int64_t i = 0; i < sampled; ++i) ref.rows.push_back(i * m / sampled);
  ref.plain.assign(ref.rows.size() * static_cast<size_t>(n), 0.0);
  ref.relu_bias.resize(ref.plain.size());
  for (size_t ri = 0; ri < ref.rows.size(); ++ri) {
    double* acc = &ref.plain[ri * static_cast<size_t>(n)];
    for (int64_t p = 0; p < k; ++p) {
      const double av = a.data<float>()[ref.rows[ri] * k + p];
      const float* brow = b.data<float>() + p * n;
      for (int64_t j = 0; j < n; ++j) acc[j] += av * brow[j];
    }
    for (int64_t j = 0; j < n; ++j) ref.relu_bias[ri * n + j] = std::max(0.0, acc[j] + bias.data<float>()[j]);
  }
  return ref;
}

Expected<double> gemm_error(CudaContext& ctx, CUstream stream, const DeviceBuffer& out, int64_t m, int64_t n,
                            const GemmReference& ref, bool relu_bias) {
  DJ_ASSIGN_OR_RETURN(Tensor got, dj::download_tensor(ctx, out.ptr(), out.capacity(), dj::DType::F32, {m, n}, stream));
  const std::vector<double>& want = relu_bias ? ref.relu_bias : ref.plain;
  double e = 0;
  for (size_t ri = 0; ri < ref.rows.size(); ++ri)
    for (int64_t j = 0; j < n; ++j)
      e = std::max(e, std::fabs(got.data<float>()[ref.rows[ri] * n + j] - want[ri * n + j]));
  return e;
}

struct GemmTiming {
  std::string text = "n/a";  // "TFLOP/s (err)" or why not
  double us = 0;
};

// Verifies one GEMM launch against the reference, then times it.
GemmTiming time_gemm(CudaContext& ctx, CUstream stream, LaunchTimer& timer, const std::function<Status()>& run,
                     const DeviceBuffer& out, int64_t size, const GemmReference& ref, bool relu_bias,
                     double tolerance, Failures& failures) {
  GemmTiming t;
  Status s = run();
  Expected<double> err = s.ok() ? gemm_error(ctx, stream, out, size, size, ref, relu_bias) : Expected<double>(s);
  Expected<double> us = err.ok() ? timer.median_us(run) : Expected<double>(err.status());
  if (!us.ok()) {
    failures.note("gemm " + std::to_string(size), us.status());
    t.text = "ERROR";
    return t;
  }
  const bool correct = *err <= tolerance;
  if (!correct) ++failures.count;
  t.us = *us;
  const double tflops = 2.0 * std::pow(static_cast<double>(size), 3) / (*us * 1e-6) / 1e12;
  char text[64];
  std::snprintf(text, sizeof text, "%6.2f (%.0e%s)", tflops, *err, correct ? "" : " WRONG");
  t.text = text;
  return t;
}

void run_gemms(CudaContext& ctx, CUstream stream, LaunchTimer& timer, const BenchOptions& options,
               Failures& failures) {
  auto lt = dj::CublasLt::get();
  std::printf("\n(b) f32 GEMM out[m,n] = A[m,k]·B[k,n], m = n = k: TFLOP/s (max abs err on up to 256 rows);\n");
  std::printf("    epilogue/plain = median time with ReluBias over time with None (target <= 1.10)\n");
  if (lt.ok())
    std::printf("    cuBLASLt %zu (%s), %s\n", (*lt)->version(), (*lt)->library().c_str(),
                options.tf32 ? "TF32 tensor cores allowed" : "CUBLAS_COMPUTE_32F");
  else
    std::printf("    cuBLASLt unavailable: %s\n", lt.status().message().c_str());
  std::printf("  %-6s %22s %22s %15s %8s %24s\n", "size", "cuBLASLt none", "cuBLASLt relu_bias", "epilogue/plain",
              "<=1.10", "generated relu_bias");
  for (int64_t size : kGemmSizes) {
    const int64_t m = size, n = size, k = size;
    const Tensor a = random_tensor({m, k}, -1, 1, 20), b = random_tensor({k, n}, -1, 1, 21),
                 bias = random_tensor({n}, -1, 1, 22);
    const GemmReference ref = gemm_reference(a, b, bias, m, n, k);
    auto da = dj::upload_to_new_buffer(ctx, a, stream), db = dj::upload_to_new_buffer(ctx, b, stream),
         dbias = dj::upload_to_new_buffer(ctx, bias, stream),
         out = DeviceBuffer::allocate(ctx.allocator(), static_cast<size_t>(m * n) * sizeof(float), key_of(stream));
    if (const auto* bad = !da.ok() ? &da : !db.ok() ? &db : !dbias.ok() ? &dbias : !out.ok() ? &out : nullptr) {
      failures.note("gemm " + std::to_string(size), bad->status());
      continue;
    }
    GemmTiming plain, epilogue, generated;
    if (lt.ok()) {
      // TF32 rounds inputs to 10-bit mantissas: ~5e-4 relative per product.
      const double tolerance = (options.tf32 ? 1e-4 : 2e-5) * static_cast<double>(k);
      const dj::GemmF32 g{.m = m, .n = n, .k = k, .a = da->ptr(), .b = db->ptr(), .out = out->ptr(),
                          .allow_tf32 = options.tf32};
      plain = time_gemm(ctx, stream, timer, [&] { return (*lt)->gemm_f32(g, stream); }, *out, size, ref, false,
                        tolerance, failures);
      dj::GemmF32 ge = g;
      ge.bias = dbias->ptr();
      ge.epilogue = dj::GemmEpilogue::ReluBias;
      epilogue = time_gemm(ctx, stream, timer, [&] { return (*lt)->gemm_f32(ge, stream); }, *out, size, ref, true,
                           tolerance, failures);
    }
    auto built = build_kernel(ctx, gemm_spec(size));
    auto prepared = built.ok() ? prepare_launch(*built, {da->ptr(), db->ptr(), dbias->ptr()}, {{m, k}, {k, n}, {n}},
                                                out->ptr(), {m, n})
                               : Expected<PreparedLaunch>(built.status());
    if (prepared.ok())
      generated = time_gemm(ctx, stream, timer, [&] { return launch(ctx, *prepared, stream); }, *out, size, ref,
                            true, 2e-5 * static_cast<double>(k), failures);
    else
      failures.note("generated gemm " + std::to_string(size), prepared.status());
    char ratio[16] = "-", target[8] = "";
    if (plain.us > 0 && epilogue.us > 0) {
      const double r = epilogue.us / plain.us;
      std::snprintf(ratio, sizeof ratio, "%.3f", r);
      std::snprintf(target, sizeof target, "%s", r <= 1.10 ? "yes" : "NO");
    }
    std::printf("  %-6lld %22s %22s %15s %8s %24s\n", static_cast<long long>(size), plain.text.c_str(),
                epilogue.text.c_str(), ratio, target, generated.text.c_str());
  }
}

// --compile-only: every kernel of the tables through the generator and NVRTC for
// sm_N, no GPU needed (what this machine can check without one).
int compile_only(int sm) {
  if (jc::nvrtc_version() == "unavailable") {
    const auto lib = jc::nvrtc_library();
    std::printf("jit_gpu_kernel_bench: NVRTC cannot be loaded, nothing compiled: %s\n",
                lib.ok() ? "unknown reason" : lib.status().message().c_str());
    return 0;
  }
  std::printf("NVRTC %s: generating and compiling every kernel for sm_%d (no GPU used)\n",
              jc::nvrtc_version().c_str(), sm);
  std::vector<jc::CudaKernelSpec> specs;
  for (const MemoryCase& c : memory_cases()) specs.push_back(c.spec);
  for (int64_t size : kGemmSizes) specs.push_back(gemm_spec(size));
  std::printf("  %-20s %-12s %8s %12s %10s %10s\n", "kernel", "kind", "generic", "source bytes", "cubin bytes",
              "compile ms");
  int failed = 0;
  for (const jc::CudaKernelSpec& spec : specs) {
    auto source = jc::generate_cuda_kernel(spec);
    jc::NvrtcOptions options;
    options.sm = sm;
    auto binary = source.ok() ? jc::nvrtc_compile(source->source, source->name, options)
                              : Expected<jc::NvrtcOutput>(source.status());
    if (!binary.ok()) {
      ++failed;
      std::printf("  %-20s ERROR: %s\n", spec.name.c_str(), binary.status().to_string().c_str());
      continue;
    }
    std::printf("  %-20s %-12s %8s %12zu %10zu %10.0f\n", spec.name.c_str(), jc::cuda_kernel_kind_name(spec.kind),
                spec.generic ? "yes" : "no", source->source.size(), binary->cubin.size(), binary->compile_ms);
  }
  return failed ? 1 : 0;
}

int run_on_gpu(const BenchOptions& options) {
  Expected<CudaContext*> context = CudaContext::get();
  if (!context.ok()) {
    std::printf("jit_gpu_kernel_bench: no usable GPU, nothing measured: %s\n"
                "(--compile-only checks that every kernel generates and compiles without one)\n",
                context.status().message().c_str());
    return 0;
  }
  CudaContext& ctx = **context;
  std::printf("%s\n", ctx.properties().describe().c_str());
  std::printf("NVRTC %s; kernels compiled for sm_%d (cubin); %d warm-up + %d timed launches each, median; L2 %s\n",
              jc::nvrtc_version().c_str(), ctx.properties().sm_major * 10 + ctx.properties().sm_minor, options.warmup,
              options.iters, options.flush_l2 ? "flushed before each timed launch" : "not flushed");
  Expected<CUstream> stream = ctx.thread_stream();
  if (!stream.ok()) {
    std::printf("no stream: %s\n", stream.status().to_string().c_str());
    return 1;
  }
  Expected<LaunchTimer> timer = LaunchTimer::create(ctx, *stream, options);
  if (!timer.ok()) {
    std::printf("cannot set up timing: %s\n", timer.status().to_string().c_str());
    return 1;
  }
  Failures failures;
  print_memory_header();
  std::map<int64_t, double> copy_gbps;
  driver_copy_row(ctx, *stream, *timer, int64_t{16} << 20, failures);
  driver_copy_row(ctx, *stream, *timer, int64_t{8} << 20, failures);
  unsigned seed = 1;
  for (const MemoryCase& c : memory_cases()) {
    run_memory_case(ctx, *stream, *timer, c, seed, copy_gbps, failures);
    seed += 8;
  }
  run_gemms(ctx, *stream, *timer, options, failures);
  if (failures.count) {
    std::printf("\n%d kernel(s) failed or gave WRONG results (see above)\n", failures.count);
    return 1;
  }
  return 0;
}

#endif  // DJ_HAVE_CUDA

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  const int parsed = parse_args(argc, argv, options);
  if (parsed != 0) return parsed > 0 ? 0 : 2;
#if DJ_HAVE_CUDA
  return options.compile_only ? compile_only(options.sm) : run_on_gpu(options);
#else
  std::printf("jit_gpu_kernel_bench: built without CUDA support (the CUDA toolkit was not found when CMake "
              "configured this build), nothing measured\n");
  return 0;
#endif
}
