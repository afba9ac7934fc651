// The C API on good input: versions and names, tensors, loading and
// introspection, running with hand-computed and reference results, output
// ownership and aliasing, load options.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "tests/capi/CApiTestSupport.h"

namespace dj::testing {
namespace {

TEST(CApi, VersionAndNames) {
  EXPECT_STREQ(dj_version(), "0.1.0");
  EXPECT_STREQ(dj_status_name(DJ_OK), "ok");
  EXPECT_STREQ(dj_status_name(DJ_ERR_INVALID_ARGUMENT), "invalid argument");
  EXPECT_STREQ(dj_status_name(DJ_ERR_IO), "i/o error");
  EXPECT_STREQ(dj_status_name(static_cast<dj_status>(42)), "unknown status");
  EXPECT_STREQ(dj_dtype_name(DJ_BF16), "bf16");
  EXPECT_STREQ(dj_dtype_name(DJ_BOOL), "bool");
  EXPECT_STREQ(dj_dtype_name(DJ_DTYPE_UNKNOWN), "unknown");
}

TEST(CApi, DTypeSizes) {
  const std::pair<dj_dtype, size_t> expected[] = {
      {DJ_F32, 4}, {DJ_F64, 8}, {DJ_F16, 2}, {DJ_BF16, 2}, {DJ_I64, 8}, {DJ_I32, 4}, {DJ_I16, 2},
      {DJ_I8, 1},  {DJ_U64, 8}, {DJ_U32, 4}, {DJ_U16, 2},  {DJ_U8, 1},  {DJ_BOOL, 1},
  };
  for (auto [dtype, size] : expected) EXPECT_EQ(dj_dtype_size(dtype), size) << dj_dtype_name(dtype);
  EXPECT_EQ(dj_dtype_size(DJ_DTYPE_UNKNOWN), 0u);
  EXPECT_EQ(dj_dtype_size(static_cast<dj_dtype>(13)), 0u);
}

TEST(CApi, TensorCreateIsZeroFilledAndDescribesItself) {
  const int64_t shape[3] = {2, 3, 5};
  dj_tensor* raw = nullptr;
  ASSERT_EQ(dj_tensor_create(DJ_I32, shape, 3, &raw), DJ_OK) << dj_last_error_message();
  TensorPtr t(raw);
  EXPECT_EQ(dj_tensor_dtype(t.get()), DJ_I32);
  ASSERT_EQ(dj_tensor_rank(t.get()), 3u);
  EXPECT_EQ(dj_tensor_shape(t.get())[0], 2);
  EXPECT_EQ(dj_tensor_shape(t.get())[2], 5);
  EXPECT_EQ(dj_tensor_strides(t.get())[0], 15);
  EXPECT_EQ(dj_tensor_strides(t.get())[1], 5);
  EXPECT_EQ(dj_tensor_strides(t.get())[2], 1);
  EXPECT_EQ(dj_tensor_numel(t.get()), 30);
  EXPECT_EQ(dj_tensor_nbytes(t.get()), 120u);
  EXPECT_EQ(dj_tensor_is_contiguous(t.get()), 1);
  const int32_t* d = static_cast<const int32_t*>(dj_tensor_const_data(t.get()));
  for (int i = 0; i < 30; ++i) EXPECT_EQ(d[i], 0) << "element " << i;
  EXPECT_EQ(dj_tensor_data(t.get()), dj_tensor_const_data(t.get()));
}

TEST(CApi, ScalarAndEmptyTensors) {
  dj_tensor* raw = nullptr;
  const double value = 2.5;
  ASSERT_EQ(dj_tensor_create_copy(DJ_F64, nullptr, 0, &value, &raw), DJ_OK) << dj_last_error_message();
  TensorPtr scalar(raw);
  EXPECT_EQ(dj_tensor_rank(scalar.get()), 0u);
  EXPECT_EQ(dj_tensor_shape(scalar.get()), nullptr);
  EXPECT_EQ(dj_tensor_numel(scalar.get()), 1);
  EXPECT_EQ(*static_cast<const double*>(dj_tensor_const_data(scalar.get())), 2.5);

  const int64_t shape[2] = {0, 7};
  ASSERT_EQ(dj_tensor_create_copy(DJ_F32, shape, 2, nullptr, &raw), DJ_OK) << dj_last_error_message();
  TensorPtr empty(raw);
  EXPECT_EQ(dj_tensor_numel(empty.get()), 0);
  EXPECT_EQ(dj_tensor_nbytes(empty.get()), 0u);
}

TEST(CApi, CreateCopyCopiesAndBorrowDoesNot) {
  std::vector<float> data = {1, 2, 3, 4, 5, 6};
  const int64_t shape[2] = {2, 3};
  dj_tensor* raw = nullptr;
  ASSERT_EQ(dj_tensor_create_copy(DJ_F32, shape, 2, data.data(), &raw), DJ_OK);
  TensorPtr copy(raw);
  ASSERT_EQ(dj_tensor_borrow(DJ_F32, shape, 2, data.data(), nullptr, &raw), DJ_OK);
  TensorPtr borrowed(raw);
  data[4] = 50;
  EXPECT_EQ(f32_values(copy.get()), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(f32_values(borrowed.get()), (std::vector<float>{1, 2, 3, 4, 50, 6}));
  EXPECT_EQ(dj_tensor_const_data(borrowed.get()), data.data());
  EXPECT_NE(dj_tensor_const_data(copy.get()), data.data());

  // A transposed view: strides {1, 2} over a [3, 2] buffer seen as [2, 3].
  const int64_t strides[2] = {1, 2};
  ASSERT_EQ(dj_tensor_borrow(DJ_F32, shape, 2, data.data(), strides, &raw), DJ_OK);
  TensorPtr view(raw);
  EXPECT_EQ(dj_tensor_is_contiguous(view.get()), 0);
  EXPECT_EQ(dj_tensor_strides(view.get())[1], 2);
}

TEST(CApi, IntrospectsTheModelsSymbolicShapes) {
  ModelPtr m = load_text_model(kMlpText);
  ASSERT_TRUE(m);
  ASSERT_EQ(dj_model_num_inputs(m.get()), 1u);
  ASSERT_EQ(dj_model_num_outputs(m.get()), 1u);
  const dj_value_info* in = nullptr;
  ASSERT_EQ(dj_model_input(m.get(), 0, &in), DJ_OK);
  EXPECT_STREQ(in->name, "x");
  EXPECT_EQ(in->dtype, DJ_F32);
  ASSERT_EQ(in->rank, 2);
  EXPECT_EQ(in->dims[0].kind, DJ_DIM_SYMBOLIC);
  EXPECT_STREQ(in->dims[0].symbol, "batch");
  EXPECT_EQ(in->dims[0].value, -1);
  EXPECT_EQ(in->dims[1].kind, DJ_DIM_CONSTANT);
  EXPECT_EQ(in->dims[1].value, 4);
  EXPECT_EQ(in->dims[1].symbol, nullptr);

  const dj_value_info* out = nullptr;
  ASSERT_EQ(dj_model_output(m.get(), 0, &out), DJ_OK);
  EXPECT_STREQ(out->name, "y");
  EXPECT_EQ(out->dtype, DJ_F32);
  ASSERT_EQ(out->rank, 2);
  EXPECT_EQ(out->dims[0].kind, DJ_DIM_SYMBOLIC);
  EXPECT_STREQ(out->dims[0].symbol, "batch");
  EXPECT_EQ(out->dims[1].kind, DJ_DIM_CONSTANT);
  EXPECT_EQ(out->dims[1].value, 3);
}

TEST(CApi, RunGivesHandComputedValues) {
  ModelPtr m = load_text_model(kMlpText);
  ASSERT_TRUE(m);
  // Row 0 picks w[0] = {1,2,3}; row 1 sums w[1] + w[2] = {11,13,15}; then + b, Relu.
  TensorPtr x = make_f32({2, 4}, {1, 0, 0, 0, 0, 1, 1, 0});
  RunOutputs out;
  ASSERT_EQ(run_one(m.get(), "x", x.get(), out), DJ_OK) << dj_last_error_message();
  ASSERT_EQ(out.count, 1u);
  EXPECT_EQ(dj_tensor_dtype(out.tensors[0]), DJ_F32);
  ASSERT_EQ(dj_tensor_rank(out.tensors[0]), 2u);
  EXPECT_EQ(dj_tensor_shape(out.tensors[0])[0], 2);
  EXPECT_EQ(dj_tensor_shape(out.tensors[0])[1], 3);
  EXPECT_EQ(f32_values(out.tensors[0]), (std::vector<float>{1.5f, 0, 3, 11.5f, 0, 15}));
}

TEST(CApi, RunMatchesReferenceForManyBatchSizes) {
  ModelPtr m = load_text_model(kMlpText);
  ASSERT_TRUE(m);
  for (int64_t batch : {1, 2, 5, 17, 64}) {
    std::vector<float> x = mlp_input(batch);
    TensorPtr t = make_f32({batch, 4}, x);
    RunOutputs out;
    ASSERT_EQ(run_one(m.get(), "x", t.get(), out), DJ_OK) << "batch " << batch << ": " << dj_last_error_message();
    ASSERT_EQ(out.count, 1u);
    EXPECT_EQ(dj_tensor_shape(out.tensors[0])[0], batch);
    std::vector<float> got = f32_values(out.tensors[0]);
    std::vector<float> want = mlp_reference(x, batch);
    ASSERT_EQ(got.size(), want.size());
    // Inputs are multiples of 1/64 and weights small integers: every sum is exact in f32.
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]) << "batch " << batch << " element " << i;
  }
}

TEST(CApi, RunAcceptsBorrowedStridedInputs) {
  ModelPtr m = load_text_model(kMlpText);
  ASSERT_TRUE(m);
  const int64_t batch = 3;
  std::vector<float> x = mlp_input(batch, 7);
  // Store x column-major (as x^T row-major) and borrow it with strides {1, batch}.
  std::vector<float> transposed(x.size());
  for (int64_t r = 0; r < batch; ++r)
    for (int64_t c = 0; c < 4; ++c) transposed[static_cast<size_t>(c * batch + r)] = x[static_cast<size_t>(r * 4 + c)];
  const int64_t shape[2] = {batch, 4};
  const int64_t strides[2] = {1, batch};
  dj_tensor* raw = nullptr;
  ASSERT_EQ(dj_tensor_borrow(DJ_F32, shape, 2, transposed.data(), strides, &raw), DJ_OK);
  TensorPtr view(raw);
  RunOutputs out;
  ASSERT_EQ(run_one(m.get(), "x", view.get(), out), DJ_OK) << dj_last_error_message();
  EXPECT_EQ(f32_values(out.tensors[0]), mlp_reference(x, batch));
}

TEST(CApi, OutputsShareNoMemoryWithInputsOrConstants) {
  // The graph returns its input x and its initializer k as they are, and r, a
  // Reshape of x (which may share x's memory); dj_run must hand out copies.
  const char* text = R"(<ir_version: 8, opset_import: ["" : 17]>
pass (float[n] x) => (float[n] x, float[2] k, float[n] r)
<float[2] k = {3.0, 4.0}, int64[1] s = {-1}>
{
  r = Reshape(x, s)
}
)";
  ModelPtr m = load_text_model(text);
  ASSERT_TRUE(m);
  std::vector<float> data = {1, 2, 3};
  const int64_t shape[1] = {3};
  dj_tensor* raw = nullptr;
  ASSERT_EQ(dj_tensor_borrow(DJ_F32, shape, 1, data.data(), nullptr, &raw), DJ_OK);
  TensorPtr x(raw);
  {
    RunOutputs out;
    ASSERT_EQ(run_one(m.get(), "x", x.get(), out), DJ_OK) << dj_last_error_message();
    ASSERT_EQ(out.count, 3u);
    EXPECT_NE(dj_tensor_const_data(out.tensors[0]), data.data());
    EXPECT_NE(dj_tensor_const_data(out.tensors[2]), data.data());
    EXPECT_NE(dj_tensor_const_data(out.tensors[0]), dj_tensor_const_data(out.tensors[2]));
    data[0] = 100;  // the outputs must not see this
    EXPECT_EQ(f32_values(out.tensors[0]), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(f32_values(out.tensors[2]), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(f32_values(out.tensors[1]), (std::vector<float>{3, 4}));
    // Writing into an output must not change the model's constant.
    static_cast<float*>(dj_tensor_data(out.tensors[1]))[0] = -1;
  }
  RunOutputs again;
  ASSERT_EQ(run_one(m.get(), "x", x.get(), again), DJ_OK) << dj_last_error_message();
  EXPECT_EQ(f32_values(again.tensors[1]), (std::vector<float>{3, 4}));
  EXPECT_EQ(f32_values(again.tensors[0]), (std::vector<float>{100, 2, 3}));
}

TEST(CApi, AnOutputCanOutliveItsArray) {
  ModelPtr m = load_text_model(kMlpText);
  ASSERT_TRUE(m);
  TensorPtr x = make_f32({1, 4}, {1, 0, 0, 0});
  TensorPtr kept;
  {
    RunOutputs out;
    ASSERT_EQ(run_one(m.get(), "x", x.get(), out), DJ_OK) << dj_last_error_message();
    kept.reset(out.tensors[0]);
    out.tensors[0] = nullptr;  // taken out of the array: dj_outputs_free skips it
  }
  x.reset();
  EXPECT_EQ(f32_values(kept.get()), (std::vector<float>{1.5f, 0, 3}));
}

TEST(CApi, TwoInputsSharingASymbol) {
  ModelPtr m = load_text_model(kAddText);
  ASSERT_TRUE(m);
  TensorPtr a = make_f32({2, 2}, {1, 2, 3, 4});
  TensorPtr b = make_f32({2, 2}, {10, 20, 30, 40});
  const char* names[2] = {"b", "a"};  // any order
  const dj_tensor* inputs[2] = {b.get(), a.get()};
  RunOutputs out;
  ASSERT_EQ(dj_run(m.get(), names, inputs, 2, &out.tensors, &out.count), DJ_OK) << dj_last_error_message();
  EXPECT_EQ(f32_values(out.tensors[0]), (std::vector<float>{11, 22, 33, 44}));
}

TEST(CApi, LoadFromFileBinaryAndText) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("dj_capi_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string text_path = (dir / "mlp.onnxtxt").string();
  {
    std::ofstream f(text_path);
    f << kMlpText;
  }
  dj_model* raw = nullptr;
  ASSERT_EQ(dj_load(text_path.c_str(), nullptr, &raw), DJ_OK) << dj_last_error_message();
  ModelPtr m(raw);
  TensorPtr x = make_f32({1, 4}, {0, 0, 0, 1});
  RunOutputs out;
  ASSERT_EQ(run_one(m.get(), "x", x.get(), out), DJ_OK) << dj_last_error_message();
  EXPECT_EQ(f32_values(out.tensors[0]), (std::vector<float>{10.5f, 0, 12}));
  std::filesystem::remove_all(dir);
}

TEST(CApi, NumThreadsOptionGivesTheSameResults) {
  dj_load_options options;
  dj_load_options_init(&options);
  EXPECT_EQ(options.struct_size, sizeof(dj_load_options));
  EXPECT_EQ(options.num_threads, 0);
  options.num_threads = 2;
  ModelPtr m = load_text_model(kMlpText, &options);
  ASSERT_TRUE(m);
  std::vector<float> x = mlp_input(9);
  TensorPtr t = make_f32({9, 4}, x);
  RunOutputs out;
  ASSERT_EQ(run_one(m.get(), "x", t.get(), out), DJ_OK) << dj_last_error_message();
  EXPECT_EQ(f32_values(out.tensors[0]), mlp_reference(x, 9));
}

TEST(CApi, LoadOptionsFromANewerHeader) {
  // A caller built against a newer dynajit.h passes a larger struct: unknown
  // fields left at zero (their default) are fine, a set one is refused.
  struct NewerOptions {
    dj_load_options known;
    int64_t future_field;
  } newer;
  std::memset(&newer, 0, sizeof newer);
  newer.known.struct_size = sizeof newer;
  dj_model* raw = nullptr;
  const size_t size = std::strlen(kMlpText);
  ASSERT_EQ(dj_load_from_memory(kMlpText, size, &newer.known, &raw), DJ_OK) << dj_last_error_message();
  dj_model_free(raw);
  newer.future_field = 1;
  EXPECT_EQ(dj_load_from_memory(kMlpText, size, &newer.known, &raw), DJ_ERR_UNSUPPORTED);
  EXPECT_EQ(raw, nullptr);
  EXPECT_NE(std::string(dj_last_error_message()).find("does not know"), std::string::npos) << dj_last_error_message();
}

TEST(CApi, BundledDynamicMlpIfPresent) {
  const std::string path = DJ_SOURCE_DIR "/models/dynamic_mlp.onnx";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not there yet";
  dj_model* raw = nullptr;
  ASSERT_EQ(dj_load(path.c_str(), nullptr, &raw), DJ_OK) << dj_last_error_message();
  ModelPtr m(raw);
  ASSERT_EQ(dj_model_num_inputs(m.get()), 1u);
  const dj_value_info* in = nullptr;
  ASSERT_EQ(dj_model_input(m.get(), 0, &in), DJ_OK);
  EXPECT_STREQ(in->name, "x");
  ASSERT_EQ(in->rank, 2);
  EXPECT_NE(in->dims[0].kind, DJ_DIM_CONSTANT);
  EXPECT_EQ(in->dims[1].value, 16);
  // Rows are independent in an MLP: the batch-3 result's rows equal batch-1 runs.
  std::vector<float> x(3 * 16);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>(i % 7) - 3) / 4;
  TensorPtr t = make_f32({3, 16}, x);
  RunOutputs all;
  ASSERT_EQ(run_one(m.get(), "x", t.get(), all), DJ_OK) << dj_last_error_message();
  ASSERT_EQ(all.count, 1u);
  ASSERT_EQ(dj_tensor_shape(all.tensors[0])[0], 3);
  std::vector<float> rows = f32_values(all.tensors[0]);
  const size_t width = rows.size() / 3;
  for (int64_t r = 0; r < 3; ++r) {
    TensorPtr one = make_f32({1, 16}, std::vector<float>(x.begin() + r * 16, x.begin() + (r + 1) * 16));
    RunOutputs single;
    ASSERT_EQ(run_one(m.get(), "x", one.get(), single), DJ_OK) << dj_last_error_message();
    std::vector<float> got = f32_values(single.tensors[0]);
    ASSERT_EQ(got.size(), width);
    for (size_t c = 0; c < width; ++c) EXPECT_NEAR(got[c], rows[r * width + c], 1e-5f) << "row " << r << " col " << c;
  }
}

}  // namespace
}  // namespace dj::testing
