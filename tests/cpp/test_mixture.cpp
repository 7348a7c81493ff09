// Tests of mixture.hpp on small models made here, against references
// computed here in double precision from the same float tables.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "emlearn_gen/mixture.hpp"

namespace {

using emlearn_gen::mixture_model;
using emlearn_gen::status;
namespace cov = emlearn_gen::mixture_covariance;

// A model with its tables, and the descriptor the kernels take.
struct Model {
  std::vector<float> means;
  std::vector<float> precisions;
  std::vector<float> constants;
  uint32_t n_features;
  uint8_t covariance;

  uint32_t n_components() const { return static_cast<uint32_t>(constants.size()); }
  mixture_model descriptor() const {
    return mixture_model{means.data(), precisions.data(), constants.data(), n_features, n_components(), covariance};
  }
  status validate() const {
    return emlearn_gen::mixture_validate(descriptor(), means.size(), precisions.size(), constants.size());
  }
  // The factor of component k as a dense upper triangular matrix U[i][j].
  double factor(uint32_t k, uint32_t i, uint32_t j) const {
    const uint32_t n = n_features;
    if (i > j) {
      return 0.0;
    }
    switch (covariance) {
      case cov::full:
      case cov::tied: {
        const uint32_t base = covariance == cov::full ? k * n * (n + 1) / 2 : 0u;
        return static_cast<double>(precisions[base + j * (j + 1) / 2 + i]);
      }
      case cov::diag:
        return i == j ? static_cast<double>(precisions[k * n + j]) : 0.0;
      default:
        return i == j ? static_cast<double>(precisions[k]) : 0.0;
    }
  }
  // Q_k in double: sum_j (sum_i (x_i - mu_i) U_ij)^2.
  double quadratic(const float* x, uint32_t k) const {
    double q = 0.0;
    for (uint32_t j = 0; j < n_features; ++j) {
      double y = 0.0;
      for (uint32_t i = 0; i <= j; ++i) {
        y += (static_cast<double>(x[i]) - static_cast<double>(means[k * n_features + i])) * factor(k, i, j);
      }
      q += y * y;
    }
    return q;
  }
};

Model random_model(uint8_t covariance, uint32_t n_features, uint32_t n_components, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  std::uniform_real_distribution<float> positive(0.2f, 3.0f);
  Model m;
  m.n_features = n_features;
  m.covariance = covariance;
  for (uint32_t i = 0; i < n_features * n_components; ++i) {
    m.means.push_back(value(rng));
  }
  const size_t count = static_cast<size_t>(emlearn_gen::mixture_precision_count(covariance, n_features, n_components));
  for (size_t i = 0; i < count; ++i) {
    m.precisions.push_back(positive(rng));
  }
  for (uint32_t k = 0; k < n_components; ++k) {
    m.constants.push_back(-value(rng) - 3.0f);
  }
  return m;
}

class MixtureByCovariance : public ::testing::TestWithParam<uint8_t> {};

TEST_P(MixtureByCovariance, QuadraticFormMatchesDoubleReference) {
  const Model m = random_model(GetParam(), 5u, 3u, 11u + GetParam());
  ASSERT_EQ(m.validate(), status::ok);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-4.0f, 4.0f);
  for (int row = 0; row < 50; ++row) {
    float x[5];
    for (float& v : x) {
      v = value(rng);
    }
    for (uint32_t k = 0; k < m.n_components(); ++k) {
      const double want = m.quadratic(x, k);
      const double got = static_cast<double>(emlearn_gen::mixture_quadratic(m.descriptor(), x, k));
      // A few dozen roundings of float32 on values of the size of Q.
      EXPECT_NEAR(got, want, 1e-5 * (1.0 + want)) << "row " << row << " component " << k;
    }
  }
}

TEST_P(MixtureByCovariance, LabelProbabilitiesAndScoreAgree) {
  const Model m = random_model(GetParam(), 4u, 3u, 5u + GetParam());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  for (int row = 0; row < 50; ++row) {
    float x[4], proba[3], scratch[3], lp[3];
    for (float& v : x) {
      v = value(rng);
    }
    double want_lp[3], top = -std::numeric_limits<double>::infinity();
    for (uint32_t k = 0; k < 3; ++k) {
      want_lp[k] = static_cast<double>(m.constants[k]) - 0.5 * m.quadratic(x, k);
      top = std::max(top, want_lp[k]);
    }
    double total = 0.0;
    for (double v : want_lp) {
      total += std::exp(v - top);
    }
    const double want_score = top + std::log(total);
    emlearn_gen::mixture_weighted_log_prob(m.descriptor(), x, lp);
    emlearn_gen::mixture_proba(m.descriptor(), x, proba);
    const float score = emlearn_gen::mixture_score(m.descriptor(), x, scratch);
    const int32_t label = emlearn_gen::mixture_label(m.descriptor(), x, scratch);
    EXPECT_EQ(label, emlearn_gen::argmax(lp, 3));
    EXPECT_NEAR(score, want_score, 1e-4 * (1.0 + std::fabs(want_score)));
    double sum = 0.0;
    for (uint32_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(lp[k], want_lp[k], 1e-4 * (1.0 + std::fabs(want_lp[k])));
      EXPECT_NEAR(proba[k], std::exp(want_lp[k] - want_score), 1e-5);
      sum += static_cast<double>(proba[k]);
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MixtureByCovariance,
                         ::testing::Values(cov::full, cov::tied, cov::diag, cov::spherical));

TEST(MixtureEnvelope, ScoreDecisionAndFlag) {
  // One component, identity precision: Q = |x - mu|^2; offset 4.
  Model m;
  m.n_features = 2;
  m.covariance = cov::full;
  m.means = {1.0f, -1.0f};
  m.precisions = {1.0f, 0.0f, 1.0f};
  m.constants = {-4.0f};
  ASSERT_EQ(m.validate(), status::ok);
  const float inside[2] = {2.0f, -1.0f};   // Q = 1: decision 3
  const float edge[2] = {3.0f, -1.0f};     // Q = 4: decision 0, an inlier (>= 0)
  const float outside[2] = {1.0f, 2.0f};   // Q = 9: decision -5
  EXPECT_EQ(emlearn_gen::envelope_score(m.descriptor(), inside), -1.0f);
  EXPECT_EQ(emlearn_gen::envelope_decision(m.descriptor(), inside), 3.0f);
  EXPECT_EQ(emlearn_gen::envelope_predict(m.descriptor(), inside), 1);
  EXPECT_EQ(emlearn_gen::envelope_decision(m.descriptor(), edge), 0.0f);
  EXPECT_EQ(emlearn_gen::envelope_predict(m.descriptor(), edge), 1);
  EXPECT_EQ(emlearn_gen::envelope_decision(m.descriptor(), outside), -5.0f);
  EXPECT_EQ(emlearn_gen::envelope_predict(m.descriptor(), outside), -1);
}

TEST(MixtureValidate, RefusesBadLayouts) {
  Model m = random_model(cov::full, 3u, 2u, 1u);
  EXPECT_EQ(m.validate(), status::ok);
  mixture_model d = m.descriptor();
  EXPECT_EQ(emlearn_gen::mixture_validate(d, m.means.size(), m.precisions.size() - 1, m.constants.size()),
            status::size_mismatch);
  EXPECT_EQ(emlearn_gen::mixture_validate(d, m.means.size() + 1, m.precisions.size(), m.constants.size()),
            status::size_mismatch);
  d.covariance = 4;
  EXPECT_EQ(emlearn_gen::mixture_validate(d, m.means.size(), m.precisions.size(), m.constants.size()),
            status::bad_table);
  d = m.descriptor();
  d.precisions = NULL;
  EXPECT_EQ(emlearn_gen::mixture_validate(d, m.means.size(), m.precisions.size(), m.constants.size()),
            status::bad_argument);
  d = m.descriptor();
  d.n_features = 0;
  EXPECT_EQ(emlearn_gen::mixture_validate(d, 0u, 0u, m.constants.size()), status::bad_argument);
  // tied: one triangle; diag: n per component; spherical: one per component.
  EXPECT_EQ(emlearn_gen::mixture_precision_count(cov::tied, 3u, 2u), 6u);
  EXPECT_EQ(emlearn_gen::mixture_precision_count(cov::diag, 3u, 2u), 6u);
  EXPECT_EQ(emlearn_gen::mixture_precision_count(cov::spherical, 3u, 2u), 2u);
  EXPECT_EQ(emlearn_gen::mixture_precision_count(cov::full, 3u, 2u), 12u);
}

}  // namespace
