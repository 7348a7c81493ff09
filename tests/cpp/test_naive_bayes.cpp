// Tests of naive_bayes.hpp on small models made here, against references
// computed here in double precision from the same float tables.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "emlearn_gen/naive_bayes.hpp"

namespace {

using emlearn_gen::naive_bayes_model;
using emlearn_gen::status;
namespace kinds = emlearn_gen::naive_bayes_kind;

const double kU = std::ldexp(1.0, -24);  // unit roundoff of float

// A model with its tables, and the descriptor the kernels take.
struct Model {
  std::vector<float> weights;
  std::vector<float> means;
  std::vector<float> constants;
  std::vector<int16_t> categories;
  std::vector<float> thresholds;
  uint32_t n_features;
  uint8_t kind;

  uint32_t n_classes() const { return static_cast<uint32_t>(constants.size()); }
  naive_bayes_model descriptor() const {
    return naive_bayes_model{weights.data(), means.data(),      constants.data(), categories.data(),
                             thresholds.data(), n_features, n_classes(),      kind};
  }
  status validate() const {
    return emlearn_gen::naive_bayes_validate(descriptor(), weights.size(), means.size(), constants.size(),
                                             categories.size(), thresholds.size());
  }
};

Model random_model(uint8_t kind, uint32_t n_features, uint32_t n_classes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> log_prob(-6.0f, -0.01f);
  std::uniform_real_distribution<float> mean(-3.0f, 3.0f);
  std::uniform_real_distribution<float> inverse_var(0.05f, 4.0f);
  std::uniform_int_distribution<int> n_categories(1, 6);
  Model m;
  m.n_features = n_features;
  m.kind = kind;
  if (kind == kinds::categorical) {
    for (uint32_t i = 0; i < n_features; ++i) {
      m.categories.push_back(static_cast<int16_t>(n_categories(rng)));
      for (int j = 0; j < m.categories.back() * static_cast<int>(n_classes); ++j) {
        m.weights.push_back(log_prob(rng));
      }
    }
  } else {
    for (uint32_t j = 0; j < n_features * n_classes; ++j) {
      m.weights.push_back(kind == kinds::gaussian ? inverse_var(rng) : log_prob(rng));
      if (kind == kinds::gaussian) {
        m.means.push_back(mean(rng));
      }
    }
  }
  if (kind == kinds::binarized) {
    m.thresholds.push_back(0.5f);
  }
  for (uint32_t k = 0; k < n_classes; ++k) {
    m.constants.push_back(log_prob(rng) * 10.0f);
  }
  return m;
}

std::vector<float> random_row(const Model& m, std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-1.0f, 5.0f);
  std::vector<float> x(m.n_features);
  for (float& v : x) {
    v = value(rng);
  }
  return x;
}

// The joint log-likelihoods in double from the float tables, and the sum
// of the magnitudes of their terms (for the bound).
void reference_jll(const Model& m, const std::vector<float>& x, std::vector<double>& jll,
                   std::vector<double>& magnitude) {
  const uint32_t n = m.n_features, K = m.n_classes();
  jll.assign(K, 0.0);
  magnitude.assign(K, 0.0);
  uint32_t block = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const double xi = static_cast<double>(x[i]);
    for (uint32_t k = 0; k < K; ++k) {
      double term = 0.0;
      if (m.kind == kinds::categorical) {
        const int c = static_cast<int>(x[i]);  // truncation, as scikit-learn
        if (x[i] > -1.0f && c < m.categories[i]) {
          term = static_cast<double>(m.weights[block + k * static_cast<uint32_t>(m.categories[i]) +
                                               static_cast<uint32_t>(c)]);
        }
      } else {
        const double w = static_cast<double>(m.weights[k * n + i]);
        if (m.kind == kinds::gaussian) {
          const double d = xi - static_cast<double>(m.means[k * n + i]);
          term = -d * d * w;
        } else if (m.kind == kinds::binarized) {
          term = x[i] > m.thresholds[0] ? w : 0.0;
        } else {
          term = w * xi;
        }
      }
      jll[k] += term;
      magnitude[k] += fabs(term);
    }
    if (m.kind == kinds::categorical) {
      block += K * static_cast<uint32_t>(m.categories[i]);
    }
  }
  for (uint32_t k = 0; k < K; ++k) {
    jll[k] += static_cast<double>(m.constants[k]);
    magnitude[k] += fabs(static_cast<double>(m.constants[k]));
  }
}

class EveryKind : public ::testing::TestWithParam<uint8_t> {};

TEST_P(EveryKind, JointLogLikelihoodsWithinTheSummationBound) {
  // From exact float tables only the products and the n + 1 sums round:
  // gaussian's term carries 4u (d = x - mean counts twice once squared, then
  // d * d and the product with 1/(2 var)), the sums gamma(n) of the
  // magnitude: within gamma(n + 6) of it.
  for (uint32_t n : {1u, 3u, 17u}) {
    const Model m = random_model(GetParam(), n, 4u, 100u + n);
    ASSERT_EQ(m.validate(), status::ok);
    std::mt19937 rng(7u + n);
    std::vector<float> got(m.n_classes());
    std::vector<double> want, magnitude;
    for (int row = 0; row < 200; ++row) {
      const std::vector<float> x = random_row(m, rng);
      emlearn_gen::naive_bayes_jll(m.descriptor(), x.data(), got.data());
      reference_jll(m, x, want, magnitude);
      const double gamma = (n + 6) * kU / (1 - (n + 6) * kU);
      for (uint32_t k = 0; k < m.n_classes(); ++k) {
        ASSERT_LE(fabs(static_cast<double>(got[k]) - want[k]), gamma * magnitude[k]) << k;
      }
    }
  }
}

TEST_P(EveryKind, LabelLogProbaAndProbaAgreeWithTheJll) {
  const Model m = random_model(GetParam(), 5u, 3u, 42u);
  std::mt19937 rng(3u);
  for (int row = 0; row < 100; ++row) {
    const std::vector<float> x = random_row(m, rng);
    float jll[3], log_proba[3], proba[3], scratch[3];
    emlearn_gen::naive_bayes_jll(m.descriptor(), x.data(), jll);
    emlearn_gen::naive_bayes_log_proba(m.descriptor(), x.data(), log_proba);
    emlearn_gen::naive_bayes_proba(m.descriptor(), x.data(), proba);
    const int32_t label = emlearn_gen::naive_bayes_label(m.descriptor(), x.data(), scratch);
    EXPECT_EQ(label, static_cast<int32_t>(std::max_element(jll, jll + 3) - jll));
    EXPECT_EQ(0, memcmp(jll, scratch, sizeof jll));  // predict leaves the jll in its scratch
    const float total = emlearn_gen::logsumexp_f(jll, 3u);
    double sum = 0.0;
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(log_proba[k], jll[k] - total);
      EXPECT_EQ(proba[k], emlearn_gen::exp_f(log_proba[k]));
      sum += static_cast<double>(proba[k]);
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(NaiveBayes, EveryKind,
                         ::testing::Values(kinds::linear, kinds::binarized, kinds::gaussian, kinds::categorical));

TEST(NaiveBayesCategorical, CategoriesTruncateAndOutOfRangeOnesAddNothing) {
  // One feature with 3 categories, two classes; constants 0.
  Model m;
  m.n_features = 1u;
  m.kind = kinds::categorical;
  m.categories = {3};
  m.weights = {-1.0f, -2.0f, -3.0f, -4.0f, -5.0f, -6.0f};  // class 0: c0..c2, class 1: c0..c2
  m.constants = {0.0f, 0.0f};
  ASSERT_EQ(m.validate(), status::ok);
  float jll[2];
  const float x_values[] = {-0.5f, 0.0f, 1.9f, 2.0f, 2.999f};
  const float want0[] = {-1.0f, -1.0f, -2.0f, -3.0f, -3.0f};
  for (int j = 0; j < 5; ++j) {
    emlearn_gen::naive_bayes_jll(m.descriptor(), &x_values[j], jll);
    EXPECT_EQ(jll[0], want0[j]) << x_values[j];
    EXPECT_EQ(jll[1], want0[j] - 3.0f) << x_values[j];
  }
  // scikit-learn refuses these (the host does too); the kernel reads no
  // table entry for them.
  const float outside[] = {-1.0f, 3.0f, 1e30f, -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::quiet_NaN()};
  for (float x : outside) {
    emlearn_gen::naive_bayes_jll(m.descriptor(), &x, jll);
    EXPECT_EQ(jll[0], 0.0f) << x;
    EXPECT_EQ(jll[1], 0.0f) << x;
  }
}

TEST(NaiveBayesBinarized, ThresholdIsStrict) {
  Model m = random_model(kinds::binarized, 1u, 2u, 5u);
  m.thresholds = {2.0f};
  float at[2], above[2];
  const float x_at = 2.0f, x_above = std::nextafter(2.0f, 3.0f);
  emlearn_gen::naive_bayes_jll(m.descriptor(), &x_at, at);
  emlearn_gen::naive_bayes_jll(m.descriptor(), &x_above, above);
  EXPECT_EQ(at[0], m.constants[0]);  // 2 > 2 is false: no term
  EXPECT_EQ(above[0], m.weights[0] + m.constants[0]);
}

TEST(NaiveBayesGaussian, ZeroPriorClassIsMinusInfinityWithProbabilityZero) {
  Model m = random_model(kinds::gaussian, 2u, 2u, 9u);
  m.constants[0] = -std::numeric_limits<float>::infinity();
  const float x[2] = {0.5f, -0.5f};
  float out[2];
  emlearn_gen::naive_bayes_jll(m.descriptor(), x, out);
  EXPECT_EQ(out[0], -std::numeric_limits<float>::infinity());
  emlearn_gen::naive_bayes_proba(m.descriptor(), x, out);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 1.0f);
  EXPECT_EQ(emlearn_gen::naive_bayes_label(m.descriptor(), x, out), 1);
}

TEST(NaiveBayesValidate, RefusesInconsistentTables) {
  Model m = random_model(kinds::gaussian, 3u, 2u, 1u);
  EXPECT_EQ(m.validate(), status::ok);
  Model short_means = m;
  short_means.means.pop_back();
  EXPECT_EQ(short_means.validate(), status::size_mismatch);
  Model bad_kind = m;
  bad_kind.kind = 4u;
  EXPECT_EQ(bad_kind.validate(), status::bad_table);
  Model no_features = m;
  no_features.n_features = 0u;
  EXPECT_EQ(no_features.validate(), status::bad_argument);

  Model categorical = random_model(kinds::categorical, 3u, 2u, 2u);
  EXPECT_EQ(categorical.validate(), status::ok);
  Model more_categories = categorical;
  more_categories.categories[1] = static_cast<int16_t>(more_categories.categories[1] + 1);
  EXPECT_EQ(more_categories.validate(), status::size_mismatch);
  Model negative = categorical;
  negative.categories[0] = -1;
  EXPECT_EQ(negative.validate(), status::bad_table);

  Model binarized = random_model(kinds::binarized, 3u, 2u, 3u);
  binarized.thresholds.clear();
  EXPECT_NE(binarized.validate(), status::ok);  // no threshold
}

}  // namespace
