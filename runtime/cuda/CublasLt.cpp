// CublasLt: dlopen of cuBLASLt, cached matmul plans, the row-major f32 GEMM.
#include "runtime/cuda/CublasLt.h"

#ifdef DJ_HAVE_CUDA

#include <cublasLt.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "runtime/Log.h"
#include "runtime/cuda/CudaContext.h"

namespace dj {
namespace {

#define DJ_CUBLASLT_FUNCTIONS(X)                                                                   \
  X(cublasLtCreate) X(cublasLtDestroy) X(cublasLtGetStatusName) X(cublasLtGetStatusString)         \
  X(cublasLtGetVersion) X(cublasLtMatmul) X(cublasLtMatmulDescCreate) X(cublasLtMatmulDescDestroy) \
  X(cublasLtMatmulDescSetAttribute) X(cublasLtMatrixLayoutCreate) X(cublasLtMatrixLayoutDestroy)   \
  X(cublasLtMatmulPreferenceCreate) X(cublasLtMatmulPreferenceDestroy)                             \
  X(cublasLtMatmulPreferenceSetAttribute) X(cublasLtMatmulAlgoGetHeuristic)

#define DJ_CUBLASLT_DECLARE_ENTRY(name) decltype(&::name) name = nullptr;
struct CublasLtApi {
  DJ_CUBLASLT_FUNCTIONS(DJ_CUBLASLT_DECLARE_ENTRY)
  std::string library;
};
#undef DJ_CUBLASLT_DECLARE_ENTRY

constexpr uint64_t kMaxWorkspaceBytes = uint64_t{32} << 20;
constexpr size_t kMaxCachedPlans = 512;

std::string status_text(const CublasLtApi& api, cublasStatus_t status) {
  const char* name = api.cublasLtGetStatusName ? api.cublasLtGetStatusName(status) : nullptr;
  const char* text = api.cublasLtGetStatusString ? api.cublasLtGetStatusString(status) : nullptr;
  return std::string(name ? name : "cublasStatus " + std::to_string(static_cast<int>(status))) + ": " +
         (text ? text : "(no description)");
}

#define DJ_LT_RETURN_IF_ERROR(api, call)                                                      \
  do {                                                                                        \
    const cublasStatus_t dj_lt_status_ = (api).call;                                          \
    if (dj_lt_status_ != CUBLAS_STATUS_SUCCESS)                                               \
      return make_error(StatusCode::Internal, #call " failed with ", status_text((api), dj_lt_status_)); \
  } while (0)

Expected<CublasLtApi> load_library() {
  std::vector<std::string> candidates;
  const char* env = std::getenv("DJ_CUBLASLT_LIBRARY");
  if (env && *env) {
    candidates.push_back(env);
  } else {
    candidates = {"libcublasLt.so.13", "libcublasLt.so"};
  }
  void* library = nullptr;
  std::string tried;
  CublasLtApi api;
  for (const std::string& candidate : candidates) {
    library = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library) {
      api.library = candidate;
      break;
    }
    const char* why = dlerror();
    tried += (tried.empty() ? "" : "; ") + candidate + ": " + (why ? why : "dlopen failed");
  }
  if (!library) return make_error(StatusCode::Unsupported, "cuBLASLt library not found (", tried, ")");
#define DJ_CUBLASLT_RESOLVE_ENTRY(name)                                                                 \
  api.name = reinterpret_cast<decltype(api.name)>(dlsym(library, #name));                                \
  if (!api.name) return make_error(StatusCode::Unsupported, "cuBLASLt '", api.library, "' lacks symbol " #name);
  DJ_CUBLASLT_FUNCTIONS(DJ_CUBLASLT_RESOLVE_ENTRY)
#undef DJ_CUBLASLT_RESOLVE_ENTRY
  // Enum values and descriptor sizes come from the headers we compiled against; a
  // library of another major version may disagree on them.
  const size_t version = api.cublasLtGetVersion();
  if (version / 10000 != CUBLAS_VER_MAJOR) {
    return make_error(StatusCode::Unsupported, "cuBLASLt '", api.library, "' is version ", version,
                      "; DynaJIT was built against the CUDA ", CUBLAS_VER_MAJOR, " headers (", CUBLAS_VERSION, ")");
  }
  return api;
}

uint32_t pointer_alignment(DevicePtr ptr) {
  if (ptr == 0) return 256;
  return static_cast<uint32_t>(std::min<uint64_t>(256, ptr & (~ptr + 1)));  // lowest set bit
}

cublasLtEpilogue_t lt_epilogue(GemmEpilogue e) {
  switch (e) {
    case GemmEpilogue::None: return CUBLASLT_EPILOGUE_DEFAULT;
    case GemmEpilogue::Bias: return CUBLASLT_EPILOGUE_BIAS;
    case GemmEpilogue::ReluBias: return CUBLASLT_EPILOGUE_RELU_BIAS;
    case GemmEpilogue::GeluBias: return CUBLASLT_EPILOGUE_GELU_BIAS;
    case GemmEpilogue::Relu: return CUBLASLT_EPILOGUE_RELU;
  }
  return CUBLASLT_EPILOGUE_DEFAULT;
}

bool ranges_overlap(DevicePtr a, uint64_t a_bytes, DevicePtr b, uint64_t b_bytes) {
  return a_bytes && b_bytes && a < b + b_bytes && b < a + a_bytes;
}

// Everything cublasLtMatmul needs besides the pointers, for one key.
struct GemmPlan {
  explicit GemmPlan(const CublasLtApi& api) : api(api) {}
  ~GemmPlan() {
    if (desc) api.cublasLtMatmulDescDestroy(desc);
    if (layout_a) api.cublasLtMatrixLayoutDestroy(layout_a);
    if (layout_b) api.cublasLtMatrixLayoutDestroy(layout_b);
    if (layout_d) api.cublasLtMatrixLayoutDestroy(layout_d);
  }
  const CublasLtApi& api;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t layout_a = nullptr;  // cuBLASLt's A = our B, column-major n x k
  cublasLtMatrixLayout_t layout_b = nullptr;  // cuBLASLt's B = our A, column-major k x m
  cublasLtMatrixLayout_t layout_d = nullptr;  // C and D = our out, column-major n x m
  cublasLtMatmulAlgo_t algo{};
  size_t workspace_bytes = 0;
  std::mutex mu;  // the bias pointer lives in `desc` and is set per call
};

// (m, n, k, epilogue, tf32, alignment of a, b, out, bias)
using PlanKey = std::tuple<int64_t, int64_t, int64_t, int, bool, uint32_t, uint32_t, uint32_t, uint32_t>;

struct PreferenceGuard {
  const CublasLtApi& api;
  cublasLtMatmulPreference_t pref = nullptr;
  ~PreferenceGuard() {
    if (pref) api.cublasLtMatmulPreferenceDestroy(pref);
  }
};

}  // namespace

struct CublasLt::Impl {
  CublasLtApi api;
  CudaContext* context = nullptr;
  cublasLtHandle_t handle = nullptr;
  size_t version = 0;
  mutable std::mutex mu;
  std::map<PlanKey, std::shared_ptr<GemmPlan>> plans;

  Expected<std::shared_ptr<GemmPlan>> plan_for(const GemmF32& g);
  Expected<std::shared_ptr<GemmPlan>> create_plan(const GemmF32& g, const PlanKey& key);
};

const char* gemm_epilogue_name(GemmEpilogue e) {
  switch (e) {
    case GemmEpilogue::None: return "none";
    case GemmEpilogue::Bias: return "bias";
    case GemmEpilogue::ReluBias: return "relu_bias";
    case GemmEpilogue::GeluBias: return "gelu_bias";
    case GemmEpilogue::Relu: return "relu";
  }
  return "?";
}

bool gemm_epilogue_has_bias(GemmEpilogue e) {
  return e == GemmEpilogue::Bias || e == GemmEpilogue::ReluBias || e == GemmEpilogue::GeluBias;
}

Expected<std::shared_ptr<GemmPlan>> CublasLt::Impl::create_plan(const GemmF32& g, const PlanKey& key) {
  auto plan = std::make_shared<GemmPlan>(api);
  const cublasComputeType_t compute = g.allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulDescCreate(&plan->desc, compute, CUDA_R_32F));
  // Attribute buffers use the widths cublasLt.h documents for each attribute.
  const int32_t no_transpose = CUBLAS_OP_N;
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA, &no_transpose,
                                                            sizeof no_transpose));
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, &no_transpose,
                                                            sizeof no_transpose));
  const uint32_t epilogue = lt_epilogue(g.epilogue);
  DJ_LT_RETURN_IF_ERROR(
      api, cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));
  if (gemm_epilogue_has_bias(g.epilogue)) {
    // The heuristic reads the pointer's alignment, so the real pointer goes in now.
    const void* bias = reinterpret_cast<const void*>(static_cast<uintptr_t>(g.bias));
    DJ_LT_RETURN_IF_ERROR(
        api, cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
  }
  const uint64_t m = static_cast<uint64_t>(g.m), n = static_cast<uint64_t>(g.n), k = static_cast<uint64_t>(g.k);
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatrixLayoutCreate(&plan->layout_a, CUDA_R_32F, n, k, static_cast<int64_t>(n)));
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatrixLayoutCreate(&plan->layout_b, CUDA_R_32F, k, m, static_cast<int64_t>(k)));
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatrixLayoutCreate(&plan->layout_d, CUDA_R_32F, n, m, static_cast<int64_t>(n)));

  PreferenceGuard pref{api};
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulPreferenceCreate(&pref.pref));
  const uint64_t max_workspace = kMaxWorkspaceBytes;
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulPreferenceSetAttribute(pref.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                                  &max_workspace, sizeof max_workspace));
  // cuBLASLt's A is our b, its B our a; C and D are our out.
  const uint32_t align_lt_a = std::get<6>(key), align_lt_b = std::get<5>(key), align_out = std::get<7>(key);
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulPreferenceSetAttribute(
                                 pref.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_lt_a, sizeof align_lt_a));
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulPreferenceSetAttribute(
                                 pref.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_lt_b, sizeof align_lt_b));
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulPreferenceSetAttribute(
                                 pref.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_out, sizeof align_out));
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulPreferenceSetAttribute(
                                 pref.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_out, sizeof align_out));

  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  DJ_LT_RETURN_IF_ERROR(api, cublasLtMatmulAlgoGetHeuristic(handle, plan->desc, plan->layout_a, plan->layout_b,
                                                            plan->layout_d, plan->layout_d, pref.pref, 1, &result,
                                                            &found));
  if (found < 1 || result.state != CUBLAS_STATUS_SUCCESS) {
    return make_error(StatusCode::Unsupported, "cuBLASLt has no algorithm for f32 GEMM m=", g.m, " n=", g.n,
                      " k=", g.k, " epilogue ", gemm_epilogue_name(g.epilogue),
                      found < 1 ? "" : (" (" + status_text(api, result.state) + ")"));
  }
  plan->algo = result.algo;
  plan->workspace_bytes = result.workspaceSize;
  return plan;
}

Expected<std::shared_ptr<GemmPlan>> CublasLt::Impl::plan_for(const GemmF32& g) {
  const bool has_bias = gemm_epilogue_has_bias(g.epilogue);
  const PlanKey key{g.m, g.n, g.k, static_cast<int>(g.epilogue), g.allow_tf32, pointer_alignment(g.a),
                    pointer_alignment(g.b), pointer_alignment(g.out), has_bias ? pointer_alignment(g.bias) : 0u};
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = plans.find(key);
    if (it != plans.end()) return it->second;
  }
  // Planned outside the lock: the heuristic query takes a while, and two threads
  // planning the same key only waste a little work.
  DJ_ASSIGN_OR_RETURN(std::shared_ptr<GemmPlan> plan, create_plan(g, key));
  std::lock_guard<std::mutex> lock(mu);
  if (plans.size() >= kMaxCachedPlans) plans.clear();  // callers in flight keep theirs alive
  return plans.emplace(key, std::move(plan)).first->second;
}

Expected<CublasLt*> CublasLt::get() {
  static std::once_flag once;
  static Expected<CublasLt*>* instance = nullptr;  // leaked: lives for the process
  std::call_once(once, [] {
    auto create = []() -> Expected<CublasLt*> {
      DJ_ASSIGN_OR_RETURN(CublasLtApi api, load_library());
      Expected<CudaContext*> context = CudaContext::get();
      if (!context.ok()) return context.status().with_context("cuBLASLt needs a CUDA device: ");
      DJ_RETURN_IF_ERROR(context.value()->make_current());
      auto impl = std::make_unique<Impl>();
      impl->api = std::move(api);
      impl->context = context.value();
      impl->version = impl->api.cublasLtGetVersion();
      DJ_LT_RETURN_IF_ERROR(impl->api, cublasLtCreate(&impl->handle));
      DJ_LOG_INFO("cuBLASLt " << impl->version << " loaded from '" << impl->api.library << "'");
      return new CublasLt(impl.release());
    };
    instance = new Expected<CublasLt*>(create());
  });
  return *instance;
}

Status CublasLt::gemm_f32(const GemmF32& g, CUstream stream) {
  DJ_CHECK(g.m >= 0 && g.n >= 0 && g.k >= 0, InvalidArgument, "GEMM with negative dims m=", g.m, " n=", g.n,
           " k=", g.k);
  if (g.m == 0 || g.n == 0) return Status::ok_status();
  DJ_CHECK(g.k > 0, Unsupported, "cuBLASLt GEMM with k=0 (m=", g.m, " n=", g.n, ")");
  constexpr int64_t kMaxDim = INT32_MAX;  // cuBLASLt supports dims that fit int32
  DJ_CHECK(g.m <= kMaxDim && g.n <= kMaxDim && g.k <= kMaxDim, InvalidArgument, "cuBLASLt GEMM dims m=", g.m,
           " n=", g.n, " k=", g.k, " exceed INT32_MAX");
  const bool has_bias = gemm_epilogue_has_bias(g.epilogue);
  DJ_CHECK(g.a && g.b && g.out && (!has_bias || g.bias), InvalidArgument, "cuBLASLt GEMM with a null pointer",
           has_bias && !g.bias ? " (the bias epilogue needs a bias)" : "");
  const uint64_t out_bytes = uint64_t(g.m) * uint64_t(g.n) * 4;
  DJ_CHECK(!ranges_overlap(g.out, out_bytes, g.a, uint64_t(g.m) * uint64_t(g.k) * 4) &&
               !ranges_overlap(g.out, out_bytes, g.b, uint64_t(g.k) * uint64_t(g.n) * 4) &&
               !(has_bias && ranges_overlap(g.out, out_bytes, g.bias, uint64_t(g.n) * 4)),
           InvalidArgument, "cuBLASLt GEMM output overlaps an input");

  Impl& s = *impl_;
  DJ_RETURN_IF_ERROR(s.context->make_current());
  DJ_ASSIGN_OR_RETURN(std::shared_ptr<GemmPlan> plan, s.plan_for(g));
  DeviceBuffer workspace;
  if (plan->workspace_bytes > 0) {
    DJ_ASSIGN_OR_RETURN(workspace, DeviceBuffer::allocate(s.context->allocator(), plan->workspace_bytes,
                                                          reinterpret_cast<StreamKey>(stream)));
  }
  const float alpha = 1.0f, beta = 0.0f;
  auto device = [](DevicePtr p) { return reinterpret_cast<void*>(static_cast<uintptr_t>(p)); };
  std::lock_guard<std::mutex> lock(plan->mu);
  if (has_bias) {
    const void* bias = device(g.bias);
    DJ_LT_RETURN_IF_ERROR(s.api, cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                                                sizeof bias));
  }
  DJ_LT_RETURN_IF_ERROR(s.api, cublasLtMatmul(s.handle, plan->desc, &alpha, device(g.b), plan->layout_a, device(g.a),
                                              plan->layout_b, &beta, device(g.out), plan->layout_d, device(g.out),
                                              plan->layout_d, &plan->algo, device(workspace.ptr()),
                                              plan->workspace_bytes, stream));
  return Status::ok_status();  // `workspace` goes back to the stream's free list: stream order protects it
}

size_t CublasLt::cached_plans() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->plans.size();
}

std::string CublasLt::library() const { return impl_->api.library; }
size_t CublasLt::version() const { return impl_->version; }

}  // namespace dj

#endif  // DJ_HAVE_CUDA
