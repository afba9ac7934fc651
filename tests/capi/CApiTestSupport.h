// Shared pieces of the C API tests: RAII holders for C handles, the small test
// models (ONNX text syntax, so the tests depend on no generated file), and an
// independent reference for the MLP model.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bindings/c/dynajit.h"

namespace dj::testing {

struct ModelFree {
  void operator()(dj_model* m) const { dj_model_free(m); }
};
struct TensorFree {
  void operator()(dj_tensor* t) const { dj_tensor_free(t); }
};
using ModelPtr = std::unique_ptr<dj_model, ModelFree>;
using TensorPtr = std::unique_ptr<dj_tensor, TensorFree>;

// The outputs of one dj_run, freed with dj_outputs_free.
struct RunOutputs {
  dj_tensor** tensors = nullptr;
  size_t count = 0;
  RunOutputs() = default;
  RunOutputs(const RunOutputs&) = delete;
  RunOutputs& operator=(const RunOutputs&) = delete;
  ~RunOutputs() { dj_outputs_free(tensors, count); }
};

// y = Relu(x @ w + b), x: f32[batch, 4], w: f32[4, 3] = 1..12 row-major, b = {0.5, -20, 0}.
inline const char* const kMlpText = R"(<ir_version: 8, opset_import: ["" : 17]>
mlp (float[batch, 4] x) => (float[batch, 3] y)
<float[4, 3] w = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0}, float[3] b = {0.5, -20.0, 0.0}>
{
  h = MatMul(x, w)
  z = Add(h, b)
  y = Relu(z)
}
)";

// Two inputs that share the symbol n: s = a + b.
inline const char* const kAddText = R"(<ir_version: 8, opset_import: ["" : 17]>
add2 (float[n, 2] a, float[n, 2] b) => (float[n, 2] s)
{
  s = Add(a, b)
}
)";

// The reference for kMlpText, computed without DynaJIT.
inline std::vector<float> mlp_reference(const std::vector<float>& x, int64_t batch) {
  const float w[4][3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}};
  const float b[3] = {0.5f, -20.0f, 0.0f};
  std::vector<float> y(static_cast<size_t>(batch) * 3);
  for (int64_t r = 0; r < batch; ++r)
    for (int c = 0; c < 3; ++c) {
      float acc = 0;
      for (int k = 0; k < 4; ++k) acc += x[static_cast<size_t>(r * 4 + k)] * w[k][c];
      acc += b[c];
      y[static_cast<size_t>(r * 3 + c)] = acc > 0 ? acc : 0;
    }
  return y;
}

// Deterministic inputs for the MLP: depend only on (batch, salt).
inline std::vector<float> mlp_input(int64_t batch, uint32_t salt = 0) {
  std::vector<float> x(static_cast<size_t>(batch) * 4);
  uint32_t s = 2654435761u * static_cast<uint32_t>(batch + 1) + salt;
  for (float& v : x) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<int>(s >> 24) - 128) / 64.0f;  // multiples of 1/64 in [-2, 2)
  }
  return x;
}

inline ModelPtr load_text_model(const char* text, const dj_load_options* options = nullptr) {
  dj_model* m = nullptr;
  dj_status s = dj_load_from_memory(text, std::string(text).size(), options, &m);
  EXPECT_EQ(s, DJ_OK) << dj_last_error_message();
  return ModelPtr(m);
}

inline TensorPtr make_f32(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  dj_tensor* t = nullptr;
  dj_status s = dj_tensor_create_copy(DJ_F32, shape.data(), shape.size(), values.data(), &t);
  EXPECT_EQ(s, DJ_OK) << dj_last_error_message();
  return TensorPtr(t);
}

inline std::vector<float> f32_values(const dj_tensor* t) {
  const float* d = static_cast<const float*>(dj_tensor_const_data(t));
  return std::vector<float>(d, d + dj_tensor_numel(t));
}

// Runs a one-input model; returns the status and fills `out`.
inline dj_status run_one(dj_model* m, const char* name, const dj_tensor* input, RunOutputs& out) {
  const char* names[1] = {name};
  const dj_tensor* inputs[1] = {input};
  return dj_run(m, names, inputs, 1, &out.tensors, &out.count);
}

}  // namespace dj::testing
