// RnnActivation: the gate activation functions of LSTM/GRU/RNN (the
// `activations`, `activation_alpha`, `activation_beta` attributes) and how they
// are applied to a contiguous span of gate values.
//
// Names are matched case-insensitively. As in ONNX Runtime, activation_alpha and
// activation_beta are consumed in order, one value per activation that takes that
// parameter; an activation whose value is not given uses the default of the
// corresponding ONNX operator. apply_activation switches once per span so the
// inner loops stay free of per-element dispatch; for float, Sigmoid and Tanh run
// the vectorized kernels of RnnIsa.h (within ~1e-6 relative of libm), the rest and
// every double the plain loops.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/Status.h"
#include "runtime/ops/RnnIsa.h"

namespace dj {

enum class RnnActivationKind {
  Sigmoid, Tanh, Relu, HardSigmoid, LeakyRelu, ThresholdedRelu, ScaledTanh, Affine, Elu, Softsign, Softplus,
};

struct RnnActivation {
  RnnActivationKind kind = RnnActivationKind::Sigmoid;
  float alpha = 0;
  float beta = 0;
};

// Parses the activation names and their alpha/beta lists. `op` names the op in
// error messages ("LSTM: unsupported activation 'Foo'").
Expected<std::vector<RnnActivation>> parse_rnn_activations(const std::vector<std::string>& names,
                                                           const std::vector<float>& alphas,
                                                           const std::vector<float>& betas, const char* op);

// v[i] = act(v[i]) for i in [0, n).
template <typename C>
void apply_activation(const RnnActivation& act, C* v, int64_t n) {
  const C a = static_cast<C>(act.alpha);
  const C b = static_cast<C>(act.beta);
  if constexpr (std::is_same_v<C, float>) {
    if (act.kind == RnnActivationKind::Sigmoid) return rnn_isa_kernels().sigmoid(v, n);
    if (act.kind == RnnActivationKind::Tanh) return rnn_isa_kernels().tanh(v, n);
  }
  switch (act.kind) {
    case RnnActivationKind::Sigmoid:
      for (int64_t i = 0; i < n; ++i) v[i] = C(1) / (C(1) + std::exp(-v[i]));
      break;
    case RnnActivationKind::Tanh:
      for (int64_t i = 0; i < n; ++i) v[i] = std::tanh(v[i]);
      break;
    case RnnActivationKind::Relu:
      for (int64_t i = 0; i < n; ++i) v[i] = std::max(v[i], C(0));
      break;
    case RnnActivationKind::HardSigmoid:
      for (int64_t i = 0; i < n; ++i) v[i] = std::min(C(1), std::max(C(0), a * v[i] + b));
      break;
    case RnnActivationKind::LeakyRelu:
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] >= C(0) ? v[i] : a * v[i];
      break;
    case RnnActivationKind::ThresholdedRelu:
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] > a ? v[i] : C(0);
      break;
    case RnnActivationKind::ScaledTanh:
      for (int64_t i = 0; i < n; ++i) v[i] = a * std::tanh(b * v[i]);
      break;
    case RnnActivationKind::Affine:
      for (int64_t i = 0; i < n; ++i) v[i] = a * v[i] + b;
      break;
    case RnnActivationKind::Elu:
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] >= C(0) ? v[i] : a * (std::exp(v[i]) - C(1));
      break;
    case RnnActivationKind::Softsign:
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] / (C(1) + std::abs(v[i]));
      break;
    case RnnActivationKind::Softplus:
      for (int64_t i = 0; i < n; ++i) v[i] = std::log1p(std::exp(v[i]));
      break;
  }
}

// v[i] = clamp(v[i], -clip, clip): ONNX applies `clip` to every activation input.
template <typename C>
void clip_span(C* v, int64_t n, C clip) {
  for (int64_t i = 0; i < n; ++i) v[i] = std::min(clip, std::max(-clip, v[i]));
}

}  // namespace dj
