// OrcSession: LLJIT set-up, the Halide runtime hooks (errors, TBB) and per-kernel
// JITDylibs. See OrcSession.h for the invariants.
#include "jit/OrcSession.h"

#include <tbb/parallel_for.h>

#include <atomic>
#include <chrono>

#include "HalideRuntime.h"
#include "jit/HalideRuntimeObject.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

namespace dj::jit {
namespace {

thread_local std::string t_unattributed_error;
std::atomic<uint64_t> g_tbb_parallel_loops{0};

// Replaces the runtime's aborting halide_error: record and let the kernel return its code.
void record_halide_error(void* user_context, const char* message) {
  if (user_context) {
    auto* ctx = static_cast<KernelCallContext*>(user_context);
    std::lock_guard<std::mutex> lock(ctx->mutex);
    if (!ctx->error.empty()) ctx->error += "; ";
    ctx->error += message;
    return;
  }
  if (!t_unattributed_error.empty()) t_unattributed_error += "; ";
  t_unattributed_error += message;
}

// Halide's parallel loops on TBB: one task per loop iteration, the first failing code wins.
int tbb_do_par_for(void* user_context, halide_task_t task, int min, int size, uint8_t* closure) {
  g_tbb_parallel_loops.fetch_add(1, std::memory_order_relaxed);
  std::atomic<int> result{0};
  tbb::parallel_for(min, min + size, [&](int i) {
    if (result.load(std::memory_order_relaxed) != 0) return;
    int code = task(user_context, i, closure);
    if (code != 0) {
      int expected = 0;
      result.compare_exchange_strong(expected, code);
    }
  });
  return result.load();
}

std::string to_message(llvm::Error err) { return llvm::toString(std::move(err)); }

std::mutex g_session_mutex;
std::shared_ptr<OrcSession> g_session;
Status g_session_error;
bool g_session_tried = false;
OrcSession::RuntimeObjectSource g_runtime_source;

}  // namespace

std::string take_thread_halide_error() {
  std::string message = std::move(t_unattributed_error);
  t_unattributed_error.clear();
  return message;
}

struct OrcSession::Jit {
  std::unique_ptr<llvm::orc::LLJIT> lljit;
};

struct LoadedObject {
  std::shared_ptr<OrcSession> session;
  llvm::orc::JITDylib* dylib = nullptr;
  llvm::orc::ResourceTrackerSP tracker;
  std::string dylib_name;
  std::atomic<bool> unloaded{false};

  Status unload();
  ~LoadedObject();
};

OrcSession::OrcSession() : jit_(std::make_unique<Jit>()) {}

OrcSession::~OrcSession() {
  // RuntimeDyld runs no destructors of the runtime object: stop its pool ourselves.
  if (shutdown_thread_pool_) shutdown_thread_pool_();
}

uint64_t OrcSession::tbb_parallel_loops() const { return g_tbb_parallel_loops.load(); }

Status OrcSession::set_runtime_object_source(RuntimeObjectSource source) {
  std::lock_guard<std::mutex> lock(g_session_mutex);
  DJ_CHECK(!g_session_tried, InvalidArgument,
           "the ORC session already exists: set the Halide runtime source before the first kernel is loaded");
  g_runtime_source = std::move(source);
  return Status::ok_status();
}

Expected<std::shared_ptr<OrcSession>> OrcSession::get() {
  std::lock_guard<std::mutex> lock(g_session_mutex);
  if (g_session) return g_session;
  if (g_session_tried) return g_session_error;
  g_session_tried = true;
  auto started = std::chrono::steady_clock::now();
  Expected<std::vector<uint8_t>> runtime =
      g_runtime_source ? g_runtime_source() : halide_runtime_object();
  if (!runtime.ok()) {
    g_session_error = runtime.status().with_context("loading the Halide runtime: ");
    return g_session_error;
  }
  std::shared_ptr<OrcSession> session(new OrcSession());
  Status st = session->start(std::move(runtime).value());
  if (!st.ok()) {
    g_session_error = st;
    return g_session_error;
  }
  session->runtime_load_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  g_session = session;
  return g_session;
}

Status OrcSession::start(std::vector<uint8_t> runtime_object) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto lljit = llvm::orc::LLJITBuilder().create();
  if (!lljit) return make_error(StatusCode::Internal, "cannot create the LLVM ORC LLJIT: ", to_message(lljit.takeError()));
  jit_->lljit = std::move(*lljit);
  llvm::orc::LLJIT& jit = *jit_->lljit;
  llvm::orc::JITDylib& main = jit.getMainJITDylib();
  // libc, libm and pthreads (and the process' own exported symbols) for the runtime and kernels.
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(jit.getDataLayout().getGlobalPrefix());
  if (!process) return make_error(StatusCode::Internal, "ORC: ", to_message(process.takeError()));
  main.addGenerator(std::move(*process));

  runtime_object_ = std::move(runtime_object);
  llvm::StringRef bytes(reinterpret_cast<const char*>(runtime_object_.data()), runtime_object_.size());
  if (llvm::Error err = jit.addObjectFile(main, llvm::MemoryBuffer::getMemBufferCopy(bytes, "halide_runtime.o")))
    return make_error(StatusCode::Internal, "ORC cannot add the Halide runtime object: ", to_message(std::move(err)));

  auto find = [&](const char* name) -> Expected<void*> {
    auto sym = jit.lookup(main, name);
    if (!sym) return make_error(StatusCode::Internal, "the Halide runtime lacks ", name, ": ", to_message(sym.takeError()));
    return reinterpret_cast<void*>(static_cast<uintptr_t>(sym->getAddress()));
  };
  DJ_ASSIGN_OR_RETURN(void* set_error_handler, find("halide_set_error_handler"));
  DJ_ASSIGN_OR_RETURN(void* set_do_par_for, find("halide_set_custom_do_par_for"));
  DJ_ASSIGN_OR_RETURN(void* shutdown_pool, find("halide_shutdown_thread_pool"));
  reinterpret_cast<halide_error_handler_t (*)(halide_error_handler_t)>(set_error_handler)(&record_halide_error);
  reinterpret_cast<halide_do_par_for_t (*)(halide_do_par_for_t)>(set_do_par_for)(&tbb_do_par_for);
  shutdown_thread_pool_ = reinterpret_cast<void (*)()>(shutdown_pool);
  return Status::ok_status();
}

Expected<std::shared_ptr<LoadedKernel>> OrcSession::add_object(std::span<const uint8_t> object,
                                                              const std::string& entry_symbol) {
  DJ_ASSIGN_OR_RETURN(auto kernels, add_object(object, std::vector<std::string>{entry_symbol}));
  return kernels.front();
}

Expected<std::vector<std::shared_ptr<LoadedKernel>>> OrcSession::add_object(
    std::span<const uint8_t> object, const std::vector<std::string>& entry_symbols) {
  DJ_CHECK(!entry_symbols.empty(), InvalidArgument, "no entry symbol to load");
  const std::string& first = entry_symbols.front();
  DJ_CHECK(!object.empty(), InvalidArgument, "empty kernel object for '", first, "'");
  llvm::orc::LLJIT& jit = *jit_->lljit;
  auto loaded = std::make_shared<LoadedObject>();
  loaded->session = shared_from_this();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    loaded->dylib_name = "dj_kernel_" + std::to_string(next_dylib_id_++) + "_" + first;
    auto dylib = jit.createJITDylib(loaded->dylib_name);
    if (!dylib) return make_error(StatusCode::Internal, "ORC: ", to_message(dylib.takeError()));
    loaded->dylib = &*dylib;
    loaded->dylib->addToLinkOrder(jit.getMainJITDylib());
    loaded->tracker = loaded->dylib->createResourceTracker();
    llvm::StringRef bytes(reinterpret_cast<const char*>(object.data()), object.size());
    if (llvm::Error err = jit.addObjectFile(loaded->tracker, llvm::MemoryBuffer::getMemBufferCopy(bytes, loaded->dylib_name))) {
      loaded->tracker = nullptr;  // nothing was added; the destructor removes the empty JITDylib
      return make_error(StatusCode::InvalidArgument, "ORC rejected the object of '", first,
                        "': ", to_message(std::move(err)));
    }
  }
  // Lookup materializes (links) the object; a bad object or a missing symbol fails here.
  std::vector<std::shared_ptr<LoadedKernel>> kernels;
  for (const std::string& symbol : entry_symbols) {
    auto sym = jit.lookup(*loaded->dylib, symbol);
    if (!sym) return make_error(StatusCode::InvalidArgument, "cannot link kernel '", symbol, "': ", to_message(sym.takeError()));
    auto entry = reinterpret_cast<LoadedKernel::ArgvEntry>(static_cast<uintptr_t>(sym->getAddress()));
    kernels.push_back(std::shared_ptr<LoadedKernel>(new LoadedKernel(loaded, symbol, entry)));
  }
  return kernels;
}

Status LoadedObject::unload() {
  std::lock_guard<std::mutex> lock(session->mutex_);
  unloaded.store(true, std::memory_order_release);
  if (!tracker) return Status::ok_status();
  llvm::Error err = tracker->remove();
  tracker = nullptr;
  if (err) return make_error(StatusCode::Internal, "ORC cannot remove '", dylib_name, "': ", to_message(std::move(err)));
  return Status::ok_status();
}

LoadedObject::~LoadedObject() {
  Status st = unload();
  (void)st;  // nothing useful to do with a failed removal at destruction
  std::lock_guard<std::mutex> lock(session->mutex_);
  llvm::consumeError(session->jit_->lljit->getExecutionSession().removeJITDylib(*dylib));
}

LoadedKernel::LoadedKernel(std::shared_ptr<LoadedObject> object, std::string entry_symbol, ArgvEntry entry)
    : object_(std::move(object)), entry_symbol_(std::move(entry_symbol)), entry_(entry) {}

LoadedKernel::~LoadedKernel() = default;

LoadedKernel::ArgvEntry LoadedKernel::entry() const {
  return object_->unloaded.load(std::memory_order_acquire) ? nullptr : entry_;
}

const std::string& LoadedKernel::dylib_name() const { return object_->dylib_name; }

Status LoadedKernel::unload() { return object_->unload(); }

Expected<void*> LoadedKernel::lookup(const std::string& symbol) const {
  auto sym = object_->session->jit_->lljit->lookup(*object_->dylib, symbol);
  if (!sym) return make_error(StatusCode::InvalidArgument, "symbol '", symbol, "' not found in ", object_->dylib_name,
                              ": ", to_message(sym.takeError()));
  return reinterpret_cast<void*>(static_cast<uintptr_t>(sym->getAddress()));
}

}  // namespace dj::jit
