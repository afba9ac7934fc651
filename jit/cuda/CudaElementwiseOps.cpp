// CudaElementwiseOps: the op table (see CudaElementwiseOps.h).
#include "jit/cuda/CudaElementwiseOps.h"

#include <cstdio>

#include "jit/cuda/CudaSourceText.h"

namespace dj::jit::cuda {
namespace {

struct OpForm {
  const char* op;
  int arity;
  const char* pattern;  // $0, $1: the operands; $a: alpha
};

// Semantics follow the CPU reference kernels one for one (see the header).
const OpForm kOps[] = {
    {"Relu", 1, "($0 < 0.0f ? 0.0f : $0)"},
    {"Sigmoid", 1, "(1.0f / (1.0f + expf(-$0)))"},
    {"Tanh", 1, "tanhf($0)"},
    {"Exp", 1, "expf($0)"},
    {"Log", 1, "logf($0)"},
    {"Neg", 1, "(-$0)"},
    {"Abs", 1, "fabsf($0)"},
    {"Sqrt", 1, "sqrtf($0)"},
    {"Erf", 1, "erff($0)"},
    {"Identity", 1, "$0"},
    {"Reciprocal", 1, "(1.0f / $0)"},
    {"Floor", 1, "floorf($0)"},
    {"Ceil", 1, "ceilf($0)"},
    {"LeakyRelu", 1, "($0 < 0.0f ? $a * $0 : $0)"},
    {"Add", 2, "($0 + $1)"},
    {"Sub", 2, "($0 - $1)"},
    {"Mul", 2, "($0 * $1)"},
    {"Div", 2, "($0 / $1)"},
    {"Max", 2, "(($0 > $1 || $0 != $0) ? $0 : $1)"},
    {"Min", 2, "(($0 < $1 || $0 != $0) ? $0 : $1)"},
};

const OpForm* find_op(const std::string& op) {
  for (const OpForm& form : kOps)
    if (op == form.op) return &form;
  return nullptr;
}

}  // namespace

int elementwise_op_arity(const std::string& op) {
  const OpForm* form = find_op(op);
  return form ? form->arity : 0;
}

const std::vector<std::string>& supported_elementwise_ops() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const OpForm& form : kOps) v.push_back(form.op);
    return v;
  }();
  return names;
}

std::string elementwise_op_expression(const ElementwiseStep& step, const std::vector<std::string>& operands) {
  const OpForm* form = find_op(step.op);
  std::string out;
  for (const char* c = form->pattern; *c; ++c) {
    if (c[0] == '$' && (c[1] == '0' || c[1] == '1')) {
      out += operands[static_cast<size_t>(c[1] - '0')];
      ++c;
    } else if (c[0] == '$' && c[1] == 'a') {
      out += '(';
      out += float_literal(step.alpha);
      out += ')';
      ++c;
    } else {
      out += *c;
    }
  }
  return out;
}

std::string elementwise_chain_function(const std::string& function_name, int num_inputs,
                                       const std::vector<ElementwiseStep>& steps) {
  std::string params;
  for (int i = 0; i < num_inputs; ++i) params += cat(i ? ", " : "", "float x", i);
  SourceWriter w;
  w.line(0, "__device__ __forceinline__ float ", function_name, "(", params, ") {");
  for (size_t s = 0; s < steps.size(); ++s) {
    std::vector<std::string> operands;
    for (int v : steps[s].operands) operands.push_back(v < num_inputs ? cat("x", v) : cat("t", v - num_inputs));
    w.line(1, "const float t", s, " = ", elementwise_op_expression(steps[s], operands), ";");
  }
  w.line(1, "return t", steps.size() - 1, ";");
  w.line(0, "}");
  return w.text() + "\n";
}

std::string float_literal(float value) {
  char buf[48];
  // 9 significant digits read back to the same float.
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(value));
  std::string text = buf;
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text + "f";
}

}  // namespace dj::jit::cuda
