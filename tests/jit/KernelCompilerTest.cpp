// KernelCompiler + OrcSession + CompiledKernel: compile, run, errors, unload, reload, threads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "jit/CompiledKernel.h"
#include "jit/ElementwiseSchedule.h"
#include "jit/FastMath.h"
#include "jit/HostTarget.h"
#include "jit/KernelCompiler.h"
#include "tests/jit/JitTestSupport.h"

namespace dj::jit {
namespace {

using testing::max_abs_diff;
using testing::random_tensor;

// out = tanh(x) * sigmoid(y) + 0.5 * x, elementwise over `rank` dims.
PipelineSpec elementwise_chain(int rank, const std::vector<int64_t>& extents, const std::string& name) {
  Halide::ImageParam x(Halide::Float(32), rank, "x"), y(Halide::Float(32), rank, "y");
  std::vector<Halide::Var> vars;
  for (int d = 0; d < rank; ++d) vars.emplace_back("v" + std::to_string(d));
  Halide::Func out("chain");
  out(vars) = tanh_f32(x(vars)) * sigmoid_f32(y(vars)) + 0.5f * x(vars);
  schedule_elementwise(out, extents);
  return PipelineSpec{Halide::Pipeline(out), {x, y}, name};
}

Tensor chain_reference(const Tensor& x, const Tensor& y) {
  Tensor out = Tensor::empty(DType::F32, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    float a = x.data<float>()[i], b = y.data<float>()[i];
    out.data<float>()[i] = static_cast<float>(std::tanh(double(a)) / (1.0 + std::exp(-double(b))) + 0.5 * a);
  }
  return out;
}

std::vector<int64_t> halide_order(const Shape& shape) { return std::vector<int64_t>(shape.rbegin(), shape.rend()); }

TEST(KernelCompiler, ElementwiseChainMatchesReferenceOnManyShapes) {
  const std::vector<Shape> shapes = {{1}, {17}, {1000}, {100000}, {3, 5}, {64, 33}, {2, 3, 257}, {8, 1, 20000}};
  for (const Shape& shape : shapes) {
    SCOPED_TRACE(shape_to_string(shape));
    auto kernel = compile_pipeline(elementwise_chain(static_cast<int>(shape.size()), halide_order(shape), "chain"));
    ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
    Tensor x = random_tensor(shape, 1, -4, 4), y = random_tensor(shape, 2, -4, 4);
    Tensor out = Tensor::zeros(DType::F32, shape);
    Tensor inputs[] = {x, y};
    ASSERT_TRUE(kernel->run(inputs, std::span<const Tensor>(&out, 1)).ok());
    EXPECT_LT(max_abs_diff(out, chain_reference(x, y)), 2e-6);
  }
}

TEST(KernelCompiler, ShapeGenericElementwiseKernelRunsEveryShape) {
  auto kernel = compile_pipeline(elementwise_chain(2, {}, "chain_generic"));
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  for (Shape shape : std::vector<Shape>{{1, 1}, {3, 15}, {7, 16}, {5, 17}, {300, 301}}) {
    SCOPED_TRACE(shape_to_string(shape));
    Tensor x = random_tensor(shape, 3, -4, 4), y = random_tensor(shape, 4, -4, 4);
    Tensor out = Tensor::zeros(DType::F32, shape);
    Tensor inputs[] = {x, y};
    ASSERT_TRUE(kernel->run(inputs, std::span<const Tensor>(&out, 1)).ok());
    EXPECT_LT(max_abs_diff(out, chain_reference(x, y)), 2e-6);
  }
}

TEST(KernelCompiler, SignatureListsInputsThenOutputs) {
  auto kernel = compile_pipeline(elementwise_chain(3, {}, "chain_sig"));
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  const KernelSignature& sig = kernel->signature;
  ASSERT_EQ(sig.args.size(), 3u);
  EXPECT_EQ(sig.args[0].name, "x");
  EXPECT_EQ(sig.args[1].name, "y");
  EXPECT_EQ(sig.args[2].kind, KernelArg::Kind::OutputBuffer);
  EXPECT_EQ(sig.args[2].dimensions, 3);
  EXPECT_EQ(sig.args[2].type.bits, 32);
  EXPECT_EQ(kernel->entry_symbol, "chain_sig_argv");
  EXPECT_EQ(kernel->target_key, host_target().key);
  ASSERT_TRUE(kernel->object && !kernel->object->empty());
}

TEST(KernelCompiler, WrongBufferSizeReturnsHalideMessageInsteadOfAborting) {
  // Compiled for 64x32 (ShiftInwards vectors assume it); given an input smaller than the output.
  auto kernel = compile_pipeline(elementwise_chain(2, {32, 64}, "chain_sized"));
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  Tensor x = random_tensor({64, 16}, 1), y = random_tensor({64, 32}, 2);
  Tensor out = Tensor::zeros(DType::F32, {64, 32});
  Tensor inputs[] = {x, y};
  Status st = kernel->run(inputs, std::span<const Tensor>(&out, 1));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::InvalidArgument);
  EXPECT_NE(st.message().find("Input buffer x"), std::string::npos) << st.message();
  // The kernel still works afterwards with the right buffers.
  Tensor good_x = random_tensor({64, 32}, 5);
  Tensor good_inputs[] = {good_x, y};
  EXPECT_TRUE(kernel->run(good_inputs, std::span<const Tensor>(&out, 1)).ok());
  EXPECT_LT(max_abs_diff(out, chain_reference(good_x, y)), 2e-6);
}

TEST(KernelCompiler, WrongDtypeAndRankAreReported) {
  auto kernel = compile_pipeline(elementwise_chain(2, {}, "chain_types"));
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  Tensor ints = Tensor::zeros(DType::I32, {4, 4});
  Tensor y = random_tensor({4, 4}, 2);
  Tensor out = Tensor::zeros(DType::F32, {4, 4});
  Tensor inputs[] = {ints, y};
  Status st = kernel->run(inputs, std::span<const Tensor>(&out, 1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("type"), std::string::npos) << st.message();

  Tensor rank3 = random_tensor({2, 4, 4}, 1);
  Tensor inputs3[] = {rank3, y};
  st = kernel->run(inputs3, std::span<const Tensor>(&out, 1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("dimensions"), std::string::npos) << st.message();

  Tensor one[] = {y};
  st = kernel->run(one, std::span<const Tensor>(&out, 1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("takes 2 inputs"), std::string::npos) << st.message();
}

TEST(KernelCompiler, PipelinesCompiledTogetherShareOneObject) {
  const std::vector<Shape> shapes = {{37}, {6, 50}, {2, 3, 129}};
  std::vector<PipelineSpec> specs;
  for (size_t i = 0; i < shapes.size(); ++i)
    specs.push_back(elementwise_chain(static_cast<int>(shapes[i].size()), halide_order(shapes[i]),
                                      "chain_batch" + std::to_string(i)));
  auto kernels = compile_pipelines(specs);
  ASSERT_TRUE(kernels.ok()) << kernels.status().to_string();
  ASSERT_EQ(kernels->size(), shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    const CompiledKernel& k = (*kernels)[i];
    SCOPED_TRACE(k.name);
    EXPECT_EQ(k.name, "chain_batch" + std::to_string(i));
    EXPECT_EQ(k.object.get(), (*kernels)[0].object.get());  // one object file for the batch
    EXPECT_EQ(k.loaded->dylib_name(), (*kernels)[0].loaded->dylib_name());
    Tensor x = random_tensor(shapes[i], 10 + i, -3, 3), y = random_tensor(shapes[i], 20 + i, -3, 3);
    Tensor out = Tensor::zeros(DType::F32, shapes[i]);
    Tensor inputs[] = {x, y};
    ASSERT_TRUE(k.run(inputs, std::span<const Tensor>(&out, 1)).ok());
    EXPECT_LT(max_abs_diff(out, chain_reference(x, y)), 2e-6);
  }
  // The object loads again elsewhere (a code cache hit), every kernel from one link.
  std::vector<KernelInObject> wanted;
  for (const CompiledKernel& k : *kernels) wanted.push_back(KernelInObject{k.name, k.signature});
  auto reloaded = load_object_kernels((*kernels)[0].object, wanted, (*kernels)[0].target_key);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().to_string();
  Tensor x = random_tensor(shapes[1], 3, -3, 3), y = random_tensor(shapes[1], 4, -3, 3);
  Tensor out = Tensor::zeros(DType::F32, shapes[1]);
  Tensor inputs[] = {x, y};
  ASSERT_TRUE((*reloaded)[1].run(inputs, std::span<const Tensor>(&out, 1)).ok());
  EXPECT_LT(max_abs_diff(out, chain_reference(x, y)), 2e-6);
  // A symbol the object does not define is an error, not a crash.
  wanted.push_back(KernelInObject{"no_such_kernel", wanted[0].signature});
  EXPECT_FALSE(load_object_kernels((*kernels)[0].object, wanted, (*kernels)[0].target_key).ok());
  // Unloading one kernel unloads its object: every kernel of it stops running.
  ASSERT_TRUE((*kernels)[0].loaded->unload().ok());
  for (const CompiledKernel& k : *kernels) EXPECT_EQ(k.loaded->entry(), nullptr);
  Status st = (*kernels)[2].run(inputs, std::span<const Tensor>(&out, 1));
  EXPECT_FALSE(st.ok());
}

TEST(KernelCompiler, HalideCompileErrorBecomesStatus) {
  Halide::ImageParam x(Halide::Float(32), 1, "x"), forgotten(Halide::Float(32), 1, "forgotten");
  Halide::Var i("i");
  Halide::Func out("needs_forgotten");
  out(i) = x(i) + forgotten(i);
  auto kernel = compile_pipeline(PipelineSpec{Halide::Pipeline(out), {x}, "needs_forgotten"});
  ASSERT_FALSE(kernel.ok());
  EXPECT_NE(kernel.status().message().find("forgotten"), std::string::npos) << kernel.status().message();

  auto bad_name = compile_pipeline(PipelineSpec{Halide::Pipeline(out), {x, forgotten}, "not-an identifier"});
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.status().code(), StatusCode::InvalidArgument);
}

TEST(KernelCompiler, ListingsOnRequest) {
  CompileOptions options;
  options.emit_halide_stmt = options.emit_llvm_ir = options.emit_assembly = true;
  options.load = false;
  auto kernel = compile_pipeline(elementwise_chain(1, {4096}, "chain_listed"), options);
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  EXPECT_EQ(kernel->loaded, nullptr);
  EXPECT_NE(kernel->listings.halide_stmt.find("produce chain"), std::string::npos);
  EXPECT_NE(kernel->listings.llvm_ir.find("define"), std::string::npos);
  EXPECT_NE(kernel->listings.llvm_ir.find("chain_listed_argv"), std::string::npos);
  EXPECT_NE(kernel->listings.assembly.find("chain_listed:"), std::string::npos);
  // AVX-512 hosts must get zmm code from vectorize(16); others at least xmm/ymm.
  if (host_target().float_vector_lanes == 16)
    EXPECT_NE(kernel->listings.assembly.find("zmm"), std::string::npos);
  auto plain = compile_pipeline(elementwise_chain(1, {4096}, "chain_unlisted"), CompileOptions{.load = false});
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->listings.assembly.empty());
}

TEST(KernelCompiler, UnloadRemovesTheSymbol) {
  auto kernel = compile_pipeline(elementwise_chain(1, {}, "chain_unload"));
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  ASSERT_TRUE(kernel->loaded->lookup("chain_unload_argv").ok());
  ASSERT_TRUE(kernel->loaded->unload().ok());
  auto gone = kernel->loaded->lookup("chain_unload_argv");
  EXPECT_FALSE(gone.ok());
  Tensor x = random_tensor({8}, 1);
  Tensor out = Tensor::zeros(DType::F32, {8});
  Tensor inputs[] = {x, x};
  Status st = kernel->run(inputs, std::span<const Tensor>(&out, 1));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not loaded"), std::string::npos);
}

TEST(KernelCompiler, LoadObjectRunsWithoutRecompiling) {
  auto compiled = compile_pipeline(elementwise_chain(2, {}, "chain_cached"), CompileOptions{.load = false});
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  auto loaded = load_object(*compiled->object, compiled->name, compiled->signature, compiled->target_key);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->times.lower_ms, 0);
  auto twice = load_object(*compiled->object, compiled->name, compiled->signature, compiled->target_key);
  ASSERT_TRUE(twice.ok()) << twice.status().to_string();  // same symbol names, separate JITDylibs
  EXPECT_NE(loaded->loaded->dylib_name(), twice->loaded->dylib_name());
  for (const CompiledKernel* k : {&loaded.value(), &twice.value()}) {
    Tensor x = random_tensor({13, 29}, 7, -3, 3), y = random_tensor({13, 29}, 8, -3, 3);
    Tensor out = Tensor::zeros(DType::F32, {13, 29});
    Tensor inputs[] = {x, y};
    ASSERT_TRUE(k->run(inputs, std::span<const Tensor>(&out, 1)).ok());
    EXPECT_LT(max_abs_diff(out, chain_reference(x, y)), 2e-6);
  }
  auto foreign = load_object(*compiled->object, compiled->name, compiled->signature, "arm-64-linux");
  EXPECT_FALSE(foreign.ok());
  std::vector<uint8_t> garbage(1000, 0x5a);
  auto bad = load_object(garbage, "chain_cached", compiled->signature, compiled->target_key);
  EXPECT_FALSE(bad.ok());
}

TEST(KernelCompiler, ParallelLoopsRunOnTbb) {
  auto kernel = compile_pipeline(elementwise_chain(2, {4096, 64}, "chain_parallel"));
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  auto session = OrcSession::get();
  ASSERT_TRUE(session.ok());
  uint64_t before = (*session)->tbb_parallel_loops();
  Tensor x = random_tensor({64, 4096}, 1), y = random_tensor({64, 4096}, 2);
  Tensor out = Tensor::zeros(DType::F32, {64, 4096});
  Tensor inputs[] = {x, y};
  ASSERT_TRUE(kernel->run(inputs, std::span<const Tensor>(&out, 1)).ok());
  EXPECT_GT((*session)->tbb_parallel_loops(), before);
  EXPECT_LT(max_abs_diff(out, chain_reference(x, y)), 2e-6);
  EXPECT_FALSE((*session)->runtime_object().empty());
}

TEST(KernelCompiler, FourThreadsCallOneKernel) {
  auto kernel = compile_pipeline(elementwise_chain(2, {}, "chain_threads"));
  ASSERT_TRUE(kernel.ok()) << kernel.status().to_string();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int iter = 0; iter < 25; ++iter) {
        Shape shape{1 + (t * 37 + iter * 11) % 90, 1 + (t * 53 + iter * 7) % 3000};
        Tensor x = random_tensor(shape, 100 * t + iter, -3, 3), y = random_tensor(shape, 7 + t, -3, 3);
        Tensor out = Tensor::zeros(DType::F32, shape);
        Tensor inputs[] = {x, y};
        // Every few calls, a wrong-size call on this thread must not leak its error to the others.
        if (iter % 5 == 0) {
          Tensor small = random_tensor({1, 1}, 1);
          Tensor bad[] = {small, y};
          if (shape != Shape{1, 1} && kernel->run(bad, std::span<const Tensor>(&out, 1)).ok()) ++failures;
        }
        if (!kernel->run(inputs, std::span<const Tensor>(&out, 1)).ok()) ++failures;
        if (max_abs_diff(out, chain_reference(x, y)) > 2e-6) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace dj::jit
