// CompileQueue: background compiles, priorities, dedup by key, shutdown with jobs pending.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "jit/CompileQueue.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "jit/ElementwiseSchedule.h"
#include "jit/KernelCompiler.h"
#include "tests/jit/JitTestSupport.h"

namespace dj::jit {
namespace {

// A gate the test opens to let a blocked job finish.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  bool entered = false;
  void wait_inside() {
    std::unique_lock<std::mutex> lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void wait_until_entered() {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return entered; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex);
    open = true;
    cv.notify_all();
  }
};

CompileResult compile_scale(float factor, const std::string& name) {
  Halide::ImageParam x(Halide::Float(32), 1, "x");
  Halide::Var i("i");
  Halide::Func out(name);
  out(i) = x(i) * factor;
  schedule_elementwise(out);
  auto kernel = compile_pipeline(PipelineSpec{Halide::Pipeline(out), {x}, name});
  if (!kernel.ok()) return kernel.status();
  return std::make_shared<const CompiledKernel>(std::move(kernel).value());
}

CompileResult empty_result() { return make_error(StatusCode::Internal, "placeholder job"); }

TEST(CompileQueue, CompilesInTheBackground) {
  CompileQueue queue;
  std::atomic<int> callbacks{0};
  std::thread::id caller = std::this_thread::get_id(), worker;
  auto ticket = queue.submit("scale3", 0, [&] {
    worker = std::this_thread::get_id();
    return compile_scale(3.0f, "scale3");
  }, [&](const CompileResult& r) { callbacks += r.ok(); });
  const CompileResult& result = ticket.result.get();
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_NE(worker, caller);
  Tensor x = testing::random_tensor({100}, 1);
  Tensor out = Tensor::zeros(DType::F32, {100});
  ASSERT_TRUE(result.value()->run(std::span<const Tensor>(&x, 1), std::span<const Tensor>(&out, 1)).ok());
  for (int i = 0; i < 100; ++i) EXPECT_FLOAT_EQ(out.data<float>()[i], 3.0f * x.data<float>()[i]);
  queue.shutdown();
  EXPECT_EQ(callbacks.load(), 1);
  EXPECT_EQ(queue.completed(), 1u);
}

TEST(CompileQueue, HigherPriorityFirstAndDuplicatesShareOneJob) {
  CompileQueue queue;
  Gate gate;
  std::vector<std::string> order;
  std::mutex order_mutex;
  auto record = [&](const std::string& key) {
    return [&, key] {
      std::lock_guard<std::mutex> lock(order_mutex);
      order.push_back(key);
      return empty_result();
    };
  };
  auto blocker = queue.submit("blocker", 0, [&] { gate.wait_inside(); return empty_result(); });
  gate.wait_until_entered();
  auto low = queue.submit("low", 1, record("low"));
  auto high = queue.submit("high", 9, record("high"));
  auto mid = queue.submit("mid", 5, record("mid"));
  std::atomic<int> dup_callbacks{0};
  auto dup = queue.submit("mid", 7, record("mid-again"), [&](const CompileResult&) { ++dup_callbacks; });
  EXPECT_TRUE(dup.deduplicated);
  EXPECT_FALSE(mid.deduplicated);
  EXPECT_EQ(queue.queued(), 3u);
  EXPECT_EQ(queue.running(), 1u);
  gate.release();
  low.result.wait();
  high.result.wait();
  dup.result.wait();
  EXPECT_EQ(order, (std::vector<std::string>{"high", "mid", "low"}));
  EXPECT_EQ(dup_callbacks.load(), 1);
  EXPECT_EQ(queue.completed(), 4u);
}

TEST(CompileQueue, ShutdownCancelsPendingJobsWithoutHanging) {
  auto queue = std::make_unique<CompileQueue>();
  Gate gate;
  auto running = queue->submit("running", 0, [&] { gate.wait_inside(); return compile_scale(2.0f, "scale2"); });
  gate.wait_until_entered();
  std::atomic<int> cancelled_callbacks{0}, ran{0};
  std::vector<CompileQueue::Ticket> pending;
  for (int i = 0; i < 5; ++i)
    pending.push_back(queue->submit("pending" + std::to_string(i), i, [&] { ++ran; return empty_result(); },
                                    [&](const CompileResult& r) { cancelled_callbacks += !r.ok(); }));
  // Shut down from another thread while the running job is still blocked, then let it finish.
  std::thread stopper([&] { queue->shutdown(); });
  // The worker is blocked, so the queue empties only when shutdown() has taken the jobs.
  while (queue->queued() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  gate.release();
  stopper.join();
  queue.reset();
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(cancelled_callbacks.load(), 5);
  for (auto& t : pending) {
    ASSERT_EQ(t.result.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_NE(t.result.get().status().message().find("cancelled"), std::string::npos);
  }
  ASSERT_EQ(running.result.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_TRUE(running.result.get().ok()) << running.result.get().status().to_string();
}

TEST(CompileQueue, SubmitAfterShutdownIsCancelledImmediately) {
  CompileQueue queue;
  queue.shutdown();
  bool ran = false;
  auto t = queue.submit("late", 0, [&] { ran = true; return empty_result(); });
  ASSERT_EQ(t.result.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_FALSE(t.result.get().ok());
  EXPECT_FALSE(ran);
}

// The worker's own scheduling, read from inside a job.
struct WorkerScheduling {
  int nice = 0;
  int policy = 0;
};

WorkerScheduling scheduling_inside_a_job(CompilePriority priority) {
  CompileQueue queue(1, priority);
  WorkerScheduling seen;
  auto t = queue.submit("probe", 0, [&] {
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    seen.nice = getpriority(PRIO_PROCESS, tid);
    seen.policy = sched_getscheduler(0);
    return empty_result();
  });
  t.result.wait();
  return seen;
}

TEST(CompileQueue, WorkersRunAtTheirCompilePriority) {
  const int own_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  WorkerScheduling normal = scheduling_inside_a_job(CompilePriority::Normal);
  EXPECT_EQ(normal.nice, own_nice);
  EXPECT_EQ(normal.policy, SCHED_OTHER);
  WorkerScheduling low = scheduling_inside_a_job(CompilePriority::Low);
  EXPECT_EQ(low.nice, 19);
  EXPECT_EQ(low.policy, SCHED_OTHER);
  WorkerScheduling idle = scheduling_inside_a_job(CompilePriority::Idle);
  EXPECT_EQ(idle.policy, SCHED_IDLE);
  // The submitting thread is untouched.
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid))), own_nice);
}

TEST(CompilePriority, NamesParseBackAndUnknownNamesAreErrors) {
  for (CompilePriority p : {CompilePriority::Normal, CompilePriority::Low, CompilePriority::Idle}) {
    auto parsed = parse_compile_priority(compile_priority_name(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  auto bad = parse_compile_priority("urgent");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("normal, low, idle"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace dj::jit
