// Tests of the recurrent ops' f32 kernels (RnnIsa.h) on every instruction set the
// CPU runs: the panel product against a double-precision sum over the unpacked
// weights (odd row counts, depths and unit counts, unit and gate sub-ranges, and
// nothing written outside them), sigmoid/tanh against libm, and the fused LSTM/GRU
// updates against the same equations evaluated in double.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "runtime/ops/RnnGateProduct.h"
#include "runtime/ops/RnnIsa.h"
#include "runtime/ops/RnnPanelWeights.h"
#include "runtime/ops/RnnWeightCache.h"

namespace dj {
namespace {

std::vector<const RnnIsaKernels*> runnable_isas() {
  std::vector<const RnnIsaKernels*> isas{rnn_kernels_generic()};
  if (const RnnIsaKernels* k = rnn_kernels_avx2()) isas.push_back(k);
  if (const RnnIsaKernels* k = rnn_kernels_avx512()) isas.push_back(k);
  return isas;
}

std::vector<float> random_floats(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(RnnIsa, ChosenTableIsTheWidestRunnable) {
  const RnnIsaKernels* widest = runnable_isas().back();
  EXPECT_STREQ(rnn_isa_kernels().name, widest->name);
}

// out_g[m, u] (+)= a[m, :] . W[g*hidden + u, :] for units [u0, u1), gates [g0, g1) of
// direction d; elements outside keep their initial value.
TEST(RnnIsa, PanelProductMatchesDoubleReference) {
  std::mt19937 rng(7);
  int checked = 0;
  for (const RnnIsaKernels* isa : runnable_isas()) {
    for (int gates : {1, 3, 4}) {
      for (int64_t hidden : {1, 5, 19, 70}) {
        for (int64_t depth : {1, 7, 33, 131}) {
          const int64_t dirs = 2, gw = gates * hidden;
          const std::vector<float> wv = random_floats(static_cast<size_t>(dirs * gw * depth), rng);
          const Tensor w = Tensor::from_vector<float>(wv, {dirs, gw, depth});
          const auto packed = pack_rnn_panels(w, gates, isa->lanes);
          const int64_t upp = packed->layout().units_per_panel();
          for (int64_t rows = 1; rows <= 17; rows += (depth > 33 ? 4 : 1)) {
            const int64_t lda = depth + 3, ldc = gw + 5;
            const std::vector<float> a = random_floats(static_cast<size_t>(rows * lda), rng);
            const std::vector<float> init = random_floats(static_cast<size_t>(rows * ldc), rng);
            // The whole problem, and a sub-range: units from the second panel on, a gate subset.
            struct Range {
              int64_t u0, u1;
              int g0, g1;
            };
            std::vector<Range> ranges{{0, hidden, 0, gates}};
            if (hidden > upp) ranges.push_back({upp, hidden - 1, gates > 1 ? 1 : 0, gates});
            if (gates == 3) ranges.push_back({0, hidden, 2, 3});
            for (const Range& rg : ranges) {
              const int64_t d = 1;
              std::vector<float> out = init;
              std::vector<float*> gate_out;
              for (int g = rg.g0; g < rg.g1; ++g) gate_out.push_back(out.data() + g * hidden);
              rnn_accumulate_panels(*isa, *packed, d, rg.u0, rg.u1, rg.g0, rg.g1, a.data(), lda, rows,
                                    gate_out.data(), ldc);
              for (int64_t m = 0; m < rows; ++m) {
                for (int64_t col = 0; col < ldc; ++col) {
                  const int64_t g = col / hidden, u = col % hidden;
                  double want = init[static_cast<size_t>(m * ldc + col)];
                  double scale = std::abs(want);
                  if (col < gw && g >= rg.g0 && g < rg.g1 && u >= rg.u0 && u < rg.u1) {
                    for (int64_t k = 0; k < depth; ++k) {
                      const double term = double(a[static_cast<size_t>(m * lda + k)]) *
                                          double(wv[static_cast<size_t>((d * gw + col) * depth + k)]);
                      want += term;
                      scale += std::abs(term);
                    }
                  }
                  const double got = out[static_cast<size_t>(m * ldc + col)];
                  ASSERT_NEAR(got, want, 1e-6 * scale + 1e-7)
                      << isa->name << " gates " << gates << " hidden " << hidden << " depth " << depth << " rows "
                      << rows << " units [" << rg.u0 << "," << rg.u1 << ") gates [" << rg.g0 << "," << rg.g1
                      << ") row " << m << " column " << col;
                  ++checked;
                }
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 100000);
}

TEST(RnnIsa, PanelLayoutPlacesEveryWeight) {
  // hidden 5 with 4 lanes and 3 gates: 2 panels of 4 units, the second padded with zeros.
  const int64_t hidden = 5, depth = 2, gates = 3;
  std::vector<float> wv(static_cast<size_t>(gates * hidden * depth));
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<float>(i + 1);
  const auto packed = pack_rnn_panels(Tensor::from_vector<float>(wv, {1, gates * hidden, depth}), gates, 4);
  const RnnPanelLayout& l = packed->layout();
  ASSERT_EQ(l.unit_vecs, 1);
  ASSERT_EQ(l.panels(), 2);
  ASSERT_EQ(l.row_floats(), 12);
  const float* p = packed->direction(0);
  // Panel 0, k = 1, gate 2 (slot 2), unit 3: W[2*5 + 3][1] = element 13*2 + 1 -> value 28.
  EXPECT_EQ(p[1 * 12 + 2 * 4 + 3], 28.0f);
  // Panel 1 holds unit 4 in lane 0 and zeros after it.
  const float* p1 = p + l.panel_floats();
  EXPECT_EQ(p1[0 * 12 + 1 * 4 + 0], static_cast<float>((1 * 5 + 4) * 2 + 1));
  EXPECT_EQ(p1[0 * 12 + 1 * 4 + 1], 0.0f);
}

TEST(RnnIsa, ActivationsMatchLibm) {
  std::vector<float> xs;
  for (float x = -30.0f; x <= 30.0f; x += 0.00137f) xs.push_back(x);
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-40f, 0.6249999f, 0.625f, -0.625f, 44.0f, -44.0f, 87.0f, -87.0f,
                  88.5f, -88.5f, 100.0f, -100.0f, 1e30f, -1e30f})
    xs.push_back(x);
  const float inf = std::numeric_limits<float>::infinity();
  for (const RnnIsaKernels* isa : runnable_isas()) {
    std::vector<float> s = xs, t = xs;
    isa->sigmoid(s.data(), static_cast<int64_t>(s.size()));
    isa->tanh(t.data(), static_cast<int64_t>(t.size()));
    double worst_s = 0, worst_t = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const double ws = sigmoid_ref(xs[i]), wt = std::tanh(double(xs[i]));
      ASSERT_NEAR(s[i], ws, 1e-6 * std::abs(ws) + 1e-37) << isa->name << " sigmoid(" << xs[i] << ")";
      ASSERT_NEAR(t[i], wt, 1e-6 * std::abs(wt) + 1e-37) << isa->name << " tanh(" << xs[i] << ")";
      if (std::abs(ws) > 1e-30) worst_s = std::max(worst_s, std::abs(s[i] - ws) / std::abs(ws));
      if (std::abs(wt) > 1e-30) worst_t = std::max(worst_t, std::abs(t[i] - wt) / std::abs(wt));
    }
    EXPECT_TRUE(std::signbit(t[xs.size() - 17]));  // tanh(-0) = -0
    std::cout << isa->name << ": worst relative error sigmoid " << worst_s << ", tanh " << worst_t << "\n";
    // Special values, also in a tail shorter than a vector.
    std::vector<float> special = {inf, -inf, std::numeric_limits<float>::quiet_NaN()};
    std::vector<float> s2 = special, t2 = special;
    isa->sigmoid(s2.data(), 3);
    isa->tanh(t2.data(), 3);
    EXPECT_EQ(s2[0], 1.0f);
    EXPECT_EQ(s2[1], 0.0f);
    EXPECT_TRUE(std::isnan(s2[2]));
    EXPECT_EQ(t2[0], 1.0f);
    EXPECT_EQ(t2[1], -1.0f);
    EXPECT_TRUE(std::isnan(t2[2]));
  }
}

TEST(RnnIsa, FusedLstmCellMatchesEquations) {
  std::mt19937 rng(3);
  for (const RnnIsaKernels* isa : runnable_isas()) {
    for (int64_t n : {1, 3, 16, 37}) {
      for (bool peephole : {false, true}) {
        for (bool input_forget : {false, true}) {
          auto gi = random_floats(n, rng, 3), go = random_floats(n, rng, 3), gf = random_floats(n, rng, 3),
               gc = random_floats(n, rng, 3), pi = random_floats(n, rng), po = random_floats(n, rng),
               pf = random_floats(n, rng), c = random_floats(n, rng, 2);
          const std::vector<float> c0 = c;
          std::vector<float> h(n), y(n);
          RnnLstmCell cell{.n = n, .gi = gi.data(), .go = go.data(), .gf = gf.data(), .gc = gc.data(),
                           .pi = peephole ? pi.data() : nullptr, .po = peephole ? po.data() : nullptr,
                           .pf = peephole ? pf.data() : nullptr, .input_forget = input_forget, .c = c.data(),
                           .h = h.data(), .y = y.data()};
          isa->lstm_cell(cell);
          for (int64_t j = 0; j < n; ++j) {
            const double p_i = peephole ? pi[j] : 0, p_o = peephole ? po[j] : 0, p_f = peephole ? pf[j] : 0;
            const double i = sigmoid_ref(gi[j] + p_i * c0[j]);
            const double f = input_forget ? 1 - i : sigmoid_ref(gf[j] + p_f * c0[j]);
            const double ct = f * c0[j] + i * std::tanh(double(gc[j]));
            const double ht = sigmoid_ref(go[j] + p_o * ct) * std::tanh(ct);
            const std::string what = std::string(isa->name) + " n " + std::to_string(n) + " unit " + std::to_string(j);
            EXPECT_NEAR(c[j], ct, 1e-6) << what;
            EXPECT_NEAR(h[j], ht, 1e-6) << what;
            EXPECT_EQ(y[j], h[j]) << what;
          }
        }
      }
    }
  }
}

TEST(RnnIsa, FusedGruCellMatchesEquations) {
  std::mt19937 rng(4);
  for (const RnnIsaKernels* isa : runnable_isas()) {
    for (int64_t n : {1, 5, 16, 33}) {
      for (bool linear_before_reset : {false, true}) {
        auto gz = random_floats(n, rng, 3), gr = random_floats(n, rng, 3), gh = random_floats(n, rng, 3),
             rh = random_floats(n, rng, 2), hp = random_floats(n, rng);
        std::vector<float> h(n), y(n), reset(n);
        isa->gru_cell(RnnGruCell{.n = n, .gz = gz.data(), .gr = linear_before_reset ? gr.data() : nullptr,
                                 .gh = gh.data(), .rh = linear_before_reset ? rh.data() : nullptr, .h_prev = hp.data(),
                                 .h = h.data(), .y = n > 1 ? y.data() : nullptr});
        isa->gru_reset(gr.data(), hp.data(), reset.data(), n);
        for (int64_t j = 0; j < n; ++j) {
          const double z = sigmoid_ref(gz[j]);
          const double pre = linear_before_reset ? gh[j] + sigmoid_ref(gr[j]) * rh[j] : gh[j];
          const double want = (1 - z) * std::tanh(pre) + z * hp[j];
          const std::string what = std::string(isa->name) + " n " + std::to_string(n) + " unit " + std::to_string(j);
          EXPECT_NEAR(h[j], want, 1e-6) << what;
          if (n > 1) {
            EXPECT_EQ(y[j], h[j]) << what;
          }
          EXPECT_NEAR(reset[j], sigmoid_ref(gr[j]) * hp[j], 1e-6) << what;
        }
      }
    }
  }
}

TEST(RnnWeightCache, PanelsArePackedOncePerTensorAndForm) {
  std::mt19937 rng(9);
  const Tensor w = Tensor::from_vector<float>(random_floats(2 * 12 * 5, rng), {2, 12, 5});
  const size_t before = rnn_weight_cache_entries();
  auto first = panel_rnn_weights(w, 4, 8);
  EXPECT_EQ(rnn_weight_cache_entries(), before + 1);
  EXPECT_EQ(panel_rnn_weights(w, 4, 8).get(), first.get());
  // Another vector width or gate count is another form of the same tensor.
  auto narrow = panel_rnn_weights(w, 4, 4);
  EXPECT_NE(narrow.get(), first.get());
  EXPECT_EQ(narrow->layout().lanes, 4);
  EXPECT_EQ(panel_rnn_weights(w, 3, 8)->layout().hidden, 4);
  EXPECT_EQ(rnn_weight_cache_entries(), before + 3);
  // Borrowed memory is packed fresh each time.
  std::vector<float> values(2 * 12 * 5, 1.0f);
  Tensor borrowed = Tensor::borrow(values.data(), DType::F32, {2, 12, 5});
  EXPECT_EQ(panel_rnn_weights(borrowed, 4, 8)->direction(1)[0], 1.0f);
  values[60] = 5;  // direction 1, row 0, k 0
  EXPECT_EQ(panel_rnn_weights(borrowed, 4, 8)->direction(1)[0], 5.0f);
  EXPECT_EQ(rnn_weight_cache_entries(), before + 3);
}

}  // namespace
}  // namespace dj
