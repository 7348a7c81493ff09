// emlearn-gen runtime: the float math of linear models (exp, sigmoid,
// softmax, normalisation) that returns the same bits on every target.
//
// <math.h>'s expf differs between C libraries (glibc, newlib, avr-libc), and
// compilers may fuse a product and a sum into one FMA on some targets and not
// on others. Everything here is therefore written with float +, -, *, / and
// integer bit operations only, which IEEE 754 binary32 rounds identically on
// every target (x86-64 SSE, Cortex-M4F FPU, libgcc's and avr-libc's software
// float, subnormals included), and every product that feeds a sum goes
// through rounded() so that no compiler can contract the two.
//
// u below is the unit roundoff of float, 2^-24.
#ifndef EMLEARN_GEN_MATH_HPP
#define EMLEARN_GEN_MATH_HPP

#include "common.hpp"

namespace emlearn_gen {

/// Returns `x` unchanged, in a way the optimiser cannot see through: a
/// product passed through it is rounded to float before whatever uses it,
/// so `rounded(a * b) + c` is never contracted into a fused multiply-add.
/// arm-none-eabi-g++ contracts on Cortex-M4F by default (also with
/// -std=c++11), as do g++ and clang++ on x86 with FMA; firmware builds
/// cannot be relied upon to pass -ffp-contract=off, and a fused result
/// differs from the host's in the last bit.
///
/// The empty asm statement names the register class the value already
/// lives in, so it costs no instruction.
inline float rounded(float x) {
#if defined(__GNUC__)
#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE_MATH__)
  __asm__("" : "+x"(x));  // an SSE register
#elif defined(__aarch64__)
  __asm__("" : "+w"(x));  // a SIMD/FP register
#elif defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4) && !defined(__SOFTFP__)
  // A VFP single-precision register: hard and softfp float ABIs (__ARM_FP
  // bit 2: the FPU has single precision; __SOFTFP__: no FPU is used).
  __asm__("" : "+t"(x));
#elif defined(__riscv) && defined(__riscv_flen)
  __asm__("" : "+f"(x));  // an F-extension register
#else
  // Soft-float ARM, AVR, and anything else: a core register holds (or can
  // hold) the 32-bit value; at worst this costs a move there and back.
  __asm__("" : "+r"(x));
#endif
  return x;
#else
  // Other compilers: a round trip through memory they must not elide.
  volatile float stored = x;
  return stored;
#endif
}

/// Unit roundoff of float: 2^-24, the largest relative error of one
/// correctly rounded operation whose result is normal.
constexpr float unit_roundoff = 5.9604645e-08f;

/// Largest error of exp_f relative to the true e^x, for results in the
/// normal range (FLT_MIN <= e^x <= FLT_MAX, that is -87.33 < x < 88.72).
/// Sum of the bounds of each step of exp_f (first order in u):
///   - the reduced argument r: one rounding, error <= u * |r|, |r| <= ln2/2,
///     so <= 0.347u in e^r (the split of ln2 and the rounding of
///     k * ln2_lo add less than 0.001u);
///   - truncation of the polynomial, with its coefficients rounded to
///     float: <= 0.075u (relative, over |r| <= 0.3466);
///   - evaluation: 9 roundings (Horner for q, r*r, r*r*q, r + r*r*q,
///     1 + ...) weighted by the terms they round; a running-error bound over
///     |r| <= 0.3466 gives <= 1.37u, largest at r = -ln2/2 where the result
///     is below 1;
///   - scaling by 2^k: exact for normal results.
/// 0.347u + 0.075u + 1.37u = 1.792u, rounded up.
constexpr float exp_max_rel_error = 1.8f * unit_roundoff;

namespace detail {

inline uint32_t float_bits(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}

inline float bits_float(uint32_t bits) {
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

/// 2^e for -126 <= e <= 127, built from its bit pattern.
inline float pow2(int32_t e) { return bits_float(static_cast<uint32_t>(e + 127) << 23); }

// exp_f's constants, with the bit patterns that define them.
constexpr float log2e = 1.44269502f;         // 0x3fb8aa3b, log2(e)
constexpr float ln2_hi = 0.693145752f;       // 0x3f317200: 15 significant bits, so
                                             // k * ln2_hi is exact for |k| <= 2^9
constexpr float ln2_lo = 1.42860677e-06f;    // 0x35bfbe8e, ln2 - ln2_hi
constexpr float exp_overflow = 88.7228317f;  // 0x42b17217: the largest x with e^x <= FLT_MAX
constexpr float exp_underflow = -104.0f;     // e^x < 2^-150 (rounds to 0) below this
constexpr float exp_tiny = 2.98023224e-08f;  // 2^-25: e^x rounds to 1 for |x| below this
// Minimax coefficients of q(r) = (e^r - 1 - r) / r^2 on |r| <= 0.3466,
// minimising the error of 1 + r + r^2 q(r) relative to e^r.
constexpr float exp_c2 = 0.49999994f;     // 0x3efffffe
constexpr float exp_c3 = 0.166665196f;    // 0x3e2aaa48
constexpr float exp_c4 = 0.0416683964f;   // 0x3d2aac7b
constexpr float exp_c5 = 0.00836878549f;  // 0x3c091d3b
constexpr float exp_c6 = 0.00138144556f;  // 0x3ab5119f

}  // namespace detail

/// e^x in float, the same bits on every IEEE binary32 target.
/// Error: <= exp_max_rel_error relative to e^x where the result is normal;
/// subnormal results are p * 2^k rounded once more, so within
/// exp_max_rel_error * e^x + 2^-150. NaN gives NaN, x > 88.7228317 (the
/// largest finite result) gives +INFINITY, x < -104 gives 0.
///
/// Method: e^x = 2^k * e^r with k the integer nearest x * log2(e) and
/// r = x - k * ln2 (|r| <= ln2/2), subtracted in two parts (Cody-Waite) so
/// the first part is exact; e^r = 1 + r + r^2 q(r) with a degree-4
/// polynomial q. Stack: a few words.
inline float exp_f(float x) {
  using namespace detail;
  if (x != x) {
    return x;  // NaN
  }
  if (x > exp_overflow) {
    return bits_float(0x7F800000u);  // +INFINITY
  }
  if (x < exp_underflow) {
    return 0.0f;
  }
  // Also keeps subnormal inputs out of the arithmetic below, so an FPU that
  // flushes them to zero still gives the same bits.
  if (x < exp_tiny && x > -exp_tiny) {
    return 1.0f;
  }
  // Nearest integer by truncation of y +- 1/2; |k| <= 150.
  const float y = rounded(x * log2e);
  const int32_t k = static_cast<int32_t>(y < 0.0f ? y - 0.5f : y + 0.5f);
  const float kf = static_cast<float>(k);
  // x - k * ln2_hi is exact (the product is, and x is within a factor of 2
  // of it when k != 0); only the small correction rounds.
  const float r = (x - rounded(kf * ln2_hi)) - rounded(kf * ln2_lo);
  // Horner: each product c * r is a fraction of the coefficient it is added
  // to, so no intermediate value gets small enough to be subnormal.
  float q = exp_c6;
  q = rounded(q * r) + exp_c5;
  q = rounded(q * r) + exp_c4;
  q = rounded(q * r) + exp_c3;
  q = rounded(q * r) + exp_c2;
  const float p = 1.0f + (r + rounded(rounded(r * r) * q));  // in [0.70, 1.42]
  // Scale by 2^k from bits. 2^k itself is a float only for -126 <= k <= 127:
  // k = 128 (x close to the overflow limit, p < 1) takes a factor 2 first,
  // and a subnormal result is made by an exact scaling followed by one
  // rounding multiplication.
  if (k > 127) {
    return (p * 2.0f) * pow2(k - 1);
  }
  if (k < -126) {
    return (p * pow2(k + 64)) * pow2(-64);
  }
  return p * pow2(k);
}

/// Bound of sigmoid_f relative to 1 / (1 + e^-s) where the result is normal
/// (s > -87.33): the error of e (at most exp_max_rel_error, and only half of
/// it for s >= 0), plus the roundings of 1 + e and of the division.
constexpr float sigmoid_max_rel_error = exp_max_rel_error + 2.0f * unit_roundoff;

/// The logistic function 1 / (1 + e^-s), scikit-learn's expit.
/// Error: <= sigmoid_max_rel_error (= exp_max_rel_error + 2u) relative to the
/// true value where it is normal (s > -87.33); below that, within 2^-149.
/// Computed so that e^t is never large, for both signs: s >= 0 as
/// 1 / (1 + e^-s); s < 0 as e / (1 + e) with e = e^s. NaN gives NaN,
/// +inf gives 1 and -inf gives 0.
inline float sigmoid_f(float s) {
  if (s >= 0.0f) {
    return 1.0f / (1.0f + exp_f(-s));
  }
  const float e = exp_f(s);
  return e / (1.0f + e);
}

/// In place softmax of the n >= 1 values at `v`, as scikit-learn's
/// softmax: the largest value is subtracted from each (so no e^t
/// overflows), each is exponentiated with exp_f, and each divided by their
/// sum (summed in index order). Caller memory, not a table.
/// Error (first order, relative to the exact softmax of the float inputs):
/// for value i, with d_j = v_j - max,
///   (exp_max_rel_error + u|d_i|)                          its exponential
/// + (exp_max_rel_error + u max_j |d_j| + (n - 1) u)        the sum
/// + u                                                     the division,
/// where every e^d_j is normal; a term below FLT_MIN is off by at most 2^-149.
inline void softmax_f(float* v, uint32_t n) {
  if (n == 0u) {
    return;
  }
  float largest = v[0];
  for (uint32_t i = 1; i < n; ++i) {
    if (v[i] > largest) {
      largest = v[i];
    }
  }
  float sum = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    v[i] = exp_f(v[i] - largest);
    sum += v[i];
  }
  for (uint32_t i = 0; i < n; ++i) {
    v[i] /= sum;
  }
}

/// Divides the n >= 1 values at `v` by their sum (summed in index order),
/// as scikit-learn normalises one-vs-rest probabilities. Where the sum is 0
/// every value becomes 1/n (SGDClassifier's uniform probabilities for an
/// all-zero row). Error for non-negative values: <= (n - 1)u from the sum
/// plus u from the division, relative. Caller memory, not a table.
inline void normalize_sum_f(float* v, uint32_t n) {
  float sum = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    sum += v[i];
  }
  if (sum == 0.0f) {
    const float uniform = 1.0f / static_cast<float>(n);
    for (uint32_t i = 0; i < n; ++i) {
      v[i] = uniform;
    }
    return;
  }
  for (uint32_t i = 0; i < n; ++i) {
    v[i] /= sum;
  }
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_MATH_HPP
