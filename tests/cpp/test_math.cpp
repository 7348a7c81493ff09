// Tests of math.hpp against double-precision references computed here with
// <math.h>, within the error bounds the header states.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "emlearn_gen/math.hpp"

namespace {

using emlearn_gen::exp_f;
using emlearn_gen::exp_max_rel_error;
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

}  // namespace
