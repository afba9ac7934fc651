// CudaContext: device selection, properties, primary context, per-thread streams.
#include "runtime/cuda/CudaContext.h"

#ifdef DJ_HAVE_CUDA

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "runtime/Log.h"

namespace dj {

// The calling thread's stream. Destroyed when the thread exits (for the main thread:
// at the start of exit(), before static destructors and before the driver's own
// teardown), so the stream is synchronized and its cached blocks go back first.
struct ThreadStream {
  CudaContext* owner = nullptr;
  CUstream stream = nullptr;
  ~ThreadStream() {
    if (owner && stream) owner->retire_stream(stream);
  }
};

namespace {
thread_local ThreadStream t_stream;

Expected<int> device_ordinal_from_env(int device_count) {
  const char* env = std::getenv("DJ_CUDA_DEVICE");
  if (!env || !*env) return 0;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(env, &end, 10);
  DJ_CHECK(errno == 0 && *end == '\0' && n >= 0, InvalidArgument, "DJ_CUDA_DEVICE='", env,
           "' is not a device ordinal (0, 1, ...)");
  DJ_CHECK(n < device_count, InvalidArgument, "DJ_CUDA_DEVICE=", n, " but only ", device_count,
           " CUDA device(s) are present");
  return static_cast<int>(n);
}

Status read_properties(const CudaDriverApi& api, CUdevice device, int ordinal, CudaDeviceProperties* p) {
  p->ordinal = ordinal;
  char name[256] = {};
  DJ_CU_RETURN_IF_ERROR(api, cuDeviceGetName(name, static_cast<int>(sizeof name) - 1, device));
  p->name = name;
  DJ_CU_RETURN_IF_ERROR(api, cuDeviceGetAttribute(&p->sm_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
  DJ_CU_RETURN_IF_ERROR(api, cuDeviceGetAttribute(&p->sm_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
  DJ_CU_RETURN_IF_ERROR(api, cuDeviceGetAttribute(&p->sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device));
  DJ_CU_RETURN_IF_ERROR(
      api, cuDeviceGetAttribute(&p->max_threads_per_block, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, device));
  DJ_CU_RETURN_IF_ERROR(api, cuDeviceGetAttribute(&p->max_shared_memory_per_block,
                                                  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, device));
  DJ_CU_RETURN_IF_ERROR(api, cuDeviceTotalMem(&p->total_memory_bytes, device));
  DJ_CU_RETURN_IF_ERROR(api, cuDriverGetVersion(&p->driver_version));
  return Status::ok_status();
}
}  // namespace

std::string CudaDeviceProperties::arch() const {
  return "sm_" + std::to_string(sm_major) + std::to_string(sm_minor);
}

std::string CudaDeviceProperties::describe() const {
  std::ostringstream os;
  os << "CUDA device " << ordinal << ": " << name << " (" << arch() << ", " << sm_count << " SMs, "
     << static_cast<double>(total_memory_bytes) / (1 << 30) << " GiB), driver API "
     << driver_version / 1000 << "." << (driver_version % 1000) / 10;
  return os.str();
}

CudaContext::CudaContext(const CudaDriverApi& api, CUdevice device, CUcontext context,
                         CudaDeviceProperties properties)
    : api_(api), device_(device), context_(context), properties_(std::move(properties)) {
  memory_source_ = std::make_unique<CudaMemorySource>(api_, context_);
  allocator_ = std::make_unique<CudaDeviceAllocator>(*memory_source_, CudaDeviceAllocator::cache_limit_from_env());
}

Expected<CudaContext*> CudaContext::create() {
  DJ_ASSIGN_OR_RETURN(const CudaDriverApi* api, cuda_driver());
  int count = 0;
  DJ_CU_RETURN_IF_ERROR(*api, cuDeviceGetCount(&count));
  if (count <= 0) {
    return make_error(StatusCode::Unsupported, "CUDA driver '", api->library,
                      "' loaded but no CUDA devices are present");
  }
  DJ_ASSIGN_OR_RETURN(const int ordinal, device_ordinal_from_env(count));
  CUdevice device = 0;
  DJ_CU_RETURN_IF_ERROR(*api, cuDeviceGet(&device, ordinal));
  CudaDeviceProperties properties;
  DJ_RETURN_IF_ERROR(read_properties(*api, device, ordinal, &properties));
  CUcontext context = nullptr;
  DJ_CU_RETURN_IF_ERROR(*api, cuDevicePrimaryCtxRetain(&context, device));
  const CUresult bound = api->cuCtxSetCurrent(context);
  if (bound != CUDA_SUCCESS) {
    Status s = cuda_call_status(*api, bound, "cuCtxSetCurrent");
    api->cuDevicePrimaryCtxRelease(device);
    return s;
  }
  DJ_LOG_INFO(properties.describe());
  return new CudaContext(*api, device, context, std::move(properties));
}

Expected<CudaContext*> CudaContext::get() {
  static std::once_flag once;
  static Expected<CudaContext*>* instance = nullptr;  // leaked: see the header
  std::call_once(once, [] { instance = new Expected<CudaContext*>(create()); });
  return *instance;
}

Status CudaContext::make_current() const {
  DJ_CU_RETURN_IF_ERROR(api_, cuCtxSetCurrent(context_));
  return Status::ok_status();
}

Expected<CUstream> CudaContext::thread_stream() {
  DJ_RETURN_IF_ERROR(make_current());
  if (t_stream.stream) return t_stream.stream;
  CUstream stream = nullptr;
  // Non-blocking: no implicit synchronization with the legacy default stream, which
  // other libraries in the process may use.
  DJ_CU_RETURN_IF_ERROR(api_, cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  t_stream.owner = this;
  t_stream.stream = stream;
  return stream;
}

Status CudaContext::synchronize_thread_stream() {
  DJ_ASSIGN_OR_RETURN(CUstream stream, thread_stream());
  DJ_CU_RETURN_IF_ERROR(api_, cuStreamSynchronize(stream));
  return Status::ok_status();
}

Expected<std::pair<size_t, size_t>> CudaContext::memory_info() const {
  DJ_RETURN_IF_ERROR(make_current());
  size_t free_bytes = 0, total_bytes = 0;
  DJ_CU_RETURN_IF_ERROR(api_, cuMemGetInfo(&free_bytes, &total_bytes));
  return std::make_pair(free_bytes, total_bytes);
}

void CudaContext::retire_stream(CUstream stream) {
  // Errors are only logged: this runs in a thread-exit destructor, and at process exit
  // the driver may already refuse calls (CUDA_ERROR_DEINITIALIZED).
  Status s = make_current();
  if (s.ok()) {
    const CUresult synced = api_.cuStreamSynchronize(stream);
    if (synced != CUDA_SUCCESS) s = cuda_call_status(api_, synced, "cuStreamSynchronize");
  }
  if (s.ok()) s = allocator_->retire_stream(reinterpret_cast<StreamKey>(stream));
  if (s.ok()) {
    const CUresult destroyed = api_.cuStreamDestroy(stream);
    if (destroyed != CUDA_SUCCESS) s = cuda_call_status(api_, destroyed, "cuStreamDestroy");
  }
  if (!s.ok()) DJ_LOG_DEBUG("retiring a thread's CUDA stream: " << s.message());
}

}  // namespace dj

#endif  // DJ_HAVE_CUDA
