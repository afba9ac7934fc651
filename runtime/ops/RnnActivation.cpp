// Parsing of the recurrent ops' activation attributes (see RnnActivation.h).
#include "runtime/ops/RnnActivation.h"

#include <cctype>

namespace dj {

namespace {

struct ActivationInfo {
  const char* name;  // lower case
  RnnActivationKind kind;
  bool takes_alpha;
  float default_alpha;
  bool takes_beta;
  float default_beta;
};

constexpr ActivationInfo kActivations[] = {
    {"sigmoid", RnnActivationKind::Sigmoid, false, 0, false, 0},
    {"tanh", RnnActivationKind::Tanh, false, 0, false, 0},
    {"relu", RnnActivationKind::Relu, false, 0, false, 0},
    {"hardsigmoid", RnnActivationKind::HardSigmoid, true, 0.2f, true, 0.5f},
    {"leakyrelu", RnnActivationKind::LeakyRelu, true, 0.01f, false, 0},
    {"thresholdedrelu", RnnActivationKind::ThresholdedRelu, true, 1.0f, false, 0},
    {"scaledtanh", RnnActivationKind::ScaledTanh, true, 1.0f, true, 1.0f},
    {"affine", RnnActivationKind::Affine, true, 1.0f, true, 0.0f},
    {"elu", RnnActivationKind::Elu, true, 1.0f, false, 0},
    {"softsign", RnnActivationKind::Softsign, false, 0, false, 0},
    {"softplus", RnnActivationKind::Softplus, false, 0, false, 0},
};

}  // namespace

Expected<std::vector<RnnActivation>> parse_rnn_activations(const std::vector<std::string>& names,
                                                           const std::vector<float>& alphas,
                                                           const std::vector<float>& betas, const char* op) {
  std::vector<RnnActivation> out;
  size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    std::string lower;
    for (char ch : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const ActivationInfo* info = nullptr;
    for (const auto& candidate : kActivations)
      if (lower == candidate.name) info = &candidate;
    if (!info) return make_error(StatusCode::Unsupported, op, ": unsupported activation '", name, "'");
    RnnActivation act;
    act.kind = info->kind;
    act.alpha = info->default_alpha;
    act.beta = info->default_beta;
    if (info->takes_alpha && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
    if (info->takes_beta && next_beta < betas.size()) act.beta = betas[next_beta++];
    out.push_back(act);
  }
  return out;
}

}  // namespace dj
