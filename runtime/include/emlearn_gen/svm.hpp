// emlearn-gen runtime: kernel support vector machines (scikit-learn's SVC,
// NuSVC, SVR, NuSVR and OneClassSVM; libsvm's models).
//
// A model is five tables:
//   support_vectors  n_sv rows of n_features floats, grouped by class in
//                    class order (as libsvm and scikit-learn keep them), each
//                    stored once however many class pairs use it;
//   dual_coef        libsvm's sv_coef: n_coef_rows rows of n_sv floats
//                    (classifiers: n_classes - 1 rows; otherwise one row);
//   intercepts       one per decision (libsvm's -rho): n_classes (n_classes
//                    - 1) / 2 for classifiers, one otherwise;
//   class_start      n_classes + 1 offsets: the support vectors of class c
//                    are rows [class_start[c], class_start[c + 1]);
//   params           {gamma, coef0, offset}: the kernel's gamma and coef0,
//                    and OneClassSVM's offset_ (0 for the others);
//   prob_a, prob_b   classifiers fitted with probability=True: the Platt
//                    scaling of each decision (libsvm's probA, probB);
//                    empty otherwise.
// Classifiers decide class pairs (i, j), i < j, in libsvm's order (0, 1),
// (0, 2), ..., (1, 2), ...: decision p of row x is
//   sum over the support vectors s of classes i and j of c_s K(s, x) + b_p,
// with c_s = dual_coef[j - 1][s] for s of class i and dual_coef[i][s] for s
// of class j. Regressors and one-class models have one decision, summed
// over every support vector with row 0. Positive means class i (libsvm's
// orientation; scikit-learn's binary decision_function is its negation).
//
// Each kernel value K(s, x) is computed once and added to every decision it
// takes part in, in support-vector order, which is libsvm's order of the
// sums. Products go through rounded() (math.hpp), so host and devices
// compute the same bits.
//
// A linear kernel's decisions are linear in x: such a model is stored as
// its primal weights instead, one row of n_features per decision (the sum
// over its support vectors of c_s s) in `support_vectors`, with n_sv the
// number of decisions, no dual coefficients and every class starting at 0
// but the end (class_start = {0, ..., 0, n_sv}). Decision p is then
// <row p, x> + b_p, one dense layer (dense.hpp): n_features products rather
// than n_sv kernel values.
//
// Stack: the kernels keep a few scalars; the only buffer is the caller's
// `dec` of svm_n_decisions(m) floats (and `out`).
#ifndef EMLEARN_GEN_SVM_HPP
#define EMLEARN_GEN_SVM_HPP

#include "common.hpp"
#include "dense.hpp"
#include "math.hpp"

/// Version of the table layout above; generated headers check it.
#define EMLEARN_GEN_SVM_FORMAT 1

namespace emlearn_gen {

/// The kernel K(s, x) of a model.
namespace svm_kernel {
enum : uint8_t {
  linear = 0,   ///< <s, x>: stored as primal weights (see above)
  poly = 1,     ///< (gamma <s, x> + coef0)^degree
  rbf = 2,      ///< e^(-gamma |s - x|^2)
  sigmoid = 3,  ///< tanh(gamma <s, x> + coef0)
};
}  // namespace svm_kernel

/// Tables and layout of a support vector machine, known at run time (the
/// host runtime). Pointers refer to model tables (program memory on AVR).
/// The kernels below take any type `M` with these members; generated
/// headers pass a type whose members are all `static constexpr`.
struct svm_model {
  const float* support_vectors;  ///< n_sv * n_features, row-major
  const float* dual_coef;        ///< svm_n_coef_rows(m) * n_sv, row-major (linear: none)
  const float* intercepts;       ///< svm_n_decisions(m)
  const uint32_t* class_start;   ///< n_classes + 1
  const float* params;           ///< {gamma, coef0, offset}
  const float* prob_a;           ///< svm_n_decisions(m) if has_proba, else none
  const float* prob_b;           ///< svm_n_decisions(m) if has_proba, else none
  uint32_t n_features;
  uint32_t n_sv;
  uint32_t n_classes;  ///< classifiers: >= 2; regressors and one-class models: 1
  uint32_t degree;     ///< poly kernel's degree
  uint8_t kernel;      ///< see svm_kernel
  uint8_t ovr;         ///< classifiers: decision_function one-vs-rest (else one-vs-one)
  uint8_t break_ties;  ///< classifiers: predict by the largest one-vs-rest value
  uint8_t has_proba;   ///< classifiers: prob_a and prob_b hold the Platt scaling
};

/// Number of decisions: class pairs of a classifier, else 1.
template <typename M>
inline uint32_t svm_n_decisions(const M& m) {
  return m.n_classes >= 2u ? m.n_classes * (m.n_classes - 1u) / 2u : 1u;
}

/// Rows of dual_coef: n_classes - 1 for classifiers, else 1.
template <typename M>
inline uint32_t svm_n_coef_rows(const M& m) {
  return m.n_classes >= 2u ? m.n_classes - 1u : 1u;
}

namespace detail {

// Index of class pair (i, j), i < j, in libsvm's order.
inline uint32_t svm_pair(uint32_t n_classes, uint32_t i, uint32_t j) {
  return i * (2u * n_classes - i - 1u) / 2u + (j - i - 1u);
}

// <s, x>: products rounded, summed in index order from 0.
template <typename Row>
inline float svm_dot(Row s, const float* x, uint32_t n) {
  float sum = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    sum += rounded(table_read(s, i) * x[i]);
  }
  return sum;
}

// |s - x|^2: differences and squares rounded, summed in index order from 0.
template <typename Row>
inline float svm_squared_distance(Row s, const float* x, uint32_t n) {
  float sum = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    const float d = table_read(s, i) - x[i];
    sum += rounded(d * d);
  }
  return sum;
}

// base^e by repeated squaring, as libsvm's powi: the same products in the
// same order.
inline float svm_powi(float base, uint32_t e) {
  float result = 1.0f;
  float power = base;
  for (uint32_t t = e; t > 0u; t /= 2u) {
    if (t % 2u == 1u) {
      result = rounded(result * power);
    }
    power = rounded(power * power);
  }
  return result;
}

}  // namespace detail

/// K(support vector s, x) for s < n_sv, for the kernels stored as
/// support vectors (not linear). Stack: a few words.
///   poly:    t^degree by repeated squaring, t = gamma <s, x> + coef0;
///   rbf:     exp_f(-(gamma |s - x|^2));
///   sigmoid: tanh_f(gamma <s, x> + coef0).
template <typename M>
inline float svm_kernel_value(const M& m, uint32_t s, const float* x) {
  // s * n_features < 2^32: svm_validate checks n_sv * n_features.
  const auto row = table_from(m.support_vectors, s * m.n_features);
  const float gamma = table_read(m.params, 0u);
  if (m.kernel == svm_kernel::rbf) {
    return exp_f(-rounded(gamma * detail::svm_squared_distance(row, x, m.n_features)));
  }
  const float t = rounded(gamma * detail::svm_dot(row, x, m.n_features)) + table_read(m.params, 1u);
  return m.kernel == svm_kernel::poly ? detail::svm_powi(t, m.degree) : tanh_f(t);
}

/// The svm_n_decisions(m) decisions of `x` in libsvm's orientation and
/// order, written to `dec` (caller memory). Stack: a few words.
template <typename M>
inline void svm_decisions(const M& m, const float* x, float* dec) {
  const uint32_t n_decisions = svm_n_decisions(m);
  if (m.kernel == svm_kernel::linear) {
    // One dense layer: n_sv = n_decisions rows of weights (svm_validate
    // checks their size), the intercepts as its biases.
    dense_sums(m.support_vectors, 0u, m.intercepts, 0u, m.n_features, n_decisions, x, dec);
    return;
  }
  for (uint32_t p = 0; p < n_decisions; ++p) {
    dec[p] = 0.0f;
  }
  if (m.n_classes < 2u) {
    for (uint32_t s = 0; s < m.n_sv; ++s) {
      dec[0] += rounded(table_read(m.dual_coef, s) * svm_kernel_value(m, s, x));
    }
    dec[0] += table_read(m.intercepts, 0u);
    return;
  }
  for (uint32_t c = 0; c < m.n_classes; ++c) {
    const uint32_t end = table_read(m.class_start, c + 1u);
    for (uint32_t s = table_read(m.class_start, c); s < end; ++s) {
      const float k = svm_kernel_value(m, s, x);
      // Pairs (o, c), o < c, take row o of the coefficients; pairs (c, o),
      // o > c, take row o - 1. Visiting s in order adds the support vectors
      // of the lower class of each pair first, as libsvm does.
      for (uint32_t o = 0; o < m.n_classes; ++o) {
        if (o == c) {
          continue;
        }
        const uint32_t row = o < c ? o : o - 1u;
        const uint32_t p = o < c ? detail::svm_pair(m.n_classes, o, c) : detail::svm_pair(m.n_classes, c, o);
        // row * n_sv + s < 2^32: svm_validate checks the table size.
        dec[p] += rounded(table_read(m.dual_coef, row * m.n_sv + s) * k);
      }
    }
  }
  for (uint32_t p = 0; p < n_decisions; ++p) {
    dec[p] += table_read(m.intercepts, p);
  }
}

namespace detail {

// Votes of class c from the pair decisions: libsvm gives pair (i, j) to i
// when its decision is > 0, else to j.
inline uint32_t svm_votes(uint32_t n_classes, const float* dec, uint32_t c) {
  uint32_t votes = 0;
  for (uint32_t o = 0; o < n_classes; ++o) {
    if (o < c) {
      votes += dec[svm_pair(n_classes, o, c)] > 0.0f ? 0u : 1u;
    } else if (o > c) {
      votes += dec[svm_pair(n_classes, c, o)] > 0.0f ? 1u : 0u;
    }
  }
  return votes;
}

// scikit-learn's one-vs-rest value of class c (sklearn.utils.multiclass.
// _ovr_decision_function with predictions dec < 0 and confidences -dec):
// votes + s / (3 (|s| + 1)), s the sum of the class's pair decisions, each
// with the sign that favours the class, in pair order. Its votes count a
// decision of 0 for the lower class, unlike libsvm's.
inline float svm_ovr_value(uint32_t n_classes, const float* dec, uint32_t c) {
  float votes = 0.0f;
  float confidence = 0.0f;
  for (uint32_t o = 0; o < n_classes; ++o) {
    if (o < c) {
      const float d = dec[svm_pair(n_classes, o, c)];
      confidence -= d;
      votes += d < 0.0f ? 1.0f : 0.0f;
    } else if (o > c) {
      const float d = dec[svm_pair(n_classes, c, o)];
      confidence += d;
      votes += d < 0.0f ? 0.0f : 1.0f;
    }
  }
  const float magnitude = confidence < 0.0f ? -confidence : confidence;
  return votes + confidence / (3.0f * (magnitude + 1.0f));
}

}  // namespace detail

/// scikit-learn's decision_function of a classifier, from the decisions
/// `dec` (svm_decisions), written to `out`:
///   binary:          one value, -dec[0] (positive means classes[1]);
///   m.ovr, more than 2 classes: n_classes one-vs-rest values;
///   otherwise (one-vs-one): the n_decisions pair decisions (`out` may be
///   `dec`).
template <typename M>
inline void svm_decision_function(const M& m, const float* dec, float* out) {
  if (m.n_classes == 2u) {
    out[0] = -dec[0];
  } else if (m.ovr) {
    for (uint32_t c = 0; c < m.n_classes; ++c) {
      out[c] = detail::svm_ovr_value(m.n_classes, dec, c);
    }
  } else if (out != dec) {
    const uint32_t n_decisions = svm_n_decisions(m);
    for (uint32_t p = 0; p < n_decisions; ++p) {
      out[p] = dec[p];
    }
  }
}

/// Predicted class of `x`, an index into the model's classes, as
/// scikit-learn's predict: the class with the most pair votes (the first
/// of those tied), or with break_ties and more than two classes the
/// largest one-vs-rest value (the first of those tied). `dec` is caller
/// scratch of svm_n_decisions(m) floats and holds the decisions afterwards.
/// Stack: a few words.
template <typename M>
inline int32_t svm_label(const M& m, const float* x, float* dec) {
  svm_decisions(m, x, dec);
  uint32_t best = 0;
  if (m.break_ties && m.n_classes > 2u) {
    float best_value = detail::svm_ovr_value(m.n_classes, dec, 0u);
    for (uint32_t c = 1; c < m.n_classes; ++c) {
      const float value = detail::svm_ovr_value(m.n_classes, dec, c);
      if (value > best_value) {
        best = c;
        best_value = value;
      }
    }
    return static_cast<int32_t>(best);
  }
  uint32_t best_votes = detail::svm_votes(m.n_classes, dec, 0u);
  for (uint32_t c = 1; c < m.n_classes; ++c) {
    const uint32_t votes = detail::svm_votes(m.n_classes, dec, c);
    if (votes > best_votes) {
      best = c;
      best_votes = votes;
    }
  }
  return static_cast<int32_t>(best);
}

namespace detail {

// libsvm's sigmoid_predict, clipped to [1e-7, 1 - 1e-7] as
// svm_predict_probability clips it: the probability that pair decision
// `dec` means its first class.
inline float svm_platt(float dec, float a, float b) {
  const float f = rounded(dec * a) + b;
  const float p = f >= 0.0f ? exp_f(-f) / (1.0f + exp_f(-f)) : 1.0f / (1.0f + exp_f(f));
  const float low = 1e-7f;
  const float high = 1.0f - 1e-7f;
  return p < low ? low : (p > high ? high : p);
}

}  // namespace detail

/// Size of the scratch svm_proba needs, in floats: (n_classes + 1) n_classes.
template <typename M>
inline uint32_t svm_proba_scratch(const M& m) {
  return (m.n_classes + 1u) * m.n_classes;
}

/// Class probabilities of a classifier with has_proba, as scikit-learn's
/// predict_proba computes them (libsvm's svm_predict_probability): each
/// pair decision through its Platt sigmoid into r_ij (r_ji = 1 - r_ij),
/// then libsvm's multiclass_probability, also for two classes (the libsvm
/// scikit-learn builds has no shortcut there): the iterative solution of the
/// pairwise coupling
/// (Wu, Lin and Weng's second method), from p = 1/k, for at most
/// max(100, k) iterations until every |(Qp)_t - p'Qp| < 0.005 / k. `dec`
/// holds the decisions (svm_decisions); `scratch` is caller memory of
/// svm_proba_scratch(m) floats; n_classes values go to `out`. Stack: a few
/// words.
template <typename M>
inline void svm_proba(const M& m, const float* dec, float* scratch, float* out) {
  const uint32_t k = m.n_classes;
  // r_ij for i < j is the pair's probability, r_ji = 1 - r_ij; Q as libsvm
  // builds it: Q_tt = sum over j != t of r_jt^2, Q_tj = -r_jt r_tj. Pairs
  // come in libsvm's order, so each diagonal sums its terms in libsvm's
  // order too (j < t, then j > t).
  float* Q = scratch;
  float* Qp = scratch + k * k;
  for (uint32_t t = 0; t < k * k; ++t) {
    Q[t] = 0.0f;
  }
  for (uint32_t i = 0; i < k; ++i) {
    for (uint32_t j = i + 1u; j < k; ++j) {
      const uint32_t p = detail::svm_pair(k, i, j);
      const float r_ij = detail::svm_platt(dec[p], table_read(m.prob_a, p), table_read(m.prob_b, p));
      const float r_ji = 1.0f - r_ij;
      Q[i * k + j] = -rounded(r_ji * r_ij);
      Q[j * k + i] = Q[i * k + j];
      Q[i * k + i] += rounded(r_ji * r_ji);
      Q[j * k + j] += rounded(r_ij * r_ij);
    }
  }
  float* p = out;
  for (uint32_t t = 0; t < k; ++t) {
    p[t] = 1.0f / static_cast<float>(k);
  }
  const uint32_t max_iter = k > 100u ? k : 100u;
  const float eps = 0.005f / static_cast<float>(k);
  for (uint32_t iter = 0; iter < max_iter; ++iter) {
    float pQp = 0.0f;
    for (uint32_t t = 0; t < k; ++t) {
      Qp[t] = 0.0f;
      for (uint32_t j = 0; j < k; ++j) {
        Qp[t] += rounded(Q[t * k + j] * p[j]);
      }
      pQp += rounded(p[t] * Qp[t]);
    }
    float max_error = 0.0f;
    for (uint32_t t = 0; t < k; ++t) {
      const float error = Qp[t] > pQp ? Qp[t] - pQp : pQp - Qp[t];
      max_error = error > max_error ? error : max_error;
    }
    if (max_error < eps) {
      break;
    }
    for (uint32_t t = 0; t < k; ++t) {
      const float diff = (pQp - Qp[t]) / Q[t * k + t];
      p[t] += diff;
      const float grown = 1.0f + diff;
      pQp = (pQp + rounded(diff * (rounded(diff * Q[t * k + t]) + rounded(2.0f * Qp[t])))) / grown / grown;
      for (uint32_t j = 0; j < k; ++j) {
        Qp[j] = (Qp[j] + rounded(diff * Q[t * k + j])) / grown;
        p[j] /= grown;
      }
    }
  }
}

/// A regressor's prediction, or a one-class model's decision_function:
/// the one decision of `x`. Stack: a few words.
template <typename M>
inline float svm_value(const M& m, const float* x) {
  float dec;
  svm_decisions(m, x, &dec);
  return dec;
}

/// OneClassSVM's predict: +1 (inlier) when the decision is > 0, else -1.
template <typename M>
inline int32_t svm_outlier(const M& m, const float* x) {
  return svm_value(m, x) > 0.0f ? 1 : -1;
}

/// OneClassSVM's score_samples: the decision plus offset_.
template <typename M>
inline float svm_score(const M& m, const float* x) {
  return svm_value(m, x) + table_read(m.params, 2u);
}

/// Checks a model's layout against its tables, so that the kernels read
/// only table memory; the sizes are the tables' lengths in elements (a
/// linear model's dual_coef has none, and n_sv rows, one per decision;
/// prob_a and prob_b have one per decision with has_proba, else none).
/// Returns status::bad_argument for a null table or a zero n_features or
/// n_classes; status::bad_table for an unknown kernel, sizes beyond the
/// kernels' 32-bit range, or class_start not rising from 0 to n_sv;
/// status::size_mismatch when a table has the wrong length; status::ok
/// otherwise.
template <typename M>
inline status svm_validate(const M& m, size_t n_support_vectors, size_t n_dual_coef, size_t n_intercepts,
                           size_t n_class_start, size_t n_params, size_t n_prob_a, size_t n_prob_b) {
  const bool primal = m.kernel == svm_kernel::linear;
  if (m.support_vectors == NULL || (m.dual_coef == NULL && !primal) || m.intercepts == NULL ||
      m.class_start == NULL || m.params == NULL || m.n_features == 0u || m.n_classes == 0u ||
      (m.has_proba && (m.prob_a == NULL || m.prob_b == NULL))) {
    return status::bad_argument;
  }
  const uint64_t n_entries = static_cast<uint64_t>(m.n_sv) * m.n_features;
  const uint64_t n_coef = primal ? 0u : static_cast<uint64_t>(m.n_sv) * (m.n_classes >= 2u ? m.n_classes - 1u : 1u);
  if (m.kernel > svm_kernel::sigmoid || n_entries > 0xFFFFFFFFu || n_coef > 0xFFFFFFFFu ||
      m.n_classes > 0xFFFFu || m.ovr > 1u || m.break_ties > 1u || m.has_proba > 1u ||
      (m.has_proba && m.n_classes < 2u)) {
    return status::bad_table;
  }
  if (static_cast<uint64_t>(n_support_vectors) != n_entries || static_cast<uint64_t>(n_dual_coef) != n_coef ||
      n_intercepts != svm_n_decisions(m) || n_class_start != static_cast<size_t>(m.n_classes) + 1u ||
      n_params != 3u || (primal && m.n_sv != svm_n_decisions(m)) ||
      n_prob_a != (m.has_proba ? svm_n_decisions(m) : 0u) || n_prob_b != n_prob_a) {
    return status::size_mismatch;
  }
  if (table_read(m.class_start, 0u) != 0u || table_read(m.class_start, m.n_classes) != m.n_sv) {
    return status::bad_table;
  }
  for (uint32_t c = 0; c < m.n_classes; ++c) {
    if (table_read(m.class_start, c) > table_read(m.class_start, c + 1u)) {
      return status::bad_table;
    }
  }
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_SVM_HPP
