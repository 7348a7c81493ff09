// emlearn-gen runtime: linear models (scikit-learn's LogisticRegression,
// RidgeClassifier, SGDClassifier, LinearSVC, Perceptron, LinearRegression,
// Ridge, Lasso, ElasticNet, PoissonRegressor, ... anything whose decision is
// X @ coef_.T + intercept_ followed by a fixed function).
//
// A model is two float tables: `weights`, one row of n_features values per
// score (coef_ as scikit-learn stores it), and `intercepts`, one per score.
// Binary classifiers and single-output regressors have one score. `link`
// says what turns scores into outputs (see linear_link).
//
// The scores are one dense layer without activation (dense_sums in
// dense.hpp): summed in the same order on every target, each product
// rounded before it is added (see rounded() in math.hpp), so host and
// devices compute the same bits.
//
// Stack: the kernels keep a few scalars on the stack and no arrays; the
// only buffers are the caller's (`scores`, `out`, `y`), so the model's
// width does not change their stack use.
#ifndef EMLEARN_GEN_LINEAR_HPP
#define EMLEARN_GEN_LINEAR_HPP

#include "common.hpp"
#include "dense.hpp"
#include "math.hpp"

/// Version of the table layout above; generated headers check it.
#define EMLEARN_GEN_LINEAR_FORMAT 1

namespace emlearn_gen {

/// What a model's scores become.
namespace linear_link {
enum : uint8_t {
  identity = 0,        ///< regressors: the scores; classifiers without predict_proba
  exp = 1,             ///< regressors with a log link (Poisson, Gamma, Tweedie): e^score
  logistic = 2,        ///< predict_proba by the logistic function (one-vs-rest normalised)
  softmax = 3,         ///< predict_proba by softmax of the scores (multinomial)
  modified_huber = 4,  ///< SGDClassifier(loss="modified_huber")'s predict_proba
};
}  // namespace linear_link

/// Tables and layout of a linear model, known at run time (the host
/// runtime). Pointers refer to model tables (program memory on AVR).
///
/// The kernels below take any type `M` with these members. Generated
/// headers pass a type whose members are all `static constexpr`, so sizes
/// and the link are compile-time constants in device code and no
/// descriptor object exists in memory. A table member may also be anything
/// table_read(table, index) reads, such as a far_table (large models on AVR).
struct linear_model {
  const float* weights;     ///< n_scores * n_features, row-major (one row per score)
  const float* intercepts;  ///< n_scores
  uint32_t n_features;
  uint32_t n_scores;        ///< 1 for binary classifiers and single-output regressors
  uint8_t link;             ///< see linear_link
};

/// Number of classes of a classifier (values linear_proba writes): a single
/// score stands for two classes.
template <typename M>
inline uint32_t linear_n_classes(const M& m) {
  return m.n_scores == 1u ? 2u : m.n_scores;
}

/// The n_scores decision values for `x` (n_features values, caller memory):
/// scores[k] = (sum over i, in index order, of w[k][i] * x[i]) + intercept[k],
/// the sum starting at 0 and each product rounded to float before it is
/// added; the intercept comes last, as in scikit-learn's
/// X @ coef_.T + intercept_. Stack: a few words.
/// This is the dense layer's sum (dense.hpp) over the whole table.
template <typename M>
inline void linear_scores(const M& m, const float* x, float* scores) {
  // n_scores * n_features < 2^32: linear_validate checks it.
  dense_sums(m.weights, 0u, m.intercepts, 0u, m.n_features, m.n_scores, x, scores);
}

/// Predicted class of `x`, an index into the model's classes: with one
/// score, 1 if it is > 0 and 0 otherwise; with more, the first largest
/// score (scikit-learn's argmax). `scores` is caller scratch of n_scores
/// floats and holds the scores afterwards. Stack: a few words.
/// (scikit-learn rejects NaN inputs; here a NaN score is never the largest,
/// and a single NaN score gives class 0.)
template <typename M>
inline int32_t linear_label(const M& m, const float* x, float* scores) {
  linear_scores(m, x, scores);
  if (m.n_scores == 1u) {
    return scores[0] > 0.0f ? 1 : 0;
  }
  return argmax(scores, static_cast<int32_t>(m.n_scores));
}

namespace detail {

// SGDClassifier's modified-Huber probability of one score: (clip(s, -1, 1) + 1) / 2.
inline float modified_huber_proba(float s) {
  const float clipped = s > 1.0f ? 1.0f : (s < -1.0f ? -1.0f : s);
  return (clipped + 1.0f) / 2.0f;
}

}  // namespace detail

/// Class probabilities of `x` as scikit-learn's predict_proba computes them,
/// written to `out`: linear_n_classes(m) values, computed in place there
/// (no other scratch). Stack: a few words.
///   logistic, one score s:   p = sigmoid_f(s), out = {1 - p, p};
///   logistic, more scores:   sigmoid_f of each (scaled by e^-max where no
///                            score is positive), then normalize_sum_f
///                            (one-vs-rest, as LogisticRegression(ovr) and
///                            SGDClassifier(loss="log_loss"));
///   softmax:                 softmax_f of the scores (multinomial); one
///                            score s is treated as the two scores {-s, s},
///                            as older scikit-learn did for binary
///                            multinomial models;
///   modified_huber, one score: p = (clip(s, -1, 1) + 1) / 2, out = {1 - p, p};
///   modified_huber, more:    each (clip + 1) / 2, then normalize_sum_f
///                            (uniform where all are 0, as scikit-learn).
/// identity and exp define no probabilities: `out` receives the n_scores
/// decision values.
template <typename M>
inline void linear_proba(const M& m, const float* x, float* out) {
  linear_scores(m, x, out);
  const uint32_t n = m.n_scores;
  if (m.link == linear_link::logistic) {
    if (n == 1u) {
      const float p = sigmoid_f(out[0]);
      out[0] = 1.0f - p;
      out[1] = p;
      return;
    }
    // One-vs-rest: p_k = sigmoid(s_k) / sum_j sigmoid(s_j). Where no score
    // is positive, every sigmoid is first scaled by e^-max, exactly in real
    // arithmetic: sigmoid(s) e^-max = e^(s - max) / (1 + e^s), the largest of
    // them at least 1/2. Unscaled, scores below about -87 give float32
    // sigmoids of 0 where scikit-learn's float64 ones are not, and the
    // normalization would turn a clear winner into a uniform row.
    float top = out[0];
    for (uint32_t k = 1; k < n; ++k) {
      top = out[k] > top ? out[k] : top;
    }
    for (uint32_t k = 0; k < n; ++k) {
      out[k] = top > 0.0f ? sigmoid_f(out[k]) : exp_f(out[k] - top) / (1.0f + exp_f(out[k]));
    }
    normalize_sum_f(out, n);
  } else if (m.link == linear_link::softmax) {
    if (n == 1u) {
      out[1] = out[0];
      out[0] = -out[0];
      softmax_f(out, 2u);
      return;
    }
    softmax_f(out, n);
  } else if (m.link == linear_link::modified_huber) {
    if (n == 1u) {
      const float p = detail::modified_huber_proba(out[0]);
      out[0] = 1.0f - p;
      out[1] = p;
      return;
    }
    for (uint32_t k = 0; k < n; ++k) {
      out[k] = detail::modified_huber_proba(out[k]);
    }
    normalize_sum_f(out, n);
  }
}

/// Regressor outputs of `x`: the n_scores scores, then the inverse link in
/// place (identity: unchanged; exp: exp_f of each). Classifier links leave
/// the scores unchanged. Stack: a few words.
template <typename M>
inline void linear_predict(const M& m, const float* x, float* y) {
  linear_scores(m, x, y);
  if (m.link == linear_link::exp) {
    for (uint32_t k = 0; k < m.n_scores; ++k) {
      y[k] = exp_f(y[k]);
    }
  }
}

/// Checks a model's layout against its tables, so that the kernels read
/// only table memory: `n_weights` and `n_intercepts` are the sizes of the
/// tables in elements. Returns status::bad_argument for a null table or a
/// zero n_features or n_scores; status::bad_table for an unknown link, or
/// n_features * n_scores (or n_scores itself, a class index) out of the
/// kernels' 32-bit range; status::size_mismatch when the tables do not have
/// n_scores * n_features and n_scores elements; status::ok otherwise.
template <typename M>
inline status linear_validate(const M& m, size_t n_weights, size_t n_intercepts) {
  if (m.weights == NULL || m.intercepts == NULL || m.n_features == 0u || m.n_scores == 0u) {
    return status::bad_argument;
  }
  const uint64_t n_entries = static_cast<uint64_t>(m.n_features) * m.n_scores;
  if (m.link > linear_link::modified_huber || n_entries > 0xFFFFFFFFu ||
      m.n_scores > 0x7FFFFFFFu) {
    return status::bad_table;
  }
  if (static_cast<uint64_t>(n_weights) != n_entries ||
      static_cast<uint64_t>(n_intercepts) != m.n_scores) {
    return status::size_mismatch;
  }
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_LINEAR_HPP
