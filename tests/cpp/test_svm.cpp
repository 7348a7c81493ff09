// Tests of svm.hpp on small models made here, against references computed
// here in double precision from libsvm's definitions.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "emlearn_gen/svm.hpp"

namespace {

using emlearn_gen::status;
using emlearn_gen::svm_model;
namespace kernels = emlearn_gen::svm_kernel;

// A model with its tables, and the descriptor the kernels take.
struct Model {
  std::vector<float> sv;
  std::vector<float> dual;
  std::vector<float> intercepts;
  std::vector<uint32_t> class_start;
  std::vector<float> params;
  std::vector<float> prob_a;
  std::vector<float> prob_b;
  uint32_t n_features;
  uint32_t n_classes;
  uint32_t degree;
  uint8_t kernel;
  uint8_t ovr;
  uint8_t break_ties;
  uint8_t has_proba;

  uint32_t n_sv() const { return class_start.back(); }
  svm_model descriptor() const {
    return svm_model{sv.data(), dual.data(), intercepts.data(), class_start.data(), params.data(), prob_a.data(),
                     prob_b.data(), n_features, n_sv(), n_classes, degree, kernel, ovr, break_ties, has_proba, 32};
  }
  status validate() const {
    return emlearn_gen::svm_validate(descriptor(), sv.size(), dual.size(), intercepts.size(), class_start.size(),
                                     params.size(), prob_a.size(), prob_b.size());
  }
};

// n_classes classes with per_class support vectors each (one group of
// 3 * per_class for n_classes = 1: a regressor or one-class model).
Model random_model(uint32_t n_classes, uint32_t per_class, uint32_t n_features, uint8_t kernel, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  Model m;
  m.n_features = n_features;
  m.n_classes = n_classes;
  m.degree = 3u;
  m.kernel = kernel;
  m.ovr = 1u;
  m.break_ties = 0u;
  m.has_proba = 0u;
  const uint32_t groups = n_classes;
  const uint32_t per_group = n_classes >= 2u ? per_class : 3u * per_class;
  m.class_start.push_back(0u);
  for (uint32_t c = 0; c < groups; ++c) {
    m.class_start.push_back(m.class_start.back() + per_group);
  }
  for (uint32_t i = 0; i < m.n_sv() * n_features; ++i) {
    m.sv.push_back(value(rng));
  }
  const uint32_t rows = n_classes >= 2u ? n_classes - 1u : 1u;
  for (uint32_t i = 0; i < rows * m.n_sv(); ++i) {
    m.dual.push_back(value(rng));
  }
  const uint32_t decisions = n_classes >= 2u ? n_classes * (n_classes - 1u) / 2u : 1u;
  for (uint32_t p = 0; p < decisions; ++p) {
    m.intercepts.push_back(value(rng));
  }
  m.params = {0.7f, 0.3f, 0.125f};
  return m;
}

double kernel_value(const Model& m, uint32_t s, const std::vector<float>& x) {
  double dot = 0.0, distance = 0.0;
  for (uint32_t i = 0; i < m.n_features; ++i) {
    const double v = m.sv[s * m.n_features + i];
    const double xi = x[i];
    dot += v * xi;
    distance += (v - xi) * (v - xi);
  }
  const double gamma = m.params[0], coef0 = m.params[1];
  switch (m.kernel) {
    case kernels::poly:
      return std::pow(gamma * dot + coef0, static_cast<double>(m.degree));
    case kernels::rbf:
      return std::exp(-gamma * distance);
    case kernels::sigmoid:
      return std::tanh(gamma * dot + coef0);
    default:
      return dot;
  }
}

// libsvm's svm_predict_values: pair (i, j) sums class i's support vectors
// with row j - 1 and class j's with row i, then subtracts rho (adds the
// intercept here).
std::vector<double> reference_decisions(const Model& m, const std::vector<float>& x) {
  std::vector<double> k(m.n_sv());
  for (uint32_t s = 0; s < m.n_sv(); ++s) {
    k[s] = kernel_value(m, s, x);
  }
  std::vector<double> dec;
  if (m.n_classes < 2u) {
    double sum = 0.0;
    for (uint32_t s = 0; s < m.n_sv(); ++s) {
      sum += static_cast<double>(m.dual[s]) * k[s];
    }
    dec.push_back(sum + static_cast<double>(m.intercepts[0]));
    return dec;
  }
  for (uint32_t i = 0; i < m.n_classes; ++i) {
    for (uint32_t j = i + 1u; j < m.n_classes; ++j) {
      double sum = 0.0;
      for (uint32_t s = m.class_start[i]; s < m.class_start[i + 1u]; ++s) {
        sum += static_cast<double>(m.dual[(j - 1u) * m.n_sv() + s]) * k[s];
      }
      for (uint32_t s = m.class_start[j]; s < m.class_start[j + 1u]; ++s) {
        sum += static_cast<double>(m.dual[i * m.n_sv() + s]) * k[s];
      }
      dec.push_back(sum + static_cast<double>(m.intercepts[dec.size()]));
    }
  }
  return dec;
}

std::vector<float> random_row(uint32_t n_features, std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-1.5f, 1.5f);
  std::vector<float> x(n_features);
  for (float& v : x) {
    v = value(rng);
  }
  return x;
}

TEST(Svm, DecisionsAreLibsvmsForEveryKernel) {
  std::mt19937 rng(5);
  for (uint8_t kernel : {kernels::poly, kernels::rbf, kernels::sigmoid}) {
    for (uint32_t n_classes : {1u, 2u, 3u, 5u}) {
      const Model m = random_model(n_classes, 4u, 6u, kernel, 11u * kernel + n_classes);
      ASSERT_EQ(m.validate(), status::ok);
      std::vector<float> dec(n_classes >= 2u ? n_classes * (n_classes - 1u) / 2u : 1u);
      for (int row = 0; row < 50; ++row) {
        const std::vector<float> x = random_row(m.n_features, rng);
        emlearn_gen::svm_decisions(m.descriptor(), x.data(), dec.data());
        const std::vector<double> want = reference_decisions(m, x);
        for (size_t p = 0; p < want.size(); ++p) {
          // Terms of magnitude up to |c| * |K| <= 1 * (1.7 * 1.5 * 6 + 1)^3
          // (poly); a few float roundings of each.
          EXPECT_NEAR(dec[p], want[p], 1e-5 * (kernel == kernels::poly ? 3000.0 : 10.0))
              << "kernel " << int(kernel) << " classes " << n_classes << " decision " << p;
        }
      }
    }
  }
}

TEST(Svm, LinearModelsRunOnPrimalWeights) {
  // Two classes, weights {2, -1} and intercept 0.5: decision 2 x0 - x1 + 0.5.
  Model m = random_model(2u, 1u, 2u, kernels::linear, 3u);
  m.sv = {2.0f, -1.0f};
  m.dual.clear();
  m.class_start = {0u, 0u, 1u};
  m.intercepts = {0.5f};
  ASSERT_EQ(m.validate(), status::ok);
  const float x[2] = {1.5f, 4.0f};
  float dec[1];
  emlearn_gen::svm_decisions(m.descriptor(), x, dec);
  EXPECT_EQ(dec[0], -0.5f);
  // Negative in libsvm's orientation: class 1, and scikit-learn's binary
  // decision_function is the negation.
  EXPECT_EQ(emlearn_gen::svm_label(m.descriptor(), x, dec), 1);
  float out[1];
  emlearn_gen::svm_decision_function(m.descriptor(), dec, out);
  EXPECT_EQ(out[0], 0.5f);
}

TEST(Svm, VotesAndOneVsRestAsLibsvmAndScikitLearn) {
  Model m = random_model(3u, 1u, 1u, kernels::rbf, 7u);
  // Pairs (0, 1), (0, 2), (1, 2). Every class wins one vote: the first
  // (class 0) is predicted.
  const float cycle[3] = {1.0f, -1.0f, 1.0f};
  float values[3];
  m.ovr = 1u;
  emlearn_gen::svm_decision_function(m.descriptor(), cycle, values);
  for (uint32_t c = 0; c < 3u; ++c) {
    // votes + s / (3 (|s| + 1)), s summed as scikit-learn sums it.
    const double s = c == 0u ? 1.0 - 1.0 : (c == 1u ? -1.0 + 1.0 : 1.0 - 1.0);
    EXPECT_DOUBLE_EQ(values[c], 1.0 + s / (3.0 * (std::fabs(s) + 1.0))) << c;
  }
  // libsvm gives a decision of exactly 0 to the higher class; scikit-learn's
  // one-vs-rest votes give it to the lower one.
  const float zero[3] = {0.0f, 0.0f, 0.0f};
  EXPECT_EQ(emlearn_gen::detail::svm_votes(3u, zero, 0u), 0u);
  EXPECT_EQ(emlearn_gen::detail::svm_votes(3u, zero, 2u), 2u);
  emlearn_gen::svm_decision_function(m.descriptor(), zero, values);
  EXPECT_EQ(values[0], 2.0f);
  EXPECT_EQ(values[2], 0.0f);
}

TEST(Svm, BreakTiesPicksTheLargestOneVsRestValue) {
  Model m = random_model(3u, 2u, 3u, kernels::rbf, 9u);
  std::mt19937 rng(13);
  float dec[3];
  for (int row = 0; row < 200; ++row) {
    const std::vector<float> x = random_row(m.n_features, rng);
    m.break_ties = 1u;
    const int32_t label = emlearn_gen::svm_label(m.descriptor(), x.data(), dec);
    float values[3];
    emlearn_gen::svm_decision_function(m.descriptor(), dec, values);
    int32_t best = 0;
    for (int32_t c = 1; c < 3; ++c) {
      best = values[c] > values[best] ? c : best;
    }
    EXPECT_EQ(label, best);
  }
}

TEST(Svm, OneClassPredictAndScore) {
  Model m = random_model(1u, 2u, 3u, kernels::rbf, 17u);
  std::mt19937 rng(19);
  for (int row = 0; row < 50; ++row) {
    const std::vector<float> x = random_row(m.n_features, rng);
    const float value = emlearn_gen::svm_value(m.descriptor(), x.data());
    EXPECT_EQ(emlearn_gen::svm_outlier(m.descriptor(), x.data()), value > 0.0f ? 1 : -1);
    EXPECT_EQ(emlearn_gen::svm_score(m.descriptor(), x.data()), value + m.params[2]);
  }
}

// libsvm's multiclass_probability in double, from the pair probabilities.
std::vector<double> reference_coupling(uint32_t k, const std::vector<std::vector<double>>& r) {
  std::vector<double> p(k, 1.0 / k), Qp(k);
  std::vector<std::vector<double>> Q(k, std::vector<double>(k, 0.0));
  for (uint32_t t = 0; t < k; ++t) {
    for (uint32_t j = 0; j < t; ++j) {
      Q[t][t] += r[j][t] * r[j][t];
      Q[t][j] = Q[j][t];
    }
    for (uint32_t j = t + 1u; j < k; ++j) {
      Q[t][t] += r[j][t] * r[j][t];
      Q[t][j] = -r[j][t] * r[t][j];
    }
  }
  const double eps = 0.005 / k;
  for (uint32_t iter = 0; iter < std::max(100u, k); ++iter) {
    double pQp = 0.0, max_error = 0.0;
    for (uint32_t t = 0; t < k; ++t) {
      Qp[t] = 0.0;
      for (uint32_t j = 0; j < k; ++j) Qp[t] += Q[t][j] * p[j];
      pQp += p[t] * Qp[t];
    }
    for (uint32_t t = 0; t < k; ++t) max_error = std::max(max_error, std::fabs(Qp[t] - pQp));
    if (max_error < eps) break;
    for (uint32_t t = 0; t < k; ++t) {
      const double diff = (-Qp[t] + pQp) / Q[t][t];
      p[t] += diff;
      pQp = (pQp + diff * (diff * Q[t][t] + 2 * Qp[t])) / (1 + diff) / (1 + diff);
      for (uint32_t j = 0; j < k; ++j) {
        Qp[j] = (Qp[j] + diff * Q[t][j]) / (1 + diff);
        p[j] /= (1 + diff);
      }
    }
  }
  return p;
}

TEST(Svm, ProbabilitiesAreLibsvmsCoupling) {
  std::mt19937 rng(31);
  std::uniform_real_distribution<float> platt(-3.0f, 3.0f);
  for (uint32_t k : {2u, 3u, 4u, 6u}) {
    Model m = random_model(k, 3u, 4u, kernels::rbf, 37u + k);
    m.has_proba = 1u;
    for (float b : m.intercepts) {
      (void)b;
      m.prob_a.push_back(platt(rng));
      m.prob_b.push_back(platt(rng) / 3.0f);
    }
    ASSERT_EQ(m.validate(), status::ok);
    std::vector<float> dec(m.intercepts.size()), scratch(emlearn_gen::svm_proba_scratch(m.descriptor())), p(k);
    for (int row = 0; row < 50; ++row) {
      const std::vector<float> x = random_row(m.n_features, rng);
      emlearn_gen::svm_decisions(m.descriptor(), x.data(), dec.data());
      emlearn_gen::svm_proba(m.descriptor(), dec.data(), scratch.data(), p.data());
      std::vector<std::vector<double>> r(k, std::vector<double>(k, 0.0));
      uint32_t pair = 0;
      for (uint32_t i = 0; i < k; ++i) {
        for (uint32_t j = i + 1u; j < k; ++j, ++pair) {
          const double f =
              static_cast<double>(dec[pair]) * static_cast<double>(m.prob_a[pair]) + static_cast<double>(m.prob_b[pair]);
          const double s = f >= 0 ? std::exp(-f) / (1.0 + std::exp(-f)) : 1.0 / (1.0 + std::exp(f));
          r[i][j] = std::min(std::max(s, 1e-7), 1 - 1e-7);
          r[j][i] = 1 - r[i][j];
        }
      }
      const std::vector<double> want = reference_coupling(k, r);
      double sum = 0.0;
      for (uint32_t c = 0; c < k; ++c) {
        // The same iteration in float: it may stop one step apart, within
        // the stopping tolerance's reach.
        EXPECT_NEAR(p[c], want[c], 0.02) << "k " << k << " class " << c;
        sum += static_cast<double>(p[c]);
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  }
}

TEST(Svm, PolyDegreeZeroIsOne) {
  Model m = random_model(1u, 1u, 2u, kernels::poly, 23u);
  m.degree = 0u;
  const float x[2] = {3.0f, -2.0f};
  for (uint32_t s = 0; s < m.n_sv(); ++s) {
    EXPECT_EQ(emlearn_gen::svm_kernel_value(m.descriptor(), s, x), 1.0f);
  }
}

TEST(Svm, ValidateRefusesInconsistentTables) {
  const Model good = random_model(3u, 2u, 4u, kernels::rbf, 29u);
  ASSERT_EQ(good.validate(), status::ok);
  Model m = good;
  m.kernel = 4u;
  EXPECT_EQ(m.validate(), status::bad_table);
  m = good;
  m.break_ties = 2u;
  EXPECT_EQ(m.validate(), status::bad_table);
  m = good;
  m.dual.pop_back();
  EXPECT_EQ(m.validate(), status::size_mismatch);
  m = good;
  m.intercepts.push_back(0.0f);
  EXPECT_EQ(m.validate(), status::size_mismatch);
  m = good;
  m.params.pop_back();
  EXPECT_EQ(m.validate(), status::size_mismatch);
  m = good;
  m.class_start[1] = 5u;  // above class_start[2] = 4
  EXPECT_EQ(m.validate(), status::bad_table);
  m = good;
  m.class_start[0] = 1u;
  EXPECT_EQ(m.validate(), status::bad_table);
  m = good;
  m.n_features = 0u;
  EXPECT_EQ(m.validate(), status::bad_argument);
  svm_model d = good.descriptor();
  d.params = NULL;
  EXPECT_EQ(emlearn_gen::svm_validate(d, good.sv.size(), good.dual.size(), good.intercepts.size(),
                                      good.class_start.size(), good.params.size(), 0u, 0u),
            status::bad_argument);
  // Platt scaling: one pair of values per decision, classifiers only.
  m = good;
  m.has_proba = 1u;
  EXPECT_EQ(m.validate(), status::bad_argument);  // no tables
  m.prob_a = {1.0f, 2.0f, 3.0f};
  m.prob_b = {0.0f, 0.0f};
  EXPECT_EQ(m.validate(), status::size_mismatch);
  m.prob_b.push_back(0.0f);
  EXPECT_EQ(m.validate(), status::ok);
  // A linear model stores one row of weights per decision, no dual rows.
  m = good;
  m.kernel = kernels::linear;
  EXPECT_EQ(m.validate(), status::size_mismatch);
}

}  // namespace
