// The f32 GEMM (every ISA table the CPU runs) and the MatMul, Gemm and Einsum
// kernels and shape functions, against hand-computed values and naive loops in double.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"
#include "runtime/ops/GemmKernel.h"
#include "runtime/ops/GemmWeightCache.h"
#include "runtime/ops/PreparedWeights.h"

namespace dj {
namespace {

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::Int;
  a.i = v;
  return a;
}
Attribute float_attr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::Float;
  a.f = v;
  return a;
}
Attribute string_attr(const std::string& v) {
  Attribute a;
  a.kind = Attribute::Kind::String;
  a.s = v;
  return a;
}

Expected<Tensor> run_op(const std::string& op, std::vector<Tensor> inputs,
                        std::map<std::string, Attribute> attrs = {}) {
  Node node;
  node.name = "test_" + op;
  node.op_type = op;
  node.attributes = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i].defined() ? static_cast<ValueId>(i) : kNoValue);
  node.outputs = {static_cast<ValueId>(inputs.size())};
  const OpSchema* schema = OpRegistry::builtin().find("", op);
  if (!schema) return Status(StatusCode::Unsupported, op + " is not registered");
  KernelContext ctx(node, 17, std::move(inputs), nullptr);
  Status s = schema->kernel(ctx);
  if (!s.ok()) return s;
  return ctx.outputs()[0];
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  return Tensor::from_vector(random_floats(static_cast<size_t>(shape_numel(shape)), seed), shape);
}

// out[b] = a[b] * b[b] for contiguous row-major batches, in double.
std::vector<double> naive_matmul(const float* a, const float* b, int64_t M, int64_t N, int64_t K) {
  std::vector<double> c(static_cast<size_t>(M * N), 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(a[i * K + k]) * b[k * N + j];
      c[i * N + j] = s;
    }
  return c;
}

void expect_close(const Tensor& t, const std::vector<double>& ref, double tol, const std::string& what) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(ref.size())) << what;
  const float* d = t.data<float>();
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(d[i], ref[i], tol * (1 + std::fabs(ref[i]))) << what << " at flat index " << i;
}

std::vector<const GemmIsaKernels*> runnable_isas() {
  std::vector<const GemmIsaKernels*> isas{gemm_kernels_generic()};
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (gemm_kernels_avx2() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    isas.push_back(gemm_kernels_avx2());
  if (gemm_kernels_avx512() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
    isas.push_back(gemm_kernels_avx512());
#endif
  return isas;
}

// ---------------------------------------------------------------- GEMM core

struct GemmCase {
  int64_t M, N, K;
  bool trans_a, trans_b;
  float alpha, beta;
};

TEST(LinalgGemmKernelTest, MatchesNaiveOnEdgeSizesForEveryIsa) {
  const GemmCase cases[] = {
      {1, 1, 1, false, false, 1, 0},      {7, 13, 5, false, false, 1, 0},    {65, 129, 33, false, false, 1, 0},
      {65, 129, 33, true, true, 0.5f, 2}, {3, 300, 17, false, false, 1, 0},  {1, 100, 70, false, true, 1, 0},
      {100, 1, 70, false, false, 1, 0},   {100, 2, 70, true, false, 1, 1},   {257, 31, 600, false, true, 1.5f, 0},
      {31, 257, 600, true, false, 1, -1}, {13, 64, 1, false, false, 1, 0.5}, {200, 300, 40, false, true, 1, 0},
      // The GEMV-row path (a few rows) with alpha and beta, column tails and a transposed A.
      {1, 77, 513, true, false, 1.5f, -1}, {2, 300, 40, false, false, 0.5f, 2}, {1, 1030, 9, false, false, 1, 0},
      // Every count of leftover rows in M's last panel (the per-row-count micro-tiles).
      {9, 50, 30, false, false, 1, 0},    {10, 40, 20, false, false, 1, 1},  {11, 33, 9, false, true, 1, 0},
      {14, 64, 70, true, false, 2, 0},    {15, 70, 17, false, false, 1, 0},
  };
  uint32_t seed = 1;
  for (const GemmIsaKernels* isa : runnable_isas()) {
    for (const GemmCase& g : cases) {
      for (bool parallel : {false, true}) {
        const auto a = random_floats(static_cast<size_t>(g.M * g.K), seed++);
        const auto b = random_floats(static_cast<size_t>(g.K * g.N), seed++);
        auto c = random_floats(static_cast<size_t>(g.M * g.N), seed++);
        if (g.beta == 0) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());  // must not be read
        // Stored as op(A)^T when transposed, so element (i,k) sits at k*M+i.
        MatrixRef ar{a.data(), g.trans_a ? 1 : g.K, g.trans_a ? g.M : 1};
        MatrixRef br{b.data(), g.trans_b ? 1 : g.N, g.trans_b ? g.K : 1};
        std::vector<double> ref(c.size());
        for (int64_t i = 0; i < g.M; ++i)
          for (int64_t j = 0; j < g.N; ++j) {
            double s = 0;
            for (int64_t k = 0; k < g.K; ++k)
              s += static_cast<double>(ar.data[i * ar.row_stride + k * ar.col_stride]) *
                   br.data[k * br.row_stride + j * br.col_stride];
            ref[i * g.N + j] = g.alpha * s + (g.beta == 0 ? 0.0 : g.beta * static_cast<double>(c[i * g.N + j]));
          }
        gemm_f32_batched_with(*isa, parallel, 1, g.M, g.N, g.K, g.alpha, ar, nullptr, br, nullptr, g.beta, c.data(),
                              g.N, nullptr);
        for (size_t i = 0; i < c.size(); ++i)
          ASSERT_NEAR(c[i], ref[i], 1e-4 * (1 + std::fabs(ref[i])))
              << isa->name << " parallel=" << parallel << " " << g.M << "x" << g.N << "x" << g.K
              << " transA=" << g.trans_a << " transB=" << g.trans_b << " at " << i;
      }
    }
  }
}

TEST(LinalgGemmKernelTest, BatchedWithOffsetsAndLeadingDimension) {
  // Two batches sharing one B (offset 0), written into column blocks of a wider C.
  const int64_t M = 9, N = 20, K = 11, ldc = 2 * N;
  const auto a = random_floats(2 * M * K, 7);
  const auto b = random_floats(K * N, 8);
  std::vector<float> c(M * ldc, -5.0f);
  const int64_t a_off[] = {0, M * K};
  const int64_t c_off[] = {0, N};
  for (const GemmIsaKernels* isa : runnable_isas()) {
    gemm_f32_batched_with(*isa, true, 2, M, N, K, 1.0f, {a.data(), K, 1}, a_off, {b.data(), N, 1}, nullptr, 0.0f,
                          c.data(), ldc, c_off);
    for (int64_t bi = 0; bi < 2; ++bi) {
      const auto ref = naive_matmul(a.data() + a_off[bi], b.data(), M, N, K);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j)
          ASSERT_NEAR(c[i * ldc + c_off[bi] + j], ref[i * N + j], 1e-4) << isa->name << " batch " << bi;
    }
  }
}

TEST(LinalgGemmKernelTest, EmptyDepthScalesByBeta) {
  std::vector<float> c{1, 2, 3, 4};
  gemm_f32(2, 2, 0, 1.0f, {nullptr, 0, 1}, {nullptr, 2, 1}, 3.0f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{3, 6, 9, 12}));
  gemm_f32(2, 2, 0, 1.0f, {nullptr, 0, 1}, {nullptr, 2, 1}, 0.0f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0, 0, 0, 0}));
}

TEST(LinalgGemmKernelTest, PackedAheadOperandsGiveTheSameResultOnEveryIsa) {
  // Sizes that cross the KC (256), NC (512) and MC (144) blocks and leave tails.
  const GemmCase cases[] = {{40, 600, 300, false, false, 1, 0}, {9, 1030, 513, false, true, 0.5f, 2},
                            {130, 70, 257, true, false, 1, -1}, {300, 90, 100, false, false, 1, 0}};
  uint32_t seed = 100;
  for (const GemmIsaKernels* isa : runnable_isas()) {
    for (const GemmCase& g : cases) {
      const auto a = random_floats(static_cast<size_t>(g.M * g.K), seed++);
      const auto b = random_floats(static_cast<size_t>(g.K * g.N), seed++);
      const auto c0 = random_floats(static_cast<size_t>(g.M * g.N), seed++);
      MatrixRef ar{a.data(), g.trans_a ? 1 : g.K, g.trans_a ? g.M : 1};
      MatrixRef br{b.data(), g.trans_b ? 1 : g.N, g.trans_b ? g.K : 1};
      auto packed = pack_gemm_b(*isa, g.K, g.N, br);
      auto packed_a = pack_gemm_a(*isa, g.M, g.K, ar);
      for (bool parallel : {false, true}) {
        std::vector<float> want = c0, got_b = c0, got_a = c0, got_both = c0;
        gemm_f32_batched_with(*isa, parallel, 1, g.M, g.N, g.K, g.alpha, ar, nullptr, br, nullptr, g.beta,
                              want.data(), g.N, nullptr);
        gemm_f32_batched_with(*isa, parallel, 1, g.M, g.N, g.K, g.alpha, ar, nullptr, br, nullptr, g.beta,
                              got_b.data(), g.N, nullptr, packed.get());
        gemm_f32_batched_with(*isa, parallel, 1, g.M, g.N, g.K, g.alpha, ar, nullptr, br, nullptr, g.beta,
                              got_a.data(), g.N, nullptr, nullptr, packed_a.get());
        gemm_f32_batched_with(*isa, parallel, 1, g.M, g.N, g.K, g.alpha, ar, nullptr, br, nullptr, g.beta,
                              got_both.data(), g.N, nullptr, packed.get(), packed_a.get());
        // Same blocking, same summation order: bit-identical.
        const std::string what = std::string(isa->name) + " parallel=" + std::to_string(parallel) + " " +
                                 std::to_string(g.M) + "x" + std::to_string(g.N) + "x" + std::to_string(g.K);
        ASSERT_EQ(got_b, want) << what << " (B packed ahead)";
        ASSERT_EQ(got_a, want) << what << " (A packed ahead)";
        ASSERT_EQ(got_both, want) << what << " (both)";
      }
    }
  }
}

TEST(LinalgGemmWeightCacheTest, OnlyModelConstantsArePackedAndEachOnce) {
  Tensor weight = random_tensor({64, 96}, 31);
  Tensor activation = random_tensor({64, 96}, 32);
  EXPECT_EQ(packed_gemm_weights(weight, false), nullptr);  // not marked: packed per call
  weight.mark_model_constant();
  const size_t before = prepared_weight_entries(kGemmPanels);
  auto first = packed_gemm_weights(weight, false);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->k(), 64);
  EXPECT_EQ(first->n(), 96);
  EXPECT_EQ(packed_gemm_weights(weight, false), first);  // the same panels, not packed again
  auto transposed = packed_gemm_weights(weight, true);   // another form of the same tensor
  ASSERT_NE(transposed, nullptr);
  EXPECT_EQ(transposed->k(), 96);
  EXPECT_EQ(transposed->n(), 64);
  EXPECT_EQ(prepared_weight_entries(kGemmPanels), before + 2);
  EXPECT_EQ(packed_gemm_weights(activation, false), nullptr);

  // MatMul and Gemm on a marked weight agree with the naive product.
  Tensor x = random_tensor({33, 64}, 33);
  auto y = run_op("MatMul", {x, weight});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  expect_close(*y, naive_matmul(x.data<float>(), weight.data<float>(), 33, 96, 64), 1e-4, "MatMul, packed B");
  Tensor xt = random_tensor({33, 96}, 34);
  auto z = run_op("Gemm", {xt, weight}, {{"transB", int_attr(1)}});
  ASSERT_TRUE(z.ok()) << z.status().to_string();
  std::vector<float> wt(64 * 96);
  for (int64_t r = 0; r < 64; ++r)
    for (int64_t c = 0; c < 96; ++c) wt[static_cast<size_t>(c * 64 + r)] = weight.data<float>()[r * 96 + c];
  expect_close(*z, naive_matmul(xt.data<float>(), wt.data(), 33, 64, 96), 1e-4, "Gemm transB, packed B");
}

// ---------------------------------------------------------------- MatMul

TEST(LinalgMatMulTest, HandComputed2D) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<float>({7, 8, 9, 10, 11, 12}, {3, 2});
  auto y = run_op("MatMul", {a, b});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  EXPECT_EQ(y->shape(), (Shape{2, 2}));
  expect_close(*y, {58, 64, 139, 154}, 0, "2x3 * 3x2");
}

TEST(LinalgMatMulTest, OneDimensionalOperands) {
  Tensor v = Tensor::from_vector<float>({1, 2, 3}, {3});
  Tensor m = Tensor::from_vector<float>({1, 0, 2, 1, 0, 3}, {3, 2});
  auto vm = run_op("MatMul", {v, m});
  ASSERT_TRUE(vm.ok());
  EXPECT_EQ(vm->shape(), (Shape{2}));
  expect_close(*vm, {5, 11}, 0, "[3] x [3,2]");

  Tensor mt = Tensor::from_vector<float>({1, 2, 0, 0, 1, 3}, {2, 3});
  auto mv = run_op("MatMul", {mt, v});
  ASSERT_TRUE(mv.ok());
  EXPECT_EQ(mv->shape(), (Shape{2}));
  expect_close(*mv, {5, 11}, 0, "[2,3] x [3]");

  auto dot = run_op("MatMul", {v, v});
  ASSERT_TRUE(dot.ok());
  EXPECT_EQ(dot->shape(), (Shape{}));
  expect_close(*dot, {14}, 0, "[3] x [3]");

  // A vector against a batch of matrices: [3] x [4,3,2] -> [4,2].
  Tensor bm = random_tensor({4, 3, 2}, 3);
  auto vb = run_op("MatMul", {v, bm});
  ASSERT_TRUE(vb.ok());
  EXPECT_EQ(vb->shape(), (Shape{4, 2}));
  std::vector<double> ref;
  for (int b = 0; b < 4; ++b) {
    auto r = naive_matmul(v.data<float>(), bm.data<float>() + b * 6, 1, 2, 3);
    ref.insert(ref.end(), r.begin(), r.end());
  }
  expect_close(*vb, ref, 1e-5, "[3] x [4,3,2]");
}

TEST(LinalgMatMulTest, BroadcastsBatchDims) {
  // [2,1,3,4] x [5,4,6] -> [2,5,3,6]
  Tensor a = random_tensor({2, 1, 3, 4}, 11);
  Tensor b = random_tensor({5, 4, 6}, 12);
  auto y = run_op("MatMul", {a, b});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  ASSERT_EQ(y->shape(), (Shape{2, 5, 3, 6}));
  std::vector<double> ref;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 5; ++j) {
      auto r = naive_matmul(a.data<float>() + i * 12, b.data<float>() + j * 24, 3, 6, 4);
      ref.insert(ref.end(), r.begin(), r.end());
    }
  expect_close(*y, ref, 1e-5, "broadcast batch");

  // A stack of A against one B folds into one tall product: [3,7,65] x [65,33].
  Tensor a2 = random_tensor({3, 7, 65}, 13);
  Tensor b2 = random_tensor({65, 33}, 14);
  auto y2 = run_op("MatMul", {a2, b2});
  ASSERT_TRUE(y2.ok());
  ASSERT_EQ(y2->shape(), (Shape{3, 7, 33}));
  expect_close(*y2, naive_matmul(a2.data<float>(), b2.data<float>(), 21, 33, 65), 1e-5, "stacked A");
}

TEST(LinalgMatMulTest, OtherDtypes) {
  Tensor a = Tensor::from_vector<int32_t>({1, -2, 3, 4, 5, -6}, {2, 3});
  Tensor b = Tensor::from_vector<int32_t>({7, 8, 9, 10, 11, 12}, {3, 2});
  auto y = run_op("MatMul", {a, b});
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->dtype(), DType::I32);
  const int32_t* d = y->data<int32_t>();
  EXPECT_EQ((std::vector<int32_t>(d, d + 4)), (std::vector<int32_t>{22, 24, 7, 10}));

  Tensor ad = Tensor::from_vector<double>({1.5, 2, 3, 4}, {2, 2});
  auto yd = run_op("MatMul", {ad, ad});
  ASSERT_TRUE(yd.ok());
  const double* dd = yd->data<double>();
  EXPECT_DOUBLE_EQ(dd[0], 1.5 * 1.5 + 2 * 3);
  EXPECT_DOUBLE_EQ(dd[3], 3 * 2 + 4 * 4);

  Tensor ah = Tensor::from_vector<half>({half(1.0f), half(2.0f), half(3.0f), half(4.0f)}, {2, 2});
  auto yh = run_op("MatMul", {ah, ah});
  ASSERT_TRUE(yh.ok());
  EXPECT_EQ(yh->dtype(), DType::F16);
  EXPECT_EQ(static_cast<float>(yh->data<half>()[1]), 10.0f);
  EXPECT_EQ(static_cast<float>(yh->data<half>()[2]), 15.0f);
}

TEST(LinalgMatMulTest, RejectsMismatchedInnerDims) {
  auto y = run_op("MatMul", {random_tensor({2, 3}, 1), random_tensor({4, 2}, 2)});
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(y.status().message().find("inner dimensions"), std::string::npos) << y.status().message();
}

TEST(LinalgMatMulTest, ShapeFunctionKeepsSymbols) {
  Node node;
  node.op_type = "MatMul";
  ValueInfo a, b, y;
  a.dtype = DType::F32;
  a.shape = SymShape{SymExpr::symbol("batch"), SymExpr(1), SymExpr::symbol("seq"), SymExpr(64)};
  b.dtype = DType::F32;
  b.shape = SymShape{SymExpr(8), SymExpr(64), SymExpr(32)};
  int counter = 0;
  ShapeContext ctx(node, 17, {&a, &b}, {&y}, &counter);
  ASSERT_TRUE(OpRegistry::builtin().find("", "MatMul")->infer(ctx).ok());
  ASSERT_TRUE(y.shape.has_value());
  EXPECT_EQ(sym_shape_to_string(*y.shape), "[batch,8,seq,32]");
  EXPECT_EQ(y.dtype, DType::F32);
}

// ---------------------------------------------------------------- Gemm

TEST(LinalgGemmOpTest, FlagsAndBiasBroadcastMatchNaive) {
  const int64_t M = 5, N = 7, K = 3;
  for (int trans_a = 0; trans_a < 2; ++trans_a)
    for (int trans_b = 0; trans_b < 2; ++trans_b)
      for (const Shape& c_shape : {Shape{}, Shape{N}, Shape{M, 1}, Shape{M, N}, Shape{1}}) {
        Tensor a = random_tensor(trans_a ? Shape{K, M} : Shape{M, K}, 21);
        Tensor b = random_tensor(trans_b ? Shape{N, K} : Shape{K, N}, 22);
        Tensor c = random_tensor(c_shape, 23);
        std::map<std::string, Attribute> attrs{{"transA", int_attr(trans_a)},
                                               {"transB", int_attr(trans_b)},
                                               {"alpha", float_attr(0.5f)},
                                               {"beta", float_attr(2.0f)}};
        auto y = run_op("Gemm", {a, b, c}, attrs);
        ASSERT_TRUE(y.ok()) << y.status().to_string();
        ASSERT_EQ(y->shape(), (Shape{M, N}));
        const Strides cs = c_shape.size() == 2 ? Strides{c_shape[1] == 1 ? 1 : N, c_shape[1] == 1 ? 0 : 1}
                                                : Strides{0, c_shape.empty() || c_shape[0] == 1 ? 0 : 1};
        std::vector<double> ref(M * N);
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double s = 0;
            for (int64_t k = 0; k < K; ++k) {
              const float av = trans_a ? a.data<float>()[k * M + i] : a.data<float>()[i * K + k];
              const float bv = trans_b ? b.data<float>()[j * K + k] : b.data<float>()[k * N + j];
              s += static_cast<double>(av) * bv;
            }
            ref[i * N + j] = 0.5 * s + 2.0 * c.data<float>()[i * cs[0] + j * cs[1]];
          }
        expect_close(*y, ref, 1e-5,
                     "Gemm transA=" + std::to_string(trans_a) + " transB=" + std::to_string(trans_b) + " C" +
                         shape_to_string(c_shape));
      }
}

TEST(LinalgGemmOpTest, WithoutBias) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<float>({1, 1, 0, 1}, {2, 2});
  auto y = run_op("Gemm", {a, b}, {{"alpha", float_attr(2.0f)}});
  ASSERT_TRUE(y.ok()) << y.status().to_string();
  expect_close(*y, {2, 6, 6, 14}, 0, "Gemm no C");
}

// ---------------------------------------------------------------- Einsum

Tensor einsum(const std::string& eq, std::vector<Tensor> inputs) {
  auto y = run_op("Einsum", std::move(inputs), {{"equation", string_attr(eq)}});
  EXPECT_TRUE(y.ok()) << eq << ": " << y.status().to_string();
  return y.ok() ? *y : Tensor();
}

TEST(LinalgEinsumTest, BatchedMatMulForms) {
  Tensor a = random_tensor({3, 4, 5}, 31);
  Tensor b = random_tensor({3, 5, 6}, 32);
  Tensor y = einsum("bij,bjk->bik", {a, b});
  ASSERT_EQ(y.shape(), (Shape{3, 4, 6}));
  std::vector<double> ref;
  for (int i = 0; i < 3; ++i) {
    auto r = naive_matmul(a.data<float>() + i * 20, b.data<float>() + i * 30, 4, 6, 5);
    ref.insert(ref.end(), r.begin(), r.end());
  }
  expect_close(y, ref, 1e-5, "bij,bjk->bik");

  // Attention scores: q [2,3,7,8], k [2,3,9,8] -> [2,3,7,9] = q * k^T per (b,h).
  Tensor q = random_tensor({2, 3, 7, 8}, 33);
  Tensor k = random_tensor({2, 3, 9, 8}, 34);
  Tensor s = einsum("bhqd,bhkd->bhqk", {q, k});
  ASSERT_EQ(s.shape(), (Shape{2, 3, 7, 9}));
  for (int bh = 0; bh < 6; ++bh)
    for (int i = 0; i < 7; ++i)
      for (int j = 0; j < 9; ++j) {
        double r = 0;
        for (int d = 0; d < 8; ++d) r += static_cast<double>(q.data<float>()[bh * 56 + i * 8 + d]) * k.data<float>()[bh * 72 + j * 8 + d];
        ASSERT_NEAR(s.data<float>()[bh * 63 + i * 9 + j], r, 1e-5);
      }

  // Output in a permuted order: "bik,bkj->bji" is (a*b)^T per batch.
  Tensor t = einsum("bik,bkj->bji", {a, b});
  ASSERT_EQ(t.shape(), (Shape{3, 6, 4}));
  for (int bi = 0; bi < 3; ++bi)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 6; ++j) ASSERT_NEAR(t.data<float>()[bi * 24 + j * 4 + i], ref[bi * 24 + i * 6 + j], 1e-5);
}

TEST(LinalgEinsumTest, SingleOperandForms) {
  Tensor m = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor t = einsum("ij->ji", {m});
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  expect_close(t, {1, 4, 2, 5, 3, 6}, 0, "ij->ji");
  expect_close(einsum("ij->i", {m}), {6, 15}, 0, "ij->i");
  expect_close(einsum("ij->j", {m}), {5, 7, 9}, 0, "ij->j");
  Tensor total = einsum("ij->", {m});
  EXPECT_EQ(total.shape(), (Shape{}));
  expect_close(total, {21}, 0, "ij->");
  Tensor implicit = einsum("ji", {m});  // implicit output "ij": the transpose
  EXPECT_EQ(implicit.shape(), (Shape{3, 2}));
  expect_close(implicit, {1, 4, 2, 5, 3, 6}, 0, "implicit ji -> ij");

  Tensor sq = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  expect_close(einsum("ii->i", {sq}), {1, 5, 9}, 0, "diagonal");
  expect_close(einsum("ii", {sq}), {15}, 0, "trace");
  Tensor bd = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  Tensor diag = einsum("...ii->...i", {bd});
  EXPECT_EQ(diag.shape(), (Shape{2, 2}));
  expect_close(diag, {1, 4, 5, 8}, 0, "batch diagonal");
}

TEST(LinalgEinsumTest, ProductsWithoutSharedBatch) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, {3});
  Tensor y = Tensor::from_vector<float>({4, 5, 6}, {3});
  Tensor inner = einsum("i,i", {x, y});
  EXPECT_EQ(inner.shape(), (Shape{}));
  expect_close(inner, {32}, 0, "inner product");
  Tensor outer = einsum("i,j->ij", {x, y});
  EXPECT_EQ(outer.shape(), (Shape{3, 3}));
  expect_close(outer, {4, 5, 6, 8, 10, 12, 12, 15, 18}, 0, "outer product");
  expect_close(einsum("i,i->i", {x, y}), {4, 10, 18}, 0, "elementwise");

  Tensor a = random_tensor({4, 5}, 41), b = random_tensor({5, 6}, 42), c = random_tensor({6, 2}, 43);
  Tensor ab = einsum("ij,jk", {a, b});
  expect_close(ab, naive_matmul(a.data<float>(), b.data<float>(), 4, 6, 5), 1e-5, "implicit ij,jk");
  Tensor abc = einsum("ij,jk,kl->il", {a, b, c});
  ASSERT_EQ(abc.shape(), (Shape{4, 2}));
  std::vector<float> abf(ab.data<float>(), ab.data<float>() + 24);
  expect_close(abc, naive_matmul(abf.data(), c.data<float>(), 4, 2, 6), 1e-5, "three operands");
  // A label summed inside one operand before the product: sum_j a[i,j] * sum_k b[k,l]... "ij,kl->il".
  Tensor d = random_tensor({5, 3}, 44);
  Tensor s = einsum("ij,kl->il", {a, d});
  ASSERT_EQ(s.shape(), (Shape{4, 3}));
  for (int i = 0; i < 4; ++i)
    for (int l = 0; l < 3; ++l) {
      double ra = 0, rd = 0;
      for (int j = 0; j < 5; ++j) ra += a.data<float>()[i * 5 + j];
      for (int k = 0; k < 5; ++k) rd += d.data<float>()[k * 3 + l];
      ASSERT_NEAR(s.data<float>()[i * 3 + l], ra * rd, 1e-4);
    }
}

TEST(LinalgEinsumTest, EllipsisBroadcastsBatchDims) {
  Tensor a = random_tensor({2, 1, 3, 4}, 51);
  Tensor b = random_tensor({5, 4, 6}, 52);
  Tensor y = einsum("...ij,...jk->...ik", {a, b});
  auto ref = run_op("MatMul", {a, b});
  ASSERT_TRUE(ref.ok());
  ASSERT_EQ(y.shape(), ref->shape());
  const float* r = ref->data<float>();
  expect_close(y, std::vector<double>(r, r + ref->numel()), 1e-5, "ellipsis matmul");
}

TEST(LinalgEinsumTest, IntegerDtype) {
  Tensor a = Tensor::from_vector<int64_t>({1, 2, 3, 4}, {2, 2});
  auto y = run_op("Einsum", {a, a}, {{"equation", string_attr("ij,jk->ik")}});
  ASSERT_TRUE(y.ok());
  const int64_t* d = y->data<int64_t>();
  EXPECT_EQ((std::vector<int64_t>(d, d + 4)), (std::vector<int64_t>{7, 10, 15, 22}));
}

TEST(LinalgEinsumTest, RejectsBadEquations) {
  Tensor m = random_tensor({2, 3}, 1);
  auto wrong_rank = run_op("Einsum", {m}, {{"equation", string_attr("ijk->i")}});
  ASSERT_FALSE(wrong_rank.ok());
  EXPECT_EQ(wrong_rank.status().code(), StatusCode::InvalidArgument);
  auto bad_label = run_op("Einsum", {m}, {{"equation", string_attr("ij->k")}});
  ASSERT_FALSE(bad_label.ok());
  auto size_mismatch = run_op("Einsum", {m, m}, {{"equation", string_attr("ij,ij->i")}});
  ASSERT_TRUE(size_mismatch.ok());  // same shapes: fine
  auto mismatch = run_op("Einsum", {m, random_tensor({4, 3}, 2)}, {{"equation", string_attr("ij,ij->i")}});
  ASSERT_FALSE(mismatch.ok());
}

TEST(LinalgEinsumTest, ShapeFunction) {
  Node node;
  node.op_type = "Einsum";
  node.attributes["equation"] = string_attr("bhqd,bhkd->bhqk");
  ValueInfo q, k, y;
  q.dtype = k.dtype = DType::F32;
  q.shape = SymShape{SymExpr::symbol("batch"), SymExpr(8), SymExpr::symbol("seq"), SymExpr(64)};
  k.shape = SymShape{SymExpr::symbol("batch"), SymExpr(8), SymExpr::symbol("kv"), SymExpr(64)};
  int counter = 0;
  ShapeContext ctx(node, 17, {&q, &k}, {&y}, &counter);
  ASSERT_TRUE(OpRegistry::builtin().find("", "Einsum")->infer(ctx).ok());
  ASSERT_TRUE(y.shape.has_value());
  EXPECT_EQ(sym_shape_to_string(*y.shape), "[batch,8,seq,kv]");
}

}  // namespace
}  // namespace dj
