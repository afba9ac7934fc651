// Unit tests of the `dj` command's parts: .npy reading/writing, --input/--dim
// parsing, the inputs `dj run` makes up, random data, tensor summaries.
//
// The parts come from the dj_cli library (bindings/cli without DjMain.cpp).
#include "bindings/cli/InputSpec.h"
#include "bindings/cli/NpyFile.h"
#include "bindings/cli/RandomTensor.h"
#include "bindings/cli/RunInputs.h"
#include "bindings/cli/TensorSummary.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <filesystem>

#include "frontend/OnnxLoader.h"

namespace dj {
namespace {

std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string header = dict;
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + data;
}

template <typename T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

TEST(CliNpy, ReadsCOrderLittleEndian) {
  auto t = parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                               raw<float>({1, 2, 3, 4, 5, 6})),
                     "a.npy");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->dtype(), DType::F32);
  EXPECT_EQ(t->shape(), (Shape{2, 3}));
  EXPECT_EQ(std::vector<float>(t->data<float>(), t->data<float>() + 6), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(CliNpy, ReadsFortranOrderAsRowMajor) {
  // Column-major [[1,2,3],[4,5,6]] is stored 1 4 2 5 3 6.
  auto t = parse_npy(npy_bytes("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }",
                               raw<int64_t>({1, 4, 2, 5, 3, 6})),
                     "f.npy");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(t->is_contiguous());
  EXPECT_EQ(t->to_int64_vector(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(CliNpy, ReadsBigEndianScalarsAndBools) {
  std::string be("\x00\x00\x01\x02\xff\xff\xff\xfe", 8);  // 258, -2 as big-endian i4
  auto t = parse_npy(npy_bytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", be), "b.npy");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->to_int64_vector(), (std::vector<int64_t>{258, -2}));

  auto s = parse_npy(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", raw<double>({-0.25})),
                     "s.npy");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->rank(), 0);
  EXPECT_EQ(s->item<double>(), -0.25);

  auto b = parse_npy(npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x01\x00\x01", 3)),
                     "bool.npy");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->dtype(), DType::Bool);
  EXPECT_EQ(b->to_int64_vector(), (std::vector<int64_t>{1, 0, 1}));
}

TEST(CliNpy, RejectsBadFilesNamingThem) {
  auto truncated = parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", raw<float>({1, 2})),
                             "short.npy");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(truncated.status().message().find("short.npy"), std::string::npos);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos) << truncated.status().message();

  auto magic = parse_npy("PK\x03\x04 this is a zip file", "z.npy");
  ASSERT_FALSE(magic.ok());
  EXPECT_NE(magic.status().message().find("magic"), std::string::npos);

  auto complex = parse_npy(npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", raw<float>({1, 2})),
                           "c.npy");
  ASSERT_FALSE(complex.ok());
  EXPECT_EQ(complex.status().code(), StatusCode::Unsupported);
  EXPECT_NE(complex.status().message().find("<c8"), std::string::npos);

  auto missing = read_npy("/nonexistent/in.npy");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::IoError);
  EXPECT_NE(missing.status().message().find("/nonexistent/in.npy"), std::string::npos);
}

TEST(CliNpy, WritesWhatNumPyWritesAndReadsItBack) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("dj_npy_" + std::to_string(::getpid()) + ".npy")).string();
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  ASSERT_TRUE(write_npy(path, t).ok());
  auto bytes = [&] {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  // numpy.save(np.arange(1, 7, dtype='<f4').reshape(2, 3)) writes exactly this.
  EXPECT_EQ(bytes, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", raw<float>({1, 2, 3, 4, 5, 6})));
  EXPECT_EQ(bytes.size() % 64, 24u);  // 128-byte header + 24 data bytes

  Tensor h = Tensor::from_vector<bfloat16>({bfloat16(1.5f), bfloat16(-2.0f)}, {2});
  ASSERT_TRUE(write_npy(path, h).ok());
  auto back = read_npy(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->dtype(), DType::F32);  // bf16 has no NumPy dtype
  EXPECT_EQ(back->data<float>()[0], 1.5f);
  EXPECT_EQ(back->data<float>()[1], -2.0f);
  std::filesystem::remove(path);
}

TEST(CliInputSpec, ParsesShapesAndSpecs) {
  EXPECT_EQ(parse_shape("1x37x256").value(), (Shape{1, 37, 256}));
  EXPECT_EQ(parse_shape("scalar").value(), Shape{});
  EXPECT_EQ(parse_shape("0x4").value(), (Shape{0, 4}));
  for (const char* bad : {"", "2xx3", "-1", "2x", "ax3", "1.5"}) EXPECT_FALSE(parse_shape(bad).ok()) << bad;

  auto a = parse_input_spec("x=2x16:i64");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->name, "x");
  EXPECT_EQ(*a->shape, (Shape{2, 16}));
  EXPECT_EQ(*a->dtype, DType::I64);
  auto b = parse_input_spec("ids=4x7");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->dtype.has_value());
  auto c = parse_input_spec("x=:f16");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->shape.has_value());
  EXPECT_EQ(*c->dtype, DType::F16);
  auto d = parse_input_spec("x=data/in.npy");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->npy_path, "data/in.npy");
  auto e = parse_input_spec("x=2x3:float128");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("float128"), std::string::npos);
  EXPECT_FALSE(parse_input_spec("x").ok());
  EXPECT_FALSE(parse_input_spec("=2x3").ok());
  EXPECT_FALSE(parse_input_spec("x=").ok());

  auto dim = parse_dim_binding("batch=8");
  ASSERT_TRUE(dim.ok());
  EXPECT_EQ(dim->first, "batch");
  EXPECT_EQ(dim->second, 8);
  EXPECT_FALSE(parse_dim_binding("batch").ok());
  EXPECT_FALSE(parse_dim_binding("batch=-1").ok());
}

TEST(CliRandomTensor, SeededAndInRange) {
  Tensor a = random_tensor(DType::F32, {1000}, 7, 0).value();
  Tensor b = random_tensor(DType::F32, {1000}, 7, 0).value();
  Tensor c = random_tensor(DType::F32, {1000}, 7, 1).value();
  EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()), 0);
  EXPECT_NE(std::memcmp(a.raw_data(), c.raw_data(), a.nbytes()), 0);
  float lo = 1, hi = -1;
  for (int i = 0; i < 1000; ++i) {
    lo = std::min(lo, a.data<float>()[i]);
    hi = std::max(hi, a.data<float>()[i]);
  }
  EXPECT_GE(lo, -1.0f);
  EXPECT_LT(hi, 1.0f);
  EXPECT_LT(lo, -0.9f);  // 1000 uniform draws reach both ends
  EXPECT_GT(hi, 0.9f);
  Tensor ints = random_tensor(DType::I64, {1000}, 7, 0).value();
  std::vector<int64_t> v = ints.to_int64_vector();
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), 0);
  EXPECT_EQ(*std::max_element(v.begin(), v.end()), 9);
}

TEST(CliRunInputs, MadeUpInputsFollowGivenSymbols) {
  auto model = load_onnx_text(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[n, 2] a, int64[n, k] b) => (float[n, 2] s) { s = Identity(a) })");
  ASSERT_TRUE(model.ok()) << model.status().message();
  const Graph& g = *model->graph;

  // a given as 3x2: b gets n = 3 from it and k = 1 (a note says so).
  auto in = prepare_run_inputs(g, {parse_input_spec("a=3x2").value()}, {}, 0);
  ASSERT_TRUE(in.ok()) << in.status().message();
  ASSERT_EQ(in->tensors.size(), 2u);
  EXPECT_EQ(in->tensors[0].tensor.shape(), (Shape{3, 2}));
  EXPECT_EQ(in->tensors[1].name, "b");
  EXPECT_EQ(in->tensors[1].tensor.dtype(), DType::I64);
  EXPECT_EQ(in->tensors[1].tensor.shape(), (Shape{3, 1}));
  ASSERT_EQ(in->notes.size(), 1u);
  EXPECT_NE(in->notes[0].find("'k'"), std::string::npos) << in->notes[0];

  // --dim sets symbols; nothing given.
  auto dims = prepare_run_inputs(g, {}, {{"n", 5}, {"k", 4}}, 0);
  ASSERT_TRUE(dims.ok()) << dims.status().message();
  EXPECT_EQ(dims->tensors[0].tensor.shape(), (Shape{5, 2}));
  EXPECT_EQ(dims->tensors[1].tensor.shape(), (Shape{5, 4}));
  EXPECT_TRUE(dims->notes.empty());

  auto unknown = prepare_run_inputs(g, {parse_input_spec("c=1x2").value()}, {}, 0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'c'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("a, b"), std::string::npos);
}

TEST(CliTensorSummary, StatisticsAndValues) {
  Tensor t = Tensor::from_vector<float>({1, -2, 3, std::nanf("")}, {4});
  EXPECT_EQ(summarize_tensor(t), "min=-2 max=3 mean=0.666667 nan=1");
  Tensor m = Tensor::from_vector<int32_t>({0, 1, 2, 3, 4, 5}, {2, 3});
  EXPECT_EQ(format_values(m, 0), "[[0, 1, 2],\n [3, 4, 5]]");
  EXPECT_EQ(format_values(m, 4), "[[0, 1, 2],\n [3, ...]]");
  EXPECT_EQ(format_values(Tensor::scalar<double>(0.5), 8), "0.5");
  EXPECT_EQ(summarize_tensor(Tensor::from_vector<float>({}, {0})), "(no elements)");
}

}  // namespace
}  // namespace dj
