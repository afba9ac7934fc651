// The objects behind the C API's opaque handles: dj_tensor and dj_model.
//
// A dj_tensor is one dj::Tensor (owned or borrowed). A dj_model holds the loaded
// model, its interpreter, and everything the C API derives from it at load time
// (value descriptions for introspection, the byte spans of the model's
// constants). Invariant: after dj_load returns, a dj_model is never mutated, so
// any number of threads may run it at once without locks; the optional TBB
// arena is itself thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <tbb/task_arena.h>

#include "bindings/c/CApiByteSpans.h"
#include "bindings/c/dynajit.h"
#include "runtime/Graph.h"
#include "runtime/Interpreter.h"
#include "runtime/Tensor.h"
#ifdef DJ_HAVE_JIT
#include "specializer/Specializer.h"
#endif

struct dj_tensor {
  dj::Tensor tensor;
};

namespace dj::capi {

// Storage behind one dj_value_info; the pointers in `info` point into it, so a
// ValueDescription is never moved after it is built (held by unique_ptr).
struct ValueDescription {
  std::string name;
  std::vector<std::string> symbols;  // the text of each non-constant dim
  std::vector<dj_dim> dims;
  dj_value_info info{};
};

}  // namespace dj::capi

struct dj_model {
  std::shared_ptr<const dj::Model> model;
  std::unique_ptr<const dj::Interpreter> interpreter;
  std::vector<std::unique_ptr<dj::capi::ValueDescription>> inputs;
  std::vector<std::unique_ptr<dj::capi::ValueDescription>> outputs;
  dj::capi::ByteSpanSet constants;         // memory an output must never share
  std::unique_ptr<tbb::task_arena> arena;  // limits the threads of runs; null = TBB default
#ifdef DJ_HAVE_JIT
  // Compiles hot regions in the background and installs them in the interpreter's
  // dispatch table (null: JIT off). The installs are the one thing that changes
  // after load; the dispatch table is made for that (lock-free reads).
  std::shared_ptr<dj::specializer::Specializer> specializer;
#else
  std::shared_ptr<void> specializer;  // always null without the JIT
#endif
  ~dj_model() {
#ifdef DJ_HAVE_JIT
    if (specializer) specializer->detach();  // before the interpreter it points to goes
#endif
  }
};
