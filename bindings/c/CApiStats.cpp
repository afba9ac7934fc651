// dj_model_stats / dj_model_wait_for_compiles / dj_string_free: what a model did and
// its JIT's background work, through the C API.
#include <cstdlib>
#include <cstring>

#include "bindings/c/CApiHandles.h"
#include "bindings/c/CApiStatus.h"
#include "runtime/TraceReport.h"
#ifdef DJ_HAVE_JIT
#include "specializer/JitReport.h"
#endif

using namespace dj::capi;

extern "C" {

dj_status dj_model_stats(const dj_model* model, char** json_out) noexcept {
  if (json_out) *json_out = nullptr;
  if (!model) return null_argument("dj_model_stats", "model");
  if (!json_out) return null_argument("dj_model_stats", "json_out");
  return guarded("dj_model_stats", [&]() -> dj::Status {
    const dj::Interpreter& interp = *model->interpreter;
    std::function<void(dj::JsonWriter&)> jit_section;
#ifdef DJ_HAVE_JIT
    if (model->specializer)
      jit_section = [&](dj::JsonWriter& w) { dj::specializer::write_jit_json(w, *model->specializer, interp.regions()); };
#endif
    std::string json = dj::trace_stats_json(*model->model, interp.regions(), interp.tracer(), jit_section);
    // malloc, so that dj_string_free (and a C caller's mental model) is plain free().
    char* copy = static_cast<char*>(std::malloc(json.size() + 1));
    if (!copy) return dj::Status(dj::StatusCode::OutOfMemory, "dj_model_stats: out of memory for the JSON text");
    std::memcpy(copy, json.c_str(), json.size() + 1);
    *json_out = copy;
    return {};
  });
}

dj_status dj_model_wait_for_compiles(dj_model* model, int64_t timeout_ms, int* idle_out) noexcept {
  if (idle_out) *idle_out = 0;
  if (!model) return null_argument("dj_model_wait_for_compiles", "model");
  return guarded("dj_model_wait_for_compiles", [&]() -> dj::Status {
    bool idle = true;
#ifdef DJ_HAVE_JIT
    if (model->specializer) idle = model->specializer->wait_idle_for(timeout_ms);
#endif
    if (idle_out) *idle_out = idle ? 1 : 0;
    return {};
  });
}

void dj_string_free(char* s) noexcept { std::free(s); }

}  // extern "C"
