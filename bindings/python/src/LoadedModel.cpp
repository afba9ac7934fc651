// LoadedModel: loading, introspection and running through the C API.
#include "LoadedModel.h"

#include <memory>

#include "StatusError.h"

namespace dynajit_py {
namespace {

dj_load_options load_options(int32_t num_threads, bool jit, const std::string& cache_dir, const std::string& device) {
  if (num_threads < 0)
    throw StatusError(DJ_ERR_INVALID_ARGUMENT,
                      "num_threads must be 0 (the default) or positive, not " + std::to_string(num_threads));
  dj_load_options options;
  dj_load_options_init(&options);
  options.num_threads = num_threads;
  options.disable_jit = jit ? 0 : 1;
  options.cache_dir = cache_dir.empty() ? nullptr : cache_dir.c_str();  // dj_load copies it
  options.device = device.empty() ? nullptr : device.c_str();           // and this
  return options;
}

nb::tuple describe(const dj_value_info* info) {
  nb::list dims;
  for (int64_t d = 0; d < info->rank; ++d) {
    const dj_dim& dim = info->dims[d];
    nb::object symbol = dim.symbol ? nb::object(nb::str(dim.symbol)) : nb::none();
    dims.append(nb::make_tuple(static_cast<int>(dim.kind), dim.value, symbol));
  }
  return nb::make_tuple(nb::str(info->name), static_cast<int>(info->dtype), info->rank, dims);
}

struct OutputArray {
  dj_tensor** tensors = nullptr;
  size_t count = 0;
  ~OutputArray() { dj_outputs_free(tensors, count); }
};

}  // namespace

LoadedModel LoadedModel::from_file(const std::string& path, int32_t num_threads, bool jit, const std::string& cache_dir,
                                   const std::string& device) {
  dj_load_options options = load_options(num_threads, jit, cache_dir, device);
  dj_model* model = nullptr;
  dj_status status;
  {
    nb::gil_scoped_release unlocked;
    status = dj_load(path.c_str(), &options, &model);
  }
  check_status(status);
  return LoadedModel(model);
}

LoadedModel LoadedModel::from_bytes(const nb::bytes& data, int32_t num_threads, bool jit,
                                     const std::string& cache_dir, const std::string& device) {
  dj_load_options options = load_options(num_threads, jit, cache_dir, device);
  dj_model* model = nullptr;
  dj_status status;
  {
    // bytes objects are immutable and `data` holds a reference: safe to read unlocked.
    nb::gil_scoped_release unlocked;
    status = dj_load_from_memory(data.c_str(), data.size(), &options, &model);
  }
  check_status(status);
  return LoadedModel(model);
}

nb::list LoadedModel::inputs() const {
  nb::list out;
  for (size_t i = 0; i < dj_model_num_inputs(model_); ++i) {
    const dj_value_info* info = nullptr;
    check_status(dj_model_input(model_, i, &info));
    out.append(describe(info));
  }
  return out;
}

nb::list LoadedModel::outputs() const {
  nb::list out;
  for (size_t i = 0; i < dj_model_num_outputs(model_); ++i) {
    const dj_value_info* info = nullptr;
    check_status(dj_model_output(model_, i, &info));
    out.append(describe(info));
  }
  return out;
}

std::string LoadedModel::stats() const {
  char* json = nullptr;
  check_status(dj_model_stats(model_, &json));
  std::unique_ptr<char, void (*)(char*)> owned(json, dj_string_free);
  return std::string(json);
}

bool LoadedModel::wait_for_compiles(int64_t timeout_ms) {
  int idle = 0;
  dj_status status = DJ_OK;
  {
    nb::gil_scoped_release released;
    status = dj_model_wait_for_compiles(model_, timeout_ms, &idle);
  }
  check_status(status);
  return idle != 0;
}

nb::list LoadedModel::run(const std::vector<std::string>& names, const std::vector<InputArray>& arrays,
                          const std::vector<int>& dtypes) {
  if (names.size() != arrays.size() || names.size() != dtypes.size())
    throw StatusError(DJ_ERR_INVALID_ARGUMENT, "run: names, arrays and dtypes differ in length");
  std::vector<TensorPtr> borrowed;
  std::vector<const dj_tensor*> inputs;
  std::vector<const char*> c_names;
  for (size_t i = 0; i < names.size(); ++i) {
    borrowed.push_back(borrow_input(names[i], arrays[i], static_cast<dj_dtype>(dtypes[i])));
    inputs.push_back(borrowed.back().get());
    c_names.push_back(names[i].c_str());
  }
  OutputArray outputs;
  dj_status status;
  std::string message;
  {
    // `arrays` holds a reference to every input array, so their memory outlives the run.
    nb::gil_scoped_release unlocked;
    status = dj_run(model_, c_names.data(), inputs.data(), inputs.size(), &outputs.tensors, &outputs.count);
    if (status != DJ_OK) message = dj_last_error_message();  // same thread as the failing call
  }
  if (status != DJ_OK) throw StatusError(status, message);
  nb::list result;
  for (size_t i = 0; i < outputs.count; ++i) {
    dj_tensor* t = outputs.tensors[i];
    outputs.tensors[i] = nullptr;  // adopt_output owns it now, even if it throws
    result.append(adopt_output(t));
  }
  return result;
}

}  // namespace dynajit_py
