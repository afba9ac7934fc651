// BundledModelSupport: what the compiled-vs-interpreter tests share — loading the
// bundled models (models/*.onnx), their ONNX Runtime reference inputs
// (models/testdata), seeded random inputs, and the comparison of two runs' outputs
// within a stated tolerance (exact for non-float outputs). Header-only; needs
// DJ_SOURCE_DIR and GoogleTest.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "frontend/OnnxLoader.h"
#include "frontend/OnnxTensor.h"
#include "runtime/Tensor.h"

namespace dj::test {

inline std::shared_ptr<const Model> load_bundled(const std::string& name) {
  auto m = load_model_file(std::string(DJ_SOURCE_DIR) + "/models/" + name + ".onnx");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::make_shared<const Model>(std::move(m).value());
}

inline Tensor random_f32(const Shape& shape, uint64_t seed, float scale) {
  Tensor t = Tensor::empty(DType::F32, shape);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// The 4 reference input sets of models/testdata/NAME (ONNX Runtime's outputs sit beside them).
inline std::vector<std::vector<Tensor>> testdata_inputs(const std::string& name, size_t num_inputs) {
  std::vector<std::vector<Tensor>> sets;
  for (int k = 0; k < 4; ++k) {
    std::vector<Tensor> in;
    for (size_t i = 0; i < num_inputs; ++i) {
      auto t = read_tensor_pb_file(std::string(DJ_SOURCE_DIR) + "/models/testdata/" + name + "/test_data_set_" +
                                   std::to_string(k) + "/input_" + std::to_string(i) + ".pb");
      EXPECT_TRUE(t.ok());
      in.push_back(std::move(t).value());
    }
    sets.push_back(std::move(in));
  }
  return sets;
}

// f32: |got - want| <= abs_tol + rel_tol * |want| and NaN where want is NaN; other dtypes: equal bytes.
inline void expect_close(const std::vector<Tensor>& got, const std::vector<Tensor>& want, const std::string& what,
                         double abs_tol = 1e-4, double rel_tol = 1e-4) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t o = 0; o < got.size(); ++o) {
    ASSERT_EQ(got[o].shape(), want[o].shape()) << what << " output " << o;
    ASSERT_EQ(got[o].dtype(), want[o].dtype()) << what << " output " << o;
    ASSERT_TRUE(got[o].on_host()) << what << " output " << o << " was left on the " << device_kind_name(got[o].device());
    if (got[o].dtype() != DType::F32) {
      EXPECT_EQ(std::memcmp(got[o].raw_data(), want[o].raw_data(), got[o].nbytes()), 0) << what << " output " << o;
      continue;
    }
    const float* g = got[o].data<float>();
    const float* w = want[o].data<float>();
    double worst = 0;
    for (int64_t i = 0; i < got[o].numel(); ++i) {
      double excess = std::fabs(double(g[i]) - w[i]) - (abs_tol + rel_tol * std::fabs(double(w[i])));
      if (std::isnan(g[i]) != std::isnan(w[i])) excess = INFINITY;
      worst = std::max(worst, excess);
    }
    EXPECT_LE(worst, 0.0) << what << " output " << o << ": beyond tolerance by " << worst;
  }
}

}  // namespace dj::test
