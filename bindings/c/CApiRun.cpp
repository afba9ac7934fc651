// dj_run and dj_outputs_free: one run of a model through the C API.
//
// Inputs are bound by name (runtime/InputBinding.h does every check a caller
// can fail) and run by the model's immutable Interpreter, inside the model's TBB
// arena when num_threads was set. Outputs are made independent of everything
// else before they are handed out: an output that is borrowed, strided, or shares
// bytes with an input, a model constant or an earlier output is copied, so the
// caller may write to it and keep it after freeing the inputs. No state is shared
// between concurrent calls except the read-only model.
#include <cstdlib>
#include <optional>

#include "bindings/c/CApiHandles.h"
#include "bindings/c/CApiStatus.h"
#include "runtime/InputBinding.h"

namespace dj::capi {
namespace {

Expected<std::vector<Tensor>> run_model(const dj_model& model, std::vector<Tensor> inputs) {
  if (!model.arena) return model.interpreter->run(std::move(inputs));
  std::optional<Expected<std::vector<Tensor>>> result;
  model.arena->execute([&] { result.emplace(model.interpreter->run(std::move(inputs))); });
  return std::move(*result);
}

// Copies every output that could share memory with something the caller does not
// own alone (see the file comment).
Status isolate_outputs(const dj_model& model, const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) {
  const Graph& graph = *model.model->graph;
  std::vector<ByteSpan> taken;
  for (const Tensor& in : inputs) taken.push_back(byte_span(in));
  for (size_t i = 0; i < outputs.size(); ++i) {
    Tensor& out = outputs[i];
    if (!out.defined())
      return make_error(StatusCode::Internal, "output '", graph.value(graph.outputs[i]).name, "' was not produced");
    ByteSpan span = byte_span(out);
    bool shared = out.is_borrowed() || !out.is_contiguous() || model.constants.overlaps(span);
    for (const ByteSpan& other : taken) shared = shared || other.overlaps(span);
    if (shared) {
      out = out.clone();
      span = byte_span(out);
    }
    taken.push_back(span);
  }
  return {};
}

}  // namespace
}  // namespace dj::capi

using namespace dj::capi;

extern "C" {

dj_status dj_run(dj_model* model, const char* const* input_names, const dj_tensor* const* inputs, size_t n_inputs,
                 dj_tensor*** outputs, size_t* n_outputs) noexcept {
  if (outputs) *outputs = nullptr;
  if (n_outputs) *n_outputs = 0;
  if (!model) return null_argument("dj_run", "model");
  if (!outputs) return null_argument("dj_run", "outputs");
  if (!n_outputs) return null_argument("dj_run", "n_outputs");
  if (n_inputs > 0 && !input_names) return null_argument("dj_run", "input_names");
  if (n_inputs > 0 && !inputs) return null_argument("dj_run", "inputs");
  return guarded("dj_run", [&]() -> dj::Status {
    std::vector<dj::NamedTensor> named;
    named.reserve(n_inputs);
    for (size_t i = 0; i < n_inputs; ++i) {
      if (!input_names[i])
        return dj::make_error(dj::StatusCode::InvalidArgument, "dj_run: input_names[", i, "] is NULL");
      if (!inputs[i])
        return dj::make_error(dj::StatusCode::InvalidArgument, "dj_run: inputs[", i, "] (input '", input_names[i],
                              "') is NULL");
      named.push_back({input_names[i], inputs[i]->tensor});
    }
    DJ_ASSIGN_OR_RETURN(std::vector<dj::Tensor> bound, dj::bind_inputs(*model->model->graph, named));
    std::vector<dj::Tensor> given = bound;  // views of the caller's inputs, for the aliasing check
    DJ_ASSIGN_OR_RETURN(std::vector<dj::Tensor> results, run_model(*model, std::move(bound)));
    DJ_RETURN_IF_ERROR(isolate_outputs(*model, given, results));

    std::vector<std::unique_ptr<dj_tensor>> handles;
    handles.reserve(results.size());
    for (dj::Tensor& t : results) handles.push_back(std::make_unique<dj_tensor>(dj_tensor{std::move(t)}));
    dj_tensor** array = nullptr;
    if (!handles.empty()) {
      array = static_cast<dj_tensor**>(std::calloc(handles.size(), sizeof(dj_tensor*)));
      if (!array) return dj::Status(dj::StatusCode::OutOfMemory, "dj_run: cannot allocate the output array");
      for (size_t i = 0; i < handles.size(); ++i) array[i] = handles[i].release();
    }
    *outputs = array;
    *n_outputs = handles.size();
    return {};
  });
}

void dj_outputs_free(dj_tensor** outputs, size_t n) noexcept {
  if (!outputs) return;
  for (size_t i = 0; i < n; ++i) dj_tensor_free(outputs[i]);
  std::free(outputs);
}

}  // extern "C"
