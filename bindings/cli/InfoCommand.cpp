// `dj info MODEL [--nodes]`: what a model declares and what load-time shape
// inference found: inputs and outputs with symbolic dims, opset, op counts
// (subgraphs included) and, with --nodes, every node of the main graph.
#include <iostream>
#include <map>

#include "bindings/cli/CliCommands.h"
#include "frontend/OnnxLoader.h"

namespace dj {
namespace {

const char kInfoUsage[] =
    "usage: dj info MODEL [--nodes]\n"
    "\n"
    "Shows MODEL's IR version, opset and producer, its inputs and outputs with dtypes\n"
    "and shapes (symbolic dims by name, e.g. f32[batch,16]), and how many nodes of each\n"
    "op type it has (subgraphs of If/Loop/Scan included).\n"
    "\n"
    "options:\n"
    "  --nodes     also list every node of the main graph: op, name, inputs -> outputs\n"
    "              with the dtype and shape known at load time\n"
    "  -h, --help  this help\n";

std::string describe_value(const ValueInfo& v) {
  std::string s = v.dtype ? dtype_name(*v.dtype) : "?";
  s += v.shape ? sym_shape_to_string(*v.shape) : "[rank unknown]";
  if (v.constant.defined()) s += " (constant)";
  return s;
}

void count_ops(const Graph& g, std::map<std::string, size_t>& counts) {
  for (const Node& n : g.nodes) {
    ++counts[n.domain.empty() ? n.op_type : n.domain + "." + n.op_type];
    for (const auto& [key, attr] : n.attributes)
      if (attr.g) count_ops(*attr.g, counts);
  }
}

}  // namespace

int info_command(const std::vector<std::string>& args) {
  std::string path;
  bool list_nodes = false;
  for (const std::string& a : args) {
    if (a == "-h" || a == "--help") {
      std::cout << kInfoUsage;
      return 0;
    }
    if (a == "--nodes") list_nodes = true;
    else if (!a.empty() && a[0] == '-') return report_usage_error("unknown option '" + a + "'", "info");
    else if (path.empty()) path = a;
    else return report_usage_error("unexpected argument '" + a + "'", "info");
  }
  if (path.empty()) return report_usage_error("no MODEL given", "info");

  auto loaded = load_model_file(path);
  if (!loaded.ok()) return report_error(loaded.status());
  const Model& model = loaded.value();
  const Graph& g = *model.graph;

  std::cout << "model: " << path << "\n";
  std::cout << "  ir_version " << model.ir_version << ", opset " << model.opset;
  if (!model.producer.empty()) std::cout << ", producer '" << model.producer << "'";
  if (!g.name.empty()) std::cout << ", graph '" << g.name << "'";
  std::cout << "\n";
  std::cout << "inputs:\n";
  for (ValueId id : g.inputs) std::cout << "  " << g.value(id).name << ": " << describe_value(g.value(id)) << "\n";
  std::cout << "outputs:\n";
  for (ValueId id : g.outputs) std::cout << "  " << g.value(id).name << ": " << describe_value(g.value(id)) << "\n";
  std::cout << "initializers: " << g.initializers.size() << "\n";

  std::map<std::string, size_t> counts;
  count_ops(g, counts);
  std::cout << "nodes: " << g.nodes.size() << " in the main graph, " << g.count_nodes_recursive()
            << " with subgraphs\n";
  std::cout << "ops:\n";
  for (const auto& [op, count] : counts) std::cout << "  " << op << ": " << count << "\n";

  if (list_nodes) {
    std::cout << "node list:\n";
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      std::cout << "  [" << i << "] " << n.op_type << " '" << n.name << "': ";
      for (size_t k = 0; k < n.inputs.size(); ++k)
        std::cout << (k ? ", " : "") << (n.inputs[k] == kNoValue ? "<none>" : g.value(n.inputs[k]).name);
      std::cout << " -> ";
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        if (n.outputs[k] == kNoValue) {
          std::cout << (k ? ", " : "") << "<none>";
          continue;
        }
        const ValueInfo& v = g.value(n.outputs[k]);
        std::cout << (k ? ", " : "") << v.name << " " << describe_value(v);
      }
      std::cout << "\n";
    }
  }
  return 0;
}

}  // namespace dj
