// FastMath: the polynomial approximations (coefficients as in Eigen's
// generic_fast_tanh_float / generic_fast_erf_float, which are minimax fits).
#include "jit/FastMath.h"

namespace dj::jit {
namespace {

using Halide::Expr;

Expr f32(Expr x) { return x.type() == Halide::Float(32) ? x : Halide::cast<float>(x); }

// Horner's rule: c[0] * y^(n-1) + ... + c[n-1].
Expr horner(const Expr& y, std::initializer_list<float> c) {
  auto it = c.begin();
  Expr p = Expr(*it++);
  for (; it != c.end(); ++it) p = p * y + Expr(*it);
  return p;
}

}  // namespace

// Cody-Waite range reduction x = k ln2 + r, |r| <= ln2/2, then a polynomial for e^r
// and 2^k built in the exponent bits. (Halide::fast_exp measured 1e-6 relative.)
Expr exp_f32(Expr x_in) {
  Expr x = Halide::clamp(f32(x_in), -87.3f, 88.3f);  // 2^k stays a normal float
  // k = round(x / ln2) by the 1.5 * 2^23 trick: adding it leaves k in the low mantissa
  // bits (|x / ln2| < 2^22). Two integer-friendly ops instead of floor + convert, which
  // AVX-512 lowers as four (vroundps on each 256-bit half).
  Expr biased = Halide::reinterpret<int32_t>(x * 1.44269504088896341f + 12582912.0f);
  Expr k_int = biased - 0x4B400000;
  Expr k = Halide::cast<float>(k_int);
  Expr r = x - k * 0.693359375f - k * -2.12194440e-4f;
  // A degree-5 fit of e^r (minimax in relative error over |r| <= ln2/2, by Lawson's
  // iteration): 1.8e-7 worst relative error in float, against Cephes' degree 7 at
  // 1.2e-7, for two fewer FMAs, which is what Softmax's exp pass is bound by.
  Expr p = horner(r, {8.31253175e-3f, 4.18901071e-2f, 1.66671142e-1f, 4.99992311e-1f});
  Expr e_r = p * r * r + r + 1.0f;
  // Unsigned: Halide folds the shift into `biased`'s constant, which overflows int32.
  Expr two_k = Halide::reinterpret<float>(Halide::cast<uint32_t>(k_int + 127) << 23);
  return e_r * two_k;
}

Expr tanh_f32(Expr x_in) {
  Expr x = Halide::clamp(f32(x_in), -7.90531110763549805f, 7.90531110763549805f);
  Expr x2 = x * x;
  Expr p = x * horner(x2, {-2.76076847742355e-16f, 2.00018790482477e-13f, -8.60467152213735e-11f,
                           5.12229709037114e-08f, 1.48572235717979e-05f, 6.37261928875436e-04f,
                           4.89352455891786e-03f});
  Expr q = horner(x2, {1.19825839466702e-06f, 1.18534705686654e-04f, 2.26843463243900e-03f, 4.89352518554385e-03f});
  // Below 4e-4, tanh(x) == x in float; the polynomial ratio would round slightly off.
  return Halide::select(Halide::abs(x) < 0.0004f, x, p / q);
}

Expr sigmoid_f32(Expr x) { return 1.0f / (1.0f + exp_f32(-f32(x))); }

Expr erf_f32(Expr x_in) {
  Expr x = Halide::clamp(f32(x_in), -4.0f, 4.0f);
  Expr x2 = x * x;
  Expr p = x * horner(x2, {-2.72614225801306e-10f, 2.77068142495902e-08f, -2.10102402082508e-06f,
                           -5.69250639462346e-05f, -7.34990630326855e-04f, -2.95459980854025e-03f,
                           -1.60960333262415e-02f});
  Expr q = horner(x2, {-1.45660718464996e-05f, -2.13374055278905e-04f, -1.68282697438203e-03f,
                       -7.37332916720468e-03f, -1.42647390514189e-02f});
  return p / q;
}

Expr gelu_f32(Expr x_in) {
  Expr x = f32(x_in);
  return 0.5f * x * (1.0f + erf_f32(x * 0.70710678118654752f));
}

Expr gelu_tanh_f32(Expr x_in) {
  Expr x = f32(x_in);
  return 0.5f * x * (1.0f + tanh_f32(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

}  // namespace dj::jit
