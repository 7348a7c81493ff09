// Tests of distance.hpp: each kernel against the summation order it states
// (bit for bit) and against a double-precision reference within its stated
// bound, on points read from an offset in a table.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "emlearn_gen/distance.hpp"

namespace {

namespace metric = emlearn_gen::distance_metric;

const double kU = std::ldexp(1.0, -24);

double gamma(double m) { return m * kU / (1.0 - m * kU); }

std::vector<float> random_values(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-scale, scale);
  std::vector<float> v(n);
  for (float& f : v) {
    f = value(rng);
  }
  return v;
}

// Three stored points of n features; the tests read the second, at offset n.
struct Case {
  uint32_t n;
  std::vector<float> points;
  std::vector<float> x;
};

Case make_case(uint32_t n, uint32_t seed) {
  return Case{n, random_values(3 * n, seed, 4.0f), random_values(n, seed + 1000, 4.0f)};
}

double diff(const Case& c, uint32_t i) {
  return static_cast<double>(c.x[i]) - static_cast<double>(c.points[c.n + i]);
}

TEST(Distance, SquaredEuclideanSumsRoundedSquaresInIndexOrder) {
  const Case c = make_case(7, 1);
  volatile float sum = 0.0f;  // volatile: each square rounded, no FMA
  for (uint32_t i = 0; i < c.n; ++i) {
    volatile float d = c.x[i] - c.points[c.n + i];
    volatile float square = d * d;
    sum = sum + square;
  }
  EXPECT_EQ(emlearn_gen::sq_euclidean_distance(c.points.data(), c.n, c.n, c.x.data()), sum);
}

TEST(Distance, EachKernelIsWithinItsStatedBound) {
  for (uint32_t seed = 1; seed < 60; ++seed) {
    const Case c = make_case(1 + seed % 23, seed);
    double sq = 0.0, l1 = 0.0, linf = 0.0, l3 = 0.0, worst_log = 0.0;
    for (uint32_t i = 0; i < c.n; ++i) {
      const double d = std::fabs(diff(c, i));
      sq += d * d;
      l1 += d;
      linf = std::max(linf, d);
      l3 += d * d * d;
      if (d > 0.0) {
        worst_log = std::max(worst_log, std::fabs(3.0 * std::log(d)));
      }
    }
    const float* p = c.points.data();
    const float* x = c.x.data();
    EXPECT_LE(std::fabs(static_cast<double>(emlearn_gen::sq_euclidean_distance(p, c.n, c.n, x)) - sq), gamma(c.n + 2) * sq) << seed;
    EXPECT_LE(std::fabs(static_cast<double>(emlearn_gen::manhattan_distance(p, c.n, c.n, x)) - l1), gamma(c.n) * l1) << seed;
    EXPECT_LE(std::fabs(static_cast<double>(emlearn_gen::chebyshev_distance(p, c.n, c.n, x)) - linf), kU * linf) << seed;
    const double term = std::pow(1.0 + kU, 3.0) * (1.0 + 1.8 * kU) * std::exp(4.2 * kU * worst_log) - 1.0;
    const double bound = ((1.0 + term) * std::pow(1.0 + kU, c.n - 1.0) - 1.0) * l3;
    EXPECT_LE(std::fabs(static_cast<double>(emlearn_gen::minkowski_reduced_distance(p, c.n, c.n, x, 3.0f)) - l3), bound) << seed;
  }
}

TEST(Distance, MinkowskiWithPowersOneAndTwoIsCloseToManhattanAndSquaredEuclidean) {
  const Case c = make_case(5, 7);
  const float l1 = emlearn_gen::manhattan_distance(c.points.data(), 0u, c.n, c.x.data());
  const float sq = emlearn_gen::sq_euclidean_distance(c.points.data(), 0u, c.n, c.x.data());
  EXPECT_NEAR(emlearn_gen::minkowski_reduced_distance(c.points.data(), 0u, c.n, c.x.data(), 1.0f), l1, 1e-5 * static_cast<double>(l1));
  EXPECT_NEAR(emlearn_gen::minkowski_reduced_distance(c.points.data(), 0u, c.n, c.x.data(), 2.0f), sq, 1e-5 * static_cast<double>(sq));
}

TEST(Distance, ZeroDistanceIsExactlyZeroForEveryMetric) {
  const Case c = make_case(4, 3);
  const float* same = c.points.data() + c.n;
  for (uint8_t m = 0; m <= emlearn_gen::distance_metric_max; ++m) {
    EXPECT_EQ(emlearn_gen::metric_distance(m, c.points.data(), c.n, c.n, same, 2.5f), 0.0f) << int(m);
    EXPECT_EQ(emlearn_gen::metric_true_distance(m, 0.0f, 2.5f), 0.0f) << int(m);
  }
}

TEST(Distance, MetricDispatchAndTrueDistance) {
  const Case c = make_case(6, 11);
  const float* p = c.points.data();
  const float* x = c.x.data();
  EXPECT_EQ(emlearn_gen::metric_distance(metric::sq_euclidean, p, 6u, 6u, x, 0.0f),
            emlearn_gen::sq_euclidean_distance(p, 6u, 6u, x));
  EXPECT_EQ(emlearn_gen::metric_distance(metric::manhattan, p, 6u, 6u, x, 0.0f),
            emlearn_gen::manhattan_distance(p, 6u, 6u, x));
  EXPECT_EQ(emlearn_gen::metric_distance(metric::chebyshev, p, 6u, 6u, x, 0.0f),
            emlearn_gen::chebyshev_distance(p, 6u, 6u, x));
  EXPECT_EQ(emlearn_gen::metric_distance(metric::minkowski, p, 6u, 6u, x, 1.5f),
            emlearn_gen::minkowski_reduced_distance(p, 6u, 6u, x, 1.5f));
  EXPECT_EQ(emlearn_gen::metric_distance(200u, p, 6u, 6u, x, 1.5f), 0.0f);
  double sq = 0.0, l15 = 0.0;
  for (uint32_t i = 0; i < 6; ++i) {
    sq += diff(c, i) * diff(c, i);
    l15 += std::pow(std::fabs(diff(c, i)), 1.5);
  }
  const float r_sq = emlearn_gen::metric_distance(metric::sq_euclidean, p, 6u, 6u, x, 0.0f);
  EXPECT_NEAR(static_cast<double>(emlearn_gen::metric_true_distance(metric::sq_euclidean, r_sq, 0.0f)), std::sqrt(sq),
              gamma(10) * std::sqrt(sq));
  const float r_15 = emlearn_gen::metric_distance(metric::minkowski, p, 6u, 6u, x, 1.5f);
  EXPECT_NEAR(static_cast<double>(emlearn_gen::metric_true_distance(metric::minkowski, r_15, 1.5f)), std::pow(l15, 1.0 / 1.5),
              1e-5 * std::pow(l15, 1.0 / 1.5));
  EXPECT_EQ(emlearn_gen::metric_true_distance(metric::manhattan, 2.5f, 0.0f), 2.5f);
}

}  // namespace
