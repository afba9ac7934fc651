// dj_model_stats through the C API: the JSON reflects the runs made (counts per
// signature), arguments are checked, and the string is freed with dj_string_free.
// dj_model_wait_for_compiles: returns idle once the background compiles landed.
#include <cstring>
#include <string>

#include "tests/capi/CApiTestSupport.h"

namespace dj::testing {
namespace {

ModelPtr load_text(const char* text) {
  dj_model* m = nullptr;
  EXPECT_EQ(dj_load_from_memory(text, std::strlen(text), nullptr, &m), DJ_OK) << dj_last_error_message();
  return ModelPtr(m);
}

void run_batch(dj_model* m, int64_t batch) {
  int64_t shape[2] = {batch, 4};
  dj_tensor* x = nullptr;
  ASSERT_EQ(dj_tensor_create(DJ_F32, shape, 2, &x), DJ_OK);
  TensorPtr hold(x);
  const char* names[1] = {"x"};
  const dj_tensor* ins[1] = {x};
  RunOutputs outs;
  ASSERT_EQ(dj_run(m, names, ins, 1, &outs.tensors, &outs.count), DJ_OK) << dj_last_error_message();
}

TEST(CApiStats, CountsRunsPerSignature) {
  ModelPtr m = load_text(kMlpText);
  for (int i = 0; i < 3; ++i) run_batch(m.get(), 2);
  run_batch(m.get(), 5);
  char* json = nullptr;
  ASSERT_EQ(dj_model_stats(m.get(), &json), DJ_OK) << dj_last_error_message();
  ASSERT_NE(json, nullptr);
  std::string s(json);
  dj_string_free(json);
  EXPECT_NE(s.find("\"runs\":4"), std::string::npos) << s;
  EXPECT_NE(s.find("\"signature\":\"2x4:f32\",\"count\":3"), std::string::npos) << s;
  EXPECT_NE(s.find("\"signature\":\"5x4:f32\",\"count\":1"), std::string::npos) << s;
  EXPECT_NE(s.find("\"ops\":[\"MatMul\",\"Add\",\"Relu\"]"), std::string::npos) << s;
}

TEST(CApiStats, BadInputNullArguments) {
  char* json = reinterpret_cast<char*>(1);
  EXPECT_EQ(dj_model_stats(nullptr, &json), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(json, nullptr);
  EXPECT_NE(std::string(dj_last_error_message()).find("model is NULL"), std::string::npos);
  ModelPtr m = load_text(kMlpText);
  EXPECT_EQ(dj_model_stats(m.get(), nullptr), DJ_ERR_INVALID_ARGUMENT);
  dj_string_free(nullptr);
}

TEST(CApiStats, WaitForCompilesReturnsIdleWithNothingInFlight) {
  ModelPtr m = load_text(kMlpText);
  for (int i = 0; i < 12; ++i) run_batch(m.get(), 3);  // hot after 8 (DJ_JIT_THRESHOLD default)
  int idle = -1;
  ASSERT_EQ(dj_model_wait_for_compiles(m.get(), -1, &idle), DJ_OK) << dj_last_error_message();
  EXPECT_EQ(idle, 1);
  char* json = nullptr;
  ASSERT_EQ(dj_model_stats(m.get(), &json), DJ_OK);
  std::string s(json);
  dj_string_free(json);
  if (s.find("\"jit\"") != std::string::npos) {  // builds with the JIT: installed (compiled or cached), none left
    EXPECT_NE(s.find("\"in_flight\":0"), std::string::npos) << s;
    EXPECT_NE(s.find("\"specializations\":[{\"region\":\"R0\""), std::string::npos) << s;
  }
  // Nothing queued now: a zero timeout is enough, and idle_out may be NULL.
  ASSERT_EQ(dj_model_wait_for_compiles(m.get(), 0, &idle), DJ_OK);
  EXPECT_EQ(idle, 1);
  EXPECT_EQ(dj_model_wait_for_compiles(m.get(), 0, nullptr), DJ_OK);
}

TEST(CApiStats, WaitForCompilesChecksItsModel) {
  int idle = -1;
  EXPECT_EQ(dj_model_wait_for_compiles(nullptr, 0, &idle), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(idle, 0);
  EXPECT_NE(std::string(dj_last_error_message()).find("model is NULL"), std::string::npos);
}

}  // namespace
}  // namespace dj::testing
