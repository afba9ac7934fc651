// JitUnderTest: one bundled model twice — a reference interpreter (no tracing,
// nothing installed) and a traced interpreter whose hot regions the specializer
// compiles inline (hot after 2 runs of a signature), for the CPU or, given a
// GpuBackend, for the GPU — and check(), which runs inputs on the second and
// compares with the first (tests/support/BundledModelSupport.h tolerance).
// The code cache is off: these tests count compiles (the cache has its own tests).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/Interpreter.h"
#include "specializer/Specializer.h"
#include "tests/support/BundledModelSupport.h"

namespace dj::test {

struct JitUnderTest {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Interpreter> reference;
  std::unique_ptr<Interpreter> jit;
  std::shared_ptr<specializer::Specializer> specializer;

  explicit JitUnderTest(const std::string& name, bool background = false,
                        std::shared_ptr<specializer::GpuBackend> gpu = nullptr)
      : JitUnderTest(load_bundled(name), background, std::move(gpu)) {}
  explicit JitUnderTest(std::shared_ptr<const Model> loaded, bool background = false,
                        std::shared_ptr<specializer::GpuBackend> gpu = nullptr)
      : JitUnderTest(std::move(loaded), every_lowering(background, std::move(gpu))) {}
  // With these specializer options (the code cache is turned off all the same).
  JitUnderTest(std::shared_ptr<const Model> loaded, specializer::SpecializerOptions so) : model(std::move(loaded)) {
    InterpreterOptions off;
    off.trace = false;
    reference = std::make_unique<Interpreter>(model, off);
    InterpreterOptions on;
    on.trace = true;
    on.trace_options.hotness.min_count = 2;
    on.trace_options.hotness.min_total_ms = 1e9;
    jit = std::make_unique<Interpreter>(model, on);
    so.use_cache = false;
    specializer = specializer::Specializer::attach(*jit, so);
  }
  // The default options of these tests: every lowering is under test, lone ops too.
  static specializer::SpecializerOptions every_lowering(bool background,
                                                        std::shared_ptr<specializer::GpuBackend> gpu) {
    specializer::SpecializerOptions so;
    so.background = background;
    so.compile_unfused_plans = true;
    so.gpu = std::move(gpu);
    return so;
  }
  ~JitUnderTest() { specializer->detach(); }

  // Runs `inputs` `times` times on the JIT interpreter, checking each against the reference.
  void check(const std::vector<Tensor>& inputs, int times, const std::string& what) {
    auto want = reference->run(inputs);
    ASSERT_TRUE(want.ok()) << want.status().message();
    for (int k = 0; k < times; ++k) {
      auto got = jit->run(inputs);
      ASSERT_TRUE(got.ok()) << what << ": " << got.status().message();
      expect_close(*got, *want, what + " run " + std::to_string(k));
    }
  }
  uint64_t compiled_executions() const {
    uint64_t n = 0;
    for (const RegionStats& r : jit->tracer()->all_region_stats()) n += r.compiled;
    return n;
  }
};

}  // namespace dj::test
