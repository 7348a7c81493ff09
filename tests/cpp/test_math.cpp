// Tests of math.hpp against double-precision references computed here with
// <math.h>, within the error bounds the header states.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "emlearn_gen/math.hpp"

namespace {

using emlearn_gen::exp_f;
using emlearn_gen::exp_max_rel_error;
using emlearn_gen::log_f;
using emlearn_gen::log_max_rel_error;
using emlearn_gen::sqrt_f;
using emlearn_gen::sqrt_max_rel_error;
using emlearn_gen::tanh_f;
using emlearn_gen::tanh_max_rel_error;
using emlearn_gen::normalize_sum_f;
using emlearn_gen::sigmoid_f;
using emlearn_gen::sigmoid_max_rel_error;
using emlearn_gen::softmax_f;

// Float facts, derived here rather than taken from the header.
const double kU = std::ldexp(1.0, -24);            // unit roundoff
const double kFltMin = std::ldexp(1.0, -126);      // smallest normal
const double kFltMax = static_cast<double>(std::numeric_limits<float>::max());
const double kSubnormalUlp = std::ldexp(1.0, -149);
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

uint32_t bits_of(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

float from_bits(uint32_t b) {
  float x;
  memcpy(&x, &b, sizeof x);
  return x;
}

double rel_error(float got, double want) { return fabs(static_cast<double>(got) - want) / fabs(want); }

TEST(Rounded, ReturnsItsArgumentBitForBit) {
  const float values[] = {0.0f, -0.0f, 1.5f, -3.25e-41f, 3.4e38f, kInf, -kInf, kNaN};
  for (float v : values) {
    EXPECT_EQ(bits_of(emlearn_gen::rounded(v)), bits_of(v)) << v;
  }
}

TEST(Rounded, RoundsAProductBeforeTheSum) {
  // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: the last term is lost when the
  // product is rounded, kept by a fused multiply-add.
  volatile float a = 1.0f + 1.0f / 4096.0f;
  volatile float c = -(1.0f + 1.0f / 2048.0f);
  const float got = emlearn_gen::rounded(a * a) + c;
  EXPECT_EQ(got, 0.0f);
}

TEST(UnitRoundoff, IsTwoToTheMinus24) {
  EXPECT_EQ(static_cast<double>(emlearn_gen::unit_roundoff), kU);
}

// Every 64th float bit pattern whose e^x is normal, both signs: about
// 35 million points spread over the whole range, against double exp.
TEST(ExpF, RelativeErrorWithinStatedBoundOverTheNormalRange) {
  double worst = 0.0;
  uint32_t worst_bits = 0;
  uint64_t checked = 0;
  for (uint64_t b = 0; b < (static_cast<uint64_t>(1) << 32); b += 64u) {
    const float x = from_bits(static_cast<uint32_t>(b));
    if (x != x) {
      continue;
    }
    const double want = exp(static_cast<double>(x));
    if (!(want >= kFltMin && want <= kFltMax)) {
      continue;
    }
    const double err = rel_error(exp_f(x), want);
    ++checked;
    if (err > worst) {
      worst = err;
      worst_bits = static_cast<uint32_t>(b);
    }
  }
  printf("exp_f: max relative error %.4g (%.3f u) at x = %.9g (0x%08x) over %llu points; bound %.4g\n",
         worst, worst / kU, static_cast<double>(from_bits(worst_bits)), worst_bits,
         static_cast<unsigned long long>(checked), static_cast<double>(exp_max_rel_error));
  EXPECT_GT(checked, 30000000u);
  EXPECT_LE(worst, static_cast<double>(exp_max_rel_error)) << "at 0x" << std::hex << worst_bits;
  // The bound is not slack by orders of magnitude either.
  EXPECT_GT(worst, 0.5 * kU);
}

TEST(ExpF, SubnormalResultsWithinOneRoundingOfTheBound) {
  // Every float from where e^x is the smallest normal down to where it
  // rounds to 0.
  const float top = static_cast<float>(log(kFltMin));
  uint64_t checked = 0;
  for (float x = top; x > -104.5f; x = nextafterf(x, -kInf)) {
    const double want = exp(static_cast<double>(x));
    const double got = static_cast<double>(exp_f(x));
    ASSERT_LE(fabs(got - want), static_cast<double>(exp_max_rel_error) * want + kSubnormalUlp / 2)
        << "x = " << x;
    ++checked;
  }
  EXPECT_GT(checked, 1000000u);
}

TEST(ExpF, SpecialValues) {
  EXPECT_TRUE(std::isnan(exp_f(kNaN)));
  EXPECT_TRUE(std::isnan(exp_f(-kNaN)));
  EXPECT_EQ(exp_f(kInf), kInf);
  EXPECT_EQ(exp_f(-kInf), 0.0f);
  EXPECT_EQ(exp_f(0.0f), 1.0f);
  EXPECT_EQ(exp_f(-0.0f), 1.0f);
  EXPECT_EQ(exp_f(std::numeric_limits<float>::denorm_min()), 1.0f);
  EXPECT_EQ(exp_f(-std::numeric_limits<float>::min()), 1.0f);
  EXPECT_EQ(exp_f(std::numeric_limits<float>::max()), kInf);
  EXPECT_EQ(exp_f(-std::numeric_limits<float>::max()), 0.0f);
  EXPECT_EQ(exp_f(-200.0f), 0.0f);
}

TEST(ExpF, OverflowsExactlyWhereTheTrueValueRoundsToInfinity) {
  // The largest float whose e^x rounds to a finite float: e^x below
  // FLT_MAX + half an ulp of it.
  const double limit = kFltMax * (1.0 + std::ldexp(1.0, -25));
  float last_finite = 88.0f;
  while (exp(static_cast<double>(nextafterf(last_finite, kInf))) < limit) {
    last_finite = nextafterf(last_finite, kInf);
  }
  const float finite = exp_f(last_finite);
  EXPECT_TRUE(std::isfinite(finite)) << last_finite;
  EXPECT_LE(rel_error(finite, exp(static_cast<double>(last_finite))), static_cast<double>(exp_max_rel_error));
  EXPECT_EQ(exp_f(nextafterf(last_finite, kInf)), kInf);
}

TEST(ExpF, TinyArgumentsGiveOne) {
  // |x| < 2^-25: e^x rounds to 1; just above, it must not be stuck at 1.
  const float tiny = std::ldexp(1.0f, -25);
  EXPECT_EQ(exp_f(nextafterf(tiny, 0.0f)), 1.0f);
  EXPECT_EQ(exp_f(-nextafterf(tiny, 0.0f)), 1.0f);
  EXPECT_GT(exp_f(std::ldexp(1.0f, -22)), 1.0f);
  EXPECT_LT(exp_f(-std::ldexp(1.0f, -22)), 1.0f);
}

TEST(ExpF, AccurateAroundIntegerMultiplesOfLn2) {
  // x = k ln2 rounded to float: the reduction is exercised at both ends
  // of every k, including k = 128 and the subnormal scaling.
  for (int k = -126; k <= 127; ++k) {
    const float x = static_cast<float>(k * log(2.0));
    for (float v : {nextafterf(x, -kInf), x, nextafterf(x, kInf)}) {
      const double want = exp(static_cast<double>(v));
      if (want < kFltMin || want > kFltMax) {
        continue;
      }
      EXPECT_LE(rel_error(exp_f(v), want), static_cast<double>(exp_max_rel_error)) << "x = " << v;
    }
  }
}

double sigmoid_ref(double s) { return 1.0 / (1.0 + exp(-s)); }

// Every 32nd positive float bit pattern, subnormals included: about 67
// million points, against double log.
TEST(LogF, RelativeErrorWithinStatedBoundOverPositiveFloats) {
  double worst = 0.0;
  uint32_t worst_bits = 0;
  uint64_t checked = 0;
  for (uint32_t b = 1; b < 0x7F800000u; b += 32u) {
    const float x = from_bits(b);
    const double want = log(static_cast<double>(x));
    const float got = log_f(x);
    if (want == 0.0) {
      ASSERT_EQ(bits_of(got), 0u);
      continue;
    }
    const double err = rel_error(got, want);
    ++checked;
    if (err > worst) {
      worst = err;
      worst_bits = b;
    }
  }
  printf("log_f: max relative error %.4g (%.3f u) at x = %.9g (0x%08x) over %llu points; bound %.4g\n",
         worst, worst / kU, static_cast<double>(from_bits(worst_bits)), worst_bits,
         static_cast<unsigned long long>(checked), static_cast<double>(log_max_rel_error));
  EXPECT_GT(checked, 65000000u);
  EXPECT_LE(worst, static_cast<double>(log_max_rel_error)) << "at 0x" << std::hex << worst_bits;
  EXPECT_GT(worst, 0.5 * kU);
}

TEST(LogF, EveryFloatAroundOneAndTheReductionEdges) {
  // Where the result is smallest relative to its terms: next to 1, and on
  // both sides of sqrt(2)/2 and sqrt(2) where the reduction changes k.
  const float centres[] = {1.0f, 0.70710677f, 1.41421354f, 0.35355339f, 2.82842708f, 0.5f, 2.0f};
  for (float c : centres) {
    float x = c;
    for (int i = 0; i < 200000; ++i) {
      x = nextafterf(x, 0.0f);
    }
    for (int i = 0; i < 400000; ++i, x = nextafterf(x, kInf)) {
      const double want = log(static_cast<double>(x));
      if (want == 0.0) {
        ASSERT_EQ(bits_of(log_f(x)), 0u);
        continue;
      }
      ASSERT_LE(rel_error(log_f(x), want), static_cast<double>(log_max_rel_error)) << "x = " << x;
    }
  }
}

TEST(LogF, SpecialValues) {
  EXPECT_EQ(log_f(0.0f), -kInf);
  EXPECT_EQ(log_f(-0.0f), -kInf);
  EXPECT_EQ(log_f(kInf), kInf);
  EXPECT_TRUE(std::isnan(log_f(-kInf)));
  EXPECT_TRUE(std::isnan(log_f(-1.0f)));
  EXPECT_TRUE(std::isnan(log_f(-std::numeric_limits<float>::denorm_min())));
  EXPECT_TRUE(std::isnan(log_f(kNaN)));
  EXPECT_TRUE(std::isnan(log_f(-kNaN)));
  EXPECT_EQ(bits_of(log_f(1.0f)), 0u);
  // Exact powers of two are k ln2 from the split constants.
  EXPECT_LE(rel_error(log_f(std::numeric_limits<float>::denorm_min()), -149.0 * log(2.0)),
            static_cast<double>(log_max_rel_error));
  EXPECT_LE(rel_error(log_f(std::numeric_limits<float>::max()), log(kFltMax)),
            static_cast<double>(log_max_rel_error));
}

TEST(LogF, InvertsExpF) {
  // ln(e^x) returns x within the two bounds, on a grid across exp's range.
  for (float x = -80.0f; x < 80.0f; x += 0.37f) {
    const double y = static_cast<double>(log_f(exp_f(x)));
    const double tol = static_cast<double>(exp_max_rel_error) + static_cast<double>(log_max_rel_error) * fabs(y);
    EXPECT_NEAR(y, static_cast<double>(x), tol * 1.01 + 1e-12) << x;
  }
}

// Correct rounding, compared bit for bit: double's sqrt is correctly
// rounded with 53 >= 2 * 24 + 2 bits, so rounding it to float is too.
float reference_sqrt(float x) { return static_cast<float>(sqrt(static_cast<double>(x))); }

TEST(SqrtF, CorrectlyRoundedOnEveryFloatOfTwoBinadesAndSubnormals) {
  // [1, 4) covers both parities of the exponent; the subnormals every
  // normalisation shift.
  for (uint32_t b = 0x3F800000u; b < 0x40800000u; ++b) {
    ASSERT_EQ(bits_of(sqrt_f(from_bits(b))), bits_of(reference_sqrt(from_bits(b)))) << std::hex << b;
  }
  for (uint32_t b = 1u; b < 0x00800000u; b += 3u) {
    ASSERT_EQ(bits_of(sqrt_f(from_bits(b))), bits_of(reference_sqrt(from_bits(b)))) << std::hex << b;
  }
}

TEST(SqrtF, CorrectlyRoundedAcrossTheWholeRange) {
  uint64_t checked = 0;
  for (uint32_t b = 0x00800000u; b < 0x7F800000u; b += 61u) {
    ASSERT_EQ(bits_of(sqrt_f(from_bits(b))), bits_of(reference_sqrt(from_bits(b)))) << std::hex << b;
    ++checked;
  }
  EXPECT_GT(checked, 30000000u);
  // Squares of floats: exact results.
  for (float r = 1e-20f; r < 1e19f; r *= 1.37f) {
    const float square = r * r;
    EXPECT_EQ(bits_of(sqrt_f(square)), bits_of(reference_sqrt(square))) << r;
  }
  EXPECT_EQ(sqrt_f(std::numeric_limits<float>::max()), reference_sqrt(std::numeric_limits<float>::max()));
  EXPECT_EQ(static_cast<double>(sqrt_max_rel_error), kU);
}

TEST(SqrtF, SpecialValues) {
  EXPECT_EQ(bits_of(sqrt_f(0.0f)), bits_of(0.0f));
  EXPECT_EQ(bits_of(sqrt_f(-0.0f)), bits_of(-0.0f));
  EXPECT_EQ(sqrt_f(kInf), kInf);
  EXPECT_EQ(sqrt_f(4.0f), 2.0f);
  EXPECT_EQ(sqrt_f(0.25f), 0.5f);
  EXPECT_TRUE(std::isnan(sqrt_f(-kInf)));
  EXPECT_TRUE(std::isnan(sqrt_f(-1.0f)));
  EXPECT_TRUE(std::isnan(sqrt_f(-std::numeric_limits<float>::denorm_min())));
  EXPECT_TRUE(std::isnan(sqrt_f(kNaN)));
}

// Every 16th float bit pattern with 0 < |x| < 10 (tanh is 1 in float
// above), both signs, against double tanh.
TEST(TanhF, RelativeErrorWithinStatedBound) {
  double worst = 0.0;
  uint32_t worst_bits = 0;
  uint64_t checked = 0;
  const uint32_t top = bits_of(10.0f);
  for (uint32_t b = 1; b < top; b += 16u) {
    for (uint32_t sign = 0; sign < 2u; ++sign) {
      const uint32_t bits = b | (sign << 31);
      const float x = from_bits(bits);
      const float got = tanh_f(x);
      ASSERT_EQ(bits_of(got) >> 31, sign) << x;
      const double want = tanh(static_cast<double>(x));
      if (fabs(want) < kFltMin) {
        ASSERT_EQ(got, x);  // tanh x = x - x^3/3: rounds to x
        continue;
      }
      const double err = rel_error(got, want);
      ++checked;
      if (err > worst) {
        worst = err;
        worst_bits = bits;
      }
    }
  }
  printf("tanh_f: max relative error %.4g (%.3f u) at x = %.9g (0x%08x) over %llu points; bound %.4g\n",
         worst, worst / kU, static_cast<double>(from_bits(worst_bits)), worst_bits,
         static_cast<unsigned long long>(checked), static_cast<double>(tanh_max_rel_error));
  EXPECT_GT(checked, 100000000u);
  EXPECT_LE(worst, static_cast<double>(tanh_max_rel_error)) << "at 0x" << std::hex << worst_bits;
  EXPECT_GT(worst, 0.5 * kU);
}

TEST(TanhF, EveryFloatAroundTheBranchLimits) {
  const float limits[] = {0.625f, 2.44140625e-04f, 9.03f, 9.0109f};
  for (float c : limits) {
    float x = c;
    for (int i = 0; i < 100000; ++i) {
      x = nextafterf(x, 0.0f);
    }
    for (int i = 0; i < 200000; ++i, x = nextafterf(x, kInf)) {
      ASSERT_LE(rel_error(tanh_f(x), tanh(static_cast<double>(x))), static_cast<double>(tanh_max_rel_error))
          << "x = " << x;
    }
  }
}

TEST(TanhF, SpecialValuesAndLargeArguments) {
  EXPECT_EQ(tanh_f(kInf), 1.0f);
  EXPECT_EQ(tanh_f(-kInf), -1.0f);
  EXPECT_EQ(tanh_f(std::numeric_limits<float>::max()), 1.0f);
  EXPECT_EQ(tanh_f(-std::numeric_limits<float>::max()), -1.0f);
  EXPECT_EQ(tanh_f(20.0f), 1.0f);
  EXPECT_EQ(tanh_f(-1000.0f), -1.0f);
  EXPECT_EQ(bits_of(tanh_f(0.0f)), bits_of(0.0f));
  EXPECT_EQ(bits_of(tanh_f(-0.0f)), bits_of(-0.0f));
  EXPECT_EQ(tanh_f(std::numeric_limits<float>::denorm_min()), std::numeric_limits<float>::denorm_min());
  EXPECT_TRUE(std::isnan(tanh_f(kNaN)));
  // Where double tanh rounds to 1 in float, so does tanh_f; and odd.
  for (float x = 0.001f; x < 12.0f; x *= 1.01f) {
    EXPECT_EQ(tanh_f(-x), -tanh_f(x)) << x;
    if (static_cast<float>(tanh(static_cast<double>(x))) == 1.0f) {
      EXPECT_EQ(tanh_f(x), 1.0f) << x;
    }
  }
}

TEST(SigmoidF, WithinStatedBoundForBothSigns) {
  double worst = 0.0;
  for (uint64_t b = 0; b < (static_cast<uint64_t>(1) << 32); b += 4096u) {
    const float s = from_bits(static_cast<uint32_t>(b));
    if (s != s) {
      continue;
    }
    const double want = sigmoid_ref(static_cast<double>(s));
    const float got = sigmoid_f(s);
    if (want >= kFltMin) {
      const double err = rel_error(got, want);
      worst = err > worst ? err : worst;
      ASSERT_LE(err, static_cast<double>(sigmoid_max_rel_error)) << "s = " << s;
    } else {
      ASSERT_LE(fabs(static_cast<double>(got) - want), kSubnormalUlp) << "s = " << s;
    }
  }
  printf("sigmoid_f: max relative error %.4g (%.3f u); bound %.4g\n", worst, worst / kU,
         static_cast<double>(sigmoid_max_rel_error));
}

TEST(SigmoidF, SpecialValues) {
  EXPECT_TRUE(std::isnan(sigmoid_f(kNaN)));
  EXPECT_EQ(sigmoid_f(kInf), 1.0f);
  EXPECT_EQ(sigmoid_f(-kInf), 0.0f);
  EXPECT_EQ(sigmoid_f(0.0f), 0.5f);
  EXPECT_EQ(sigmoid_f(-0.0f), 0.5f);
  EXPECT_EQ(sigmoid_f(200.0f), 1.0f);
  EXPECT_EQ(sigmoid_f(-200.0f), 0.0f);
  // Tiny but not zero where e^s is still (subnormal) positive.
  EXPECT_GT(sigmoid_f(-100.0f), 0.0f);
}

// First-order bound of softmax_f's value i, as math.hpp states it.
double softmax_bound(const std::vector<float>& v, size_t i) {
  float largest = v[0];
  for (float x : v) {
    largest = x > largest ? x : largest;
  }
  double max_d = 0.0;
  for (float x : v) {
    max_d = fmax(max_d, fabs(static_cast<double>(x) - static_cast<double>(largest)));
  }
  const double e = static_cast<double>(exp_max_rel_error);
  const double d_i = fabs(static_cast<double>(v[i]) - static_cast<double>(largest));
  const double n = static_cast<double>(v.size());
  return (e + kU * d_i) + (e + kU * max_d + (n - 1.0) * kU) + kU;
}

std::vector<double> softmax_ref(const std::vector<float>& v) {
  double largest = v[0];
  for (float x : v) {
    largest = fmax(largest, static_cast<double>(x));
  }
  std::vector<double> out;
  double sum = 0.0;
  for (float x : v) {
    out.push_back(exp(static_cast<double>(x) - largest));
    sum += out.back();
  }
  for (double& o : out) {
    o /= sum;
  }
  return out;
}

TEST(SoftmaxF, WithinStatedBoundOfTheDoubleSoftmax) {
  std::mt19937 rng(7);
  const float scales[] = {0.01f, 1.0f, 10.0f, 40.0f, 1e30f};
  for (float scale : scales) {
    std::uniform_real_distribution<float> value(-scale, scale);
    for (uint32_t n : {1u, 2u, 3u, 5u, 10u, 37u}) {
      for (int trial = 0; trial < 200; ++trial) {
        std::vector<float> v(n);
        for (float& x : v) {
          x = value(rng);
        }
        const std::vector<double> want = softmax_ref(v);
        std::vector<float> got = v;
        softmax_f(got.data(), n);
        for (uint32_t i = 0; i < n; ++i) {
          // Second-order terms are far below the 1e-6 margin; a term whose
          // e^d is subnormal is off by up to 2^-149 (stated), and so are
          // the other values through the sum.
          const double bound =
              softmax_bound(v, i) * want[i] * (1.0 + 1e-6) + kSubnormalUlp * static_cast<double>(n);
          ASSERT_LE(fabs(static_cast<double>(got[i]) - want[i]), bound)
              << "n = " << n << ", scale = " << scale << ", i = " << i;
        }
      }
    }
  }
}

TEST(SoftmaxF, SingleValueIsOneAndTiesShareEqually) {
  float one[1] = {123.0f};
  softmax_f(one, 1u);
  EXPECT_EQ(one[0], 1.0f);
  float ties[4] = {3.0f, 3.0f, 3.0f, 3.0f};
  softmax_f(ties, 4u);
  for (float t : ties) {
    EXPECT_EQ(t, 0.25f);
  }
  // Huge scores do not overflow: the maximum is subtracted first.
  float big[2] = {3e38f, 2e38f};
  softmax_f(big, 2u);
  EXPECT_EQ(big[0], 1.0f);
  EXPECT_EQ(big[1], 0.0f);
}

TEST(NormalizeSumF, WithinStatedBoundOfTheDoubleQuotient) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  for (uint32_t n : {1u, 2u, 3u, 7u, 50u}) {
    for (int trial = 0; trial < 500; ++trial) {
      std::vector<float> v(n);
      double sum = 0.0;
      for (float& x : v) {
        x = value(rng);
        sum += static_cast<double>(x);
      }
      std::vector<float> got = v;
      normalize_sum_f(got.data(), n);
      const double bound = (static_cast<double>(n) - 1.0) * kU + kU;
      for (uint32_t i = 0; i < n; ++i) {
        const double want = static_cast<double>(v[i]) / sum;
        ASSERT_LE(fabs(static_cast<double>(got[i]) - want), bound * want * (1.0 + 1e-6)) << n;
      }
    }
  }
}

TEST(NormalizeSumF, ZeroSumBecomesUniform) {
  for (uint32_t n : {1u, 2u, 3u, 7u}) {
    std::vector<float> v(n, 0.0f);
    normalize_sum_f(v.data(), n);
    for (float x : v) {
      EXPECT_EQ(x, static_cast<float>(1.0 / n)) << n;
    }
  }
  float mixed_zero[3] = {0.0f, -0.0f, 0.0f};
  normalize_sum_f(mixed_zero, 3u);
  EXPECT_EQ(mixed_zero[1], 1.0f / 3.0f);
}

// logsumexp_f's first-order bound as math.hpp states it, with d_i = v_i - max.
double logsumexp_bound(const std::vector<float>& v, double result) {
  const double top = static_cast<double>(*std::max_element(v.begin(), v.end()));
  double spread = 0.0;
  for (float x : v) {
    spread = std::max(spread, top - static_cast<double>(x));
  }
  const double n = static_cast<double>(v.size());
  return static_cast<double>(exp_max_rel_error) + kU * spread + (n - 1.0) * kU +
         static_cast<double>(log_max_rel_error) * log(n) + kU * fabs(result) + n * std::ldexp(1.0, -150);
}

double logsumexp_ref(const std::vector<float>& v) {
  long double top = static_cast<long double>(*std::max_element(v.begin(), v.end()));
  long double sum = 0.0L;
  for (float x : v) {
    sum += expl(static_cast<long double>(x) - top);
  }
  return static_cast<double>(top + logl(sum));
}

TEST(LogsumexpF, WithinStatedBoundOnRandomVectors) {
  std::mt19937 rng(11);
  double worst = 0.0;
  for (uint32_t n : {1u, 2u, 3u, 10u, 64u}) {
    for (float scale : {0.01f, 1.0f, 30.0f, 1000.0f}) {
      std::uniform_real_distribution<float> value(-scale, scale);
      for (float offset : {0.0f, -5000.0f, 300.0f}) {
        for (int trial = 0; trial < 200; ++trial) {
          std::vector<float> v(n);
          for (float& x : v) {
            x = value(rng) + offset;
          }
          const double want = logsumexp_ref(v);
          const double got = static_cast<double>(emlearn_gen::logsumexp_f(v.data(), n));
          const double bound = logsumexp_bound(v, want);
          ASSERT_LE(fabs(got - want), bound * 1.0001) << "n = " << n << ", scale = " << scale;
          worst = std::max(worst, fabs(got - want) / bound);
        }
      }
    }
  }
  printf("logsumexp_f: largest error %.3f of the stated bound\n", worst);
}

TEST(LogsumexpF, OneValueIsItselfAndSpecialValues) {
  for (float x : {0.0f, -1.5f, 1e30f, -1e-30f}) {
    EXPECT_EQ(bits_of(emlearn_gen::logsumexp_f(&x, 1u)), bits_of(x));
  }
  // As scikit-learn: all -inf gives -inf; any +inf gives +inf.
  const float all_minus_inf[3] = {-kInf, -kInf, -kInf};
  EXPECT_EQ(emlearn_gen::logsumexp_f(all_minus_inf, 3u), -kInf);
  const float with_inf[3] = {1.0f, kInf, -kInf};
  EXPECT_EQ(emlearn_gen::logsumexp_f(with_inf, 3u), kInf);
  // -inf terms add nothing.
  const float some_minus_inf[3] = {-kInf, 2.0f, -kInf};
  EXPECT_EQ(emlearn_gen::logsumexp_f(some_minus_inf, 3u), 2.0f);
  // Two equal values: x + ln 2.
  const float pair[2] = {-7.0f, -7.0f};
  EXPECT_NEAR(static_cast<double>(emlearn_gen::logsumexp_f(pair, 2u)), -7.0 + log(2.0), 4 * kU * 7.0);
}

}  // namespace
