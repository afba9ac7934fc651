// CompileQueue: compiles kernels on background threads so the interpreter keeps serving.
//
// Invariants:
// - Jobs run highest priority first, FIFO among equal priorities.
// - Jobs are deduplicated by key while queued or running: submitting a key that is
//   already pending returns the same future (and adds the callback); a finished key
//   can be submitted again (the caller's own cache decides whether it should).
// - One worker by default, because Halide compiles are serialized anyway
//   (halide_compile_mutex); more workers only overlap the non-Halide parts of a job.
// - shutdown() (also run by the destructor) never hangs on queued work: queued jobs
//   are cancelled (their futures hold a Status "cancelled", callbacks run with it),
//   the running job is finished, the workers are joined. submit() after shutdown
//   returns an already-cancelled ticket.
// - A job's exceptions are caught and turned into an Internal Status.
// - Workers run at the CompilePriority given at construction (CompilePriority.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jit/CompilePriority.h"
#include "jit/CompiledKernel.h"

namespace dj::jit {

using CompileResult = Expected<std::shared_ptr<const CompiledKernel>>;

class CompileQueue {
 public:
  using Job = std::function<CompileResult()>;
  using Callback = std::function<void(const CompileResult&)>;

  struct Ticket {
    std::shared_future<CompileResult> result;
    bool deduplicated = false;  // true: joined a job already pending under this key
  };

  explicit CompileQueue(int workers = 1, CompilePriority priority = CompilePriority::Normal);
  ~CompileQueue();
  CompileQueue(const CompileQueue&) = delete;
  CompileQueue& operator=(const CompileQueue&) = delete;

  // `on_done` runs on the worker thread (or in shutdown() for cancelled jobs).
  Ticket submit(const std::string& key, int priority, Job job, Callback on_done = {});

  size_t queued() const;   // waiting, not started
  size_t running() const;  // started, not finished
  uint64_t completed() const;
  void shutdown();

 private:
  struct Entry;
  void work(CompilePriority priority);
  void stop_and_join();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t next_sequence_ = 0;
  uint64_t completed_ = 0;
  size_t running_ = 0;
  // Ordered by (-priority, sequence): begin() is the next job.
  std::map<std::pair<int64_t, uint64_t>, std::shared_ptr<Entry>> queue_;
  std::map<std::string, std::shared_ptr<Entry>> pending_by_key_;  // queued or running
  std::vector<std::thread> workers_;
  std::once_flag shutdown_once_;
};

}  // namespace dj::jit
