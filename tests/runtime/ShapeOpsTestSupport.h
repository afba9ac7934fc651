// What the shape / data-movement family's tests share: calling one op's kernel
// through the built-in OpRegistry, building attributes and tensors, reading
// results back. Header-only; each test file includes it inside its own TU.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"

namespace dj::shape_test {

inline Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::Int;
  a.i = v;
  return a;
}
inline Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::Ints;
  a.ints = std::move(v);
  return a;
}
inline Attribute float_attr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::Float;
  a.f = v;
  return a;
}
inline Attribute floats_attr(std::vector<float> v) {
  Attribute a;
  a.kind = Attribute::Kind::Floats;
  a.floats = std::move(v);
  return a;
}
inline Attribute string_attr(const std::string& v) {
  Attribute a;
  a.kind = Attribute::Kind::String;
  a.s = v;
  return a;
}
inline Attribute tensor_attr(Tensor t) {
  Attribute a;
  a.kind = Attribute::Kind::Tensor;
  a.t = std::move(t);
  return a;
}

// Runs one op's kernel on `inputs` (an undefined Tensor is an omitted input).
inline Expected<std::vector<Tensor>> run_op(const std::string& op, std::vector<Tensor> inputs,
                                            std::map<std::string, Attribute> attrs = {}, int64_t opset = 17,
                                            size_t num_outputs = 1) {
  const OpSchema* schema = OpRegistry::builtin().find("", op);
  if (!schema || !schema->kernel) return Status(StatusCode::Unsupported, "no kernel for " + op);
  Node node;
  node.name = "test_" + op;
  node.op_type = op;
  node.attributes = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i)
    node.inputs.push_back(inputs[i].defined() ? static_cast<ValueId>(i) : kNoValue);
  for (size_t i = 0; i < num_outputs; ++i) node.outputs.push_back(static_cast<ValueId>(100 + i));
  KernelContext ctx(node, opset, std::move(inputs), nullptr);
  Status st = schema->kernel(ctx);
  if (!st.ok()) return st;
  return ctx.outputs();
}

inline Tensor run_ok(const std::string& op, std::vector<Tensor> inputs, std::map<std::string, Attribute> attrs = {},
                     int64_t opset = 17) {
  auto out = run_op(op, std::move(inputs), std::move(attrs), opset);
  EXPECT_TRUE(out.ok()) << op << ": " << out.status().to_string();
  return out.ok() ? out.value()[0] : Tensor();
}

// The error a kernel returns; fails the test if it succeeded.
inline Status run_error(const std::string& op, std::vector<Tensor> inputs, std::map<std::string, Attribute> attrs = {},
                        int64_t opset = 17) {
  auto out = run_op(op, std::move(inputs), std::move(attrs), opset);
  EXPECT_FALSE(out.ok()) << op << " unexpectedly succeeded";
  return out.ok() ? Status() : out.status();
}

template <typename T>
std::vector<T> values(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DTypeOf<T>::value) << t.describe();
  if (t.dtype() != DTypeOf<T>::value) return {};
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

inline Tensor f32(std::vector<float> v, const Shape& shape) { return Tensor::from_vector<float>(v, shape); }
inline Tensor i64(std::vector<int64_t> v, const Shape& shape) { return Tensor::from_vector<int64_t>(v, shape); }
inline Tensor i64s(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::from_vector<int64_t>(v, {n});
}
// 0, 1, 2, ... as f32 of the given shape.
inline Tensor iota_f32(const Shape& shape) {
  Tensor t = Tensor::empty(DType::F32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i);
  return t;
}

inline Tensor halfs(const std::vector<float>& v, const Shape& shape) {
  std::vector<half> h;
  for (float f : v) h.emplace_back(f);
  return Tensor::from_vector<half>(h, shape);
}
inline std::vector<float> half_values(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::F16);
  std::vector<float> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(static_cast<float>(t.data<half>()[i]));
  return out;
}
inline Tensor bools(const std::vector<int>& v, const Shape& shape) {
  Tensor t = Tensor::empty(DType::Bool, shape);
  for (size_t i = 0; i < v.size(); ++i) t.data<bool>()[i] = v[i] != 0;
  return t;
}
inline std::vector<int> bool_values(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::Bool);
  std::vector<int> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.data<bool>()[i] ? 1 : 0);
  return out;
}

using F = std::vector<float>;
using I = std::vector<int64_t>;

}  // namespace dj::shape_test
