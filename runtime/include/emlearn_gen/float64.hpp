// emlearn-gen runtime: IEEE binary64 in software, for targets whose `double`
// has 32 bits (avr-g++), so that float64 models compute there exactly what
// they compute on the host: the operations the kernels use (addition,
// subtraction, multiplication, division, comparison, rounding to float)
// with round-to-nearest-even, subnormals included, on integers only; and
// exp_r64, built from those operations alone.
//
// `real64` is the type float64 model tables and sums use: plain `double`
// where it has 64 bits, soft_double elsewhere. Model values are finite.
// Kernels call add, subtract, multiply and divide rather than the
// operators, so one kernel compiles for both types, and so that on `double`
// a product is rounded before any sum (no fused multiply-add).
#ifndef EMLEARN_GEN_FLOAT64_HPP
#define EMLEARN_GEN_FLOAT64_HPP

#include "common.hpp"

namespace emlearn_gen {

/// A binary64 value held as its bit pattern.
struct soft_double {
  uint64_t bits;
};

namespace f64 {

constexpr uint64_t sign_bit = static_cast<uint64_t>(1) << 63;
constexpr uint64_t hidden_bit = static_cast<uint64_t>(1) << 52;
constexpr uint64_t fraction_mask = hidden_bit - 1u;

// Unpacked magnitude: value = m * 2^(e - 1078), with three extra low bits
// (guard, round, sticky) below binary64's 53-bit significand.
struct unpacked {
  int16_t e;
  uint64_t m;
};

inline unpacked unpack(uint64_t bits) {
  const int16_t field = static_cast<int16_t>((bits >> 52) & 0x7FFu);
  const uint64_t fraction = bits & fraction_mask;
  unpacked u;
  u.e = field == 0 ? int16_t(1) : field;  // subnormals share exponent 1
  u.m = (field == 0 ? fraction : (fraction | hidden_bit)) << 3;
  return u;
}

// Shifts right by `n`, folding every bit shifted out into the sticky bit 0.
inline uint64_t shift_right_sticky(uint64_t m, int32_t n) {
  if (n <= 0) {
    return m;
  }
  if (n >= 63) {
    return m != 0u ? 1u : 0u;
  }
  const uint64_t lost = m & ((static_cast<uint64_t>(1) << n) - 1u);
  return (m >> n) | (lost != 0u ? 1u : 0u);
}

// Rounds sign * m * 2^(e - 1078) to nearest even and packs it. `m` may hold
// up to 63 bits; the result is finite or infinite, never NaN.
inline soft_double round_pack(bool negative, int32_t e, uint64_t m) {
  const uint64_t sign = negative ? sign_bit : 0u;
  if (m == 0u) {
    soft_double zero = {sign};
    return zero;
  }
  const uint64_t top = static_cast<uint64_t>(1) << 55;  // hidden bit, shifted by 3
  while (m >= (top << 1)) {
    m = shift_right_sticky(m, 1);
    ++e;
  }
  while (m < top && e > 1) {
    m <<= 1;
    --e;
  }
  if (e < 1) {
    m = shift_right_sticky(m, 1 - e);
    e = 1;
  }
  const uint32_t low = static_cast<uint32_t>(m & 7u);
  m >>= 3;
  if (low > 4u || (low == 4u && (m & 1u))) {
    ++m;
  }
  if (m >= (hidden_bit << 1)) {
    m >>= 1;
    ++e;
  }
  soft_double out;
  if (e >= 0x7FF) {
    out.bits = sign | (static_cast<uint64_t>(0x7FF) << 52);
  } else if (m < hidden_bit) {
    out.bits = sign | m;  // subnormal
  } else {
    out.bits = sign | (static_cast<uint64_t>(e) << 52) | (m & fraction_mask);
  }
  return out;
}

inline bool is_zero(soft_double x) { return (x.bits << 1) == 0u; }

constexpr uint64_t exponent_mask = static_cast<uint64_t>(0x7FF) << 52;
constexpr uint64_t infinity_bits = exponent_mask;
constexpr uint64_t quiet_nan_bits = exponent_mask | (static_cast<uint64_t>(1) << 51);

// Infinity or NaN. Tested on the exponent field shifted down: avr-g++ 5.4
// folds `(bits & exponent_mask) == exponent_mask` to false.
inline bool is_special(uint64_t bits) { return ((bits >> 52) & 0x7FFu) == 0x7FFu; }
inline bool is_nan(uint64_t bits) { return (bits & ~sign_bit) > infinity_bits; }

// The significand of a finite nonzero value with its leading bit moved to
// bit 52, and the exponent field that goes with it (below 1 for
// subnormals): value = m * 2^(e - 1075).
inline unpacked unpack_normalised(uint64_t bits) {
  unpacked u = unpack(bits);
  u.m >>= 3;
  while (u.m < hidden_bit) {
    u.m <<= 1;
    --u.e;
  }
  return u;
}

// The 128-bit product a * b of two values below 2^64, as high and low
// words, from 32-bit halves (no 128-bit type on AVR or 32-bit ARM).
inline void multiply_wide(uint64_t a, uint64_t b, uint64_t* high, uint64_t* low) {
  const uint64_t mask = 0xFFFFFFFFu;
  const uint64_t a0 = a & mask;
  const uint64_t a1 = a >> 32;
  const uint64_t b0 = b & mask;
  const uint64_t b1 = b >> 32;
  const uint64_t p00 = a0 * b0;
  const uint64_t p01 = a0 * b1;
  const uint64_t p10 = a1 * b0;
  const uint64_t p11 = a1 * b1;
  const uint64_t middle = (p00 >> 32) + (p01 & mask) + (p10 & mask);
  *low = (middle << 32) | (p00 & mask);
  *high = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
}

inline soft_double from_bits(uint64_t bits) {
  soft_double out = {bits};
  return out;
}

}  // namespace f64

/// a + b, correctly rounded; infinities and NaN follow IEEE 754 (inf + -inf
/// is NaN), so a sum after an overflowing product is what hardware gives.
inline soft_double add(soft_double a, soft_double b) {
  if (f64::is_special(a.bits) || f64::is_special(b.bits)) {
    if (f64::is_nan(a.bits) || f64::is_nan(b.bits) ||
        (f64::is_special(a.bits) && f64::is_special(b.bits) && a.bits != b.bits)) {
      return f64::from_bits(f64::quiet_nan_bits);
    }
    return f64::is_special(a.bits) ? a : b;
  }
  if (f64::is_zero(a)) {
    // -0 + -0 is -0; any other sum with a zero is the other operand (or +0).
    if (f64::is_zero(b)) {
      soft_double zero = {a.bits & b.bits};
      return zero;
    }
    return b;
  }
  if (f64::is_zero(b)) {
    return a;
  }
  bool sign_a = (a.bits >> 63) != 0u;
  const bool sign_b = (b.bits >> 63) != 0u;
  f64::unpacked x = f64::unpack(a.bits);
  f64::unpacked y = f64::unpack(b.bits);
  if (x.e < y.e || (x.e == y.e && x.m < y.m)) {
    const f64::unpacked t = x;
    x = y;
    y = t;
    sign_a = sign_b;
  }
  const uint64_t aligned = f64::shift_right_sticky(y.m, x.e - y.e);
  const bool same_sign = ((a.bits ^ b.bits) >> 63) == 0u;
  const uint64_t m = same_sign ? x.m + aligned : x.m - aligned;
  if (m == 0u) {
    soft_double zero = {0u};  // x - x is +0 when rounding to nearest
    return zero;
  }
  return f64::round_pack(sign_a, x.e, m);
}

namespace f64 {

// add_nonnegative's rounding of `sum` at bit `shift` (a constant, so that
// its shifts are too) to nearest even, packed
// on exponent field `field`: m_b >> d was added, so the bits of m_b below d
// are the part of the exact sum below bit 0.
template <uint32_t shift>
inline uint64_t round_at(uint64_t sum, uint32_t field, uint64_t m_b, uint32_t d) {
  const uint64_t half = static_cast<uint64_t>(1) << (shift - 1u);
  const uint64_t low = sum & ((half << 1) - 1u);
  uint64_t m = sum >> shift;
  if (low > half || (low == half && ((m & 1u) != 0u || (d > 10u && (m_b & ((static_cast<uint64_t>(1) << d) - 1u)) != 0u)))) {
    ++m;
  }
  return (static_cast<uint64_t>(field) << 52) + m;
}

/// Whether add_nonnegative adds these bits: both values non-negative and
/// below 2^1023 (exponent field below 0x7FE), so finite with a finite sum.
/// Tested on the high words: one unsigned comparison each, the sign bit
/// making a negative value large.
inline bool add_nonnegative_applies(uint64_t a, uint64_t b) {
  const uint32_t limit = 0x7FE00000u;
  return static_cast<uint32_t>(a >> 32) < limit && static_cast<uint32_t>(b >> 32) < limit;
}

/// The bits of a + b, correctly rounded (to nearest, ties to even), for
/// values add_nonnegative_applies to: the generic addition less its sign,
/// special-value and cancellation cases, for sums of leaf values where
/// double is software (the generic call costs about twice as much). With
/// the larger value's significand m_a (hidden bit included) and the
/// smaller's m_b, d exponents below: S = m_a 2^10 + floor(m_b 2^(10 - d))
/// < 2^64, and S >= 2^63 is a carry into the next exponent. S is rounded at
/// bit 10 (11 after a carry) to nearest even: the bits below decide, and
/// the bits of m_b shifted out only where those are exactly one half (then
/// any of them set means more than half). Adding the rounded significand to
/// the exponent field less one, shifted into place, lets the hidden bit and
/// a rounding up to 2^53 carry into the exponent, as IEEE packing does. A
/// smaller value 2^55 or more times below the larger (d > 54) is under half
/// the larger's unit in the last place: the sum is the larger. A zero adds
/// nothing; other subnormals, which no leaf sum meets in practice, take the
/// generic addition.
inline uint64_t add_nonnegative(uint64_t a, uint64_t b) {
  if (a < b) {  // non-negative values order as their bits do
    const uint64_t t = a;
    a = b;
    b = t;
  }
  const uint32_t field_a = static_cast<uint32_t>(a >> 52);
  const uint32_t field_b = static_cast<uint32_t>(b >> 52);
  if (field_b == 0u) {
    if (b == 0u) {
      return a;
    }
    soft_double x = {a};
    soft_double y = {b};
    return add(x, y).bits;
  }
  const uint32_t d = field_a - field_b;
  if (d > 54u) {
    return a;
  }
  const uint64_t m_a = (a & fraction_mask) | hidden_bit;
  const uint64_t m_b = ((b & fraction_mask) | hidden_bit) << 10;
  const uint64_t sum = (m_a << 10) + (m_b >> d);
  if ((sum >> 63) != 0u) {
    return round_at<11>(sum, field_a, m_b, d);
  }
  return round_at<10>(sum, field_a - 1u, m_b, d);
}
}  // namespace f64

/// x / n for a count n >= 1, correctly rounded.
inline soft_double divide(soft_double x, uint32_t n) {
  if (f64::is_zero(x) || n == 1u) {
    return x;
  }
  const f64::unpacked u = f64::unpack(x.bits);
  const uint64_t significand = u.m >> 3;
  uint64_t q = significand / n;
  uint64_t r = significand % n;
  int32_t extra = 0;
  // Long division, one bit at a time, until the quotient has its hidden bit
  // and three more below it; the rest of the remainder is the sticky bit.
  while (q < (static_cast<uint64_t>(1) << 55)) {
    r <<= 1;
    q <<= 1;
    if (r >= n) {
      r -= n;
      q |= 1u;
    }
    ++extra;
  }
  q |= (r != 0u) ? 1u : 0u;
  return f64::round_pack((x.bits >> 63) != 0u, u.e + 3 - extra, q);
}

/// -x (exact; flips the sign bit).
inline soft_double negate(soft_double x) { return f64::from_bits(x.bits ^ f64::sign_bit); }

/// a - b, correctly rounded: a + (-b).
inline soft_double subtract(soft_double a, soft_double b) { return add(a, negate(b)); }

/// a * b, correctly rounded, subnormals included. Overflow gives infinity;
/// infinities and NaN follow IEEE 754 (0 * inf is NaN).
inline soft_double multiply(soft_double a, soft_double b) {
  const uint64_t sign = (a.bits ^ b.bits) & f64::sign_bit;
  if (f64::is_special(a.bits) || f64::is_special(b.bits)) {
    if (f64::is_nan(a.bits) || f64::is_nan(b.bits) || f64::is_zero(a) || f64::is_zero(b)) {
      return f64::from_bits(f64::quiet_nan_bits);
    }
    return f64::from_bits(sign | f64::infinity_bits);
  }
  if (f64::is_zero(a) || f64::is_zero(b)) {
    return f64::from_bits(sign);
  }
  const f64::unpacked x = f64::unpack_normalised(a.bits);
  const f64::unpacked y = f64::unpack_normalised(b.bits);
  // Both significands in [2^52, 2^53): the product in [2^104, 2^106).
  // Keep its top 62 bits, with every lower bit folded into a sticky bit:
  // a * b = m * 2^(x.e + y.e - 2106) = m * 2^(e - 1078).
  uint64_t high = 0u;
  uint64_t low = 0u;
  f64::multiply_wide(x.m, y.m, &high, &low);
  const uint64_t lost = low & ((static_cast<uint64_t>(1) << 44) - 1u);
  const uint64_t m = (high << 20) | (low >> 44) | (lost != 0u ? 1u : 0u);
  return f64::round_pack(sign != 0u, x.e + y.e - 1028, m);
}

/// a / b, correctly rounded, subnormals included. Overflow gives infinity;
/// division by zero, infinities and NaN follow IEEE 754 (x / +-0 is +-inf
/// for x != 0, 0 / 0 and inf / inf are NaN).
inline soft_double divide(soft_double a, soft_double b) {
  const uint64_t sign = (a.bits ^ b.bits) & f64::sign_bit;
  if (f64::is_nan(a.bits) || f64::is_nan(b.bits)) {
    return f64::from_bits(f64::quiet_nan_bits);
  }
  const bool a_inf = f64::is_special(a.bits);
  const bool b_inf = f64::is_special(b.bits);
  if ((a_inf && b_inf) || (f64::is_zero(a) && f64::is_zero(b))) {
    return f64::from_bits(f64::quiet_nan_bits);
  }
  if (a_inf || f64::is_zero(b)) {
    return f64::from_bits(sign | f64::infinity_bits);
  }
  if (b_inf || f64::is_zero(a)) {
    return f64::from_bits(sign);
  }
  const f64::unpacked x = f64::unpack_normalised(a.bits);
  const f64::unpacked y = f64::unpack_normalised(b.bits);
  // Long division of significands in [2^52, 2^53), one quotient bit at a
  // time: 57 bits, q = floor(x.m 2^56 / y.m) in (2^55, 2^57), enough for
  // 53 bits and guard, round and sticky; a nonzero remainder is sticky.
  // a / b = q * 2^(x.e - y.e - 56) = q * 2^(e - 1078).
  uint64_t r = x.m;
  uint64_t q = 0u;
  for (int32_t i = 0; i < 57; ++i) {
    q <<= 1;
    if (r >= y.m) {
      r -= y.m;
      q |= 1u;
    }
    r <<= 1;
  }
  q |= (r != 0u) ? 1u : 0u;
  return f64::round_pack(sign != 0u, x.e - y.e + 1022, q);
}

/// a > b for finite values (+0 and -0 compare equal).
inline bool greater(soft_double a, soft_double b) {
  if (f64::is_zero(a) && f64::is_zero(b)) {
    return false;
  }
  const uint64_t ka = (a.bits >> 63) ? ~a.bits : (a.bits | f64::sign_bit);
  const uint64_t kb = (b.bits >> 63) ? ~b.bits : (b.bits | f64::sign_bit);
  return ka > kb;
}

/// x rounded to nearest float.
inline float to_float(soft_double x) {
  const uint32_t sign = static_cast<uint32_t>(x.bits >> 32) & 0x80000000u;
  uint32_t bits = sign;
  if (!f64::is_zero(x)) {
    const f64::unpacked u = f64::unpack(x.bits);
    // 53-bit significand -> 24 bits plus guard, round and sticky.
    uint64_t m = f64::shift_right_sticky(u.m >> 3, 52 - 26);
    int32_t e = u.e - 1023 + 127;
    while (m < (static_cast<uint64_t>(1) << 26) && e > 1) {
      m <<= 1;
      --e;
    }
    if (e < 1) {
      m = f64::shift_right_sticky(m, 1 - e);
      e = 1;
    }
    const uint32_t low = static_cast<uint32_t>(m & 7u);
    m >>= 3;
    if (low > 4u || (low == 4u && (m & 1u))) {
      ++m;
    }
    if (m >= (static_cast<uint64_t>(1) << 24)) {
      m >>= 1;
      ++e;
    }
    if (e >= 0xFF) {
      bits |= 0x7F800000u;
    } else if (m < (static_cast<uint64_t>(1) << 23)) {
      bits |= static_cast<uint32_t>(m);
    } else {
      bits |= (static_cast<uint32_t>(e) << 23) | (static_cast<uint32_t>(m) & 0x7FFFFFu);
    }
  }
  float out;
  memcpy(&out, &bits, sizeof out);
  return out;
}

inline soft_double& operator+=(soft_double& a, soft_double b) {
  a = add(a, b);
  return a;
}

inline bool operator>(soft_double a, soft_double b) { return greater(a, b); }

// The same operations on hardware types, so kernels are written once.
inline float divide(float x, uint32_t n) { return x / static_cast<float>(n); }
inline double divide(double x, uint32_t n) { return x / static_cast<double>(n); }
inline float to_float(float x) { return x; }
inline float to_float(double x) { return static_cast<float>(x); }

/// Returns `x` unchanged, in a way the optimiser cannot see through (as
/// math.hpp's rounded() for float): a product passed through it is rounded
/// to double before any sum uses it, so no compiler contracts the two into
/// a fused multiply-add, which soft_double cannot repeat.
inline double rounded64(double x) {
#if defined(__GNUC__)
#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2_MATH__)
  __asm__("" : "+x"(x));  // an SSE register
#elif defined(__aarch64__)
  __asm__("" : "+w"(x));  // a SIMD/FP register
#elif defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 8) && !defined(__SOFTFP__)
  __asm__("" : "+w"(x));  // a VFP double register (__ARM_FP bit 3: double precision)
#elif defined(__riscv) && defined(__riscv_flen) && __riscv_flen >= 64
  __asm__("" : "+f"(x));  // a D-extension register
#elif defined(__arm__) || defined(__AVR__)
  // Software double: a pair of core registers on ARM (AVR's 32-bit double
  // in four); no FMA there, so this only has to cost nothing.
  __asm__("" : "+r"(x));
#else
  // Software double (no FMA to fear) and anything else: through memory,
  // which also drops x87 excess precision.
  __asm__("" : "+m"(x));
#endif
  return x;
#else
  volatile double stored = x;
  return stored;
#endif
}

inline double negate(double x) { return -x; }
inline double add(double a, double b) { return a + b; }
inline double subtract(double a, double b) { return a - b; }
inline double multiply(double a, double b) { return rounded64(a * b); }
inline double divide(double a, double b) { return a / b; }
// float models run the same kernels (subtraction and division round once).
inline float subtract(float a, float b) { return a - b; }
inline float divide(float a, float b) { return a / b; }

template <typename Real>
inline Real zero() {
  return Real(0);
}
template <>
inline soft_double zero<soft_double>() {
  soft_double z = {0u};
  return z;
}

/// The count `n` as a Real, exactly (float: for n <= 2^24).
template <typename Real>
inline Real real_from_count(uint32_t n) {
  return static_cast<Real>(n);
}
template <>
inline soft_double real_from_count<soft_double>(uint32_t n) {
  soft_double x = {0u};
  if (n != 0u) {
    int32_t top = 31;
    while (!(n & (static_cast<uint32_t>(1) << top))) {
      --top;
    }
    const uint64_t fraction = (static_cast<uint64_t>(n) << (52 - top)) & f64::fraction_mask;
    x.bits = (static_cast<uint64_t>(1023 + top) << 52) | fraction;
  }
  return x;
}

namespace f64 {

// A binary64 value's bits and back, for both real64 types.
inline uint64_t to_bits(soft_double x) { return x.bits; }
template <typename Real>
inline Real real_from_bits(uint64_t bits);
template <>
inline soft_double real_from_bits<soft_double>(uint64_t bits) {
  return from_bits(bits);
}
#if !defined(__SIZEOF_DOUBLE__) || __SIZEOF_DOUBLE__ >= 8
inline uint64_t to_bits(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}
template <>
inline double real_from_bits<double>(uint64_t bits) {
  double x;
  memcpy(&x, &bits, sizeof x);
  return x;
}
#endif

// exp_r64's constants, as bit patterns.
constexpr uint64_t exp_overflow = 0x40862E42FEFA39EFull;   // 709.782712893384, the largest x with
                                                           // e^x <= DBL_MAX
constexpr uint64_t exp_underflow = 0x4087500000000000ull;  // -746 (magnitude): e^x < 2^-1076 below
constexpr uint64_t exp_tiny = 0x3C90000000000000ull;       // 2^-54: e^x rounds to 1 below
constexpr uint64_t log2e = 0x3FF71547652B82FEull;          // log2(e)
constexpr uint64_t shifter = 0x4338000000000000ull;        // 1.5 * 2^52
constexpr uint64_t ln2_hi = 0x3FE62E42FEE00000ull;  // 32 significant bits: k ln2_hi exact for
                                                    // |k| <= 2^21
constexpr uint64_t ln2_lo = 0x3DEA39EF35793C76ull;  // ln2 - ln2_hi
constexpr uint64_t one = 0x3FF0000000000000ull;
// 2^e for -1022 <= e <= 1023.
template <typename Real>
inline Real pow2(int32_t e) {
  return real_from_bits<Real>(static_cast<uint64_t>(e + 1023) << 52);
}

}  // namespace f64

/// Largest error of exp_r64 relative to the true e^x, where e^x is normal
/// (x in [-708.39, 709.78]), u = 2^-53 (first order):
///   - the reduced argument r = (x - k ln2_hi) - k ln2_lo: k ln2_hi and the
///     first difference are exact, the product k ln2_lo and the second
///     difference round: <= u |r| + 2^-76 <= 0.347u in e^r (|r| <= ln2/2);
///     ln2_hi + ln2_lo is ln2 to 2^-86, times |k| <= 1076: below 2^-75;
///   - truncation of the Taylor polynomial after r^13 and its coefficients
///     rounded to double: r^14/14! e^|r| <= 6e-18 = 0.05u, and
///     u (e^|r| - 1 - |r|) <= 0.07u, relative to e^r >= 0.707: <= 0.17u;
///   - evaluation of p = 1 + (r + r^2 q): the final sum u; r + r^2 q rounds
///     u |e^r - 1| <= 0.415u, relative to p <= 0.42u (largest at
///     r = -ln2/2, p = 0.707); r^2 q carries the roundings of r^2, of q
///     (Horner: <= 2u of q, each step's product a fraction of the
///     coefficient it is added to) and of the product, 4u of
///     r^2 q <= 0.078, relative to p <= 0.32u;
///   - scaling by 2^k: exact for normal results.
/// 0.347u + 0.17u + u + 0.42u + 0.32u = 2.26u, rounded up to 2.3u.
/// Subnormal results are p 2^k rounded once more: within
/// exp_r64_max_rel_error e^x + 2^-1075.
constexpr double exp_r64_max_rel_error = 2.3 * 1.1102230246251565e-16;

/// e^x in binary64 from add, subtract, multiply and bit operations only, so
/// `double` on the host and soft_double on AVR return the same bits.
/// Real is double (where it has 64 bits) or soft_double; call it on real64.
/// Error: <= exp_r64_max_rel_error (2.3 * 2^-53) relative to e^x where
/// the result is normal; subnormal results within that plus 2^-1075.
/// NaN gives NaN, x > 709.782712893384 gives +inf, x < -746 gives 0,
/// |x| < 2^-54 gives 1.
///
/// Method: as exp_f: e^x = 2^k e^r with k the integer nearest x log2(e)
/// (found by adding and subtracting 1.5 * 2^52, which rounds to an integer
/// without a conversion instruction), r = x - k ln2 in two parts
/// (Cody-Waite), e^r = 1 + r + r^2 q(r) with q of degree 11, and 2^k
/// applied to the bits. Stack: a few words (and soft_double temporaries).
template <typename Real>
inline Real exp_r64(Real x) {
  using namespace f64;
  static_assert(sizeof(Real) == 8, "exp_r64 needs a binary64 type: use real64");
  const uint64_t bits = to_bits(x);
  const uint64_t magnitude = bits & ~sign_bit;
  const bool negative = (bits >> 63) != 0u;
  if (magnitude > infinity_bits) {
    return x;  // NaN
  }
  if (!negative && magnitude > exp_overflow) {
    return real_from_bits<Real>(infinity_bits);
  }
  if (negative && magnitude > exp_underflow) {
    return real_from_bits<Real>(0u);
  }
  const Real unit = real_from_bits<Real>(one);
  if (magnitude < exp_tiny) {
    return unit;  // also keeps subnormal inputs out of the arithmetic
  }
  const Real y = multiply(x, real_from_bits<Real>(log2e));
  // |y| < 1077: y + 1.5 * 2^52 has ulp 1, so it is the nearest integer
  // to y (ties to even) plus 1.5 * 2^52, and its low bits hold k.
  const Real shift = real_from_bits<Real>(shifter);
  const Real rounded_y = add(y, shift);
  const int32_t k = static_cast<int32_t>(static_cast<int64_t>(to_bits(rounded_y) - shifter));
  const Real kf = subtract(rounded_y, shift);  // exact
  const Real r = subtract(subtract(x, multiply(kf, real_from_bits<Real>(ln2_hi))),
                          multiply(kf, real_from_bits<Real>(ln2_lo)));
  // q(r) = (e^r - 1 - r) / r^2 by Horner, with the Taylor coefficients
  // 1/k! for k = 13 down to 2 rounded to double (immediates, not a table,
  // so no RAM on AVR).
  Real q = real_from_bits<Real>(0x3DE6124613A86D09ull);                    // 1/13!
  q = add(multiply(q, r), real_from_bits<Real>(0x3E21EED8EFF8D898ull));  // 1/12!
  q = add(multiply(q, r), real_from_bits<Real>(0x3E5AE64567F544E4ull));  // 1/11!
  q = add(multiply(q, r), real_from_bits<Real>(0x3E927E4FB7789F5Cull));  // 1/10!
  q = add(multiply(q, r), real_from_bits<Real>(0x3EC71DE3A556C734ull));  // 1/9!
  q = add(multiply(q, r), real_from_bits<Real>(0x3EFA01A01A01A01Aull));  // 1/8!
  q = add(multiply(q, r), real_from_bits<Real>(0x3F2A01A01A01A01Aull));  // 1/7!
  q = add(multiply(q, r), real_from_bits<Real>(0x3F56C16C16C16C17ull));  // 1/6!
  q = add(multiply(q, r), real_from_bits<Real>(0x3F81111111111111ull));  // 1/5!
  q = add(multiply(q, r), real_from_bits<Real>(0x3FA5555555555555ull));  // 1/4!
  q = add(multiply(q, r), real_from_bits<Real>(0x3FC5555555555555ull));  // 1/3!
  q = add(multiply(q, r), real_from_bits<Real>(0x3FE0000000000000ull));  // 1/2!
  const Real p = add(unit, add(r, multiply(multiply(r, r), q)));  // in [0.70, 1.42]
  // 2^k as bits only for -1022 <= k <= 1023 (|k| <= 1076 here): k = 1024
  // takes a factor 2 first; a subnormal result is an exact scaling by
  // 2^(k + 200) then one rounding multiplication by 2^-200.
  if (k > 1023) {
    return multiply(multiply(p, pow2<Real>(1)), pow2<Real>(k - 1));
  }
  if (k < -1022) {
    return multiply(multiply(p, pow2<Real>(k + 200)), pow2<Real>(-200));
  }
  return multiply(p, pow2<Real>(k));
}

/// Largest error of sigmoid_r64 relative to 1 / (1 + e^-s) where the result
/// is normal: exp_r64's error, plus the roundings of 1 + e and of the
/// division (first order), as sigmoid_f.
constexpr double sigmoid_r64_max_rel_error = exp_r64_max_rel_error + 2.0 * 1.1102230246251565e-16;

/// The logistic function 1 / (1 + e^-s) (scikit-learn's expit) in binary64
/// from exp_r64, add and divide only, so every target returns the same bits.
/// Error: <= sigmoid_r64_max_rel_error relative to the true value where it
/// is normal (s > -708.39); below, within 2^-1074. Computed as sigmoid_f:
/// s >= 0 as 1 / (1 + e^-s), s < 0 as e / (1 + e) with e = e^s, so no e^t
/// is large. NaN gives NaN. Stack: a few words.
template <typename Real>
inline Real sigmoid_r64(Real s) {
  const Real unit = f64::real_from_bits<Real>(f64::one);
  if (zero<Real>() > s) {
    const Real e = exp_r64(s);
    return divide(e, add(unit, e));
  }
  return divide(unit, add(unit, exp_r64(negate(s))));
}

/// Largest error of tanh_r64 relative to the true tanh x (any x != 0 whose
/// result is normal), u = 2^-53, first order:
///   - |x| >= 0.3: (1 - e) / (1 + e) with e = exp_r64(-2|x|) <= 0.549
///     (-2|x| exact, e within E = exp_r64_max_rel_error = 2.3u): 1 - e
///     carries E e / (1 - e) plus one rounding, 1 + e carries E e / (1 + e)
///     plus one, the division one: E 2e / (1 - e^2) + 3u <= 1.57 E + 3u =
///     6.6u at |x| = 0.3, decreasing with |x|;
///   - 2^-27 <= |x| < 0.3: m = e^t - 1 for t = 2|x| < 0.6 (exact) as
///     t h(t), h(t) = sum over n = 1..16 of t^(n-1)/n! by Horner (positive
///     terms: each step's relative error is at most 2u plus w times the
///     next step's, w = t h_next / h <= 0.27, 0.17, ..., so h within 2.7u,
///     truncation below 0.01u), m within 3.7u; tanh |x| = m / (m + 2):
///     m + 2 carries m / (m + 2) <= 0.31 of m's error plus one rounding, the
///     division one: <= 3.7u (1.31) + 2u = 6.9u;
///   - |x| < 2^-27: tanh x rounds to x (|tanh x - x| < x^3 / 3 < u x / 3).
/// 6.9u, rounded up to 7.5u.
constexpr double tanh_r64_max_rel_error = 7.5 * 1.1102230246251565e-16;

namespace f64 {

constexpr uint64_t tanh_tiny = 0x3E40000000000000ull;   // 2^-27: below, tanh x rounds to x
constexpr uint64_t tanh_small = 0x3FD3333333333333ull;  // 0.3: below, the series of e^t - 1
constexpr uint64_t tanh_one = 0x403319999999999Aull;    // 19.1: above, tanh x rounds to 1
constexpr uint64_t two = 0x4000000000000000ull;

// e^t - 1 for 0 < t < 0.6, as t h(t) with h the Taylor series of
// (e^t - 1) / t to t^15/16! (the next term is below 2^-59 of h), by Horner;
// the coefficients 1/n! rounded to double are immediates (no RAM on AVR).
template <typename Real>
inline Real expm1_small(Real t) {
  Real h = real_from_bits<Real>(0x3D2AE7F3E733B81Full);  // 1/16!
  h = add(multiply(h, t), real_from_bits<Real>(0x3D6AE7F3E733B81Full));  // 1/15!
  h = add(multiply(h, t), real_from_bits<Real>(0x3DA93974A8C07C9Dull));  // 1/14!
  h = add(multiply(h, t), real_from_bits<Real>(0x3DE6124613A86D09ull));  // 1/13!
  h = add(multiply(h, t), real_from_bits<Real>(0x3E21EED8EFF8D898ull));  // 1/12!
  h = add(multiply(h, t), real_from_bits<Real>(0x3E5AE64567F544E4ull));  // 1/11!
  h = add(multiply(h, t), real_from_bits<Real>(0x3E927E4FB7789F5Cull));  // 1/10!
  h = add(multiply(h, t), real_from_bits<Real>(0x3EC71DE3A556C734ull));  // 1/9!
  h = add(multiply(h, t), real_from_bits<Real>(0x3EFA01A01A01A01Aull));  // 1/8!
  h = add(multiply(h, t), real_from_bits<Real>(0x3F2A01A01A01A01Aull));  // 1/7!
  h = add(multiply(h, t), real_from_bits<Real>(0x3F56C16C16C16C17ull));  // 1/6!
  h = add(multiply(h, t), real_from_bits<Real>(0x3F81111111111111ull));  // 1/5!
  h = add(multiply(h, t), real_from_bits<Real>(0x3FA5555555555555ull));  // 1/4!
  h = add(multiply(h, t), real_from_bits<Real>(0x3FC5555555555555ull));  // 1/3!
  h = add(multiply(h, t), real_from_bits<Real>(0x3FE0000000000000ull));  // 1/2!
  h = add(multiply(h, t), real_from_bits<Real>(0x3FF0000000000000ull));  // 1/1!
  return multiply(t, h);
}

}  // namespace f64

/// The hyperbolic tangent in binary64 from exp_r64, add, subtract, multiply
/// and divide only, so every target returns the same bits. Error: <=
/// tanh_r64_max_rel_error (7.5 * 2^-53) relative to tanh x. Odd by
/// construction (signed zeros kept); |x| > 19.1 and +-inf give +-1; NaN
/// gives NaN.
///
/// Method: for |x| >= 0.3, (1 - e) / (1 + e) with e = e^(-2|x|) <= 1, which
/// never overflows; below, m / (m + 2) with m = e^(2|x|) - 1 from its
/// Taylor series, which avoids the cancellation of 1 - e near 0 (a naive
/// 1 - 2 / (e^(2x) + 1) loses every bit there). Stack: a few words.
template <typename Real>
inline Real tanh_r64(Real x) {
  using namespace f64;
  const uint64_t bits = to_bits(x);
  const uint64_t magnitude = bits & ~sign_bit;
  if (magnitude > infinity_bits) {
    return x;  // NaN
  }
  if (magnitude < tanh_tiny) {
    return x;  // also keeps subnormal inputs out of the arithmetic
  }
  const Real t = real_from_bits<Real>(magnitude);
  const Real unit = real_from_bits<Real>(one);
  const Real twice = multiply(t, real_from_bits<Real>(two));  // exact
  Real y;
  if (magnitude > tanh_one) {
    y = unit;
  } else if (magnitude >= tanh_small) {
    const Real e = exp_r64(negate(twice));
    y = divide(subtract(unit, e), add(unit, e));
  } else {
    const Real m = expm1_small(twice);
    y = divide(m, add(m, real_from_bits<Real>(two)));
  }
  return (bits >> 63) != 0u ? negate(y) : y;
}

/// In place softmax of the n >= 1 values at `v` in binary64 (caller memory,
/// not a table), as softmax_f: the largest value is subtracted from each,
/// each exponentiated with exp_r64 and divided by their sum (summed in index
/// order). Error (first order, relative to the exact softmax of the inputs),
/// u = 2^-53, for value i with d_j = v_j - max:
///   (exp_r64_max_rel_error + u|d_i|)                      its exponential
/// + (exp_r64_max_rel_error + u max_j |d_j| + (n - 1) u)    the sum
/// + u                                                     the division,
/// where every e^d_j is normal; a term below 2^-1022 is off by at most
/// 2^-1074. Stack: a few words.
template <typename Real>
inline void softmax_r64(Real* v, uint32_t n) {
  if (n == 0u) {
    return;
  }
  Real largest = v[0];
  for (uint32_t i = 1; i < n; ++i) {
    if (v[i] > largest) {
      largest = v[i];
    }
  }
  Real sum = zero<Real>();
  for (uint32_t i = 0; i < n; ++i) {
    v[i] = exp_r64(subtract(v[i], largest));
    sum = add(sum, v[i]);
  }
  for (uint32_t i = 0; i < n; ++i) {
    v[i] = divide(v[i], sum);
  }
}

namespace f64 {

// A float's value as binary64 (exact): the float's significand and
// exponent repacked, subnormals normalised; infinities and NaN kept.
inline soft_double from_float(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  const bool negative = (b >> 31) != 0u;
  const uint32_t field = (b >> 23) & 0xFFu;
  const uint64_t fraction = b & 0x7FFFFFu;
  if (field == 0xFFu) {
    return from_bits((negative ? sign_bit : 0u) | infinity_bits | (fraction << 29));
  }
  // value = m 2^(field - 150) = m 2^(e - 1078), m < 2^24: round_pack
  // normalises it without rounding.
  const uint64_t m = field == 0u ? fraction : (fraction | 0x800000u);
  return round_pack(negative, static_cast<int32_t>(field == 0u ? 1u : field) + 928, m);
}

}  // namespace f64

/// A float's value in the arithmetic type Real (exact): float itself, or
/// binary64 (double, or soft_double).
template <typename Real>
inline Real widen(float x);
template <>
inline float widen<float>(float x) {
  return x;
}
template <>
inline soft_double widen<soft_double>(float x) {
  return f64::from_float(x);
}
#if !defined(__SIZEOF_DOUBLE__) || __SIZEOF_DOUBLE__ >= 8
template <>
inline double widen<double>(float x) {
  return static_cast<double>(x);
}
#endif

#if defined(__SIZEOF_DOUBLE__) && __SIZEOF_DOUBLE__ < 8
typedef soft_double real64;
/// A float64 table entry: its bit pattern (used here) and its value.
#define EMLEARN_GEN_F64(bits, value) {bits}
#else
typedef double real64;
#define EMLEARN_GEN_F64(bits, value) value
#endif

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_FLOAT64_HPP
