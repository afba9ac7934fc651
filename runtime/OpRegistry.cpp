// The built-in op registry, filled once from every op family.
#include "runtime/OpRegistry.h"

#include "runtime/ops/OpFamilies.h"

namespace dj {

const std::optional<SymShape>& ShapeContext::input_shape(size_t i) const {
  static const std::optional<SymShape> none;
  return input(i) ? input(i)->shape : none;
}

const OpRegistry& OpRegistry::builtin() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_all_op_families(r);
    return r;
  }();
  return registry;
}

void OpRegistry::add(OpSchema schema) { ops_[schema.op_type] = std::move(schema); }

const OpSchema* OpRegistry::find(const std::string& domain, const std::string& op_type) const {
  if (!domain.empty() && domain != "ai.onnx") return nullptr;
  auto it = ops_.find(op_type);
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::op_types() const {
  std::vector<std::string> out;
  for (const auto& [name, schema] : ops_) out.push_back(name);
  return out;
}

}  // namespace dj
