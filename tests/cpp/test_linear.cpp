// Tests of linear.hpp on small models made here, against references
// computed here in double precision, within the bounds the headers state.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "emlearn_gen/linear.hpp"

namespace {

using emlearn_gen::linear_model;
using emlearn_gen::status;
namespace links = emlearn_gen::linear_link;

const double kU = std::ldexp(1.0, -24);  // unit roundoff of float
const double kSubnormalUlp = std::ldexp(1.0, -149);

// A model with its tables, and the descriptor the kernels take.
struct Model {
  std::vector<float> weights;
  std::vector<float> intercepts;
  uint32_t n_features;
  uint8_t link_kind;

  uint32_t n_scores() const { return static_cast<uint32_t>(intercepts.size()); }
  uint32_t n_classes() const { return n_scores() == 1u ? 2u : n_scores(); }
  linear_model descriptor() const {
    return linear_model{weights.data(), intercepts.data(), n_features, n_scores(), link_kind};
  }
};

Model random_model(uint32_t n_features, uint32_t n_scores, uint8_t link_kind, uint32_t seed,
                   float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-scale, scale);
  Model m;
  m.n_features = n_features;
  m.link_kind = link_kind;
  for (uint32_t i = 0; i < n_features * n_scores; ++i) {
    m.weights.push_back(value(rng));
  }
  for (uint32_t k = 0; k < n_scores; ++k) {
    m.intercepts.push_back(value(rng));
  }
  return m;
}

std::vector<std::vector<float>> random_rows(uint32_t n_features, int n_rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  std::vector<std::vector<float>> rows(static_cast<size_t>(n_rows), std::vector<float>(n_features));
  for (auto& row : rows) {
    for (float& x : row) {
      x = value(rng);
    }
  }
  return rows;
}

// X @ coef_.T + intercept_ in double, and the error a float evaluation may
// have: n products and n + 1 additions, each rounding once, all bounded by
// u times the sum of the magnitudes (first order).
struct ScoreRef {
  double value;
  double bound;
};

ScoreRef score_ref(const Model& m, const std::vector<float>& x, uint32_t k) {
  double sum = 0.0;
  double magnitude = 0.0;
  for (uint32_t i = 0; i < m.n_features; ++i) {
    const double term = static_cast<double>(m.weights[k * m.n_features + i]) * static_cast<double>(x[i]);
    sum += term;
    magnitude += fabs(term);
  }
  const double b = static_cast<double>(m.intercepts[k]);
  const double n = static_cast<double>(m.n_features);
  return ScoreRef{sum + b, (n + 1.0) * kU * (magnitude + fabs(b)) * (1.0 + 1e-6)};
}

TEST(LinearScores, MatchDoubleReferenceWithinTheSummationBound) {
  for (uint32_t n_scores : {1u, 2u, 5u}) {
    for (uint32_t n_features : {1u, 3u, 17u}) {
      const Model m = random_model(n_features, n_scores, links::identity, 100u + n_scores * n_features);
      for (const auto& x : random_rows(n_features, 50, 3u)) {
        std::vector<float> scores(n_scores);
        emlearn_gen::linear_scores(m.descriptor(), x.data(), scores.data());
        for (uint32_t k = 0; k < n_scores; ++k) {
          const ScoreRef want = score_ref(m, x, k);
          ASSERT_LE(fabs(static_cast<double>(scores[k]) - want.value), want.bound)
              << n_scores << " scores, " << n_features << " features, score " << k;
        }
      }
    }
  }
}

TEST(LinearScores, SumInIndexOrderFromZeroWithTheInterceptLast) {
  // The documented order, in float (this suite builds with
  // -ffp-contract=off): host and devices agree only if the kernel keeps it.
  const Model m = random_model(9, 3, links::identity, 5u, 100.0f);
  for (const auto& x : random_rows(9, 100, 6u)) {
    float scores[3];
    emlearn_gen::linear_scores(m.descriptor(), x.data(), scores);
    for (uint32_t k = 0; k < 3u; ++k) {
      float sum = 0.0f;
      for (uint32_t i = 0; i < 9u; ++i) {
        sum += m.weights[k * 9u + i] * x[i];
      }
      EXPECT_EQ(scores[k], sum + m.intercepts[k]);
    }
  }
}

TEST(LinearScores, OrderMattersForTheseInputs) {
  // A model where another order gives another float: the test above can
  // tell orders apart. (2^24 + 1 - 2^24 is 1 exactly only if summed as
  // written: 1 + 2^24 rounds to 2^24.)
  const Model m{{1.0f, 16777216.0f, -16777216.0f}, {0.0f}, 3u, links::identity};
  const float x[3] = {1.0f, 1.0f, 1.0f};
  float score = -1.0f;
  emlearn_gen::linear_scores(m.descriptor(), x, &score);
  EXPECT_EQ(score, 0.0f);  // (1 + 2^24) rounds to 2^24, minus 2^24
  const Model reordered{{16777216.0f, -16777216.0f, 1.0f}, {0.0f}, 3u, links::identity};
  emlearn_gen::linear_scores(reordered.descriptor(), x, &score);
  EXPECT_EQ(score, 1.0f);
}

TEST(LinearLabel, BinaryIsPositiveScore) {
  // score = x0 - 2: positive, zero and negative.
  const Model m{{1.0f}, {-2.0f}, 1u, links::logistic};
  float scratch[1];
  const float above[1] = {2.5f};
  const float at[1] = {2.0f};
  const float below[1] = {1.0f};
  EXPECT_EQ(emlearn_gen::linear_label(m.descriptor(), above, scratch), 1);
  EXPECT_EQ(scratch[0], 0.5f);
  EXPECT_EQ(emlearn_gen::linear_label(m.descriptor(), at, scratch), 0);  // scikit-learn: score > 0
  EXPECT_EQ(emlearn_gen::linear_label(m.descriptor(), below, scratch), 0);
}

TEST(LinearLabel, MultiClassIsFirstLargestScore) {
  const Model m = random_model(4, 5, links::softmax, 21u);
  for (const auto& x : random_rows(4, 200, 22u)) {
    std::vector<ScoreRef> want;
    size_t best = 0;
    for (uint32_t k = 0; k < 5u; ++k) {
      want.push_back(score_ref(m, x, k));
      if (want[k].value > want[best].value) {
        best = k;
      }
    }
    float scratch[5];
    const size_t got = static_cast<size_t>(emlearn_gen::linear_label(m.descriptor(), x.data(), scratch));
    // The same class unless two scores are within rounding of each other.
    const double gap = fabs(want[got].value - want[best].value);
    EXPECT_TRUE(got == best || gap <= want[got].bound + want[best].bound) << got << " vs " << best;
  }
  // Tied rows: the first wins, as numpy.argmax.
  const Model tied{{1.0f, 2.0f, 1.0f, 2.0f, 0.5f, 0.5f}, {0.0f, 0.0f, 0.0f}, 2u, links::identity};
  const float x[2] = {1.0f, 1.0f};
  float scratch[3];
  EXPECT_EQ(emlearn_gen::linear_label(tied.descriptor(), x, scratch), 0);
}

// Probabilities are checked against the double formula applied to the
// kernel's own scores (the scores are checked above), within the bounds
// math.hpp states for each step.

std::vector<float> kernel_scores(const Model& m, const std::vector<float>& x) {
  std::vector<float> scores(m.n_scores());
  emlearn_gen::linear_scores(m.descriptor(), x.data(), scores.data());
  return scores;
}

double sigmoid_ref(double s) { return 1.0 / (1.0 + exp(-s)); }

void expect_proba(const Model& m, const std::vector<float>& x, const std::vector<double>& want,
                  const std::vector<double>& rel_bound) {
  std::vector<float> out(m.n_classes(), -1.0f);
  emlearn_gen::linear_proba(m.descriptor(), x.data(), out.data());
  ASSERT_EQ(out.size(), want.size());
  for (size_t c = 0; c < want.size(); ++c) {
    EXPECT_LE(fabs(static_cast<double>(out[c]) - want[c]), rel_bound[c] * want[c] * (1.0 + 1e-6) + kSubnormalUlp)
        << "class " << c << ": " << out[c] << " vs " << want[c];
  }
}

TEST(LinearProba, LogisticBinary) {
  const Model m = random_model(3, 1, links::logistic, 31u, 2.0f);
  const double sig = static_cast<double>(emlearn_gen::sigmoid_max_rel_error);
  for (const auto& x : random_rows(3, 200, 32u)) {
    const double s = static_cast<double>(kernel_scores(m, x)[0]);
    const double p = sigmoid_ref(s);
    // 1 - p: the error of p, relative to 1 - p, plus one rounding.
    expect_proba(m, x, {1.0 - p, p}, {sig * p / (1.0 - p) + kU, sig});
  }
}

TEST(LinearProba, LogisticOneVsRestNormalised) {
  const Model m = random_model(4, 3, links::logistic, 41u, 2.0f);
  const double sig = static_cast<double>(emlearn_gen::sigmoid_max_rel_error);
  for (const auto& x : random_rows(4, 200, 42u)) {
    const std::vector<float> scores = kernel_scores(m, x);
    std::vector<double> want;
    double sum = 0.0;
    for (float s : scores) {
      want.push_back(sigmoid_ref(static_cast<double>(s)));
      sum += want.back();
    }
    for (double& w : want) {
      w /= sum;
    }
    // Its sigmoid, the sum's ((n - 1) roundings and the sigmoids'), the division.
    const double bound = sig + (sig + 2.0 * kU) + kU;
    expect_proba(m, x, want, std::vector<double>(3, bound));
  }
}

TEST(LinearProba, SoftmaxMultinomial) {
  const Model m = random_model(4, 4, links::softmax, 51u, 2.0f);
  const double e = static_cast<double>(emlearn_gen::exp_max_rel_error);
  for (const auto& x : random_rows(4, 200, 52u)) {
    const std::vector<float> scores = kernel_scores(m, x);
    float largest = scores[0];
    for (float s : scores) {
      largest = s > largest ? s : largest;
    }
    std::vector<double> want;
    std::vector<double> d;
    double sum = 0.0;
    for (float s : scores) {
      d.push_back(static_cast<double>(s) - static_cast<double>(largest));
      want.push_back(exp(d.back()));
      sum += want.back();
    }
    double max_d = 0.0;
    for (double di : d) {
      max_d = fmax(max_d, fabs(di));
    }
    std::vector<double> bound;
    for (size_t k = 0; k < want.size(); ++k) {
      want[k] /= sum;
      bound.push_back((e + kU * fabs(d[k])) + (e + kU * max_d + 3.0 * kU) + kU);
    }
    expect_proba(m, x, want, bound);
  }
}

TEST(LinearProba, SoftmaxWithOneScoreIsTheSoftmaxOfMinusSAndS) {
  const Model m = random_model(2, 1, links::softmax, 55u, 2.0f);
  const double e = static_cast<double>(emlearn_gen::exp_max_rel_error);
  for (const auto& x : random_rows(2, 100, 56u)) {
    const double s = static_cast<double>(kernel_scores(m, x)[0]);
    const double p1 = 1.0 / (1.0 + exp(-2.0 * s));
    const double d = 2.0 * fabs(s);
    const double bound = (e + kU * d) + (e + kU * d + kU) + kU;
    expect_proba(m, x, {1.0 - p1, p1}, {bound, bound});
  }
}

double modified_huber_ref(double s) { return (fmin(fmax(s, -1.0), 1.0) + 1.0) / 2.0; }

TEST(LinearProba, ModifiedHuberBinary) {
  const Model m = random_model(3, 1, links::modified_huber, 61u, 1.0f);
  for (const auto& x : random_rows(3, 200, 62u)) {
    const double p = modified_huber_ref(static_cast<double>(kernel_scores(m, x)[0]));
    // One rounding in clip + 1, one in 1 - p (which also carries p's).
    const double p_bound = kU;
    const double q_bound = p > 0.0 && p < 1.0 ? p_bound * p / (1.0 - p) + kU : 0.0;
    expect_proba(m, x, {1.0 - p, p}, {q_bound, p_bound});
  }
  // Clipped at both ends exactly.
  const Model sure{{10.0f}, {0.0f}, 1u, links::modified_huber};
  const float plus[1] = {1.0f};
  const float minus[1] = {-1.0f};
  float out[2];
  emlearn_gen::linear_proba(sure.descriptor(), plus, out);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 1.0f);
  emlearn_gen::linear_proba(sure.descriptor(), minus, out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 0.0f);
}

TEST(LinearProba, ModifiedHuberMultiClassNormalised) {
  const Model m = random_model(3, 4, links::modified_huber, 71u, 1.0f);
  int non_trivial = 0;
  for (const auto& x : random_rows(3, 300, 72u)) {
    const std::vector<float> scores = kernel_scores(m, x);
    std::vector<double> want;
    double sum = 0.0;
    for (float s : scores) {
      want.push_back(modified_huber_ref(static_cast<double>(s)));
      sum += want.back();
    }
    if (sum == 0.0) {
      want.assign(4, 0.25);
    } else {
      ++non_trivial;
      for (double& w : want) {
        w /= sum;
      }
    }
    // Its own rounding, the sum's (its terms' and 3 additions), the division.
    expect_proba(m, x, want, std::vector<double>(4, kU + (kU + 3.0 * kU) + kU));
  }
  EXPECT_GT(non_trivial, 100);
}

TEST(LinearProba, ModifiedHuberAllZeroIsUniform) {
  // Every score <= -1: every (clip + 1) / 2 is 0, and scikit-learn gives
  // each class 1 / n_classes.
  const Model m{{1.0f, 2.0f, 3.0f}, {-5.0f, -5.0f, -5.0f}, 1u, links::modified_huber};
  const float x[1] = {0.5f};
  float out[3];
  emlearn_gen::linear_proba(m.descriptor(), x, out);
  for (float p : out) {
    EXPECT_EQ(p, static_cast<float>(1.0 / 3.0));
  }
}

TEST(LinearProba, LinksWithoutProbabilitiesGiveTheScores) {
  for (uint8_t kind : {links::identity, links::exp}) {
    const Model m = random_model(3, 2, kind, 81u);
    for (const auto& x : random_rows(3, 20, 82u)) {
      const std::vector<float> scores = kernel_scores(m, x);
      float out[2];
      emlearn_gen::linear_proba(m.descriptor(), x.data(), out);
      EXPECT_EQ(out[0], scores[0]);
      EXPECT_EQ(out[1], scores[1]);
    }
  }
}

TEST(LinearPredict, IdentityGivesTheScores) {
  const Model m = random_model(5, 2, links::identity, 91u);
  for (const auto& x : random_rows(5, 50, 92u)) {
    float y[2];
    emlearn_gen::linear_predict(m.descriptor(), x.data(), y);
    for (uint32_t k = 0; k < 2u; ++k) {
      const ScoreRef want = score_ref(m, x, k);
      EXPECT_LE(fabs(static_cast<double>(y[k]) - want.value), want.bound);
    }
  }
}

TEST(LinearPredict, ExpLinkExponentiatesTheScores) {
  const Model m = random_model(5, 2, links::exp, 93u, 2.0f);
  const double e = static_cast<double>(emlearn_gen::exp_max_rel_error);
  for (const auto& x : random_rows(5, 50, 94u)) {
    float y[2];
    emlearn_gen::linear_predict(m.descriptor(), x.data(), y);
    for (uint32_t k = 0; k < 2u; ++k) {
      // An absolute error d in the score is a relative error e^d - 1 of
      // its exponential.
      const ScoreRef s = score_ref(m, x, k);
      const double want = exp(s.value);
      const double rel = expm1(s.bound) + e;
      EXPECT_LE(fabs(static_cast<double>(y[k]) - want), rel * want * (1.0 + 1e-6)) << k;
    }
  }
}

// The layout as compile-time constants, the way generated headers pass it.
const float g_weights[6] = {0.5f, -1.25f, 2.0f, 0.75f, -0.5f, 1.5f};
const float g_intercepts[3] = {0.125f, -0.25f, 0.5f};

template <uint8_t Link>
struct StaticLinear {
  static constexpr const float* weights = g_weights;
  static constexpr const float* intercepts = g_intercepts;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_scores = 3u;
  static constexpr uint8_t link = Link;
};

template <uint8_t Link>
void expect_static_matches_runtime() {
  const Model m{std::vector<float>(g_weights, g_weights + 6), std::vector<float>(g_intercepts, g_intercepts + 3), 2u,
                Link};
  EXPECT_EQ(emlearn_gen::linear_validate(StaticLinear<Link>(), 6u, 3u), status::ok);
  EXPECT_EQ(emlearn_gen::linear_n_classes(StaticLinear<Link>()), 3u);
  for (const auto& x : random_rows(2, 50, 101u)) {
    float a[3];
    float b[3];
    EXPECT_EQ(emlearn_gen::linear_label(StaticLinear<Link>(), x.data(), a),
              emlearn_gen::linear_label(m.descriptor(), x.data(), b));
    emlearn_gen::linear_proba(StaticLinear<Link>(), x.data(), a);
    emlearn_gen::linear_proba(m.descriptor(), x.data(), b);
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(a[k], b[k]);
    }
    emlearn_gen::linear_predict(StaticLinear<Link>(), x.data(), a);
    emlearn_gen::linear_predict(m.descriptor(), x.data(), b);
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(a[k], b[k]);
    }
  }
}

TEST(LinearStatic, CompileTimeLayoutMatchesRuntimeDescriptorForEveryLink) {
  expect_static_matches_runtime<links::identity>();
  expect_static_matches_runtime<links::exp>();
  expect_static_matches_runtime<links::logistic>();
  expect_static_matches_runtime<links::softmax>();
  expect_static_matches_runtime<links::modified_huber>();
}

TEST(LinearNClasses, OneScoreIsTwoClasses) {
  EXPECT_EQ(emlearn_gen::linear_n_classes(Model{{1.0f}, {0.0f}, 1u, links::logistic}.descriptor()), 2u);
  EXPECT_EQ(emlearn_gen::linear_n_classes(random_model(2, 3, links::softmax, 1u).descriptor()), 3u);
}

TEST(LinearValidate, Statuses) {
  const Model good = random_model(3, 2, links::softmax, 111u);
  const linear_model ok = good.descriptor();
  EXPECT_EQ(emlearn_gen::linear_validate(ok, 6u, 2u), status::ok);

  linear_model bad = ok;
  bad.weights = nullptr;
  EXPECT_EQ(emlearn_gen::linear_validate(bad, 6u, 2u), status::bad_argument);
  bad = ok;
  bad.intercepts = nullptr;
  EXPECT_EQ(emlearn_gen::linear_validate(bad, 6u, 2u), status::bad_argument);
  bad = ok;
  bad.n_features = 0u;
  EXPECT_EQ(emlearn_gen::linear_validate(bad, 0u, 2u), status::bad_argument);
  bad = ok;
  bad.n_scores = 0u;
  EXPECT_EQ(emlearn_gen::linear_validate(bad, 0u, 0u), status::bad_argument);

  EXPECT_EQ(emlearn_gen::linear_validate(ok, 5u, 2u), status::size_mismatch);
  EXPECT_EQ(emlearn_gen::linear_validate(ok, 7u, 2u), status::size_mismatch);
  EXPECT_EQ(emlearn_gen::linear_validate(ok, 6u, 1u), status::size_mismatch);
  EXPECT_EQ(emlearn_gen::linear_validate(ok, 6u, 3u), status::size_mismatch);
  EXPECT_EQ(emlearn_gen::linear_validate(ok, 0u, 0u), status::size_mismatch);

  for (uint8_t kind = 0; kind <= links::modified_huber; ++kind) {
    bad = ok;
    bad.link = kind;
    EXPECT_EQ(emlearn_gen::linear_validate(bad, 6u, 2u), status::ok) << int(kind);
  }
  for (uint8_t kind : {uint8_t(links::modified_huber + 1), uint8_t(255)}) {
    bad = ok;
    bad.link = kind;
    EXPECT_EQ(emlearn_gen::linear_validate(bad, 6u, 2u), status::bad_table) << int(kind);
  }

  // n_features * n_scores: 2^32 - 1 still fits the kernels' indices, 2^32
  // does not (whatever sizes the caller claims).
  bad = ok;
  bad.n_features = 0xFFFFu;
  bad.n_scores = 0x10001u;
  EXPECT_EQ(emlearn_gen::linear_validate(bad, static_cast<size_t>(0xFFFFFFFFu), 0x10001u),
            sizeof(size_t) >= 8 ? status::ok : status::size_mismatch);
  bad.n_features = 0x10000u;
  bad.n_scores = 0x10000u;
  EXPECT_EQ(emlearn_gen::linear_validate(bad, static_cast<size_t>(0xFFFFFFFFu), 0x10000u), status::bad_table);
  // Class indices are int32_t.
  bad.n_features = 1u;
  bad.n_scores = 0x80000000u;
  EXPECT_EQ(emlearn_gen::linear_validate(bad, 0x80000000u, 0x80000000u), status::bad_table);
}

}  // namespace
