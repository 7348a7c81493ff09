// emlearn-gen runtime: IEEE binary64 in software, for targets whose `double`
// has 32 bits (avr-g++), so that float64 models compute there exactly what
// they compute on the host: the few operations the kernels use (addition,
// division by a count, comparison, rounding to float) with round-to-nearest-
// even, subnormals included, on integers only.
//
// `real64` is the type float64 model tables and sums use: plain `double`
// where it has 64 bits, soft_double elsewhere. Model values are finite.
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

}  // namespace f64

/// a + b, correctly rounded.
inline soft_double add(soft_double a, soft_double b) {
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

template <typename Real>
inline Real zero() {
  return Real(0);
}
template <>
inline soft_double zero<soft_double>() {
  soft_double z = {0u};
  return z;
}

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
