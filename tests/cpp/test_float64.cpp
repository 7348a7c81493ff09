// Tests of float64.hpp: software binary64 against the host's IEEE double.
#include <gtest/gtest.h>

#include <stdint.h>
#include <string.h>

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#if defined(EMLEARN_GEN_TEST_PORTABLE_READ)
#undef __BYTE_ORDER__
#endif

#include "emlearn_gen/float64.hpp"

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

}  // namespace
