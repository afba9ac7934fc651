// Tests of the recurrent ops (LSTM, GRU, RNN): hand-computed tiny cases, and a
// comparison of every attribute combination against a straightforward reference
// written here from the ONNX equations (per batch entry, per time step, direct
// sums over W and R in their ONNX layout — no transposes, no blocking).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "runtime/OpRegistry.h"
#include "runtime/ops/RnnWeightCache.h"

namespace dj {
namespace {

using Vec = std::vector<float>;

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
Attribute strings_attr(const std::vector<std::string>& v) {
  Attribute a;
  a.kind = Attribute::Kind::Strings;
  a.strings = v;
  return a;
}

// The settings of one recurrent op call; inputs in ONNX layout 0.
struct RnnCase {
  std::string op;  // "LSTM", "GRU", "RNN"
  int64_t seq = 1, batch = 1, input = 1, hidden = 1;
  std::string direction = "forward";
  std::optional<float> clip;
  bool linear_before_reset = false;
  bool input_forget = false;
  std::vector<std::string> activations;  // empty: defaults
  Vec x, w, r, b, h0, c0, p;             // empty b/h0/c0/p: input omitted
  std::vector<int32_t> lens;             // empty: input omitted
  int num_dirs() const { return direction == "bidirectional" ? 2 : 1; }
  int gates() const { return op == "LSTM" ? 4 : op == "GRU" ? 3 : 1; }
};

struct RnnOutputs {
  Vec y, y_h, y_c;
};

// [a, b, inner] -> [b, a, inner]
Vec swap01(const Vec& v, int64_t a, int64_t b, int64_t inner) {
  Vec out(v.size());
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      for (int64_t k = 0; k < inner; ++k) out[(j * a + i) * inner + k] = v[(i * b + j) * inner + k];
  return out;
}

Vec to_vec(const Tensor& t) {
  Vec out(static_cast<size_t>(t.numel()));
  dispatch_dtype(t.dtype(), FloatTypes{}, [&](auto tag) {
    using S = decltype(tag);
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(t.data<S>()[i]);
  });
  return out;
}

template <typename S>
Tensor make(const Vec& v, const Shape& shape) {
  std::vector<S> s;
  for (float f : v) s.push_back(static_cast<S>(f));
  return Tensor::from_vector<S>(s, shape);
}

// [batch, seq, nd, h] -> [seq, nd, batch, h]
Vec batch_major_to_time_major(const Vec& v, int64_t batch, int64_t seq, int64_t nd, int64_t h) {
  Vec out(v.size());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < seq; ++t)
      for (int64_t d = 0; d < nd; ++d)
        for (int64_t j = 0; j < h; ++j) out[((t * nd + d) * batch + b) * h + j] = v[((b * seq + t) * nd + d) * h + j];
  return out;
}

// Runs the registered kernel; with layout 1 the inputs are transposed to
// batch-major before the call and the outputs back after it.
template <typename S = float>
Expected<RnnOutputs> run_kernel(const RnnCase& c, int64_t layout = 0) {
  const int64_t nd = c.num_dirs(), g = c.gates();
  Node node;
  node.name = "rnn";
  node.op_type = c.op;
  node.attributes["hidden_size"] = int_attr(c.hidden);
  node.attributes["direction"] = string_attr(c.direction);
  if (layout) node.attributes["layout"] = int_attr(layout);
  if (c.clip) node.attributes["clip"] = float_attr(*c.clip);
  if (c.linear_before_reset) node.attributes["linear_before_reset"] = int_attr(1);
  if (c.input_forget) node.attributes["input_forget"] = int_attr(1);
  if (!c.activations.empty()) node.attributes["activations"] = strings_attr(c.activations);
  node.outputs = {0, 1};
  if (c.op == "LSTM") node.outputs.push_back(2);

  const Shape state = layout ? Shape{c.batch, nd, c.hidden} : Shape{nd, c.batch, c.hidden};
  auto state_tensor = [&](const Vec& v) {
    return v.empty() ? Tensor() : make<S>(layout ? swap01(v, nd, c.batch, c.hidden) : v, state);
  };
  std::vector<Tensor> inputs(c.op == "LSTM" ? 8 : 6);
  inputs[0] = layout ? make<S>(swap01(c.x, c.seq, c.batch, c.input), {c.batch, c.seq, c.input})
                     : make<S>(c.x, {c.seq, c.batch, c.input});
  inputs[1] = make<S>(c.w, {nd, g * c.hidden, c.input});
  inputs[2] = make<S>(c.r, {nd, g * c.hidden, c.hidden});
  if (!c.b.empty()) inputs[3] = make<S>(c.b, {nd, 2 * g * c.hidden});
  if (!c.lens.empty()) inputs[4] = Tensor::from_vector<int32_t>(c.lens, {c.batch});
  inputs[5] = state_tensor(c.h0);
  if (c.op == "LSTM") {
    inputs[6] = state_tensor(c.c0);
    if (!c.p.empty()) inputs[7] = make<S>(c.p, {nd, 3 * c.hidden});
  }
  const OpSchema* schema = OpRegistry::builtin().find("", c.op);
  if (!schema) return Status(StatusCode::Unsupported, c.op + " not registered");
  KernelContext ctx(node, 17, inputs, nullptr);
  DJ_RETURN_IF_ERROR(schema->kernel(ctx));
  RnnOutputs out;
  const Tensor& y = ctx.outputs()[0];
  const Shape y_shape = layout ? Shape{c.batch, c.seq, nd, c.hidden} : Shape{c.seq, nd, c.batch, c.hidden};
  EXPECT_EQ(y.shape(), y_shape);
  EXPECT_EQ(ctx.outputs()[1].shape(), state);
  out.y = layout ? batch_major_to_time_major(to_vec(y), c.batch, c.seq, nd, c.hidden) : to_vec(y);
  out.y_h = layout ? swap01(to_vec(ctx.outputs()[1]), c.batch, nd, c.hidden) : to_vec(ctx.outputs()[1]);
  if (c.op == "LSTM") {
    EXPECT_EQ(ctx.outputs()[2].shape(), state);
    out.y_c = layout ? swap01(to_vec(ctx.outputs()[2]), c.batch, nd, c.hidden) : to_vec(ctx.outputs()[2]);
  }
  return out;
}

double ref_act(const std::string& name, double v) {
  if (name == "Sigmoid") return 1.0 / (1.0 + std::exp(-v));
  if (name == "Tanh") return std::tanh(v);
  if (name == "Relu") return v > 0 ? v : 0;
  ADD_FAILURE() << "reference has no activation " << name;
  return 0;
}

// The reference: each batch entry walks its own valid steps.
RnnOutputs reference(const RnnCase& c) {
  const int64_t nd = c.num_dirs(), g = c.gates(), H = c.hidden, I = c.input, B = c.batch;
  std::vector<std::string> acts = c.activations;
  if (acts.empty()) {
    std::vector<std::string> def = c.op == "LSTM"  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                   : c.op == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                   : std::vector<std::string>{"Tanh"};
    for (int d = 0; d < nd; ++d) acts.insert(acts.end(), def.begin(), def.end());
  }
  const size_t per_dir = acts.size() / static_cast<size_t>(nd);
  RnnOutputs out;
  out.y.assign(static_cast<size_t>(c.seq * nd * B * H), 0.f);
  out.y_h.assign(static_cast<size_t>(nd * B * H), 0.f);
  if (c.op == "LSTM") out.y_c.assign(out.y_h.size(), 0.f);
  auto clipped = [&](double v) { return c.clip ? std::min<double>(*c.clip, std::max<double>(-*c.clip, v)) : v; };
  for (int64_t d = 0; d < nd; ++d) {
    auto act = [&](size_t i, double v) { return ref_act(acts[d * per_dir + i], clipped(v)); };
    auto W = [&](int64_t row, int64_t k) { return (double)c.w[(d * g * H + row) * I + k]; };
    auto R = [&](int64_t row, int64_t k) { return (double)c.r[(d * g * H + row) * H + k]; };
    auto Wb = [&](int64_t row) { return c.b.empty() ? 0.0 : (double)c.b[d * 2 * g * H + row]; };
    auto Rb = [&](int64_t row) { return c.b.empty() ? 0.0 : (double)c.b[d * 2 * g * H + g * H + row]; };
    const bool reverse = c.direction == "reverse" || d == 1;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = c.lens.empty() ? c.seq : c.lens[b];
      std::vector<double> h(H), cs(H);
      for (int64_t j = 0; j < H; ++j) {
        h[j] = c.h0.empty() ? 0 : c.h0[(d * B + b) * H + j];
        cs[j] = c.c0.empty() ? 0 : c.c0[(d * B + b) * H + j];
      }
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = reverse ? len - 1 - s : s;
        const float* xt = &c.x[(t * B + b) * I];
        auto xw = [&](int64_t row) {
          double acc = 0;
          for (int64_t k = 0; k < I; ++k) acc += xt[k] * W(row, k);
          return acc;
        };
        auto hr = [&](int64_t row, const std::vector<double>& hv) {
          double acc = 0;
          for (int64_t k = 0; k < H; ++k) acc += hv[k] * R(row, k);
          return acc;
        };
        std::vector<double> nh(H), nc(H);
        if (c.op == "LSTM") {
          for (int64_t j = 0; j < H; ++j) {
            auto pre = [&](int gate) { return xw(gate * H + j) + hr(gate * H + j, h) + Wb(gate * H + j) + Rb(gate * H + j); };
            auto P = [&](int k) { return c.p.empty() ? 0.0 : (double)c.p[d * 3 * H + k * H + j]; };
            const double i = act(0, pre(0) + P(0) * cs[j]);
            const double f = c.input_forget ? 1 - i : act(0, pre(2) + P(2) * cs[j]);
            const double cc = act(1, pre(3));
            nc[j] = f * cs[j] + i * cc;
            const double o = act(0, pre(1) + P(1) * nc[j]);
            nh[j] = o * ref_act(acts[d * per_dir + 2], nc[j]);  // clip bounds gate inputs, not the cell
          }
          cs = nc;
        } else if (c.op == "GRU") {
          std::vector<double> z(H), rr(H), rh(H);
          for (int64_t j = 0; j < H; ++j) {
            z[j] = act(0, xw(j) + hr(j, h) + Wb(j) + Rb(j));
            rr[j] = act(0, xw(H + j) + hr(H + j, h) + Wb(H + j) + Rb(H + j));
            rh[j] = rr[j] * h[j];
          }
          for (int64_t j = 0; j < H; ++j) {
            const int64_t row = 2 * H + j;
            const double hh = c.linear_before_reset ? act(1, xw(row) + rr[j] * (hr(row, h) + Rb(row)) + Wb(row))
                                                    : act(1, xw(row) + hr(row, rh) + Rb(row) + Wb(row));
            nh[j] = (1 - z[j]) * hh + z[j] * h[j];
          }
        } else {
          for (int64_t j = 0; j < H; ++j) nh[j] = act(0, xw(j) + hr(j, h) + Wb(j) + Rb(j));
        }
        h = nh;
        for (int64_t j = 0; j < H; ++j) out.y[((t * nd + d) * B + b) * H + j] = static_cast<float>(h[j]);
      }
      for (int64_t j = 0; j < H; ++j) {
        out.y_h[(d * B + b) * H + j] = static_cast<float>(h[j]);
        if (c.op == "LSTM") out.y_c[(d * B + b) * H + j] = static_cast<float>(cs[j]);
      }
    }
  }
  return out;
}

Vec random_vec(size_t n, std::mt19937& rng, float scale = 0.5f) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  Vec v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

// A case with every optional input present and random values.
RnnCase random_case(const std::string& op, int64_t seq, int64_t batch, int64_t input, int64_t hidden,
                    const std::string& direction, unsigned seed) {
  std::mt19937 rng(seed);
  RnnCase c;
  c.op = op;
  c.seq = seq, c.batch = batch, c.input = input, c.hidden = hidden;
  c.direction = direction;
  const size_t nd = c.num_dirs(), g = c.gates();
  c.x = random_vec(seq * batch * input, rng, 1.0f);
  c.w = random_vec(nd * g * hidden * input, rng);
  c.r = random_vec(nd * g * hidden * hidden, rng);
  c.b = random_vec(nd * 2 * g * hidden, rng);
  c.h0 = random_vec(nd * batch * hidden, rng);
  if (op == "LSTM") {
    c.c0 = random_vec(nd * batch * hidden, rng);
    c.p = random_vec(nd * 3 * hidden, rng);
  }
  return c;
}

void expect_near_all(const Vec& got, const Vec& want, float tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol) << what << " element " << i;
}

void expect_matches_reference(const RnnCase& c, int64_t layout = 0, float tol = 2e-5f) {
  auto got = run_kernel(c, layout);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  RnnOutputs want = reference(c);
  const std::string what = c.op + " " + c.direction + " layout " + std::to_string(layout);
  expect_near_all(got->y, want.y, tol, what + " Y");
  expect_near_all(got->y_h, want.y_h, tol, what + " Y_h");
  if (c.op == "LSTM") expect_near_all(got->y_c, want.y_c, tol, what + " Y_c");
}

TEST(RnnOps, RnnReluHandComputed) {
  // hidden 2, input 1, seq 2: h1 = relu(W x1) = relu([1,-1]) = [1,0];
  // h2 = relu(W x2 + R h1) = relu([2,-2] + [1,2]) = [3,0].
  RnnCase c;
  c.op = "RNN";
  c.seq = 2, c.hidden = 2;
  c.activations = {"Relu"};
  c.x = {1, 2};
  c.w = {1, -1};
  c.r = {1, 1, 2, 0};
  auto got = run_kernel(c);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->y, (Vec{1, 0, 3, 0}));
  EXPECT_EQ(got->y_h, (Vec{3, 0}));
}

TEST(RnnOps, LstmZeroWeightsHandComputed) {
  // W = R = B = 0: every gate pre-activation is 0, so i = f = o = 1/2, c~ = 0.
  // From c0 = 1: C1 = 1/2, H1 = tanh(1/2)/2; C2 = 1/4, H2 = tanh(1/4)/2.
  RnnCase c;
  c.op = "LSTM";
  c.seq = 2, c.hidden = 1;
  c.x = {3, -4};
  c.w = Vec(4, 0.f);
  c.r = Vec(4, 0.f);
  c.c0 = {1};
  c.h0 = {0.7f};
  auto got = run_kernel(c);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_NEAR(got->y[0], std::tanh(0.5) / 2, 1e-6);
  EXPECT_NEAR(got->y[1], std::tanh(0.25) / 2, 1e-6);
  EXPECT_NEAR(got->y_h[0], std::tanh(0.25) / 2, 1e-6);
  EXPECT_NEAR(got->y_c[0], 0.25, 1e-6);
}

TEST(RnnOps, GruZeroWeightsHandComputed) {
  // W = R = B = 0: z = r = 1/2 and h~ = 0, so Ht = Ht-1 / 2: from 1 -> 1/2 -> 1/4.
  RnnCase c;
  c.op = "GRU";
  c.seq = 2, c.hidden = 2;
  c.x = {5, 6};
  c.w = Vec(6, 0.f);
  c.r = Vec(12, 0.f);
  c.h0 = {1, -2};
  auto got = run_kernel(c);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->y, (Vec{0.5f, -1.f, 0.25f, -0.5f}));
  EXPECT_EQ(got->y_h, (Vec{0.25f, -0.5f}));
}

TEST(RnnOps, LstmMatchesReference) {
  for (const char* dir : {"forward", "reverse", "bidirectional"}) {
    RnnCase c = random_case("LSTM", 4, 3, 5, 3, dir, 1);
    expect_matches_reference(c);
    c.lens = {4, 2, 1};
    expect_matches_reference(c);
    expect_matches_reference(c, /*layout=*/1);
  }
}

TEST(RnnOps, LstmOptionsMatchReference) {
  RnnCase c = random_case("LSTM", 3, 2, 2, 4, "bidirectional", 2);
  c.clip = 0.3f;
  c.input_forget = true;
  c.activations = {"Relu", "Tanh", "Sigmoid", "Sigmoid", "Relu", "Tanh"};
  expect_matches_reference(c);
  // Optional inputs omitted, a zero-length sequence keeps its initial state.
  RnnCase d = random_case("LSTM", 3, 2, 2, 4, "reverse", 3);
  d.b.clear();
  d.p.clear();
  d.lens = {0, 3};
  expect_matches_reference(d);
}

TEST(RnnOps, GruMatchesReference) {
  for (bool lbr : {false, true}) {
    for (const char* dir : {"forward", "reverse", "bidirectional"}) {
      RnnCase c = random_case("GRU", 5, 3, 4, 3, dir, 4);
      c.linear_before_reset = lbr;
      expect_matches_reference(c);
      c.lens = {1, 5, 3};
      c.clip = 0.5f;
      expect_matches_reference(c, 1);
    }
  }
}

TEST(RnnOps, RnnMatchesReference) {
  for (const char* dir : {"forward", "reverse", "bidirectional"}) {
    RnnCase c = random_case("RNN", 4, 2, 3, 5, dir, 5);
    expect_matches_reference(c);
    c.lens = {2, 4};
    c.activations = c.num_dirs() == 2 ? std::vector<std::string>{"Relu", "Sigmoid"} : std::vector<std::string>{"Relu"};
    expect_matches_reference(c, 1);
  }
}

TEST(RnnOps, LargeLstmMatchesReference) {
  // Large enough that the projection and recurrence products take the parallel,
  // blocked path (row counts not a multiple of the 4-row block, N > one chunk).
  RnnCase c = random_case("LSTM", 3, 7, 70, 100, "bidirectional", 6);
  c.lens = {3, 1, 2, 3, 3, 0, 2};
  expect_matches_reference(c, 0, 1e-4f);
}

// The f32 path's shapes: one row and many (the product's row groups and depth
// blocks), unit counts that leave a partial last panel, work large enough for the
// parallel unit split, inactive rows, both directions at once.
TEST(RnnOps, F32ProductShapesMatchReference) {
  struct Shape3 {
    int64_t batch, input, hidden;
  };
  for (const Shape3& s : {Shape3{1, 33, 300}, Shape3{5, 17, 130}, Shape3{17, 9, 70}}) {
    RnnCase l = random_case("LSTM", 3, s.batch, s.input, s.hidden, "bidirectional", 20);
    if (s.batch > 1) {
      l.lens.assign(static_cast<size_t>(s.batch), 3);
      l.lens[1] = 0;
      l.lens[s.batch - 1] = 2;
    }
    expect_matches_reference(l, 0, 1e-4f);
    for (bool lbr : {false, true}) {
      RnnCase g = random_case("GRU", 3, s.batch, s.input, s.hidden, "bidirectional", 21);
      g.linear_before_reset = lbr;
      g.lens = l.lens;
      expect_matches_reference(g, 0, 1e-4f);
    }
    RnnCase r = random_case("RNN", 3, s.batch, s.input, s.hidden, "reverse", 22);
    r.lens = l.lens;
    expect_matches_reference(r, 1, 1e-4f);
  }
}

// Activations other than the defaults, or clip, take the span loops instead of the
// fused updates; the same shapes.
TEST(RnnOps, F32GeneralActivationsMatchReference) {
  RnnCase l = random_case("LSTM", 3, 4, 20, 150, "forward", 23);
  l.clip = 0.8f;
  l.lens = {3, 1, 0, 2};
  expect_matches_reference(l, 0, 1e-4f);
  l.clip.reset();
  l.activations = {"Sigmoid", "Relu", "Tanh"};
  expect_matches_reference(l, 0, 1e-4f);
  for (bool lbr : {false, true}) {
    RnnCase g = random_case("GRU", 3, 4, 20, 150, "bidirectional", 24);
    g.linear_before_reset = lbr;
    g.clip = 0.6f;
    g.lens = {2, 3, 1, 0};
    expect_matches_reference(g, 0, 1e-4f);
  }
}

// Repeated calls with the same weight tensors reuse the packed panels; the results
// do not change between the first call and later ones.
TEST(RnnOps, RepeatedCallsGiveTheSameResult) {
  RnnCase c = random_case("GRU", 4, 3, 16, 64, "forward", 25);
  auto first = run_kernel(c);
  auto second = run_kernel(c);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->y, second->y);
  EXPECT_EQ(first->y_h, second->y_h);
}

// A zero (or absent) initial state: the first step skips the recurrence product when
// it adds nothing; R holding an inf must still give the NaN that 0 * inf makes.
TEST(RnnOps, ZeroInitialStateMatchesReference) {
  for (const char* op : {"LSTM", "GRU", "RNN"}) {
    for (bool lbr : {false, true}) {
      if (lbr && std::string(op) != "GRU") continue;
      RnnCase c = random_case(op, 3, 2, 8, 40, "bidirectional", 26);
      c.linear_before_reset = lbr;
      c.h0.clear();
      expect_matches_reference(c);
      c.h0.assign(static_cast<size_t>(2 * c.batch * c.hidden), 0.0f);
      expect_matches_reference(c);
      c.r[5] = std::numeric_limits<float>::infinity();
      auto got = run_kernel(c);
      ASSERT_TRUE(got.ok()) << got.status().to_string();
      const RnnOutputs want = reference(c);
      int nans = 0;
      for (size_t i = 0; i < want.y.size(); ++i) {
        ASSERT_EQ(std::isnan(got->y[i]), std::isnan(want.y[i])) << op << " Y element " << i;
        if (std::isnan(want.y[i])) ++nans;
        else ASSERT_NEAR(got->y[i], want.y[i], 2e-5f) << op << " Y element " << i;
      }
      EXPECT_GT(nans, 0) << op;
    }
  }
}

TEST(RnnOps, LargeDoubleGruMatchesReference) {
  // f64 runs RnnMatmul's own blocked loop (f32 goes to the shared GEMM); this is
  // large enough for its parallel tiles.
  RnnCase c = random_case("GRU", 3, 9, 70, 90, "bidirectional", 12);
  c.lens = {3, 1, 2, 3, 3, 0, 2, 1, 3};
  auto got = run_kernel<double>(c);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  RnnOutputs want = reference(c);
  expect_near_all(got->y, want.y, 1e-5f, "f64 GRU Y");
  expect_near_all(got->y_h, want.y_h, 1e-5f, "f64 GRU Y_h");
}

TEST(RnnOps, DoubleAndHalfInputs) {
  RnnCase c = random_case("GRU", 3, 2, 3, 2, "forward", 7);
  auto d = run_kernel<double>(c);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  RnnOutputs want = reference(c);
  expect_near_all(d->y, want.y, 1e-6f, "f64 Y");
  auto h = run_kernel<half>(c);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  // Inputs are rounded to f16, so compare against the reference loosely.
  expect_near_all(h->y, want.y, 1e-2f, "f16 Y");
}

TEST(RnnOps, BadInputsAreErrors) {
  {
    // R [1, 8, 3] for hidden 2.
    Node n;
    n.op_type = "LSTM";
    n.attributes["hidden_size"] = int_attr(2);
    n.outputs = {0, 1, 2};
    std::vector<Tensor> in = {make<float>(Vec(4, 1.f), {2, 1, 2}), make<float>(Vec(16, 0.f), {1, 8, 2}),
                              make<float>(Vec(24, 0.f), {1, 8, 3})};
    KernelContext ctx(n, 17, in, nullptr);
    Status s = OpRegistry::builtin().find("", "LSTM")->kernel(ctx);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument);
    EXPECT_NE(s.message().find("R has shape [1,8,3]"), std::string::npos) << s.message();
  }
  {
    RnnCase e = random_case("RNN", 2, 1, 2, 2, "forward", 10);
    e.activations = {"Gelu"};
    auto r = run_kernel(e);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::Unsupported);
    EXPECT_NE(r.status().message().find("Gelu"), std::string::npos);
  }
  {
    RnnCase e = random_case("GRU", 2, 2, 2, 2, "forward", 11);
    e.lens = {1, 3};  // longer than seq
    auto r = run_kernel(e);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("sequence_lens[1] = 3"), std::string::npos) << r.status().message();
  }
}

TEST(RnnOps, ShapeFunction) {
  Node node;
  node.op_type = "LSTM";
  node.attributes["direction"] = string_attr("bidirectional");
  ValueInfo x, w, r, y, yh, yc;
  x.dtype = DType::F32;
  x.shape = SymShape{SymExpr::symbol("seq"), SymExpr::symbol("batch"), 8};
  r.shape = SymShape{2, 64, 16};  // hidden_size absent: taken from R
  int fresh = 0;
  ShapeContext ctx(node, 17, {&x, &w, &r}, {&y, &yh, &yc}, &fresh);
  ASSERT_TRUE(OpRegistry::builtin().find("", "LSTM")->infer(ctx).ok());
  ASSERT_TRUE(y.shape.has_value());
  EXPECT_EQ(sym_shape_to_string(*y.shape), "[seq,2,batch,16]");
  EXPECT_EQ(sym_shape_to_string(*yc.shape), "[2,batch,16]");
  EXPECT_EQ(y.dtype, DType::F32);

  node.attributes["layout"] = int_attr(1);
  node.attributes["hidden_size"] = int_attr(5);
  ValueInfo xb = x, y1, yh1;
  xb.shape = SymShape{SymExpr::symbol("batch"), SymExpr::symbol("seq"), 8};
  ShapeContext ctx1(node, 17, {&xb, &w, &r}, {&y1, &yh1}, &fresh);
  ASSERT_TRUE(OpRegistry::builtin().find("", "LSTM")->infer(ctx1).ok());
  EXPECT_EQ(sym_shape_to_string(*y1.shape), "[batch,seq,2,5]");
  EXPECT_EQ(sym_shape_to_string(*yh1.shape), "[batch,2,5]");
}

}  // namespace
}  // namespace dj

namespace dj {
namespace {

TEST(RnnWeightCache, TransposesOncePerTensorAndNeverCachesBorrowedMemory) {
  // W: 2 directions of [3, 2]; W^T per direction is [2, 3].
  std::vector<float> values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::vector<float> want = {1, 3, 5, 2, 4, 6, 7, 9, 11, 8, 10, 12};
  Tensor w = Tensor::from_vector<float>(values, {2, 3, 2});
  const size_t before = rnn_weight_cache_entries();
  auto first = transposed_rnn_weights<float>(w);
  EXPECT_EQ(*first, want);
  EXPECT_EQ(rnn_weight_cache_entries(), before + 1);
  auto again = transposed_rnn_weights<float>(w);
  EXPECT_EQ(again.get(), first.get());  // the same buffer: not transposed again
  auto as_double = transposed_rnn_weights<double>(w);
  EXPECT_EQ((*as_double)[3], 2.0);
  // Caller memory may be rewritten between calls: transposed fresh each time.
  Tensor borrowed = Tensor::borrow(values.data(), DType::F32, {2, 3, 2});
  const size_t entries = rnn_weight_cache_entries();
  EXPECT_EQ(*transposed_rnn_weights<float>(borrowed), want);
  values[0] = 100;
  EXPECT_EQ((*transposed_rnn_weights<float>(borrowed))[0], 100.0f);
  EXPECT_EQ(rnn_weight_cache_entries(), entries);
}

}  // namespace
}  // namespace dj
