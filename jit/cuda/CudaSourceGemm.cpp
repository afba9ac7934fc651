// CudaSourceGemm: the tiled GEMM kernel (see the header).
#include "jit/cuda/CudaSourceGemm.h"

#include "jit/cuda/CudaKernelGeometry.h"
#include "jit/cuda/CudaSourceText.h"

namespace dj::jit::cuda {

std::string gemm_kernel_source(const CudaKernelSpec& spec) {
  const int TM = kGemmTileM, TN = kGemmTileN, TK = kGemmTileK;
  const int side = kGemmThreadsPerSide, per = kGemmThreadTile, threads = kGemmBlock;
  const int loads_a = kGemmTileM * kGemmTileK / kGemmBlock, loads_b = kGemmTileK * kGemmTileN / kGemmBlock;
  const bool batched = spec.kind == CudaKernelKind::BatchedGemm;
  std::string summary = spec.generic ? std::string(batched ? "batch, m, n, k at run time" : "m, n, k at run time")
                                     : cat(batched ? cat("batch ", spec.batch, ", ") : std::string(), "m ", spec.m,
                                           ", n ", spec.n, ", k ", spec.k);
  if (spec.has_bias) summary += ", + bias";
  if (spec.relu) summary += ", ReLU";
  if (spec.has_residual) summary += ", + residual";
  if (spec.relu_after_residual) summary += ", ReLU";

  SourceWriter e;  // "e" for emit
  e.append(kernel_preamble(spec, summary));
  e.line(0, kernel_signature(spec.name, kGemmBlock), " {");
  if (!batched) {
    e.line(1, "const float* __restrict__ A = p.in[0];");
    e.line(1, "const float* __restrict__ B = p.in[1];");
    if (spec.has_bias) e.line(1, "const float* __restrict__ bias = p.in[2];");
    if (spec.has_residual) e.line(1, "const float* __restrict__ residual = p.in[", spec.has_bias ? 3 : 2, "];");
    e.line(1, "float* __restrict__ C = p.out;");
  }
  e.line(1, "const long long M = ", spec.generic ? std::string("p.rows") : ll_literal(spec.m), ";");
  e.line(1, "const long long N = ", spec.generic ? std::string("p.cols") : ll_literal(spec.n), ";");
  e.line(1, "const long long K = ", spec.generic ? std::string("p.k") : ll_literal(spec.k), ";");
  if (batched)
    e.line(1, "const long long batch = ", spec.generic ? std::string("p.extent[0]") : ll_literal(spec.batch), ";");
  e.line(1, "// A tile transposed (As[kk][row]); the pad column spreads the transposing stores over banks");
  e.line(1, "__shared__ float As[", TK, "][", kGemmTileM + 1, "];");
  e.line(1, "__shared__ float Bs[", TK, "][", TN, "];");
  e.line(1, "const int tid = (int)threadIdx.x;");
  e.line(1, "const int tx = tid % ", side, ", ty = tid / ", side, ";");
  e.line(1, "const long long tiles_m = (M + ", kGemmTileM - 1, ") / ", TM, ";");
  e.line(1, "const long long tiles_n = (N + ", kGemmTileN - 1, ") / ", TN, ";");
  int in = 1;
  if (batched) {
    e.line(1, "// one z-slice of blocks per matrix of the batch (looping past the grid's z extent)");
    e.line(1, "for (long long bz = blockIdx.z; bz < batch; bz += gridDim.z) {");
    e.line(2, "const float* __restrict__ A = p.in[0] + bz * M * K;");
    e.line(2, "const float* __restrict__ B = p.in[1] + bz * K * N;");
    e.line(2, "float* __restrict__ C = p.out + bz * M * N;");
    in = 2;
  }
  e.line(in, "for (long long tm = blockIdx.y; tm < tiles_m; tm += gridDim.y) {");
  e.line(in + 1, "for (long long tn = blockIdx.x; tn < tiles_n; tn += gridDim.x) {");
  const int t = in + 2;  // the tile's body
  e.line(t, "const long long row0 = tm * ", TM, ", col0 = tn * ", TN, ";");
  e.line(t, "float acc[", per, "][", per, "];");
  e.line(t, "for (int i = 0; i < ", per, "; ++i)");
  e.line(t + 1, "for (int j = 0; j < ", per, "; ++j) acc[i][j] = 0.0f;");
  e.line(t, "for (long long k0 = 0; k0 < K; k0 += ", TK, ") {");
  e.line(t + 1, "// coalesced loads: consecutive threads read consecutive k (A) and columns (B)");
  e.line(t + 1, "for (int l = 0; l < ", loads_a, "; ++l) {");
  e.line(t + 2, "const int idx = tid + ", threads, " * l;");
  e.line(t + 2, "const int r = idx / ", TK, ", c = idx % ", TK, ";");
  e.line(t + 2, "const long long gr = row0 + r, gk = k0 + c;");
  e.line(t + 2, "As[c][r] = (gr < M && gk < K) ? A[gr * K + gk] : 0.0f;");
  e.line(t + 1, "}");
  e.line(t + 1, "for (int l = 0; l < ", loads_b, "; ++l) {");
  e.line(t + 2, "const int idx = tid + ", threads, " * l;");
  e.line(t + 2, "const int r = idx / ", TN, ", c = idx % ", TN, ";");
  e.line(t + 2, "const long long gk = k0 + r, gc = col0 + c;");
  e.line(t + 2, "Bs[r][c] = (gk < K && gc < N) ? B[gk * N + gc] : 0.0f;");
  e.line(t + 1, "}");
  e.line(t + 1, "__syncthreads();");
  e.line(t + 1, "for (int kk = 0; kk < ", TK, "; ++kk) {");
  e.line(t + 2, "float a[", per, "], b[", per, "];");
  e.line(t + 2, "for (int i = 0; i < ", per, "; ++i) a[i] = As[kk][ty + ", side, " * i];");
  e.line(t + 2, "for (int j = 0; j < ", per, "; ++j) b[j] = Bs[kk][tx + ", side, " * j];");
  e.line(t + 2, "for (int i = 0; i < ", per, "; ++i)");
  e.line(t + 3, "for (int j = 0; j < ", per, "; ++j) acc[i][j] += a[i] * b[j];");
  e.line(t + 1, "}");
  e.line(t + 1, "__syncthreads();");
  e.line(t, "}");
  e.line(t, "for (int i = 0; i < ", per, "; ++i) {");
  e.line(t + 1, "const long long row = row0 + ty + ", side, " * i;");
  e.line(t + 1, "if (row >= M) continue;");
  e.line(t + 1, "for (int j = 0; j < ", per, "; ++j) {");
  e.line(t + 2, "const long long col = col0 + tx + ", side, " * j;");
  e.line(t + 2, "if (col >= N) continue;");
  e.line(t + 2, "float v = acc[i][j]", spec.has_bias ? " + bias[col]" : "", ";");
  if (spec.relu) e.line(t + 2, "v = v < 0.0f ? 0.0f : v;");
  if (spec.has_residual) e.line(t + 2, "v = v + residual[row * N + col];");
  if (spec.relu_after_residual) e.line(t + 2, "v = v < 0.0f ? 0.0f : v;");
  e.line(t + 2, "C[row * N + col] = v;");
  e.line(t + 1, "}");
  e.line(t, "}");
  e.line(in + 1, "}");
  e.line(in, "}");
  if (batched) e.line(1, "}");
  e.line(0, "}");
  return e.text();
}

}  // namespace dj::jit::cuda
