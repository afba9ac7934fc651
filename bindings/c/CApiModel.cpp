// Models through the C API: load (file or memory, binary or text ONNX), options,
// free, and introspection of inputs and outputs.
//
// Everything introspection hands out (names, dims, symbol texts) is built once at
// load time and owned by the dj_model, so the returned pointers stay valid until
// dj_model_free and reading them needs no locks.
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>

#include "bindings/c/CApiDType.h"
#include "bindings/c/CApiHandles.h"
#include "bindings/c/CApiStatus.h"
#include "frontend/OnnxLoader.h"
#include "runtime/Device.h"
#include "runtime/Log.h"
#ifdef DJ_HAVE_JIT
#include "specializer/DevicePlacement.h"
#endif

namespace dj::capi {
namespace {

struct LoadSettings {
  int32_t num_threads = 0;
  bool disable_jit = false;
  std::string cache_dir;
  std::string device;  // empty: DJ_DEVICE, else cpu
};

// Reads the fields the caller's header knows (struct_size) and that this library
// knows (sizeof); see dj_load_options in dynajit.h for the growth rule.
Status read_load_options(const dj_load_options* options, LoadSettings& settings) {
  if (!options) return {};
  constexpr size_t kSizeField = offsetof(dj_load_options, struct_size) + sizeof(size_t);
  if (options->struct_size < kSizeField)
    return make_error(StatusCode::InvalidArgument, "dj_load_options.struct_size is ", options->struct_size,
                      ": initialize the options with dj_load_options_init");
  const size_t known = sizeof(dj_load_options);
  if (options->struct_size > known) {
    const unsigned char* bytes = reinterpret_cast<const unsigned char*>(options);
    for (size_t i = known; i < options->struct_size; ++i)
      if (bytes[i] != 0)
        return make_error(StatusCode::Unsupported, "dj_load_options sets a field (at byte ", i,
                          ") that this version of DynaJIT (", dj_version(), ") does not know");
  }
  if (options->struct_size >= offsetof(dj_load_options, num_threads) + sizeof(int32_t)) {
    if (options->num_threads < 0)
      return make_error(StatusCode::InvalidArgument, "dj_load_options.num_threads is ", options->num_threads,
                        ": use 0 for the default or a positive count");
    settings.num_threads = options->num_threads;
  }
  if (options->struct_size >= offsetof(dj_load_options, disable_jit) + sizeof(int32_t))
    settings.disable_jit = options->disable_jit != 0;
  if (options->struct_size >= offsetof(dj_load_options, cache_dir) + sizeof(const char*) && options->cache_dir)
    settings.cache_dir = options->cache_dir;
  if (options->struct_size >= offsetof(dj_load_options, device) + sizeof(const char*) && options->device)
    settings.device = options->device;
  return {};
}

std::unique_ptr<ValueDescription> describe_value(const ValueInfo& value) {
  auto d = std::make_unique<ValueDescription>();
  d->name = value.name;
  d->info.name = d->name.c_str();
  d->info.dtype = value.dtype ? dtype_to_c(*value.dtype) : DJ_DTYPE_UNKNOWN;
  d->info.rank = value.shape ? static_cast<int64_t>(value.shape->size()) : -1;
  if (value.shape) {
    const SymShape& shape = *value.shape;
    d->symbols.reserve(shape.size());  // no reallocation below: dims point into these strings
    d->dims.reserve(shape.size());
    for (const SymExpr& dim : shape) {
      if (dim.is_const()) {
        d->dims.push_back({DJ_DIM_CONSTANT, dim.const_value(), nullptr});
        continue;
      }
      d->symbols.push_back(dim.to_string());
      dj_dim_kind kind = dim.is_data_dependent() ? DJ_DIM_DATA_DEPENDENT : DJ_DIM_SYMBOLIC;
      d->dims.push_back({kind, -1, d->symbols.back().c_str()});
    }
    d->info.dims = d->dims.empty() ? nullptr : d->dims.data();
  }
  return d;
}

// Wraps a loaded model into a dj_model; *out is set only on success.
Status make_model(Expected<Model> loaded, const LoadSettings& settings, dj_model** out) {
  if (!loaded.ok()) return loaded.status();
  auto handle = std::make_unique<dj_model>();
  auto model = std::make_shared<const Model>(std::move(loaded).value());
  if (!model->graph) return Status(StatusCode::Internal, "the loader returned a model without a graph");
  const Graph& graph = *model->graph;
  for (ValueId id : graph.inputs) handle->inputs.push_back(describe_value(graph.value(id)));
  for (ValueId id : graph.outputs) handle->outputs.push_back(describe_value(graph.value(id)));
  handle->constants = collect_constant_spans(graph);
  if (settings.num_threads > 0) handle->arena = std::make_unique<tbb::task_arena>(settings.num_threads);
  handle->interpreter = std::make_unique<const Interpreter>(model);
  DeviceRequest request = device_request_from_env(DeviceRequest::Cpu);
  if (!settings.device.empty()) {
    DJ_ASSIGN_OR_RETURN(request, parse_device_request(settings.device));
  }
#ifdef DJ_HAVE_JIT
  auto jit_options = specializer::SpecializerOptions::from_environment();
  jit_options.cache_dir = settings.cache_dir;
  if (settings.disable_jit) jit_options.enabled = false;
  auto attached = specializer::attach_on_device(*handle->interpreter, jit_options, request);
  if (!attached.ok()) return attached.status();
  handle->specializer = std::move(attached).value();
#else
  DJ_ASSIGN_OR_RETURN(DeviceKind device, resolve_device(request));
  if (device != DeviceKind::Cpu)
    return Status(StatusCode::Unsupported, "this build of DynaJIT has no JIT, so nothing can run on a GPU");
#endif
  DJ_LOG_INFO("loaded '" << model->source << "': " << graph.count_nodes_recursive() << " nodes, opset "
                         << model->opset << ", " << graph.inputs.size() << " inputs, " << graph.outputs.size()
                         << " outputs" << (settings.num_threads ? ", " + std::to_string(settings.num_threads) + " threads" : "")
                         << (handle->specializer ? ", JIT on" : ", JIT off"));
  handle->model = std::move(model);
  *out = handle.release();
  return {};
}

// The same rule as load_model_file: text when the first non-blank byte is '<' or
// the content starts with "agraph".
bool looks_like_onnx_text(const char* bytes, size_t size) {
  size_t i = 0;
  while (i < size && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n')) ++i;
  if (i == size) return false;
  return bytes[i] == '<' || (size - i >= 6 && std::memcmp(bytes + i, "agraph", 6) == 0);
}

dj_status value_info_at(const char* function, const dj_model* model, size_t index, const dj_value_info** out,
                        bool inputs) {
  if (out) *out = nullptr;
  if (!model) return null_argument(function, "model");
  if (!out) return null_argument(function, "out");
  return guarded(function, [&]() -> Status {
    const auto& list = inputs ? model->inputs : model->outputs;
    if (index >= list.size())
      return make_error(StatusCode::InvalidArgument, function, ": index ", index, " is out of range (the model has ",
                        list.size(), inputs ? " inputs)" : " outputs)");
    *out = &list[index]->info;
    return {};
  });
}

}  // namespace
}  // namespace dj::capi

using namespace dj::capi;

extern "C" {

dj_status dj_load(const char* path, const dj_load_options* options, dj_model** out) noexcept {
  if (out) *out = nullptr;
  if (!path) return null_argument("dj_load", "path");
  if (!out) return null_argument("dj_load", "out");
  return guarded("dj_load", [&]() -> dj::Status {
    LoadSettings settings;
    DJ_RETURN_IF_ERROR(read_load_options(options, settings));
    if (*path == '\0') return dj::Status(dj::StatusCode::IoError, "dj_load: the model path is empty");
    return make_model(dj::load_model_file(path), settings, out);
  });
}

dj_status dj_load_from_memory(const void* data, size_t size, const dj_load_options* options,
                              dj_model** out) noexcept {
  if (out) *out = nullptr;
  if (!data && size > 0) return null_argument("dj_load_from_memory", "data");
  if (!out) return null_argument("dj_load_from_memory", "out");
  return guarded("dj_load_from_memory", [&]() -> dj::Status {
    LoadSettings settings;
    DJ_RETURN_IF_ERROR(read_load_options(options, settings));
    const char* bytes = static_cast<const char*>(data);
    if (data && looks_like_onnx_text(bytes, size))
      return make_model(dj::load_onnx_text(std::string(bytes, size)), settings, out);
    return make_model(dj::load_onnx_bytes(data, size), settings, out);
  });
}

void dj_model_free(dj_model* model) noexcept {
  try {
    delete model;
  } catch (...) {
    // Destructors do not throw; nothing can be reported from a free function anyway.
  }
}

size_t dj_model_num_inputs(const dj_model* model) noexcept { return model ? model->inputs.size() : 0; }
size_t dj_model_num_outputs(const dj_model* model) noexcept { return model ? model->outputs.size() : 0; }

dj_status dj_model_input(const dj_model* model, size_t index, const dj_value_info** out) noexcept {
  return value_info_at("dj_model_input", model, index, out, true);
}

dj_status dj_model_output(const dj_model* model, size_t index, const dj_value_info** out) noexcept {
  return value_info_at("dj_model_output", model, index, out, false);
}

}  // extern "C"
