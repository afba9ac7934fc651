// CudaSourceGemm: the tiled GEMM kernel (see the header).
#include "jit/cuda/CudaSourceGemm.h"

#include "jit/cuda/CudaKernelGeometry.h"
#include "jit/cuda/CudaSourceText.h"

namespace dj::jit::cuda {

std::string gemm_kernel_source(const CudaKernelSpec& spec) {
  const int TM = kGemmTileM, TN = kGemmTileN, TK = kGemmTileK;
  const int side = kGemmThreadsPerSide, per = kGemmThreadTile, threads = kGemmBlock;
  const int loads_a = kGemmTileM * kGemmTileK / kGemmBlock, loads_b = kGemmTileK * kGemmTileN / kGemmBlock;
  std::string summary = spec.generic ? "m, n, k at run time" : cat("m ", spec.m, ", n ", spec.n, ", k ", spec.k);
  if (spec.has_bias) summary += ", + bias";
  if (spec.relu) summary += ", ReLU";

  SourceWriter e;  // "e" for emit
  e.append(kernel_preamble(spec, summary));
  e.line(0, kernel_signature(spec.name, kGemmBlock), " {");
  e.line(1, "const float* __restrict__ A = p.in[0];");
  e.line(1, "const float* __restrict__ B = p.in[1];");
  if (spec.has_bias) e.line(1, "const float* __restrict__ bias = p.in[2];");
  e.line(1, "float* __restrict__ C = p.out;");
  e.line(1, "const long long M = ", spec.generic ? std::string("p.rows") : ll_literal(spec.m), ";");
  e.line(1, "const long long N = ", spec.generic ? std::string("p.cols") : ll_literal(spec.n), ";");
  e.line(1, "const long long K = ", spec.generic ? std::string("p.k") : ll_literal(spec.k), ";");
  e.line(1, "// A tile transposed (As[kk][row]); the pad column spreads the transposing stores over banks");
  e.line(1, "__shared__ float As[", TK, "][", kGemmTileM + 1, "];");
  e.line(1, "__shared__ float Bs[", TK, "][", TN, "];");
  e.line(1, "const int tid = (int)threadIdx.x;");
  e.line(1, "const int tx = tid % ", side, ", ty = tid / ", side, ";");
  e.line(1, "const long long tiles_m = (M + ", kGemmTileM - 1, ") / ", TM, ";");
  e.line(1, "const long long tiles_n = (N + ", kGemmTileN - 1, ") / ", TN, ";");
  e.line(1, "for (long long tm = blockIdx.y; tm < tiles_m; tm += gridDim.y) {");
  e.line(2, "for (long long tn = blockIdx.x; tn < tiles_n; tn += gridDim.x) {");
  e.line(3, "const long long row0 = tm * ", TM, ", col0 = tn * ", TN, ";");
  e.line(3, "float acc[", per, "][", per, "];");
  e.line(3, "for (int i = 0; i < ", per, "; ++i)");
  e.line(4, "for (int j = 0; j < ", per, "; ++j) acc[i][j] = 0.0f;");
  e.line(3, "for (long long k0 = 0; k0 < K; k0 += ", TK, ") {");
  e.line(4, "// coalesced loads: consecutive threads read consecutive k (A) and columns (B)");
  e.line(4, "for (int l = 0; l < ", loads_a, "; ++l) {");
  e.line(5, "const int idx = tid + ", threads, " * l;");
  e.line(5, "const int r = idx / ", TK, ", c = idx % ", TK, ";");
  e.line(5, "const long long gr = row0 + r, gk = k0 + c;");
  e.line(5, "As[c][r] = (gr < M && gk < K) ? A[gr * K + gk] : 0.0f;");
  e.line(4, "}");
  e.line(4, "for (int l = 0; l < ", loads_b, "; ++l) {");
  e.line(5, "const int idx = tid + ", threads, " * l;");
  e.line(5, "const int r = idx / ", TN, ", c = idx % ", TN, ";");
  e.line(5, "const long long gk = k0 + r, gc = col0 + c;");
  e.line(5, "Bs[r][c] = (gk < K && gc < N) ? B[gk * N + gc] : 0.0f;");
  e.line(4, "}");
  e.line(4, "__syncthreads();");
  e.line(4, "for (int kk = 0; kk < ", TK, "; ++kk) {");
  e.line(5, "float a[", per, "], b[", per, "];");
  e.line(5, "for (int i = 0; i < ", per, "; ++i) a[i] = As[kk][ty + ", side, " * i];");
  e.line(5, "for (int j = 0; j < ", per, "; ++j) b[j] = Bs[kk][tx + ", side, " * j];");
  e.line(5, "for (int i = 0; i < ", per, "; ++i)");
  e.line(6, "for (int j = 0; j < ", per, "; ++j) acc[i][j] += a[i] * b[j];");
  e.line(4, "}");
  e.line(4, "__syncthreads();");
  e.line(3, "}");
  e.line(3, "for (int i = 0; i < ", per, "; ++i) {");
  e.line(4, "const long long row = row0 + ty + ", side, " * i;");
  e.line(4, "if (row >= M) continue;");
  e.line(4, "for (int j = 0; j < ", per, "; ++j) {");
  e.line(5, "const long long col = col0 + tx + ", side, " * j;");
  e.line(5, "if (col >= N) continue;");
  e.line(5, "float v = acc[i][j]", spec.has_bias ? " + bias[col]" : "", ";");
  if (spec.relu) e.line(5, "v = v < 0.0f ? 0.0f : v;");
  e.line(5, "C[row * N + col] = v;");
  e.line(4, "}");
  e.line(3, "}");
  e.line(2, "}");
  e.line(1, "}");
  e.line(0, "}");
  return e.text();
}

}  // namespace dj::jit::cuda
