// dj_run from many threads on one model: every result equals the single-threaded
// result for the same input (and the independent reference), with the default
// thread pool and with a num_threads arena.
#include <atomic>
#include <map>
#include <thread>

#include "tests/capi/CApiTestSupport.h"

namespace dj::testing {
namespace {

constexpr int kThreads = 8;

// batch size of run r on thread t: varies within a thread and across threads.
int64_t batch_for(int t, int r) { return 1 + (t * 7 + r * 3) % 13; }

void run_from_many_threads(dj_model* m, int runs_per_thread) {
  // Single-threaded results first, one per batch size.
  std::map<int64_t, std::vector<float>> expected;
  for (int64_t batch = 1; batch <= 13; ++batch) {
    std::vector<float> x = mlp_input(batch);
    TensorPtr t = make_f32({batch, 4}, x);
    RunOutputs out;
    ASSERT_EQ(run_one(m, "x", t.get(), out), DJ_OK) << dj_last_error_message();
    expected[batch] = f32_values(out.tensors[0]);
    ASSERT_EQ(expected[batch], mlp_reference(x, batch)) << "batch " << batch;
  }

  std::atomic<int> failures{0};
  std::atomic<int> mismatches{0};
  std::vector<std::string> first_error(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < runs_per_thread; ++r) {
        const int64_t batch = batch_for(t, r);
        std::vector<float> x = mlp_input(batch);
        const int64_t shape[2] = {batch, 4};
        dj_tensor* raw = nullptr;
        // Alternate owned and borrowed inputs.
        dj_status s = (r % 2) ? dj_tensor_create_copy(DJ_F32, shape, 2, x.data(), &raw)
                              : dj_tensor_borrow(DJ_F32, shape, 2, x.data(), nullptr, &raw);
        TensorPtr in(raw);
        RunOutputs out;
        if (s == DJ_OK) s = run_one(m, "x", in.get(), out);
        if (s != DJ_OK) {
          if (failures++ == 0) first_error[t] = dj_last_error_message();
          continue;
        }
        if (out.count != 1 || f32_values(out.tensors[0]) != expected[batch]) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  std::string errors;
  for (const std::string& e : first_error) errors += e.empty() ? "" : e + "\n";
  EXPECT_EQ(failures.load(), 0) << errors;
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(CApiConcurrency, EightThreadsShareOneModel) {
  ModelPtr m = load_text_model(kMlpText);
  ASSERT_TRUE(m);
  run_from_many_threads(m.get(), 100);
}

TEST(CApiConcurrency, EightThreadsShareOneModelWithATwoThreadArena) {
  dj_load_options options;
  dj_load_options_init(&options);
  options.num_threads = 2;
  ModelPtr m = load_text_model(kMlpText, &options);
  ASSERT_TRUE(m);
  run_from_many_threads(m.get(), 25);
}

TEST(CApiConcurrency, ErrorsOnOneThreadDoNotLeakToAnother) {
  ModelPtr m = load_text_model(kMlpText);
  ASSERT_TRUE(m);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 50; ++r) {
        // Odd threads give a bad width (5 instead of 4); the message must name their own shape.
        const int64_t batch = 1 + t;
        const int64_t width = t % 2 ? 5 : 4;
        TensorPtr x = make_f32({batch, width}, std::vector<float>(static_cast<size_t>(batch * width), 1.0f));
        RunOutputs out;
        dj_status s = run_one(m.get(), "x", x.get(), out);
        if (t % 2) {
          std::string want = std::to_string(batch);  // "[" + ... trips GCC 12's -Wrestrict false positive
          want = "[" + want + ",5]";
          if (s != DJ_ERR_INVALID_ARGUMENT || std::string(dj_last_error_message()).find(want) == std::string::npos)
            ++wrong;
        } else if (s != DJ_OK) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace dj::testing
