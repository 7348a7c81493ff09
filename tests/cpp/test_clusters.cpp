// Tests of clusters.hpp on small models made here, against references
// computed here in double precision from the same float tables.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>

#include <cmath>
#include <random>
#include <vector>

#include "emlearn_gen/clusters.hpp"

namespace {

using emlearn_gen::clusters_model;
using emlearn_gen::status;

struct Model {
  std::vector<float> centers;
  uint32_t n_features;

  uint32_t n_clusters() const { return static_cast<uint32_t>(centers.size() / n_features); }
  clusters_model descriptor() const { return clusters_model{centers.data(), n_features, n_clusters()}; }
  double sq_distance(const float* x, uint32_t j) const {
    double sum = 0.0;
    for (uint32_t i = 0; i < n_features; ++i) {
      const double d = static_cast<double>(x[i]) - static_cast<double>(centers[j * n_features + i]);
      sum += d * d;
    }
    return sum;
  }
};

Model random_model(uint32_t n_features, uint32_t n_clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  Model m;
  m.n_features = n_features;
  for (uint32_t i = 0; i < n_features * n_clusters; ++i) {
    m.centers.push_back(value(rng));
  }
  return m;
}

TEST(Clusters, LabelDistancesAndNearestMatchDoubleReference) {
  const Model m = random_model(6u, 5u, 1u);
  ASSERT_EQ(emlearn_gen::clusters_validate(m.descriptor(), m.centers.size()), status::ok);
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> value(-4.0f, 4.0f);
  for (int row = 0; row < 100; ++row) {
    float x[6], out[5];
    for (float& v : x) {
      v = value(rng);
    }
    uint32_t best = 0;
    for (uint32_t j = 1; j < 5; ++j) {
      if (m.sq_distance(x, j) < m.sq_distance(x, best)) {
        best = j;
      }
    }
    emlearn_gen::clusters_transform(m.descriptor(), x, out);
    for (uint32_t j = 0; j < 5; ++j) {
      EXPECT_NEAR(out[j], std::sqrt(m.sq_distance(x, j)), 1e-5 * (1.0 + std::sqrt(m.sq_distance(x, j))));
    }
    const double nearest = static_cast<double>(emlearn_gen::clusters_nearest_sq_distance(m.descriptor(), x));
    EXPECT_NEAR(nearest, m.sq_distance(x, best), 1e-5 * (1.0 + m.sq_distance(x, best)));
    // Random rows are far from ties at this precision.
    EXPECT_EQ(emlearn_gen::clusters_label(m.descriptor(), x), static_cast<int32_t>(best));
  }
}

TEST(Clusters, EqualDistancesGiveTheFirstCentre) {
  Model m;
  m.n_features = 1;
  m.centers = {1.0f, -1.0f, -1.0f};
  const float x[1] = {0.0f};
  EXPECT_EQ(emlearn_gen::clusters_label(m.descriptor(), x), 0);
  const float y[1] = {-2.0f};
  EXPECT_EQ(emlearn_gen::clusters_label(m.descriptor(), y), 1);
  EXPECT_EQ(emlearn_gen::clusters_nearest_sq_distance(m.descriptor(), y), 1.0f);
}

TEST(Clusters, ValidateRefusesBadLayouts) {
  const Model m = random_model(3u, 2u, 3u);
  clusters_model d = m.descriptor();
  EXPECT_EQ(emlearn_gen::clusters_validate(d, 6u), status::ok);
  EXPECT_EQ(emlearn_gen::clusters_validate(d, 5u), status::size_mismatch);
  d.n_clusters = 0;
  EXPECT_EQ(emlearn_gen::clusters_validate(d, 0u), status::bad_argument);
  d = m.descriptor();
  d.centers = NULL;
  EXPECT_EQ(emlearn_gen::clusters_validate(d, 6u), status::bad_argument);
  d = m.descriptor();
  d.n_features = 0x10000u;
  d.n_clusters = 0x10000u;
  EXPECT_EQ(emlearn_gen::clusters_validate(d, 6u), status::bad_table);
}

}  // namespace
