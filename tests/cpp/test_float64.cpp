// Tests of float64.hpp: software binary64 against the host's IEEE double.
#include <gtest/gtest.h>

#include <stdint.h>
#include <string.h>

#include <float.h>
#include <math.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(EMLEARN_GEN_TEST_PORTABLE_READ)
#undef __BYTE_ORDER__
#endif

#include "emlearn_gen/float64.hpp"
#include "nonnegative_pairs.hpp"

namespace {

using emlearn_gen::soft_double;

static_assert(sizeof(double) == 8, "the reference arithmetic is the host's binary64");

soft_double soft(double d) {
  soft_double s;
  memcpy(&s.bits, &d, sizeof(double));
  return s;
}

uint64_t bits_of(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof(double));
  return b;
}

uint32_t bits_of(float f) {
  uint32_t b;
  memcpy(&b, &f, sizeof(float));
  return b;
}

double from_bits(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof(double));
  return d;
}

class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    const uint64_t hi = state_ >> 32;
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return (hi << 32) | (state_ >> 32);
  }

 private:
  uint64_t state_;
};

const double kDblMax = std::numeric_limits<double>::max();
const double kDblMin = std::numeric_limits<double>::min();
const double kDenormMin = std::numeric_limits<double>::denorm_min();

// Hand-picked finite values: zeros, subnormals, the normal/subnormal edge,
// values that cancel or round at the last bit.
std::vector<double> special_values() {
  std::vector<double> v = {0.0,
                           -0.0,
                           1.0,
                           -1.0,
                           0.1,
                           0.2,
                           0.3,
                           1.0 / 3.0,
                           0.5,
                           1.5,
                           2.5,
                           3.0,
                           1e-300,
                           1e300,
                           kDblMax,
                           -kDblMax,
                           kDblMin,
                           -kDblMin,
                           kDenormMin,
                           -kDenormMin,
                           kDblMin - kDenormMin,  // largest subnormal
                           3 * kDenormMin,
                           9007199254740992.0,  // 2^53
                           9007199254740994.0,
                           std::nextafter(1.0, 2.0),
                           std::nextafter(1.0, 0.0),
                           -std::nextafter(1.0, 2.0),
                           static_cast<double>(std::numeric_limits<float>::max()),
                           static_cast<double>(std::numeric_limits<float>::min()),
                           static_cast<double>(std::numeric_limits<float>::denorm_min()),
                           1e38,
                           -7.25e-42};
  return v;
}

// Random finite doubles: any bit pattern whose exponent field is not 0x7ff.
double random_finite(Lcg& rng) {
  for (;;) {
    const uint64_t b = rng.next();
    if (((b >> 52) & 0x7ffu) != 0x7ffu) {
      return from_bits(b);
    }
  }
}

// Random doubles of moderate and similar magnitudes, where additions
// actually interact (cancellation, carries, ties).
double random_near(Lcg& rng, double around) {
  const uint64_t r = rng.next();
  const int shift = static_cast<int>(r % 60);
  const double delta = std::ldexp(static_cast<double>(r >> 11), -53 - shift) * around;
  return (r & 1u) ? around + delta : -around + delta;
}

TEST(SoftDouble, RealTypeMatchesTheHost) {
  // On the host `double` has 64 bits: real64 is the hardware type.
  EXPECT_TRUE((std::is_same<emlearn_gen::real64, double>::value));
  const emlearn_gen::real64 table[] = {EMLEARN_GEN_F64(0x3ff8000000000000ull, 1.5)};
  EXPECT_EQ(table[0], 1.5);
}

TEST(SoftDouble, AddIsCorrectlyRounded) {
  const std::vector<double> values = special_values();
  int compared = 0;
  auto check = [&compared](double a, double b) {
    const double want = a + b;
    const uint64_t got = emlearn_gen::add(soft(a), soft(b)).bits;
    ++compared;
    if (got != bits_of(want)) {
      ADD_FAILURE() << std::hexfloat << a << " + " << b << ": got " << from_bits(got)
                    << ", expected " << want;
      return false;
    }
    return true;
  };
  for (double a : values) {
    for (double b : values) {
      if (!check(a, b)) return;
    }
  }
  Lcg rng(7);
  for (int i = 0; i < 100000; ++i) {
    if (!check(random_finite(rng), random_finite(rng))) return;
  }
  for (int i = 0; i < 100000; ++i) {
    const double around = std::ldexp(1.0, static_cast<int>(rng.next() % 2000) - 1000);
    if (!check(random_near(rng, around), random_near(rng, around))) return;
  }
  EXPECT_GT(compared, 200000);
}

TEST(SoftDouble, AddKeepsSignedZerosAndOverflows) {
  EXPECT_EQ(emlearn_gen::add(soft(-0.0), soft(-0.0)).bits, bits_of(-0.0));
  EXPECT_EQ(emlearn_gen::add(soft(0.0), soft(-0.0)).bits, bits_of(0.0));
  EXPECT_EQ(emlearn_gen::add(soft(-0.0), soft(0.0)).bits, bits_of(0.0));
  EXPECT_EQ(emlearn_gen::add(soft(0.75), soft(-0.75)).bits, bits_of(0.0));
  EXPECT_EQ(emlearn_gen::add(soft(-0.75), soft(0.75)).bits, bits_of(0.0));
  EXPECT_EQ(emlearn_gen::add(soft(kDblMax), soft(kDblMax)).bits,
            bits_of(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(emlearn_gen::add(soft(-kDblMax), soft(-kDblMax)).bits,
            bits_of(-std::numeric_limits<double>::infinity()));
  soft_double acc = soft(0.25);
  acc += soft(0.5);
  EXPECT_EQ(acc.bits, bits_of(0.75));
}

// Whether the smaller value b ends exactly half a unit in the last place of
// the larger a (both normal, exponents 1 to 52 apart): a tie of rounding
// unless the sum carries.
bool half_unit_below(uint64_t a, uint64_t b) {
  const uint64_t field_a = a >> 52;
  const uint64_t field_b = b >> 52;
  if (field_b == 0u || field_a - field_b < 1u || field_a - field_b > 52u) {
    return false;
  }
  const uint64_t low = (static_cast<uint64_t>(1) << (field_a - field_b)) - 1u;
  return (((b & ((static_cast<uint64_t>(1) << 52) - 1u)) | (static_cast<uint64_t>(1) << 52)) & low) == (low + 1u) / 2u;
}

// f64::add_nonnegative, the leaf sums' addition where double is software,
// against the hardware double on millions of pairs of every case
// (nonnegative_pairs.hpp), the case each pair falls in counted so that none
// goes untried.
TEST(AddNonnegative, EqualsHardwareDoubleOnMillionsOfPairs) {
  nonnegative_pairs::source pairs = {2026113001u};
  uint64_t ties = 0, carries = 0, subnormal = 0, absorbed = 0;
  for (uint32_t i = 0; i < 4000000u; ++i) {
    uint64_t a, b;
    pairs.pair(&a, &b);
    ASSERT_TRUE(emlearn_gen::f64::add_nonnegative_applies(a, b)) << std::hex << a << " " << b;
    const double want = from_bits(a) + from_bits(b);
    const uint64_t got = emlearn_gen::f64::add_nonnegative(a, b);
    ASSERT_EQ(got, bits_of(want)) << std::hexfloat << from_bits(a) << " + " << from_bits(b) << ": got "
                                  << from_bits(got) << ", expected " << want;
    const double larger = std::max(from_bits(a), from_bits(b));
    const double smaller = std::min(from_bits(a), from_bits(b));
    ties += half_unit_below(std::max(a, b), std::min(a, b)) ? 1u : 0u;
    carries += (bits_of(want) >> 52) > (bits_of(larger) >> 52) ? 1u : 0u;
    subnormal += (a >> 52) == 0u || (b >> 52) == 0u ? 1u : 0u;
    absorbed += want == larger && smaller != 0.0 ? 1u : 0u;
  }
  EXPECT_GT(ties, 10000u);
  EXPECT_GT(carries, 100000u);
  EXPECT_GT(subnormal, 100000u);
  EXPECT_GT(absorbed, 100000u);
}

// Sums of class fractions k / n added one after the other, as a forest's
// leaf rows add up: every partial sum as the hardware's.
TEST(AddNonnegative, SumsOfFractionsEqualHardwareDouble) {
  Lcg rng(53);
  for (int run = 0; run < 20000; ++run) {
    double want = 0.0;
    uint64_t got = 0u;
    for (int t = 0; t < 100; ++t) {
      const uint64_t n = 1u + rng.next() % 5000u;
      const double v = static_cast<double>(rng.next() % (n + 1u)) / static_cast<double>(n);
      want += v;
      ASSERT_TRUE(emlearn_gen::f64::add_nonnegative_applies(got, bits_of(v)));
      got = emlearn_gen::f64::add_nonnegative(got, bits_of(v));
      ASSERT_EQ(got, bits_of(want)) << "run " << run << " tree " << t;
    }
  }
}

// It applies to non-negative values below 2^1023 only: not to negative
// values (-0 included), infinities, NaN or values whose sum may overflow.
TEST(AddNonnegative, AppliesOnlyWhereItIsExact) {
  const uint64_t one = bits_of(1.0);
  const double refused[] = {-0.0, -1.0, -kDblMax, kDblMax, std::ldexp(1.0, 1023),
                            std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};
  for (double r : refused) {
    EXPECT_FALSE(emlearn_gen::f64::add_nonnegative_applies(one, bits_of(r))) << r;
    EXPECT_FALSE(emlearn_gen::f64::add_nonnegative_applies(bits_of(r), one)) << r;
  }
  EXPECT_TRUE(emlearn_gen::f64::add_nonnegative_applies(bits_of(std::nextafter(std::ldexp(1.0, 1023), 0.0)), 0u));
  const uint64_t largest = bits_of(std::nextafter(std::ldexp(1.0, 1023), 0.0));
  EXPECT_EQ(emlearn_gen::f64::add_nonnegative(largest, largest), bits_of(kDblMax));
}

TEST(SoftDouble, DivideByCountIsCorrectlyRounded) {
  const uint32_t counts[] = {1u,     2u,     3u,     5u,     7u,          10u,        11u,
                             100u,   255u,   256u,   1000u,  65535u,      65536u,     65537u,
                             999983u, 1u << 24, 2147483647u, 2147483648u, 4294967295u};
  int compared = 0;
  auto check = [&compared](double x, uint32_t n) {
    const double want = x / static_cast<double>(n);
    const uint64_t got = emlearn_gen::divide(soft(x), n).bits;
    ++compared;
    if (got != bits_of(want)) {
      ADD_FAILURE() << std::hexfloat << x << " / " << n << ": got " << from_bits(got)
                    << ", expected " << want;
      return false;
    }
    return true;
  };
  for (double x : special_values()) {
    for (uint32_t n : counts) {
      if (!check(x, n)) return;
    }
  }
  Lcg rng(11);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t r = rng.next();
    const uint32_t n = (r & 1u) ? counts[(r >> 1) % (sizeof(counts) / sizeof(counts[0]))]
                                : static_cast<uint32_t>(r >> 32) | 1u;
    if (!check(random_finite(rng), n)) return;
  }
  EXPECT_GT(compared, 100000);
  // The hardware overloads divide too, as the kernels use them.
  EXPECT_EQ(emlearn_gen::divide(1.0f, 3u), 1.0f / 3.0f);
  EXPECT_EQ(emlearn_gen::divide(1.0, 3u), 1.0 / 3.0);
}

TEST(SoftDouble, GreaterMatchesHardware) {
  const std::vector<double> values = special_values();
  for (double a : values) {
    for (double b : values) {
      EXPECT_EQ(emlearn_gen::greater(soft(a), soft(b)), a > b) << a << " > " << b;
      EXPECT_EQ(soft(a) > soft(b), a > b) << a << " > " << b;
    }
  }
  Lcg rng(13);
  for (int i = 0; i < 20000; ++i) {
    const double a = random_finite(rng);
    const double b = (i % 3 == 0) ? std::nextafter(a, 0.0) : random_finite(rng);
    ASSERT_EQ(emlearn_gen::greater(soft(a), soft(b)), a > b) << a << " > " << b;
  }
}

TEST(SoftDouble, ArgmaxWorksOnSoftValues) {
  const double hard[] = {0.25, -1.0, 0.75, 0.75, 1e-300};
  soft_double values[5];
  for (int i = 0; i < 5; ++i) values[i] = soft(hard[i]);
  EXPECT_EQ(emlearn_gen::argmax(values, 5), emlearn_gen::argmax(hard, 5));
  EXPECT_EQ(emlearn_gen::argmax(values, 5), 2);
}

TEST(SoftDouble, ToFloatRoundsToNearestEven) {
  const float fmax = std::numeric_limits<float>::max();
  auto check = [](double x) {
    const float want = static_cast<float>(x);
    const float got = emlearn_gen::to_float(soft(x));
    if (bits_of(got) != bits_of(want)) {
      ADD_FAILURE() << std::hexfloat << x << ": got " << got << ", expected " << want;
      return false;
    }
    return true;
  };
  for (double x : special_values()) {
    if (std::fabs(x) <= static_cast<double>(fmax) && !check(x)) return;
  }
  // Halfway between neighbouring floats (ties go to even), and just off it,
  // for normal and subnormal floats.
  const float starts[] = {1.0f, 1.5f, 3.0f, 1e-3f, 1e30f, std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::denorm_min(), 5e-44f};
  for (float f : starts) {
    const double lo = static_cast<double>(f);
    const double hi = static_cast<double>(std::nextafter(f, 2.0f * f));
    const double mid = lo + (hi - lo) / 2;
    for (double x : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, hi * 2), -mid}) {
      if (!check(x)) return;
    }
  }
  Lcg rng(17);
  for (int i = 0; i < 100000; ++i) {
    const double x = random_finite(rng);
    if (std::fabs(x) <= static_cast<double>(fmax) && !check(x)) return;
    // Bring the random significand into float range, subnormals included.
    int exponent = 0;
    const double y = std::ldexp(std::frexp(x, &exponent), static_cast<int>(rng.next() % 290) - 160);
    if (!check(y)) return;
  }
  // Past the float range: round to nearest even at the top, then infinity.
  const double top = static_cast<double>(fmax);
  EXPECT_EQ(emlearn_gen::to_float(soft(top + std::ldexp(1.0, 102))), fmax);
  EXPECT_EQ(emlearn_gen::to_float(soft(top + std::ldexp(1.0, 103))),
            std::numeric_limits<float>::infinity());
  EXPECT_EQ(emlearn_gen::to_float(soft(-1e300)), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(bits_of(emlearn_gen::to_float(soft(-0.0))), bits_of(-0.0f));
  EXPECT_EQ(bits_of(emlearn_gen::to_float(soft(1e-50))), bits_of(0.0f));
  EXPECT_EQ(bits_of(emlearn_gen::to_float(soft(-1e-50))), bits_of(-0.0f));
}

TEST(SoftDouble, ZeroIsPositiveZero) {
  EXPECT_EQ(emlearn_gen::zero<soft_double>().bits, 0u);
  EXPECT_EQ(bits_of(emlearn_gen::zero<double>()), bits_of(0.0));
  EXPECT_EQ(bits_of(emlearn_gen::zero<float>()), bits_of(0.0f));
}

// Random pairs whose product or quotient lands anywhere from below the
// subnormal range to past overflow: the exponents are drawn so that the
// result's exponent is uniform over [-1120, 1060].
std::pair<double, double> random_pair_around(Lcg& rng, bool product) {
  const double a = random_finite(rng);
  int ea = 0;
  const double fa = std::frexp(a, &ea);
  const int target = static_cast<int>(rng.next() % 2180) - 1120;
  const int a_exp = static_cast<int>(rng.next() % 1000) - 500;
  const int b_exp = product ? target - a_exp : a_exp - target;
  int eb = 0;
  const double fb = std::frexp(random_finite(rng), &eb);
  return std::make_pair(std::ldexp(fa, a_exp), std::ldexp(fb == 0.0 ? 0.75 : fb, b_exp));
}

// Both NaN (any NaN), or the same bits.
bool same_result(uint64_t got, double want) {
  if (std::isnan(want)) {
    return std::isnan(from_bits(got));
  }
  return got == bits_of(want);
}

template <typename Soft, typename Hard>
int check_binary(const char* name, Soft soft_op, Hard hard_op, bool product_like, uint64_t seed) {
  int compared = 0;
  auto check = [&](double a, double b) {
    const double want = hard_op(a, b);
    const uint64_t got = soft_op(soft(a), soft(b)).bits;
    ++compared;
    if (!same_result(got, want)) {
      ADD_FAILURE() << name << std::hexfloat << " of " << a << " and " << b << ": got " << from_bits(got)
                    << ", expected " << want;
      return false;
    }
    return true;
  };
  std::vector<double> values = special_values();
  values.push_back(std::numeric_limits<double>::infinity());
  values.push_back(-std::numeric_limits<double>::infinity());
  values.push_back(std::numeric_limits<double>::quiet_NaN());
  for (double a : values) {
    for (double b : values) {
      if (!check(a, b)) return compared;
    }
  }
  Lcg rng(seed);
  for (int i = 0; i < 200000; ++i) {
    if (!check(random_finite(rng), random_finite(rng))) return compared;
    const std::pair<double, double> ab = random_pair_around(rng, product_like);
    if (!check(ab.first, ab.second)) return compared;
    // Significands with few bits set, where exact and halfway results
    // happen.
    const double c = std::ldexp(static_cast<double>(rng.next() % 4096u) + 1.0, static_cast<int>(rng.next() % 80) - 40);
    const double d = std::ldexp(static_cast<double>(rng.next() % 4096u) + 1.0, static_cast<int>(rng.next() % 80) - 40);
    if (!check(c, d)) return compared;
  }
  for (int i = 0; i < 100000; ++i) {
    const double around = std::ldexp(1.0, static_cast<int>(rng.next() % 2000) - 1000);
    if (!check(random_near(rng, around), random_near(rng, around))) return compared;
  }
  return compared;
}

TEST(SoftDouble, MultiplyIsCorrectlyRounded) {
  const int compared = check_binary(
      "multiply", [](soft_double a, soft_double b) { return emlearn_gen::multiply(a, b); },
      [](double a, double b) { return a * b; }, true, 23);
  EXPECT_GT(compared, 700000);
}

TEST(SoftDouble, DivideIsCorrectlyRounded) {
  const int compared = check_binary(
      "divide", [](soft_double a, soft_double b) { return emlearn_gen::divide(a, b); },
      [](double a, double b) { return a / b; }, false, 29);
  EXPECT_GT(compared, 700000);
}

TEST(SoftDouble, AddFollowsIeeeForInfinityAndNaN) {
  std::vector<double> values = special_values();
  values.push_back(std::numeric_limits<double>::infinity());
  values.push_back(-std::numeric_limits<double>::infinity());
  values.push_back(std::numeric_limits<double>::quiet_NaN());
  for (double a : values) {
    for (double b : values) {
      ASSERT_TRUE(same_result(emlearn_gen::add(soft(a), soft(b)).bits, a + b)) << std::hexfloat << a << " + " << b;
    }
  }
}

TEST(SoftDouble, SubtractIsCorrectlyRounded) {
  Lcg rng(31);
  std::vector<double> values = special_values();
  values.push_back(std::numeric_limits<double>::infinity());
  values.push_back(-std::numeric_limits<double>::infinity());
  values.push_back(std::numeric_limits<double>::quiet_NaN());
  for (double a : values) {
    for (double b : values) {
      ASSERT_TRUE(same_result(emlearn_gen::subtract(soft(a), soft(b)).bits, a - b)) << std::hexfloat << a << " - " << b;
    }
  }
  for (int i = 0; i < 200000; ++i) {
    const double a = random_finite(rng);
    const double b = random_finite(rng);
    ASSERT_EQ(emlearn_gen::subtract(soft(a), soft(b)).bits, bits_of(a - b)) << std::hexfloat << a << " - " << b;
    const double around = std::ldexp(1.0, static_cast<int>(rng.next() % 2000) - 1000);
    const double c = random_near(rng, around);
    const double d = random_near(rng, around);
    ASSERT_EQ(emlearn_gen::subtract(soft(c), soft(d)).bits, bits_of(c - d)) << std::hexfloat << c << " - " << d;
  }
  EXPECT_EQ(emlearn_gen::negate(soft(1.5)).bits, bits_of(-1.5));
  EXPECT_EQ(emlearn_gen::negate(soft(0.0)).bits, bits_of(-0.0));
}

TEST(SoftDouble, MultiplyAndDivideSpecialCases) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(emlearn_gen::multiply(soft(-0.0), soft(3.0)).bits, bits_of(-0.0));
  EXPECT_EQ(emlearn_gen::multiply(soft(-2.0), soft(-0.0)).bits, bits_of(0.0));
  EXPECT_EQ(emlearn_gen::multiply(soft(kDblMax), soft(2.0)).bits, bits_of(inf));
  EXPECT_EQ(emlearn_gen::multiply(soft(kDenormMin), soft(0.5)).bits, bits_of(0.0));  // tie to even: 0
  EXPECT_EQ(emlearn_gen::multiply(soft(kDenormMin), soft(1.5)).bits, bits_of(2 * kDenormMin));
  EXPECT_EQ(emlearn_gen::multiply(soft(kDblMin), soft(kDblMin)).bits, bits_of(0.0));
  EXPECT_TRUE(std::isnan(from_bits(emlearn_gen::multiply(soft(inf), soft(0.0)).bits)));
  EXPECT_EQ(emlearn_gen::divide(soft(1.0), soft(0.0)).bits, bits_of(inf));
  EXPECT_EQ(emlearn_gen::divide(soft(1.0), soft(-0.0)).bits, bits_of(-inf));
  EXPECT_TRUE(std::isnan(from_bits(emlearn_gen::divide(soft(0.0), soft(0.0)).bits)));
  EXPECT_EQ(emlearn_gen::divide(soft(-3.0), soft(inf)).bits, bits_of(-0.0));
  EXPECT_EQ(emlearn_gen::divide(soft(1.0), soft(kDenormMin)).bits, bits_of(inf));
  EXPECT_EQ(emlearn_gen::divide(soft(kDenormMin), soft(2.0)).bits, bits_of(0.0));
  EXPECT_EQ(emlearn_gen::divide(soft(3 * kDenormMin), soft(2.0)).bits, bits_of(2 * kDenormMin));
  // The count division is the general one's special case.
  EXPECT_EQ(emlearn_gen::divide(soft(1.0), soft(3.0)).bits, emlearn_gen::divide(soft(1.0), 3u).bits);
}

TEST(SoftDouble, HardwareOverloadsAreTheOperators) {
  // Kernels call these on real64 = double: the plain operations, with the
  // product rounded before any sum.
  Lcg rng(37);
  for (int i = 0; i < 10000; ++i) {
    const double a = random_finite(rng);
    const double b = random_finite(rng);
    const double c = random_finite(rng);
    ASSERT_EQ(bits_of(emlearn_gen::add(a, b)), bits_of(a + b));
    ASSERT_EQ(bits_of(emlearn_gen::subtract(a, b)), bits_of(a - b));
    ASSERT_EQ(bits_of(emlearn_gen::multiply(a, b)), bits_of(a * b));
    ASSERT_EQ(bits_of(emlearn_gen::divide(a, b)), bits_of(a / b));
    ASSERT_EQ(bits_of(emlearn_gen::negate(a)), bits_of(-a));
    // A product then a sum: what soft_double computes, overflow included.
    ASSERT_EQ(bits_of(emlearn_gen::add(emlearn_gen::multiply(a, b), c)),
              emlearn_gen::add(emlearn_gen::multiply(soft(a), soft(b)), soft(c)).bits);
  }
  volatile double a = 1.0 + std::ldexp(1.0, -30);
  volatile double c = -(1.0 + std::ldexp(1.0, -29));
  // (1 + 2^-30)^2 - (1 + 2^-29) = 2^-60, lost when the product is rounded.
  EXPECT_EQ(emlearn_gen::add(emlearn_gen::multiply(a, a), c), 0.0);
}

// --------------------------------------------------------------------------
// exp_r64

const double kU64 = std::ldexp(1.0, -53);

// Soft and hardware results agree bit for bit (NaN with NaN).
void expect_exp_r64_agrees(double x) {
  const double hard = emlearn_gen::exp_r64(x);
  const uint64_t soft_bits = emlearn_gen::exp_r64(soft(x)).bits;
  if (std::isnan(hard)) {
    ASSERT_TRUE(std::isnan(from_bits(soft_bits))) << std::hexfloat << x;
  } else {
    ASSERT_EQ(soft_bits, bits_of(hard)) << std::hexfloat << x;
  }
}

TEST(ExpR64, SoftDoubleComputesTheHardwareBits) {
  Lcg rng(41);
  for (int i = 0; i < 300000; ++i) {
    // Uniform over the whole finite range of results and past both ends.
    const double x = std::ldexp(static_cast<double>(rng.next() >> 11), -53) * 1480.0 - 760.0;
    expect_exp_r64_agrees(x);
    // Small arguments of every magnitude.
    const double tiny = std::ldexp(static_cast<double>(rng.next() >> 11), -53 - static_cast<int>(rng.next() % 70));
    expect_exp_r64_agrees((rng.next() & 1u) ? tiny : -tiny);
    expect_exp_r64_agrees(random_finite(rng));
  }
  for (double x : special_values()) {
    expect_exp_r64_agrees(x);
  }
  expect_exp_r64_agrees(std::numeric_limits<double>::infinity());
  expect_exp_r64_agrees(-std::numeric_limits<double>::infinity());
  expect_exp_r64_agrees(std::numeric_limits<double>::quiet_NaN());
}

long double reference_exp(double x) { return expl(static_cast<long double>(x)); }

bool precise_reference() { return LDBL_MANT_DIG >= 64; }

TEST(ExpR64, RelativeErrorWithinStatedBoundOverTheNormalRange) {
  if (!precise_reference()) {
    GTEST_SKIP() << "long double has no more precision than double here";
  }
  Lcg rng(43);
  long double worst = 0.0L;
  double worst_x = 0.0;
  int checked = 0;
  auto check = [&](double x) {
    const long double want = reference_exp(x);
    if (!(want >= static_cast<long double>(kDblMin) && want <= static_cast<long double>(kDblMax))) {
      return;
    }
    const long double err = fabsl(static_cast<long double>(emlearn_gen::exp_r64(x)) - want) / want;
    ++checked;
    if (err > worst) {
      worst = err;
      worst_x = x;
    }
  };
  for (int i = 0; i < 1000000; ++i) {
    check(std::ldexp(static_cast<double>(rng.next() >> 11), -53) * 1420.0 - 710.0);
    check(std::ldexp(static_cast<double>(rng.next() >> 11), -53) * 1.4 - 0.7);
  }
  // Every 2^-10 multiple of ln2 / 2 neighbours: the ends of the reduction.
  for (int k = -1020; k <= 1023; ++k) {
    const double x = (k + 0.5) * 0.6931471805599453;
    check(x);
    check(std::nextafter(x, 0.0));
    check(std::nextafter(x, 2000.0));
  }
  printf("exp_r64: max relative error %.4g (%.3f u) at x = %.17g over %d points; bound %.4g\n",
         static_cast<double>(worst), static_cast<double>(worst / kU64), worst_x, checked,
         emlearn_gen::exp_r64_max_rel_error);
  EXPECT_GT(checked, 1900000);
  EXPECT_LE(worst, static_cast<long double>(emlearn_gen::exp_r64_max_rel_error)) << std::hexfloat << worst_x;
  EXPECT_GT(worst, 0.5L * kU64);
}

TEST(ExpR64, SubnormalResultsWithinOneRoundingOfTheBound) {
  if (!precise_reference()) {
    GTEST_SKIP() << "long double has no more precision than double here";
  }
  Lcg rng(47);
  for (int i = 0; i < 200000; ++i) {
    const double x = -708.4 - std::ldexp(static_cast<double>(rng.next() >> 11), -53) * 37.0;
    const long double want = reference_exp(x);
    const long double got = static_cast<long double>(emlearn_gen::exp_r64(x));
    ASSERT_LE(fabsl(got - want),
              static_cast<long double>(emlearn_gen::exp_r64_max_rel_error) * want + static_cast<long double>(kDenormMin) / 2)
        << std::hexfloat << x;
  }
}

TEST(ExpR64, SpecialValuesAndRangeEnds) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isnan(emlearn_gen::exp_r64(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(emlearn_gen::exp_r64(inf), inf);
  EXPECT_EQ(emlearn_gen::exp_r64(-inf), 0.0);
  EXPECT_EQ(emlearn_gen::exp_r64(0.0), 1.0);
  EXPECT_EQ(emlearn_gen::exp_r64(-0.0), 1.0);
  EXPECT_EQ(emlearn_gen::exp_r64(kDenormMin), 1.0);
  EXPECT_EQ(emlearn_gen::exp_r64(kDblMax), inf);
  EXPECT_EQ(emlearn_gen::exp_r64(-kDblMax), 0.0);
  EXPECT_NEAR(emlearn_gen::exp_r64(1.0), exp(1.0), emlearn_gen::exp_r64_max_rel_error * exp(1.0));
  // The largest x whose e^x rounds to a finite double gives a finite
  // result; the next gives infinity.
  const double last_finite = from_bits(0x40862E42FEFA39EFull);
  EXPECT_LT(exp(last_finite), inf);
  EXPECT_EQ(exp(std::nextafter(last_finite, inf)), inf);
  EXPECT_LT(emlearn_gen::exp_r64(last_finite), inf);
  EXPECT_EQ(emlearn_gen::exp_r64(std::nextafter(last_finite, inf)), inf);
  // Just above 2^-54 the result is not stuck at 1.
  EXPECT_GT(emlearn_gen::exp_r64(std::ldexp(1.0, -52)), 1.0);
  EXPECT_LT(emlearn_gen::exp_r64(-std::ldexp(1.0, -52)), 1.0);
  EXPECT_EQ(emlearn_gen::exp_r64(std::nextafter(std::ldexp(1.0, -54), 0.0)), 1.0);
  // Where the true value rounds to 0 or to the smallest subnormal.
  EXPECT_EQ(emlearn_gen::exp_r64(-746.0), 0.0);
  EXPECT_EQ(emlearn_gen::exp_r64(-745.0), exp(-745.0));
  EXPECT_EQ(emlearn_gen::exp_r64(-800.0), 0.0);
}

// A mean as forest_mean computes it (sum from zero in order, then divide by
// the count) gives the same bits in software and in hardware.
TEST(SoftDouble, MeanMatchesHardware) {
  Lcg rng(19);
  for (int trial = 0; trial < 2000; ++trial) {
    const uint32_t n = 1u + static_cast<uint32_t>(rng.next() % 300);
    soft_double s = emlearn_gen::zero<soft_double>();
    double h = 0.0;
    for (uint32_t i = 0; i < n; ++i) {
      const double v = std::ldexp(static_cast<double>(rng.next() >> 11), -53) *
                       ((rng.next() & 1u) ? 1.0 : -1.0);
      s += soft(v);
      h += v;
    }
    ASSERT_EQ(emlearn_gen::divide(s, n).bits, bits_of(h / static_cast<double>(n)))
        << "trial " << trial;
  }
}


// Relative error of f against a long double reference over `xs`, where the
// reference is normal and nonzero; returns the worst and counts the points.
template <typename F, typename Ref>
long double worst_relative_error(const std::vector<double>& xs, F f, Ref ref, double* worst_x, int* checked) {
  long double worst = 0.0L;
  for (double x : xs) {
    const long double want = ref(static_cast<long double>(x));
    if (!(fabsl(want) >= static_cast<long double>(kDblMin))) {
      continue;
    }
    const long double err = fabsl(static_cast<long double>(f(x)) - want) / fabsl(want);
    ++*checked;
    if (err > worst) {
      worst = err;
      *worst_x = x;
    }
  }
  return worst;
}

// Dense samples of |x| spread evenly over each binade from 2^-40 to 2^6,
// both signs, plus the neighbours of the branch points of tanh_r64.
std::vector<double> dense_tanh_points() {
  Lcg rng(53);
  std::vector<double> xs;
  for (int e = -40; e < 6; ++e) {
    for (int i = 0; i < 40000; ++i) {
      const double m = 1.0 + std::ldexp(static_cast<double>(rng.next() >> 12), -52);
      const double x = std::ldexp(m, e);
      xs.push_back((i & 1) ? -x : x);
    }
  }
  for (double edge : {std::ldexp(1.0, -27), 0.3, 19.1}) {
    double x = edge;
    double y = edge;
    for (int i = 0; i < 1000; ++i) {
      xs.push_back(x);
      xs.push_back(-y);
      x = std::nextafter(x, 0.0);
      y = std::nextafter(y, 100.0);
    }
  }
  return xs;
}

TEST(TanhR64, RelativeErrorWithinStatedBound) {
  if (!precise_reference()) {
    GTEST_SKIP() << "long double has no more precision than double here";
  }
  const std::vector<double> xs = dense_tanh_points();
  double worst_x = 0.0;
  int checked = 0;
  const long double worst = worst_relative_error(
      xs, [](double x) { return emlearn_gen::tanh_r64(x); }, [](long double x) { return tanhl(x); }, &worst_x,
      &checked);
  printf("tanh_r64: max relative error %.4g (%.3f u) at x = %.17g over %d points; bound %.4g\n",
         static_cast<double>(worst), static_cast<double>(worst / kU64), worst_x, checked,
         emlearn_gen::tanh_r64_max_rel_error);
  EXPECT_GT(checked, 1800000);
  EXPECT_LE(worst, static_cast<long double>(emlearn_gen::tanh_r64_max_rel_error)) << std::hexfloat << worst_x;
  // A naive 1 - 2 / (e^(2x) + 1) is off by about 2^-53 / x near 0: the
  // series branch must keep small arguments to a few u.
  double small_worst_x = 0.0;
  int small_checked = 0;
  std::vector<double> small;
  for (double x : xs) {
    if (fabs(x) < 1e-3) small.push_back(x);
  }
  const long double small_worst = worst_relative_error(
      small, [](double x) { return emlearn_gen::tanh_r64(x); }, [](long double x) { return tanhl(x); },
      &small_worst_x, &small_checked);
  EXPECT_LE(small_worst, 5.0L * kU64) << std::hexfloat << small_worst_x;
}

TEST(TanhR64, SpecialValuesAndSymmetry) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isnan(emlearn_gen::tanh_r64(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(emlearn_gen::tanh_r64(inf), 1.0);
  EXPECT_EQ(emlearn_gen::tanh_r64(-inf), -1.0);
  EXPECT_EQ(bits_of(emlearn_gen::tanh_r64(0.0)), bits_of(0.0));
  EXPECT_EQ(bits_of(emlearn_gen::tanh_r64(-0.0)), bits_of(-0.0));
  EXPECT_EQ(emlearn_gen::tanh_r64(kDenormMin), kDenormMin);
  EXPECT_EQ(emlearn_gen::tanh_r64(20.0), 1.0);
  EXPECT_EQ(emlearn_gen::tanh_r64(-kDblMax), -1.0);
  Lcg rng(59);
  for (int i = 0; i < 10000; ++i) {
    const double x = std::ldexp(static_cast<double>(rng.next() >> 11), -53) * 40.0 - 20.0;
    ASSERT_EQ(bits_of(emlearn_gen::tanh_r64(-x)), bits_of(-emlearn_gen::tanh_r64(x))) << x;
  }
}

TEST(SigmoidR64, RelativeErrorWithinStatedBound) {
  if (!precise_reference()) {
    GTEST_SKIP() << "long double has no more precision than double here";
  }
  Lcg rng(61);
  std::vector<double> xs;
  for (int i = 0; i < 1000000; ++i) {
    xs.push_back(std::ldexp(static_cast<double>(rng.next() >> 11), -53) * 1400.0 - 700.0);
    xs.push_back(std::ldexp(static_cast<double>(rng.next() >> 11), -53) * 20.0 - 10.0);
  }
  double worst_x = 0.0;
  int checked = 0;
  const long double worst = worst_relative_error(
      xs, [](double x) { return emlearn_gen::sigmoid_r64(x); },
      [](long double x) { return 1.0L / (1.0L + expl(-x)); }, &worst_x, &checked);
  printf("sigmoid_r64: max relative error %.4g (%.3f u) at x = %.17g over %d points; bound %.4g\n",
         static_cast<double>(worst), static_cast<double>(worst / kU64), worst_x, checked,
         emlearn_gen::sigmoid_r64_max_rel_error);
  EXPECT_GT(checked, 1900000);
  EXPECT_LE(worst, static_cast<long double>(emlearn_gen::sigmoid_r64_max_rel_error)) << std::hexfloat << worst_x;
  EXPECT_EQ(emlearn_gen::sigmoid_r64(0.0), 0.5);
  EXPECT_EQ(emlearn_gen::sigmoid_r64(-0.0), 0.5);
  EXPECT_EQ(emlearn_gen::sigmoid_r64(800.0), 1.0);
  EXPECT_EQ(emlearn_gen::sigmoid_r64(-800.0), 0.0);
  EXPECT_TRUE(std::isnan(emlearn_gen::sigmoid_r64(std::numeric_limits<double>::quiet_NaN())));
}

TEST(SoftmaxR64, MatchesTheExactSoftmaxWithinItsBound) {
  Lcg rng(67);
  for (int trial = 0; trial < 2000; ++trial) {
    const uint32_t n = 1u + static_cast<uint32_t>(rng.next() % 8);
    double v[8];
    long double exact[8];
    long double largest = -1e300L;
    for (uint32_t i = 0; i < n; ++i) {
      v[i] = std::ldexp(static_cast<double>(rng.next() >> 11), -53) * 60.0 - 30.0;
      largest = v[i] > largest ? v[i] : largest;
    }
    long double total = 0.0L;
    double max_d = 0.0;
    for (uint32_t i = 0; i < n; ++i) {
      exact[i] = expl(v[i] - largest);
      total += exact[i];
      max_d = std::max(max_d, static_cast<double>(largest - v[i]));
    }
    double got[8];
    std::copy(v, v + n, got);
    emlearn_gen::softmax_r64(got, n);
    for (uint32_t i = 0; i < n; ++i) {
      const long double want = exact[i] / total;
      const double d = static_cast<double>(largest - v[i]);
      const long double rel = 2 * emlearn_gen::exp_r64_max_rel_error + kU64 * (d + max_d + n + 1);
      ASSERT_LE(fabsl(got[i] - want), rel * want + 1e-300L) << "trial " << trial << " value " << i;
    }
  }
}

// Software binary64 gives the bits of hardware double for the new functions
// and for the widening of floats, so AVR computes what the host computes.
TEST(SoftDouble, TanhSigmoidSoftmaxAndWideningMatchHardware) {
  Lcg rng(71);
  for (int i = 0; i < 20000; ++i) {
    const int e = static_cast<int>(rng.next() % 40) - 34;
    const double x = std::ldexp(1.0 + std::ldexp(static_cast<double>(rng.next() >> 12), -52), e) *
                     ((rng.next() & 1u) ? 1.0 : -1.0);
    ASSERT_EQ(emlearn_gen::tanh_r64(soft(x)).bits, bits_of(emlearn_gen::tanh_r64(x))) << std::hexfloat << x;
    ASSERT_EQ(emlearn_gen::sigmoid_r64(soft(x)).bits, bits_of(emlearn_gen::sigmoid_r64(x))) << std::hexfloat << x;
  }
  for (int i = 0; i < 500; ++i) {
    double h[5];
    soft_double s[5];
    for (int k = 0; k < 5; ++k) {
      h[k] = std::ldexp(static_cast<double>(rng.next() >> 11), -53) * 80.0 - 40.0;
      s[k] = soft(h[k]);
    }
    emlearn_gen::softmax_r64(h, 5);
    emlearn_gen::softmax_r64(s, 5);
    for (int k = 0; k < 5; ++k) {
      ASSERT_EQ(s[k].bits, bits_of(h[k])) << "trial " << i;
    }
  }
  // Every float exponent, subnormals, zeros and infinities.
  std::vector<float> floats = {0.0f, -0.0f, std::numeric_limits<float>::denorm_min(),
                               -std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                               std::numeric_limits<float>::max(), -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::infinity(), 1.0f, -1.5f};
  for (int i = 0; i < 100000; ++i) {
    const uint32_t b = static_cast<uint32_t>(rng.next());
    float f;
    memcpy(&f, &b, sizeof f);
    if (f == f) floats.push_back(f);
  }
  for (float f : floats) {
    ASSERT_EQ(emlearn_gen::widen<soft_double>(f).bits, bits_of(static_cast<double>(f))) << f;
    ASSERT_EQ(bits_of(emlearn_gen::widen<double>(f)), bits_of(static_cast<double>(f))) << f;
  }
}

}  // namespace
