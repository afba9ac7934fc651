// The C API on bad input: every case returns the right dj_status with a message
// naming the cause, never a crash. Files (truncated, random, empty, missing),
// unknown ops, syntax errors, wrong inputs, NULL arguments, impossible sizes.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <onnx/defs/parser.h>
#include <onnx/onnx_pb.h>

#include "tests/capi/CApiTestSupport.h"

namespace dj::testing {
namespace {

std::string message() { return dj_last_error_message(); }

#define EXPECT_MESSAGE_HAS(text) \
  EXPECT_NE(message().find(text), std::string::npos) << "message: '" << message() << "' lacks '" << (text) << "'"

// A binary ModelProto of the MLP, serialized by ONNX itself.
std::string mlp_binary() {
  onnx::ModelProto proto;
  onnx::OnnxParser parser(kMlpText);
  auto status = parser.Parse(proto);
  EXPECT_TRUE(status.IsOK()) << status.ErrorMessage();
  std::string bytes;
  EXPECT_TRUE(proto.SerializeToString(&bytes));
  return bytes;
}

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("dj_capi_err_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::string p = (path_ / name).string();
    std::ofstream f(p, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

 private:
  std::filesystem::path path_;
};

dj_status load_file(const std::string& path) {
  dj_model* m = reinterpret_cast<dj_model*>(0x1);  // must be reset to NULL on failure
  dj_status s = dj_load(path.c_str(), nullptr, &m);
  if (s == DJ_OK) dj_model_free(m);
  else EXPECT_EQ(m, nullptr);
  return s;
}

dj_status load_memory(const std::string& bytes) {
  dj_model* m = nullptr;
  dj_status s = dj_load_from_memory(bytes.data(), bytes.size(), nullptr, &m);
  dj_model_free(m);
  return s;
}

TEST(CApiErrors, TheBinaryModelLoads) {
  // The fixture the file tests cut up is itself valid.
  TempDir dir;
  EXPECT_EQ(load_file(dir.write("mlp.onnx", mlp_binary())), DJ_OK) << message();
}

TEST(CApiErrors, NonexistentPathIsAnIoErrorNamingThePath) {
  const std::string path = "/nonexistent/dir/model_that_is_not_here.onnx";
  EXPECT_EQ(load_file(path), DJ_ERR_IO);
  EXPECT_MESSAGE_HAS(path);
}

TEST(CApiErrors, EmptyFileIsAnInvalidModel) {
  TempDir dir;
  const std::string path = dir.write("empty.onnx", "");
  EXPECT_EQ(load_file(path), DJ_ERR_INVALID_MODEL);
  EXPECT_MESSAGE_HAS("empty.onnx");
  EXPECT_MESSAGE_HAS("empty");
  EXPECT_EQ(load_memory(""), DJ_ERR_INVALID_MODEL);
}

TEST(CApiErrors, TruncatedFileIsAnInvalidModel) {
  TempDir dir;
  std::string bytes = mlp_binary();
  ASSERT_GT(bytes.size(), 100u);
  // Cut inside the graph (the bulk of the file): its length prefix then runs past the end.
  const std::string path = dir.write("truncated.onnx", bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(load_file(path), DJ_ERR_INVALID_MODEL);
  EXPECT_MESSAGE_HAS("truncated.onnx");
  EXPECT_EQ(load_memory(bytes.substr(0, bytes.size() / 2)), DJ_ERR_INVALID_MODEL);
}

TEST(CApiErrors, EveryTruncationFailsCleanlyOrLoads) {
  // A cut at a field boundary can leave a parsable model; any other cut must be
  // an error with a message. Nothing may crash.
  std::string bytes = mlp_binary();
  size_t failures = 0;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    dj_status s = load_memory(bytes.substr(0, cut));
    if (s != DJ_OK) {
      ++failures;
      EXPECT_TRUE(s == DJ_ERR_INVALID_MODEL || s == DJ_ERR_UNSUPPORTED) << "cut " << cut << ": " << dj_status_name(s)
                                                                        << ": " << message();
      EXPECT_FALSE(message().empty()) << "cut " << cut;
    }
  }
  EXPECT_GT(failures, bytes.size() / 2);
}

TEST(CApiErrors, RandomBytesAreAnInvalidModel) {
  TempDir dir;
  std::mt19937 rng(1234);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  bytes[0] = '\x07';  // not '<' or blank: must be taken as binary protobuf
  EXPECT_EQ(load_file(dir.write("random.onnx", bytes)), DJ_ERR_INVALID_MODEL);
  EXPECT_MESSAGE_HAS("random.onnx");
}

TEST(CApiErrors, UnknownOpIsUnsupportedNamingTheOp) {
  const char* text = R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 4] x) => (float[n, 4] y)
{
  h = Relu(x)
  y = FrobnicateNoSuchOp(h)
}
)";
  EXPECT_EQ(load_memory(text), DJ_ERR_UNSUPPORTED);
  EXPECT_MESSAGE_HAS("FrobnicateNoSuchOp");
}

TEST(CApiErrors, TextSyntaxErrorIsAnInvalidModel) {
  EXPECT_EQ(load_memory("<ir_version: 8, opset_import: [\"\" : 17]>\ng (float[n] x) => (float[n] y) { y = Relu(x "),
            DJ_ERR_INVALID_MODEL);
  EXPECT_FALSE(message().empty());
}

class CApiRunErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = load_text_model(kAddText);
    ASSERT_TRUE(model_);
  }
  dj_status run(const std::vector<const char*>& names, const std::vector<const dj_tensor*>& inputs) {
    dj_tensor** outputs = reinterpret_cast<dj_tensor**>(0x1);  // must be reset to NULL on failure
    size_t n = 99;
    dj_status s = dj_run(model_.get(), names.data(), inputs.data(), names.size(), &outputs, &n);
    if (s == DJ_OK) {
      dj_outputs_free(outputs, n);
    } else {
      EXPECT_EQ(outputs, nullptr);
      EXPECT_EQ(n, 0u);
    }
    return s;
  }
  ModelPtr model_;
};

TEST_F(CApiRunErrors, MissingInputIsNamed) {
  TensorPtr a = make_f32({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(run({"a"}, {a.get()}), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("missing input 'b'");
}

TEST_F(CApiRunErrors, UnknownInputIsNamedWithTheModelsInputs) {
  TensorPtr a = make_f32({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(run({"a", "b", "bogus"}, {a.get(), a.get(), a.get()}), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("'bogus'");
  EXPECT_MESSAGE_HAS("a, b");
}

TEST_F(CApiRunErrors, InputGivenTwice) {
  TensorPtr a = make_f32({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(run({"a", "a", "b"}, {a.get(), a.get(), a.get()}), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("'a'");
  EXPECT_MESSAGE_HAS("twice");
}

TEST_F(CApiRunErrors, WrongDtypeNamesBoth) {
  TensorPtr a = make_f32({2, 2}, {1, 2, 3, 4});
  const int64_t shape[2] = {2, 2};
  dj_tensor* raw = nullptr;
  ASSERT_EQ(dj_tensor_create(DJ_I64, shape, 2, &raw), DJ_OK);
  TensorPtr b(raw);
  EXPECT_EQ(run({"a", "b"}, {a.get(), b.get()}), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("'b'");
  EXPECT_MESSAGE_HAS("i64");
  EXPECT_MESSAGE_HAS("f32");
}

TEST_F(CApiRunErrors, WrongRank) {
  TensorPtr a = make_f32({2, 2}, {1, 2, 3, 4});
  TensorPtr b = make_f32({2, 2, 1}, {1, 2, 3, 4});
  EXPECT_EQ(run({"a", "b"}, {a.get(), b.get()}), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("'b'");
  EXPECT_MESSAGE_HAS("rank 3");
  EXPECT_MESSAGE_HAS("rank 2");
}

TEST_F(CApiRunErrors, ConstantDimContradictingTheModel) {
  ModelPtr mlp = load_text_model(kMlpText);
  ASSERT_TRUE(mlp);
  TensorPtr x = make_f32({2, 5}, std::vector<float>(10, 1.0f));  // declared [batch, 4]
  RunOutputs out;
  EXPECT_EQ(run_one(mlp.get(), "x", x.get(), out), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("'x'");
  EXPECT_MESSAGE_HAS("[2,5]");
  EXPECT_MESSAGE_HAS("[batch,4]");
}

TEST_F(CApiRunErrors, SymbolicDimGivenTwoSizes) {
  TensorPtr a = make_f32({2, 2}, {1, 2, 3, 4});
  TensorPtr b = make_f32({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run({"a", "b"}, {a.get(), b.get()}), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("'n'");
}

TEST_F(CApiRunErrors, NullArguments) {
  TensorPtr a = make_f32({2, 2}, {1, 2, 3, 4});
  const char* names[2] = {"a", "b"};
  const dj_tensor* inputs[2] = {a.get(), a.get()};
  dj_tensor** outputs = nullptr;
  size_t n = 0;
  EXPECT_EQ(dj_run(nullptr, names, inputs, 2, &outputs, &n), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("model is NULL");
  EXPECT_EQ(dj_run(model_.get(), names, inputs, 2, nullptr, &n), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("outputs is NULL");
  EXPECT_EQ(dj_run(model_.get(), names, inputs, 2, &outputs, nullptr), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("n_outputs is NULL");
  EXPECT_EQ(dj_run(model_.get(), nullptr, inputs, 2, &outputs, &n), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("input_names is NULL");
  EXPECT_EQ(dj_run(model_.get(), names, nullptr, 2, &outputs, &n), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("inputs is NULL");
  EXPECT_EQ(run({"a", nullptr}, {a.get(), a.get()}), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("input_names[1] is NULL");
  EXPECT_EQ(run({"a", "b"}, {a.get(), nullptr}), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("inputs[1]");
  EXPECT_MESSAGE_HAS("'b'");
  // No inputs at all: NULL arrays are fine, the missing inputs are the error.
  EXPECT_EQ(dj_run(model_.get(), nullptr, nullptr, 0, &outputs, &n), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("missing input");

  dj_model* m = nullptr;
  EXPECT_EQ(dj_load(nullptr, nullptr, &m), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("path is NULL");
  EXPECT_EQ(dj_load("x.onnx", nullptr, nullptr), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("out is NULL");
  EXPECT_EQ(dj_load_from_memory(nullptr, 10, nullptr, &m), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("data is NULL");

  const dj_value_info* info = nullptr;
  EXPECT_EQ(dj_model_input(nullptr, 0, &info), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dj_model_input(model_.get(), 0, nullptr), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dj_model_output(model_.get(), 5, &info), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("index 5");
  EXPECT_EQ(info, nullptr);
  EXPECT_EQ(dj_model_num_inputs(nullptr), 0u);

  const int64_t shape[2] = {2, 2};
  dj_tensor* t = nullptr;
  EXPECT_EQ(dj_tensor_create(DJ_F32, shape, 2, nullptr), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dj_tensor_create(DJ_F32, nullptr, 2, &t), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("shape is NULL");
  EXPECT_EQ(dj_tensor_create_copy(DJ_F32, shape, 2, nullptr, &t), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("data is NULL");
  EXPECT_EQ(dj_tensor_borrow(DJ_F32, shape, 2, nullptr, nullptr, &t), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(t, nullptr);

  // Accessors and frees take NULL quietly.
  EXPECT_EQ(dj_tensor_rank(nullptr), 0u);
  EXPECT_EQ(dj_tensor_shape(nullptr), nullptr);
  EXPECT_EQ(dj_tensor_data(nullptr), nullptr);
  EXPECT_EQ(dj_tensor_dtype(nullptr), DJ_DTYPE_UNKNOWN);
  dj_tensor_free(nullptr);
  dj_model_free(nullptr);
  dj_outputs_free(nullptr, 3);
  dj_load_options_init(nullptr);
}

TEST(CApiErrors, BadShapesAndDtypes) {
  dj_tensor* t = nullptr;
  const int64_t negative[2] = {2, -3};
  EXPECT_EQ(dj_tensor_create(DJ_F32, negative, 2, &t), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("negative");
  const int64_t huge[3] = {int64_t{1} << 40, int64_t{1} << 40, 16};
  EXPECT_EQ(dj_tensor_create(DJ_F32, huge, 3, &t), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("too");
  const int64_t shape[1] = {4};
  EXPECT_EQ(dj_tensor_create(static_cast<dj_dtype>(99), shape, 1, &t), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("99");
  EXPECT_EQ(dj_tensor_create(DJ_DTYPE_UNKNOWN, shape, 1, &t), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(t, nullptr);
}

TEST(CApiErrors, ImpossibleAllocationIsOutOfMemory) {
  // 2^48 bytes is beyond the x86-64 / AArch64 user address space: no overcommit
  // setting can grant it.
  const int64_t shape[1] = {int64_t{1} << 48};
  dj_tensor* t = nullptr;
  EXPECT_EQ(dj_tensor_create(DJ_U8, shape, 1, &t), DJ_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(t, nullptr);
  EXPECT_MESSAGE_HAS("allocate");
}

TEST(CApiErrors, BadLoadOptions) {
  dj_load_options options;
  dj_load_options_init(&options);
  options.num_threads = -2;
  dj_model* m = nullptr;
  const size_t size = std::string(kMlpText).size();
  EXPECT_EQ(dj_load_from_memory(kMlpText, size, &options, &m), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("num_threads");
  options.num_threads = 0;
  options.struct_size = 0;
  EXPECT_EQ(dj_load_from_memory(kMlpText, size, &options, &m), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("dj_load_options_init");
  EXPECT_EQ(m, nullptr);
}

// The device option: a GPU that cannot be had is Unsupported naming why (the driver
// path points at nothing: the same on GPU machines; each gtest runs in its own
// process, so the driver is looked up afresh); a bad name is InvalidArgument;
// "auto" and "cpu" load.
TEST(CApiErrors, DeviceOption) {
  ::setenv("DJ_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
  dj_load_options options;
  dj_load_options_init(&options);
  const size_t size = std::string(kMlpText).size();
  dj_model* m = nullptr;
  options.device = "cuda";
  EXPECT_EQ(dj_load_from_memory(kMlpText, size, &options, &m), DJ_ERR_UNSUPPORTED);
#if DJ_HAVE_CUDA
  EXPECT_MESSAGE_HAS("/nonexistent/libcuda.so.1");
#else
  EXPECT_MESSAGE_HAS("without CUDA support");
#endif
  EXPECT_EQ(m, nullptr);
  options.device = "tpu";
  EXPECT_EQ(dj_load_from_memory(kMlpText, size, &options, &m), DJ_ERR_INVALID_ARGUMENT);
  EXPECT_MESSAGE_HAS("cpu, cuda, auto");
  for (const char* ok : {"auto", "cpu"}) {
    options.device = ok;
    EXPECT_EQ(dj_load_from_memory(kMlpText, size, &options, &m), DJ_OK) << ok << ": " << message();
    dj_model_free(m);
    m = nullptr;
  }
  ::unsetenv("DJ_CUDA_DRIVER_LIBRARY");
}

TEST(CApiErrors, LastErrorIsPerThread) {
  dj_model* m = nullptr;
  EXPECT_EQ(dj_load("/nonexistent/first.onnx", nullptr, &m), DJ_ERR_IO);
  std::string other;
  std::thread([&] {
    dj_model* mm = nullptr;
    EXPECT_EQ(dj_load("/nonexistent/second.onnx", nullptr, &mm), DJ_ERR_IO);
    other = dj_last_error_message();
  }).join();
  EXPECT_MESSAGE_HAS("first.onnx");
  EXPECT_NE(other.find("second.onnx"), std::string::npos) << other;
  // A later success does not clear the message.
  dj_tensor* t = nullptr;
  ASSERT_EQ(dj_tensor_create(DJ_F32, nullptr, 0, &t), DJ_OK);
  dj_tensor_free(t);
  EXPECT_MESSAGE_HAS("first.onnx");
}

}  // namespace
}  // namespace dj::testing
