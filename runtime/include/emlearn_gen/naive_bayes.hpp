// emlearn-gen runtime: naive Bayes classifiers (scikit-learn's GaussianNB,
// MultinomialNB, ComplementNB, BernoulliNB and CategoricalNB).
//
// Every model computes one joint log-likelihood per class,
//   jll[k] = constants[k] + (sum over features i, in index order, of a term),
// and predicts the class of the largest; probabilities come from the
// log-sum-exp of the jll (logsumexp_f in math.hpp). The term depends on
// `kind`:
//   linear:       weights[k][i] * x[i]      (MultinomialNB, ComplementNB,
//                                            BernoulliNB without binarize)
//   binarized:    weights[k][i] * (x[i] > threshold ? 1 : 0)   (BernoulliNB)
//   gaussian:     -(x[i] - means[k][i])^2 * weights[k][i]     (GaussianNB,
//                 weights = 1 / (2 var); the sum of the squares is taken
//                 first and subtracted from the constant at the end)
//   categorical:  weights[block_i + k * categories[i] + c]    (CategoricalNB:
//                 c is x[i] truncated to an integer, block_i the sum over
//                 the features before i of n_classes * categories[j])
// A category outside [0, categories[i]) (x <= -1, x >= categories[i], NaN),
// which scikit-learn refuses with an error, contributes nothing: the
// kernels never read outside the tables. The host refuses such inputs
// before they get here.
//
// float arithmetic with every product rounded before it is added
// (rounded() in math.hpp) and sums in a fixed order, so host and devices
// compute the same bits.
//
// Stack: the kernels keep a few scalars on the stack and no arrays; the only
// buffers are the caller's (`jll`, `out`).
#ifndef EMLEARN_GEN_NAIVE_BAYES_HPP
#define EMLEARN_GEN_NAIVE_BAYES_HPP

#include "common.hpp"
#include "math.hpp"

/// Version of the table layout above; generated headers check it.
#define EMLEARN_GEN_NAIVE_BAYES_FORMAT 1

namespace emlearn_gen {

/// How a feature contributes to a class's joint log-likelihood.
namespace naive_bayes_kind {
enum : uint8_t {
  linear = 0,       ///< weights[k][i] * x[i]
  binarized = 1,    ///< weights[k][i] * (x[i] > thresholds[0])
  gaussian = 2,     ///< -(x[i] - means[k][i])^2 * weights[k][i]
  categorical = 3,  ///< weights[block_i + k * categories[i] + category of x[i]]
};
}  // namespace naive_bayes_kind

/// Tables and layout of a naive Bayes model, known at run time (the host
/// runtime). Pointers refer to model tables (program memory on AVR).
///
/// The kernels take any type `M` with these members; generated headers pass
/// one whose members are all `static constexpr`, so the kind and sizes fold
/// into the code. A table member may also be anything table_read reads,
/// such as a far_table.
struct naive_bayes_model {
  const float* weights;       ///< see naive_bayes_kind
  const float* means;         ///< gaussian: n_classes * n_features; else unused
  const float* constants;     ///< n_classes, added last
  const int16_t* categories;  ///< categorical: per feature, its number of categories
  const float* thresholds;    ///< binarized: one threshold
  uint32_t n_features;
  uint32_t n_classes;
  uint8_t kind;               ///< see naive_bayes_kind
};

namespace detail {

// The sum over features of class k's terms, in index order from 0.
template <typename M>
inline float naive_bayes_sum(const M& m, const float* x, uint32_t k) {
  float sum = 0.0f;
  if (m.kind == naive_bayes_kind::categorical) {
    uint32_t block = 0;  // first weight of feature i's block
    for (uint32_t i = 0; i < m.n_features; ++i) {
      const int16_t n_categories = table_read(m.categories, i);
      // scikit-learn truncates toward zero: (-1, n) holds the categories
      // 0 .. n-1; NaN fails both comparisons.
      if (x[i] > -1.0f && x[i] < static_cast<float>(n_categories)) {
        const uint32_t category = static_cast<uint32_t>(static_cast<int32_t>(x[i]));
        sum += table_read(m.weights, block + k * static_cast<uint32_t>(n_categories) + category);
      }
      block += m.n_classes * static_cast<uint32_t>(n_categories);
    }
    return sum;
  }
  // k * n_features < 2^32: naive_bayes_validate checks the table sizes.
  const auto row = table_from(m.weights, k * m.n_features);
  if (m.kind == naive_bayes_kind::gaussian) {
    const auto means = table_from(m.means, k * m.n_features);
    for (uint32_t i = 0; i < m.n_features; ++i) {
      const float d = x[i] - table_read(means, i);
      sum += rounded(rounded(d * d) * table_read(row, i));
    }
    return sum;
  }
  const float threshold = m.kind == naive_bayes_kind::binarized ? table_read(m.thresholds, 0) : 0.0f;
  for (uint32_t i = 0; i < m.n_features; ++i) {
    const float xi = m.kind == naive_bayes_kind::binarized ? (x[i] > threshold ? 1.0f : 0.0f) : x[i];
    sum += rounded(table_read(row, i) * xi);
  }
  return sum;
}

}  // namespace detail

/// The n_classes joint log-likelihoods of `x` (scikit-learn's
/// predict_joint_log_proba), written to `jll`: the class's sum of terms,
/// then its constant (gaussian: constant - sum). Stack: a few words.
template <typename M>
inline void naive_bayes_jll(const M& m, const float* x, float* jll) {
  for (uint32_t k = 0; k < m.n_classes; ++k) {
    const float sum = detail::naive_bayes_sum(m, x, k);
    const float constant = table_read(m.constants, k);
    jll[k] = m.kind == naive_bayes_kind::gaussian ? constant - sum : sum + constant;
  }
}

/// Predicted class of `x`, an index into the model's classes: the first
/// largest joint log-likelihood (numpy's argmax). `jll` is caller scratch
/// of n_classes floats and holds the jll afterwards. Stack: a few words.
template <typename M>
inline int32_t naive_bayes_label(const M& m, const float* x, float* jll) {
  naive_bayes_jll(m, x, jll);
  return argmax(jll, static_cast<int32_t>(m.n_classes));
}

/// Log-probabilities of the classes (scikit-learn's predict_log_proba),
/// written to `out` (n_classes values): jll[k] - logsumexp_f(jll).
/// Stack: a few words.
template <typename M>
inline void naive_bayes_log_proba(const M& m, const float* x, float* out) {
  naive_bayes_jll(m, x, out);
  const float total = logsumexp_f(out, m.n_classes);
  for (uint32_t k = 0; k < m.n_classes; ++k) {
    out[k] -= total;
  }
}

/// Probabilities of the classes (scikit-learn's predict_proba), written to
/// `out` (n_classes values): exp_f of the log-probabilities, as
/// scikit-learn's exp(predict_log_proba). Stack: a few words.
template <typename M>
inline void naive_bayes_proba(const M& m, const float* x, float* out) {
  naive_bayes_log_proba(m, x, out);
  for (uint32_t k = 0; k < m.n_classes; ++k) {
    out[k] = exp_f(out[k]);
  }
}

/// Checks a model's layout against its tables, so that the kernels read only
/// table memory; the sizes are in elements. Returns status::bad_argument for
/// a null table that the kind reads, or a zero n_features or n_classes;
/// status::bad_table for an unknown kind, a count out of the kernels' 32-bit
/// range, or a negative number of categories; status::size_mismatch when a table the kind reads
/// does not have the elements the layout needs (weights: n_classes *
/// n_features, or n_classes times the sum of the categories; means: as many
/// as the weights for gaussian; categories: n_features; thresholds: 1);
/// status::ok otherwise.
template <typename M>
inline status naive_bayes_validate(const M& m, size_t n_weights, size_t n_means, size_t n_constants,
                                   size_t n_categories, size_t n_thresholds) {
  // Tables the kind does not read may be empty, and null on the host.
  if (m.weights == NULL || m.constants == NULL || m.n_features == 0u || m.n_classes == 0u ||
      (m.kind == naive_bayes_kind::gaussian && m.means == NULL) ||
      (m.kind == naive_bayes_kind::categorical && m.categories == NULL) ||
      (m.kind == naive_bayes_kind::binarized && m.thresholds == NULL)) {
    return status::bad_argument;
  }
  if (m.kind > naive_bayes_kind::categorical || m.n_classes > 0x7FFFFFFFu) {
    return status::bad_table;
  }
  uint64_t want_weights = static_cast<uint64_t>(m.n_features) * m.n_classes;
  if (m.kind == naive_bayes_kind::categorical) {
    if (static_cast<uint64_t>(n_categories) != m.n_features) {
      return status::size_mismatch;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < m.n_features; ++i) {
      const int16_t count = table_read(m.categories, i);
      if (count < 0) {
        return status::bad_table;
      }
      total += static_cast<uint64_t>(count);
    }
    want_weights = total * m.n_classes;
  }
  if (want_weights > 0xFFFFFFFFu) {
    return status::bad_table;
  }
  if (static_cast<uint64_t>(n_weights) != want_weights ||
      static_cast<uint64_t>(n_constants) != m.n_classes ||
      (m.kind == naive_bayes_kind::gaussian && static_cast<uint64_t>(n_means) != want_weights) ||
      (m.kind == naive_bayes_kind::binarized && n_thresholds != 1u)) {
    return status::size_mismatch;
  }
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_NAIVE_BAYES_HPP
