// The driver backend on a real GPU: device properties, copies, a hand-written PTX
// kernel launched with the one-struct ABI, the allocator on a stream, per-thread
// streams and events. Each test skips when no GPU is usable (fails instead with
// DJ_TEST_REQUIRE_CUDA=1).
#include <gtest/gtest.h>

#include <cstddef>
#include <thread>
#include <vector>

#include "runtime/Device.h"
#include "runtime/Tensor.h"
#include "runtime/cuda/CudaEvent.h"
#include "runtime/cuda/CudaModule.h"
#include "runtime/cuda/CudaTransfer.h"
#include "tests/runtime_cuda/CudaTestSupport.h"

namespace dj {
namespace {

// The kernel-parameter struct of the CUDA contract (jit/cuda/KernelParams.h), spelled
// out here so the runtime's tests do not depend on jit/.
struct ContractKernelParams {
  const float* in[8];
  float* out;
  long long numel;
  long long rows, cols;
  long long k;
  int rank;
  long long extent[6];
  long long in_stride[8][6];
};
static_assert(offsetof(ContractKernelParams, out) == 64);
static_assert(offsetof(ContractKernelParams, numel) == 72);
static_assert(sizeof(ContractKernelParams) == 544);

// out[i] = in[0][i] + 1 for i < numel; one by-value parameter of 544 bytes, as NVCC
// lays out a struct argument (checked with ptxas -arch=sm_90).
const char* kAddOnePtx = R"(
.version 8.0
.target sm_90
.address_size 64

.visible .entry dj_add_one(
    .param .align 8 .b8 dj_add_one_param_0[544]
)
{
    .reg .pred %p<2>;
    .reg .f32 %f<3>;
    .reg .b32 %r<4>;
    .reg .b64 %rd<12>;

    ld.param.u64 %rd1, [dj_add_one_param_0];
    ld.param.u64 %rd2, [dj_add_one_param_0+64];
    ld.param.u64 %rd3, [dj_add_one_param_0+72];
    mov.u32 %r1, %ctaid.x;
    mov.u32 %r2, %ntid.x;
    mov.u32 %r3, %tid.x;
    mul.wide.u32 %rd4, %r1, %r2;
    cvt.u64.u32 %rd5, %r3;
    add.s64 %rd6, %rd4, %rd5;
    setp.ge.s64 %p1, %rd6, %rd3;
    @%p1 bra DONE;
    cvta.to.global.u64 %rd7, %rd1;
    cvta.to.global.u64 %rd8, %rd2;
    shl.b64 %rd9, %rd6, 2;
    add.s64 %rd10, %rd7, %rd9;
    ld.global.f32 %f1, [%rd10];
    add.f32 %f2, %f1, 0f3F800000;
    add.s64 %rd11, %rd8, %rd9;
    st.global.f32 [%rd11], %f2;
DONE:
    ret;
}
)";

Tensor ramp(int64_t n, float scale) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = scale * static_cast<float>(i) - 3.5f;
  return Tensor::from_vector(v, {n});
}

template <typename T>
T* as_device(DevicePtr p) {
  return reinterpret_cast<T*>(static_cast<uintptr_t>(p));
}

TEST(CudaGpu, DevicePropertiesAndResolution) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  const CudaDeviceProperties& p = ctx.properties();
  EXPECT_FALSE(p.name.empty());
  EXPECT_GE(p.sm_major, 5);
  EXPECT_EQ(p.arch(), "sm_" + std::to_string(p.sm_major) + std::to_string(p.sm_minor));
  EXPECT_GT(p.sm_count, 0);
  EXPECT_GE(p.max_threads_per_block, 1024);
  EXPECT_GT(p.total_memory_bytes, size_t{1} << 30);
  EXPECT_GE(p.driver_version, 12000);
  Expected<std::pair<size_t, size_t>> mem = ctx.memory_info();
  ASSERT_TRUE(mem.ok()) << mem.status().to_string();
  EXPECT_LE(mem->first, mem->second);
  EXPECT_GT(mem->second, 0u);
  EXPECT_LE(mem->second, p.total_memory_bytes);
  EXPECT_EQ(resolve_device(DeviceRequest::Cuda).value(), DeviceKind::Cuda);
  EXPECT_EQ(resolve_device(DeviceRequest::Auto).value(), DeviceKind::Cuda);
  std::printf("%s\n", p.describe().c_str());
}

TEST(CudaGpu, UploadCopyFillDownloadRoundTrip) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  CUstream stream = ctx.thread_stream().value();
  const int64_t n = 1000;
  const Tensor host = ramp(n, 0.25f);
  Expected<DeviceBuffer> a = upload_to_new_buffer(ctx, host, stream);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  Expected<DeviceBuffer> b = DeviceBuffer::allocate(ctx.allocator(), n * sizeof(float), reinterpret_cast<StreamKey>(stream));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(copy_device_to_device(ctx, b->ptr(), a->ptr(), n * sizeof(float), stream).ok());
  // Zero the first 10 floats of the copy (all-zero bytes are 0.0f).
  ASSERT_TRUE(fill_device_bytes(ctx, b->ptr(), 0, 10 * sizeof(float), stream).ok());
  Expected<Tensor> back = download_tensor(ctx, b->ptr(), b->capacity(), DType::F32, {n}, stream);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  const float* got = back->data<float>();
  const float* want = host.data<float>();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], i < 10 ? 0.0f : want[i]) << "element " << i;
  // A download larger than the buffer is refused before any copy.
  EXPECT_EQ(download_tensor(ctx, b->ptr(), b->capacity(), DType::F32, {n * 10}, stream).status().code(),
            StatusCode::InvalidArgument);
}

TEST(CudaGpu, PtxKernelWithTheContractParamsAddsOne) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  CUstream stream = ctx.thread_stream().value();
  Expected<std::unique_ptr<CudaModule>> module = CudaModule::load(ctx, kAddOnePtx);
  ASSERT_TRUE(module.ok()) << module.status().to_string();
  Expected<CUfunction> fn = module.value()->function("dj_add_one");
  ASSERT_TRUE(fn.ok()) << fn.status().to_string();

  const int64_t n = 100003;  // not a multiple of the block: the bound check matters
  const Tensor host = ramp(n, 0.5f);
  DeviceBuffer in = upload_to_new_buffer(ctx, host, stream).value();
  // Poison the output so an unwritten element cannot pass.
  DeviceBuffer out = DeviceBuffer::allocate(ctx.allocator(), n * 4, reinterpret_cast<StreamKey>(stream)).value();
  ASSERT_TRUE(fill_device_bytes(ctx, out.ptr(), 0xFF, n * 4, stream).ok());
  ContractKernelParams params{};
  params.in[0] = as_device<const float>(in.ptr());
  params.out = as_device<float>(out.ptr());
  params.numel = n;
  const unsigned block = 256;
  const unsigned grid = static_cast<unsigned>((n + block - 1) / block);
  ASSERT_TRUE(launch_kernel(ctx, fn.value(), {grid}, {block}, 0, &params, stream).ok());
  params.numel = -1;  // the driver copied the parameters at launch: changing them now is harmless
  Tensor result = download_tensor(ctx, out.ptr(), out.capacity(), DType::F32, {n}, stream).value();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(result.data<float>()[i], host.data<float>()[i] + 1.0f) << "element " << i;
}

TEST(CudaGpu, ModuleErrorsAreClear) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  std::unique_ptr<CudaModule> module = std::move(CudaModule::load(ctx, kAddOnePtx).value());
  Expected<CUfunction> missing = module->function("no_such_kernel");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'no_such_kernel'"), std::string::npos);

  Expected<std::unique_ptr<CudaModule>> bad = CudaModule::load(ctx, ".version 8.0\n.target sm_90\n.address_size 64\n"
                                                                    ".visible .entry k() { bogus.instruction; }\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cuModuleLoadDataEx"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("PTX"), std::string::npos) << bad.status().message();

  Expected<CUfunction> fn = module->function("dj_add_one");
  ContractKernelParams params{};
  EXPECT_EQ(launch_kernel(ctx, fn.value(), {0}, {256}, 0, &params, ctx.thread_stream().value()).code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(launch_kernel(ctx, fn.value(), {1}, {2048}, 0, &params, ctx.thread_stream().value()).code(),
            StatusCode::InvalidArgument);
}

TEST(CudaGpu, AllocatorReusesBlocksOnTheThreadStream) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  const StreamKey stream = reinterpret_cast<StreamKey>(ctx.thread_stream().value());
  CudaDeviceAllocator& alloc = ctx.allocator();
  const DeviceAllocatorStats before = alloc.stats();
  DeviceBlock first = alloc.allocate(3 * 1000 * 1000 + 17, stream).value();
  ASSERT_TRUE(alloc.free(first).ok());
  DeviceBlock second = alloc.allocate(3 * 1000 * 1000, stream).value();
  EXPECT_EQ(second.ptr, first.ptr);
  EXPECT_EQ(alloc.stats().hits, before.hits + 1);
  EXPECT_EQ(second.ptr % 256, 0u);
  ASSERT_TRUE(alloc.free(second).ok());
}

TEST(CudaGpu, EachThreadHasItsOwnStream) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  CUstream here = ctx.thread_stream().value();
  EXPECT_EQ(ctx.thread_stream().value(), here);  // stable within a thread
  CUstream there = nullptr;
  Status there_status;
  std::thread worker([&] {
    Expected<CUstream> s = ctx.thread_stream();
    there_status = s.ok() ? Status::ok_status() : s.status();
    if (s.ok()) there = s.value();
    // Work on this stream, then exit: the stream is retired with the thread.
    Tensor t = ramp(64, 1.0f);
    Expected<DeviceBuffer> buf = upload_to_new_buffer(ctx, t, there);
    if (buf.ok()) there_status = download_tensor(ctx, buf->ptr(), buf->capacity(), DType::F32, {64}, there).status();
  });
  worker.join();
  ASSERT_TRUE(there_status.ok()) << there_status.to_string();
  EXPECT_NE(there, nullptr);
  EXPECT_NE(there, here);
}

TEST(CudaGpu, EventsTimeWorkOnAStream) {
  DJ_CUDA_CONTEXT_OR_SKIP(ctx);
  CUstream stream = ctx.thread_stream().value();
  CudaEvent start = std::move(CudaEvent::create(ctx).value());
  CudaEvent end = std::move(CudaEvent::create(ctx).value());
  ASSERT_TRUE(start.record(stream).ok());
  DeviceBuffer buf = DeviceBuffer::allocate(ctx.allocator(), 64 << 20, reinterpret_cast<StreamKey>(stream)).value();
  ASSERT_TRUE(fill_device_bytes(ctx, buf.ptr(), 1, 64 << 20, stream).ok());
  ASSERT_TRUE(end.record(stream).ok());
  ASSERT_TRUE(end.synchronize().ok());
  Expected<float> ms = CudaEvent::elapsed_ms(start, end);
  ASSERT_TRUE(ms.ok()) << ms.status().to_string();
  EXPECT_GE(ms.value(), 0.0f);
}

}  // namespace
}  // namespace dj
