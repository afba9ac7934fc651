// AttentionBlockModel: a small attention block in ONNX text, shared by the CPU
// (tests/specializer/FusedAttentionTest.cpp) and emulated-GPU
// (tests/gpu_emulated/GpuEmulatedFusionTest.cpp) fusion tests: Q/K/V projections,
// Q·Kᵀ and P·V as batched GEMMs, the scale as the Softmax's prologue, the output
// projection with bias, residual Add and ReLU in its epilogue. Weights are fixed
// sine values, so both tests run the same model.
#pragma once

#include <cmath>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "frontend/OnnxLoader.h"

namespace dj::test {

constexpr const char* kAttentionBlock = R"(<ir_version: 8, opset_import: ["" : 17]>
attention (float[b, s, 16] x) => (float[b, s, 16] y) <
    float[16, 16] wq = {%W%}, float[16, 16] wk = {%W%}, float[16, 16] wv = {%W%}, float[16, 16] wo = {%W%},
    float[16] bo = {%B%}, int64[4] split = {0, 0, 2, 8}, int64[3] merge = {0, 0, 16}, float scale = {0.35355339}> {
  q2 = MatMul(x, wq)
  k2 = MatMul(x, wk)
  v2 = MatMul(x, wv)
  q = Reshape(q2, split)
  k = Reshape(k2, split)
  v = Reshape(v2, split)
  qh = Transpose <perm: ints = [0, 2, 1, 3]> (q)
  kh = Transpose <perm: ints = [0, 2, 3, 1]> (k)
  vh = Transpose <perm: ints = [0, 2, 1, 3]> (v)
  scores = MatMul(qh, kh)
  scaled = Mul(scores, scale)
  p = Softmax(scaled)
  ctx = MatMul(p, vh)
  ct = Transpose <perm: ints = [0, 2, 1, 3]> (ctx)
  c = Reshape(ct, merge)
  o = MatMul(c, wo)
  ob = Add(o, bo)
  r = Add(ob, x)
  y = Relu(r)
})";

// n comma-separated values 0.3*sin(i*step).
inline std::string sine_values(size_t n, float step) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ",";
    s += std::to_string(std::sin(static_cast<float>(i) * step) * 0.3f);
  }
  return s;
}

// `text` with %W% (16x16 weights) and %B% (16 biases) filled in, loaded.
inline std::shared_ptr<const Model> model_with_weights(std::string text) {
  for (size_t at; (at = text.find("%W%")) != std::string::npos;) text.replace(at, 3, sine_values(256, 0.37f + at * 1e-4f));
  for (size_t at; (at = text.find("%B%")) != std::string::npos;) text.replace(at, 3, sine_values(16, 0.91f));
  auto m = load_onnx_text(text);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::make_shared<const Model>(std::move(m).value()) : nullptr;
}

inline std::shared_ptr<const Model> attention_block_model() { return model_with_weights(kAttentionBlock); }

}  // namespace dj::test
