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
// sums. Products go through multiply() (rounded() for float, math.hpp;
// float64.hpp for real64), so host and devices compute the same bits.
//
// Float64 models (real_bits 64) hold every table but class_start as real64
// and compute kernel values, decisions, one-vs-rest values and
// probabilities in binary64 (exp_r64, tanh_r64), as libsvm does in double;
// the input rows are float, and results are rounded to float once.
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
#include "float64.hpp"
#include "math.hpp"

/// Version of the table layout above; generated headers check it.
#define EMLEARN_GEN_SVM_FORMAT 2

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
/// host runtime), with tables of the arithmetic type Real: float, or
/// real64 (float64.hpp) for float64 models. Pointers refer to model tables
/// (program memory on AVR). The kernels below take any type `M` with these
/// members; generated headers pass a type whose members are all
/// `static constexpr`.
template <typename Real>
struct svm_model_t {
  const Real* support_vectors;   ///< n_sv * n_features, row-major
  const Real* dual_coef;         ///< svm_n_coef_rows(m) * n_sv, row-major (linear: none)
  const Real* intercepts;        ///< svm_n_decisions(m)
  const uint32_t* class_start;   ///< n_classes + 1
  const Real* params;            ///< {gamma, coef0, offset}
  const Real* prob_a;            ///< svm_n_decisions(m) if has_proba, else none
  const Real* prob_b;            ///< svm_n_decisions(m) if has_proba, else none
  uint32_t n_features;
  uint32_t n_sv;
  uint32_t n_classes;  ///< classifiers: >= 2; regressors and one-class models: 1
  uint32_t degree;     ///< poly kernel's degree
  uint8_t kernel;      ///< see svm_kernel
  uint8_t ovr;         ///< classifiers: decision_function one-vs-rest (else one-vs-one)
  uint8_t break_ties;  ///< classifiers: predict by the largest one-vs-rest value
  uint8_t has_proba;   ///< classifiers: prob_a and prob_b hold the Platt scaling
  uint8_t real_bits;   ///< 32 (float tables and sums) or 64 (real64)
};

/// A float32 support vector machine.
typedef svm_model_t<float> svm_model;

/// Number of decisions: class pairs of a classifier, else 1.
template <typename M>
inline uint32_t svm_n_decisions(const M& m) {
  return m.n_classes >= 2u ? m.n_classes * (m.n_classes - 1u) / 2u : 1u;
}

/// Values svm_decision_function writes for a classifier: 1 for two
/// classes, n_classes one-vs-rest values, else the n_decisions pair
/// decisions.
template <typename M>
inline uint32_t svm_decision_width(const M& m) {
  if (m.n_classes == 2u) return 1u;
  return m.ovr ? m.n_classes : svm_n_decisions(m);
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

// The functions and constants the kernels need, in float (math.hpp) and in
// binary64 (float64.hpp), so each kernel is written once. The constants are
// libsvm's (double) rounded to each type.
template <typename Real>
struct svm_real {
  static Real exp(Real x) { return exp_r64(x); }
  static Real tanh(Real x) { return tanh_r64(x); }
  static Real min_prob() { return f64::real_from_bits<Real>(0x3E7AD7F29ABCAF48ull); }  // 1e-7
  static Real coupling_tolerance() { return f64::real_from_bits<Real>(0x3F747AE147AE147Bull); }  // 0.005
};
template <>
struct svm_real<float> {
  static float exp(float x) { return exp_f(x); }
  static float tanh(float x) { return tanh_f(x); }
  static float min_prob() { return 1e-7f; }
  static float coupling_tolerance() { return 0.005f; }
};

// A small whole number (below 2^24) in type Real, exactly.
template <typename Real>
inline Real svm_count(uint32_t n) {
  return widen<Real>(static_cast<float>(n));
}

// <s, x>: products rounded, summed in index order from 0.
template <typename Real, typename Row>
inline Real svm_dot(Row s, const float* x, uint32_t n) {
  Real sum = zero<Real>();
  for (uint32_t i = 0; i < n; ++i) {
    sum = add(sum, multiply(table_read(s, i), widen<Real>(x[i])));
  }
  return sum;
}

// |s - x|^2: differences and squares rounded, summed in index order from 0.
template <typename Real, typename Row>
inline Real svm_squared_distance(Row s, const float* x, uint32_t n) {
  Real sum = zero<Real>();
  for (uint32_t i = 0; i < n; ++i) {
    const Real d = subtract(table_read(s, i), widen<Real>(x[i]));
    sum = add(sum, multiply(d, d));
  }
  return sum;
}

// base^e by repeated squaring, as libsvm's powi: the same products in the
// same order.
template <typename Real>
inline Real svm_powi(Real base, uint32_t e) {
  Real result = svm_count<Real>(1u);
  Real power = base;
  for (uint32_t t = e; t > 0u; t /= 2u) {
    if (t % 2u == 1u) {
      result = multiply(result, power);
    }
    power = multiply(power, power);
  }
  return result;
}

}  // namespace detail

/// K(support vector s, x) for s < n_sv, for the kernels stored as
/// support vectors (not linear), in the model's arithmetic type Real.
/// Stack: a few words.
///   poly:    t^degree by repeated squaring, t = gamma <s, x> + coef0;
///   rbf:     exp(-(gamma |s - x|^2));
///   sigmoid: tanh(gamma <s, x> + coef0),
/// with exp_f and tanh_f (float), or exp_r64 and tanh_r64 (real64).
template <typename M>
inline auto svm_kernel_value(const M& m, uint32_t s, const float* x) -> decltype(table_read(m.params, 0u)) {
  typedef decltype(table_read(m.params, 0u)) Real;
  // s * n_features < 2^32: svm_validate checks n_sv * n_features.
  const auto row = table_from(m.support_vectors, s * m.n_features);
  const Real gamma = table_read(m.params, 0u);
  if (m.kernel == svm_kernel::rbf) {
    return detail::svm_real<Real>::exp(
        negate(multiply(gamma, detail::svm_squared_distance<Real>(row, x, m.n_features))));
  }
  const Real t = add(multiply(gamma, detail::svm_dot<Real>(row, x, m.n_features)), table_read(m.params, 1u));
  return m.kernel == svm_kernel::poly ? detail::svm_powi(t, m.degree) : detail::svm_real<Real>::tanh(t);
}

/// The svm_n_decisions(m) decisions of `x` in libsvm's orientation and
/// order, written to `dec` (caller memory of the model's type Real: float,
/// or real64). Stack: a few words.
template <typename M, typename Real>
inline void svm_decisions(const M& m, const float* x, Real* dec) {
  const uint32_t n_decisions = svm_n_decisions(m);
  if (m.kernel == svm_kernel::linear) {
    // One dense layer: n_sv = n_decisions rows of weights (svm_validate
    // checks their size), the intercepts as its biases.
    dense_sums(m.support_vectors, 0u, m.intercepts, 0u, m.n_features, n_decisions, x, dec);
    return;
  }
  for (uint32_t p = 0; p < n_decisions; ++p) {
    dec[p] = zero<Real>();
  }
  if (m.n_classes < 2u) {
    for (uint32_t s = 0; s < m.n_sv; ++s) {
      dec[0] = add(dec[0], multiply(table_read(m.dual_coef, s), svm_kernel_value(m, s, x)));
    }
    dec[0] = add(dec[0], table_read(m.intercepts, 0u));
    return;
  }
  for (uint32_t c = 0; c < m.n_classes; ++c) {
    const uint32_t end = table_read(m.class_start, c + 1u);
    for (uint32_t s = table_read(m.class_start, c); s < end; ++s) {
      const Real k = svm_kernel_value(m, s, x);
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
        dec[p] = add(dec[p], multiply(table_read(m.dual_coef, row * m.n_sv + s), k));
      }
    }
  }
  for (uint32_t p = 0; p < n_decisions; ++p) {
    dec[p] = add(dec[p], table_read(m.intercepts, p));
  }
}

namespace detail {

// Votes of class c from the pair decisions: libsvm gives pair (i, j) to i
// when its decision is > 0, else to j.
template <typename Real>
inline uint32_t svm_votes(uint32_t n_classes, const Real* dec, uint32_t c) {
  uint32_t votes = 0;
  for (uint32_t o = 0; o < n_classes; ++o) {
    if (o < c) {
      votes += dec[svm_pair(n_classes, o, c)] > zero<Real>() ? 0u : 1u;
    } else if (o > c) {
      votes += dec[svm_pair(n_classes, c, o)] > zero<Real>() ? 1u : 0u;
    }
  }
  return votes;
}

// scikit-learn's one-vs-rest value of class c (sklearn.utils.multiclass.
// _ovr_decision_function with predictions dec < 0 and confidences -dec):
// votes + s / (3 (|s| + 1)), s the sum of the class's pair decisions, each
// with the sign that favours the class, in pair order. Its votes count a
// decision of 0 for the lower class, unlike libsvm's.
template <typename Real>
inline Real svm_ovr_value(uint32_t n_classes, const Real* dec, uint32_t c) {
  const Real zero_value = zero<Real>();
  const Real one = svm_count<Real>(1u);
  Real votes = zero_value;
  Real confidence = zero_value;
  for (uint32_t o = 0; o < n_classes; ++o) {
    if (o < c) {
      const Real d = dec[svm_pair(n_classes, o, c)];
      confidence = subtract(confidence, d);
      votes = add(votes, zero_value > d ? one : zero_value);
    } else if (o > c) {
      const Real d = dec[svm_pair(n_classes, c, o)];
      confidence = add(confidence, d);
      votes = add(votes, zero_value > d ? zero_value : one);
    }
  }
  const Real magnitude = zero_value > confidence ? negate(confidence) : confidence;
  return add(votes, divide(confidence, multiply(svm_count<Real>(3u), add(magnitude, one))));
}

}  // namespace detail

/// scikit-learn's decision_function of a classifier, from the decisions
/// `dec` (svm_decisions), written to `out` (svm_decision_width(m) values)
/// as float (real64 values rounded once):
///   binary:          one value, -dec[0] (positive means classes[1]);
///   m.ovr, more than 2 classes: n_classes one-vs-rest values;
///   otherwise (one-vs-one): the n_decisions pair decisions (`out` may be
///   `dec` for float models).
template <typename M, typename Real>
inline void svm_decision_function(const M& m, const Real* dec, float* out) {
  if (m.n_classes == 2u) {
    out[0] = to_float(negate(dec[0]));
  } else if (m.ovr) {
    for (uint32_t c = 0; c < m.n_classes; ++c) {
      out[c] = to_float(detail::svm_ovr_value(m.n_classes, dec, c));
    }
  } else {
    const uint32_t n_decisions = svm_n_decisions(m);
    for (uint32_t p = 0; p < n_decisions; ++p) {
      out[p] = to_float(dec[p]);
    }
  }
}

/// Predicted class of `x`, an index into the model's classes, as
/// scikit-learn's predict: the class with the most pair votes (the first
/// of those tied), or with break_ties and more than two classes the
/// largest one-vs-rest value (the first of those tied). `dec` is caller
/// scratch of svm_n_decisions(m) values of the model's type and holds the
/// decisions afterwards. Stack: a few words.
template <typename M, typename Real>
inline int32_t svm_label(const M& m, const float* x, Real* dec) {
  svm_decisions(m, x, dec);
  uint32_t best = 0;
  if (m.break_ties && m.n_classes > 2u) {
    Real best_value = detail::svm_ovr_value(m.n_classes, dec, 0u);
    for (uint32_t c = 1; c < m.n_classes; ++c) {
      const Real value = detail::svm_ovr_value(m.n_classes, dec, c);
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
template <typename Real>
inline Real svm_platt(Real dec, Real a, Real b) {
  const Real one = svm_count<Real>(1u);
  const Real f = add(multiply(dec, a), b);
  Real p;
  if (zero<Real>() > f) {
    p = divide(one, add(one, svm_real<Real>::exp(f)));
  } else {
    const Real e = svm_real<Real>::exp(negate(f));
    p = divide(e, add(one, e));
  }
  const Real low = svm_real<Real>::min_prob();
  const Real high = subtract(one, low);
  return low > p ? low : (p > high ? high : p);
}

// libsvm's multiclass_probability into `p` (k values of type Real), from
// the decisions; `scratch` holds (k + 1) k values. See svm_proba.
template <typename M, typename Real>
inline void svm_coupling(const M& m, const Real* dec, Real* scratch, Real* p) {
  const uint32_t k = m.n_classes;
  const Real one = svm_count<Real>(1u);
  const Real two = svm_count<Real>(2u);
  // r_ij for i < j is the pair's probability, r_ji = 1 - r_ij; Q as libsvm
  // builds it: Q_tt = sum over j != t of r_jt^2, Q_tj = -r_jt r_tj. Pairs
  // come in libsvm's order, so each diagonal sums its terms in libsvm's
  // order too (j < t, then j > t).
  Real* Q = scratch;
  Real* Qp = scratch + k * k;
  for (uint32_t t = 0; t < k * k; ++t) {
    Q[t] = zero<Real>();
  }
  for (uint32_t i = 0; i < k; ++i) {
    for (uint32_t j = i + 1u; j < k; ++j) {
      const uint32_t pair = svm_pair(k, i, j);
      const Real r_ij = svm_platt(dec[pair], table_read(m.prob_a, pair), table_read(m.prob_b, pair));
      const Real r_ji = subtract(one, r_ij);
      Q[i * k + j] = negate(multiply(r_ji, r_ij));
      Q[j * k + i] = Q[i * k + j];
      Q[i * k + i] = add(Q[i * k + i], multiply(r_ji, r_ji));
      Q[j * k + j] = add(Q[j * k + j], multiply(r_ij, r_ij));
    }
  }
  const Real classes = svm_count<Real>(k);
  for (uint32_t t = 0; t < k; ++t) {
    p[t] = divide(one, classes);
  }
  const uint32_t max_iter = k > 100u ? k : 100u;
  const Real eps = divide(svm_real<Real>::coupling_tolerance(), classes);
  for (uint32_t iter = 0; iter < max_iter; ++iter) {
    Real pQp = zero<Real>();
    for (uint32_t t = 0; t < k; ++t) {
      Qp[t] = zero<Real>();
      for (uint32_t j = 0; j < k; ++j) {
        Qp[t] = add(Qp[t], multiply(Q[t * k + j], p[j]));
      }
      pQp = add(pQp, multiply(p[t], Qp[t]));
    }
    Real max_error = zero<Real>();
    for (uint32_t t = 0; t < k; ++t) {
      const Real error = Qp[t] > pQp ? subtract(Qp[t], pQp) : subtract(pQp, Qp[t]);
      max_error = error > max_error ? error : max_error;
    }
    if (eps > max_error) {
      break;
    }
    for (uint32_t t = 0; t < k; ++t) {
      const Real diff = divide(subtract(pQp, Qp[t]), Q[t * k + t]);
      p[t] = add(p[t], diff);
      const Real grown = add(one, diff);
      pQp = divide(divide(add(pQp, multiply(diff, add(multiply(diff, Q[t * k + t]), multiply(two, Qp[t])))), grown),
                   grown);
      for (uint32_t j = 0; j < k; ++j) {
        Qp[j] = divide(add(Qp[j], multiply(diff, Q[t * k + j])), grown);
        p[j] = divide(p[j], grown);
      }
    }
  }
}

}  // namespace detail

/// Size of the scratch svm_proba needs, in values of the model's type:
/// (n_classes + 1) n_classes, and n_classes more for float64 models (their
/// probabilities are computed in binary64 before they go to float `out`).
template <typename M>
inline uint32_t svm_proba_scratch(const M& m) {
  return (m.n_classes + (m.real_bits == 64u ? 2u : 1u)) * m.n_classes;
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
/// svm_proba_scratch(m) values of the model's type; n_classes floats go to
/// `out`. Stack: a few words.
template <typename M>
inline void svm_proba(const M& m, const float* dec, float* scratch, float* out) {
  detail::svm_coupling(m, dec, scratch, out);
}

/// The same for float64 models: the coupling in binary64, each probability
/// rounded to float once.
template <typename M>
inline void svm_proba(const M& m, const real64* dec, real64* scratch, float* out) {
  real64* p = scratch + (m.n_classes + 1u) * m.n_classes;
  detail::svm_coupling(m, dec, scratch, p);
  for (uint32_t t = 0; t < m.n_classes; ++t) {
    out[t] = to_float(p[t]);
  }
}

namespace detail {

// The one decision of a regressor or one-class model, in the model's type.
template <typename M>
inline auto svm_decision(const M& m, const float* x) -> decltype(table_read(m.params, 0u)) {
  decltype(table_read(m.params, 0u)) dec;
  svm_decisions(m, x, &dec);
  return dec;
}

}  // namespace detail

/// A regressor's prediction, or a one-class model's decision_function:
/// the one decision of `x` (float64 models: rounded to float once). Stack:
/// a few words.
template <typename M>
inline float svm_value(const M& m, const float* x) {
  return to_float(detail::svm_decision(m, x));
}

/// OneClassSVM's predict: +1 (inlier) when the decision is > 0, else -1.
template <typename M>
inline int32_t svm_outlier(const M& m, const float* x) {
  typedef decltype(table_read(m.params, 0u)) Real;
  return detail::svm_decision(m, x) > zero<Real>() ? 1 : -1;
}

/// OneClassSVM's score_samples: the decision plus offset_.
template <typename M>
inline float svm_score(const M& m, const float* x) {
  return to_float(add(detail::svm_decision(m, x), table_read(m.params, 2u)));
}

/// Checks a model's layout against its tables, so that the kernels read
/// only table memory; the sizes are the tables' lengths in elements (a
/// linear model's dual_coef has none, and n_sv rows, one per decision;
/// prob_a and prob_b have one per decision with has_proba, else none).
/// Returns status::bad_argument for a null table or a zero n_features or
/// n_classes; status::bad_table for an unknown kernel, real_bits other than
/// the tables' element size in bits, sizes beyond the
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
      (m.has_proba && m.n_classes < 2u) ||
      // real_bits states the tables' element type (and the scratch size).
      static_cast<uint32_t>(m.real_bits) != 8u * sizeof(table_read(m.params, 0u))) {
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
