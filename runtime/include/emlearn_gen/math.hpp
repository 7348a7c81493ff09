// emlearn-gen runtime: the float math of the kernels (exp, log, sqrt, tanh,
// sigmoid, softmax, normalisation) that returns the same bits on every target.
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

/// Largest error of log_f relative to the true ln x, for every x > 0
/// (normal and subnormal) other than 1, where the result is exactly 0.
/// log_f computes ln x = k ln2 + ln m with m in [sqrt(2)/2, sqrt(2)) and
/// f = m - 1 (exact, Sterbenz), as
///   y = ((((A + k ln2_lo) - h) + f) + k ln2_hi),  h = f^2 / 2,
///   A = s (h + R(s^2)),  s = f / (2 + f),
/// where ln m = f - h + A when R is exact. First order in u, worst at the
/// ends of f in [-0.293, 0.415] (|s| <= 0.172, R <= 0.020, h <= 0.086,
/// |A| <= 0.024, |ln m| <= 0.347), the absolute errors are:
///   - h: one rounding, <= 0.086u;
///   - A: s carries 2 roundings, h + R one, the product one (4u of A,
///     <= 0.096u), R's 5 roundings weigh s R (<= 0.017u) and h's error
///     weighs s h (<= 0.015u): <= 0.128u;
///   - the three inner sums: u times |A + k ln2_lo|, |A - h| and
///     |ln m + k ln2_lo|, <= 0.025u + 0.062u + 0.347u;
///   - truncation of R (2^-34 of s^3) and k ln2_lo (one rounding of at most
///     150 * 1.43e-6, and the split of ln2 exact to 2^-48 of k ln2): below
///     0.002u of |y|;
///   - k ln2_hi is exact (15 significant bits times |k| <= 150).
/// In all <= 0.65u absolute. Where k != 0, |y| >= ln2 - 0.347 = 0.347
/// (x just below sqrt(2)/2 with k = -1, or just above sqrt(2) with k = 1),
/// so 0.65u / 0.347 = 1.87u relative, plus the final sum's rounding u.
/// Where k = 0 the final sum adds +0 exactly and the sum with f is the last
/// rounding: (0.65u - 0.347u) / |ln m| + u, smaller. 1.87u + u + 0.002u =
/// 2.87u, rounded up to 3.1u.
constexpr float log_max_rel_error = 3.1f * unit_roundoff;

namespace detail {

// log_f's coefficients: R(z) = Lg1 z + Lg2 z^2 + Lg3 z^3 + Lg4 z^4
// approximates (ln(1 + s) - ln(1 - s)) / s - 2 for z = s^2, s in
// [-0.1716, 0.1716], to 2^-34.24 (the coefficients of FreeBSD's e_logf.c).
constexpr float log_lg1 = 0.666666627f;  // 0x3f2aaaaa
constexpr float log_lg2 = 0.400009722f;  // 0x3ecccce1
constexpr float log_lg3 = 0.284987867f;  // 0x3e91e9ee
constexpr float log_lg4 = 0.242790788f;  // 0x3e789e26

inline float quiet_nan() { return bits_float(0x7FC00000u); }

}  // namespace detail

/// The natural logarithm ln x in float, the same bits on every IEEE binary32
/// target. Error: <= log_max_rel_error (3.1u) relative to ln x for every
/// x > 0, subnormals included; ln 1 = +0 exactly. +0 and -0 give -INFINITY,
/// negative x and NaN give NaN, +INFINITY gives +INFINITY.
///
/// Method: x = 2^k m with m in [sqrt(2)/2, sqrt(2)), taken from the bits
/// (a subnormal x is normalised with integer shifts, so an FPU that flushes
/// subnormals to zero gives the same bits); ln m = 2 atanh(s) with
/// s = (m - 1) / (m + 1), evaluated as f - f^2/2 + s (f^2/2 + R(s^2)) so the
/// large terms are exact. Stack: a few words.
inline float log_f(float x) {
  using namespace detail;
  uint32_t bits = float_bits(x);
  if ((bits << 1) == 0u) {
    return -bits_float(0x7F800000u);  // ln(+-0) = -INFINITY
  }
  if (bits >= 0x7F800000u) {
    // NaN, or the sign bit: negative numbers and -INFINITY; +INFINITY stays.
    return bits == 0x7F800000u ? x : quiet_nan();
  }
  int32_t k = 0;
  if (bits < 0x00800000u) {
    // Subnormal: shift the fraction up to the hidden bit, exponent field 1.
    while (bits < 0x00800000u) {
      bits <<= 1;
      --k;
    }
    bits = (bits & 0x007FFFFFu) | 0x00800000u;
  }
  // Reduce: the exponent that puts the significand in [sqrt(2)/2, sqrt(2))
  // (0x3f3504f3 is sqrt(2)/2 rounded).
  bits += 0x3F800000u - 0x3F3504F3u;
  k += static_cast<int32_t>(bits >> 23) - 127;
  bits = (bits & 0x007FFFFFu) + 0x3F3504F3u;
  const float f = bits_float(bits) - 1.0f;  // exact: m within a factor 2 of 1
  if (f == 0.0f && k == 0) {
    return 0.0f;
  }
  const float s = f / (2.0f + f);
  const float z = rounded(s * s);
  const float w = rounded(z * z);
  const float t1 = rounded(w * (log_lg2 + rounded(w * log_lg4)));
  const float t2 = rounded(z * (log_lg1 + rounded(w * log_lg3)));
  const float r = t1 + t2;
  const float h = rounded(rounded(0.5f * f) * f);
  const float kf = static_cast<float>(k);
  return (((rounded(s * (h + r)) + rounded(kf * ln2_lo)) - h) + f) + rounded(kf * ln2_hi);
}

/// sqrt_f is correctly rounded: within half an ulp, u relative.
constexpr float sqrt_max_rel_error = unit_roundoff;

/// The square root of x in float, correctly rounded (to nearest even), the
/// same bits on every target: error <= half an ulp, that is
/// sqrt_max_rel_error = u relative. -0 gives -0, negative x and NaN give
/// NaN, +INFINITY gives +INFINITY.
///
/// Method: integer square root of the significand, scaled to 48 bits so
/// the root has 24; the remainder decides the rounding (a square root is
/// never exactly halfway between two floats). No sqrtf, no FPU sqrt
/// instruction and no float arithmetic at all, so neither the C library nor
/// the compiler's choice of instruction can change a bit. Stack: a few
/// words.
inline float sqrt_f(float x) {
  using namespace detail;
  uint32_t bits = float_bits(x);
  if ((bits << 1) == 0u || bits == 0x7F800000u) {
    return x;  // +-0, +INFINITY
  }
  if (bits > 0x7F800000u) {
    return quiet_nan();  // NaN, and every negative number
  }
  // x = m 2^(e - 150) with m in [2^23, 2^24).
  int32_t e = static_cast<int32_t>(bits >> 23);
  uint32_t m = bits & 0x007FFFFFu;
  if (e == 0) {
    e = 1;
    while (m < 0x00800000u) {
      m <<= 1;
      --e;
    }
  } else {
    m |= 0x00800000u;
  }
  e -= 150;
  // M = m 2^j with e - j even and M in [2^46, 2^48): sqrt(x) =
  // sqrt(M) 2^((e - j) / 2), and sqrt(M) in [2^23, 2^24).
  const int32_t j = ((e - 23) & 1) != 0 ? 24 : 23;
  uint64_t rem = static_cast<uint64_t>(m) << j;
  uint64_t root = 0u;
  // Digit-by-digit root: root ends as floor(sqrt(M)), rem as M - root^2.
  for (uint64_t bit = static_cast<uint64_t>(1) << 46; bit != 0u; bit >>= 2) {
    if (rem >= root + bit) {
      rem -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
  }
  // sqrt(M) > root + 1/2 exactly when M > root^2 + root + 1/4, that is
  // (integers) rem > root.
  if (rem > root) {
    ++root;
  }
  // root has the hidden bit 2^23: adding it to the exponent field less one
  // sets the exponent, and a carry to 2^24 moves to the next binade.
  const int32_t field = (e - j) / 2 + 150;  // e - j is even
  return bits_float((static_cast<uint32_t>(field - 1) << 23) + static_cast<uint32_t>(root));
}

/// Largest error of tanh_f relative to the true tanh x (any x != 0 whose
/// result is normal; tanh_f(x) = x exactly below 2^-12 in magnitude, where
/// the true value is within u/3 relative of it):
///   - |x| >= 0.625: (1 - e) / (1 + e) with e = e^(-2|x|) <= 0.2865 from
///     exp_f (relative E = exp_max_rel_error; -2|x| is exact). 1 - e carries
///     E e / (1 - e) of e's error plus one rounding, 1 + e carries
///     E e / (1 + e) plus one rounding, and the division one: relative
///     E 2e / (1 - e^2) + 3u <= 0.624 E + 3u = 4.13u at |x| = 0.625,
///     decreasing with |x|;
///   - |x| < 0.625: x + x z P(z), z = x^2, with P of degree 4 fitted to
///     (tanh(x)/x - 1)/z: truncation <= 0.15u; x z P <= 0.13 tanh x, so
///     the roundings of z, of P (Horner, 4 products and 4 sums: <= 2.1u of
///     P) and of the two products carry <= 0.13 (5.1u) = 0.66u; the final
///     sum u. In all <= 1.9u.
/// 4.13u, rounded up to 4.2u.
constexpr float tanh_max_rel_error = 4.2f * unit_roundoff;

namespace detail {

constexpr float tanh_poly_limit = 0.625f;  // below: the polynomial
constexpr float tanh_one = 9.03f;  // above: 1 - tanh < 2^-25, so tanh rounds to 1
constexpr float tanh_tiny = 2.44140625e-04f;  // 2^-12: below, tanh x rounds to x
// Coefficients of P(z) ~ (tanh(sqrt z)/sqrt z - 1)/z on z in [0, 0.390625],
// fitted for the error relative to tanh.
constexpr float tanh_p0 = -0.333332807f;   // 0xbeaaaa99
constexpr float tanh_p1 = 0.133314416f;    // 0x3e088393
constexpr float tanh_p2 = -0.0537397154f;  // 0xbd5c1e2d
constexpr float tanh_p3 = 0.0206390843f;   // 0x3ca9134c
constexpr float tanh_p4 = -0.00570498407f; // 0xbbbaf0e0

}  // namespace detail

/// The hyperbolic tangent in float, the same bits on every IEEE binary32
/// target. Error: <= tanh_max_rel_error (4.2u) relative to tanh x. Odd by
/// construction (tanh_f(-x) = -tanh_f(x), signed zeros kept); |x| > 9.03
/// and +-INFINITY give +-1; NaN gives NaN.
///
/// Method: for |x| >= 0.625, (1 - e) / (1 + e) with e = exp_f(-2|x|) <= 1,
/// which never overflows; below, an odd polynomial, which avoids the
/// cancellation of 1 - e near 0. Stack: a few words.
inline float tanh_f(float x) {
  using namespace detail;
  if (x != x) {
    return x;  // NaN
  }
  const bool negative = (float_bits(x) >> 31) != 0u;
  const float t = negative ? -x : x;
  float y;
  if (t > tanh_one) {
    y = 1.0f;
  } else if (t >= tanh_poly_limit) {
    const float e = exp_f(-2.0f * t);
    y = (1.0f - e) / (1.0f + e);
  } else if (t >= tanh_tiny) {
    const float z = rounded(t * t);
    float p = tanh_p4;
    p = rounded(p * z) + tanh_p3;
    p = rounded(p * z) + tanh_p2;
    p = rounded(p * z) + tanh_p1;
    p = rounded(p * z) + tanh_p0;
    y = t + rounded(rounded(t * z) * p);
  } else {
    y = t;  // also keeps subnormal inputs out of the arithmetic
  }
  return negative ? -y : y;
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

// ---- log-sum-exp ----------------------------------------------------------

namespace emlearn_gen {

/// ln(sum_i e^v_i) of the n >= 1 values at `v` (caller memory, not a table),
/// as scikit-learn's logsumexp: the largest value m is taken out, so no e^t
/// overflows, and m + ln(sum_i e^(v_i - m)) returned. The sum is at least 1
/// (the largest term is exp_f(0) = 1 exactly) and at most n, so log_f sees
/// no cancellation. A largest value that is not finite is returned as it is
/// (all -inf gives -inf, any +inf gives +inf, as scikit-learn); NaN values
/// other than v[0] are skipped by the comparisons.
/// Error (first order, absolute, relative to the exact log-sum-exp of the
/// float inputs), with d_i = v_i - m:
///   exp_max_rel_error + u max_i |d_i|   each e^d_i (exp_f, and the
///                                        rounding of d_i it amplifies)
/// + (n - 1) u                            the sum of positive terms
/// + log_max_rel_error ln(n)              log_f of a sum in [1, n]
/// + u |result|                           the final addition,
/// plus n 2^-150 for terms below FLT_MIN. Stack: a few words.
inline float logsumexp_f(const float* v, uint32_t n) {
  float largest = v[0];
  for (uint32_t i = 1; i < n; ++i) {
    if (v[i] > largest) {
      largest = v[i];
    }
  }
  // Decided on the bits: -ffinite-math-only may fold comparisons with inf.
  if ((detail::float_bits(largest) & 0x7F800000u) == 0x7F800000u) {
    return largest;
  }
  float sum = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    sum += exp_f(v[i] - largest);
  }
  return largest + log_f(sum);
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_MATH_HPP
