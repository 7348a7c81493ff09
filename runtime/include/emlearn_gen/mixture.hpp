// emlearn-gen runtime: Gaussian mixtures and elliptic envelopes
// (scikit-learn's GaussianMixture, BayesianGaussianMixture and
// EllipticEnvelope).
//
// Both are quadratic forms: for component k with mean mu_k and a factor U_k
// of its precision (precision = U_k U_k^T, U_k upper triangular),
//   y_j = sum over i <= j of (x_i - mu_ki) U_k[i][j]   (scikit-learn's
//         (X - mu) @ precisions_cholesky_[k], summed in index order),
//   Q_k = sum over j of y_j^2.
// The factor is stored in the shape scikit-learn keeps it, by `covariance`:
//   full:      per component the upper triangle, column by column: column j
//              holds U[0][j] .. U[j][j] (j + 1 values, from j (j + 1) / 2)
//   tied:      one such triangle for every component
//   diag:      per component a vector: y_j = (x_j - mu_kj) U_k[j]
//   spherical: per component one value: y_j = (x_j - mu_kj) U_k
// A mixture's weighted log-probability of component k is
//   constants[k] - Q_k / 2,
// the constant (log weight, log-determinant, -n/2 log 2 pi and, for the
// variational model, its digamma terms) computed once at conversion. An
// elliptic envelope is one component with its precision's factor: its score
// is -Q (minus the squared Mahalanobis distance) and its decision
// -Q - constants[0] (scikit-learn's offset_).
//
// float arithmetic with every product rounded before it is added
// (rounded() in math.hpp) and sums in a fixed order, so host and devices
// compute the same bits.
//
// Stack: the kernels keep a few scalars on the stack and no arrays; the only
// buffers are the caller's (`scratch`, `out`).
#ifndef EMLEARN_GEN_MIXTURE_HPP
#define EMLEARN_GEN_MIXTURE_HPP

#include "common.hpp"
#include "math.hpp"

/// Version of the table layout above; generated headers check it.
#define EMLEARN_GEN_MIXTURE_FORMAT 1

namespace emlearn_gen {

/// How the precision factor is stored (scikit-learn's covariance_type).
namespace mixture_covariance {
enum : uint8_t {
  full = 0,       ///< per component an upper triangle, n (n + 1) / 2 values
  tied = 1,       ///< one upper triangle
  diag = 2,       ///< per component n values
  spherical = 3,  ///< per component one value
};
}  // namespace mixture_covariance

/// Tables and layout of a mixture or envelope, known at run time (the host
/// runtime). Pointers refer to model tables (program memory on AVR).
///
/// The kernels take any type `M` with these members; generated headers pass
/// one whose members are all `static constexpr`, so the covariance type and
/// sizes fold into the code. A table member may also be anything table_read
/// reads, such as a far_table.
struct mixture_model {
  const float* means;       ///< n_components * n_features
  const float* precisions;  ///< the precision factors, see mixture_covariance
  const float* constants;   ///< n_components: added to -Q/2 (envelope: offset_)
  uint32_t n_features;
  uint32_t n_components;
  uint8_t covariance;       ///< see mixture_covariance
};

/// Elements of a model's precisions table for its covariance type.
inline uint64_t mixture_precision_count(uint8_t covariance, uint32_t n_features, uint32_t n_components) {
  const uint64_t triangle = static_cast<uint64_t>(n_features) * (n_features + 1u) / 2u;
  switch (covariance) {
    case mixture_covariance::full:
      return triangle * n_components;
    case mixture_covariance::tied:
      return triangle;
    case mixture_covariance::diag:
      return static_cast<uint64_t>(n_features) * n_components;
    default:
      return n_components;
  }
}

/// Q_k, the squared norm of (x - mu_k) times component k's precision
/// factor, as the header comment describes it. Stack: a few words.
template <typename M>
inline float mixture_quadratic(const M& m, const float* x, uint32_t k) {
  // k * n_features and k * triangle fit 32 bits: mixture_validate checks
  // the table sizes.
  const auto mean = table_from(m.means, k * m.n_features);
  float q = 0.0f;
  if (m.covariance == mixture_covariance::full || m.covariance == mixture_covariance::tied) {
    const uint32_t triangle = m.n_features * (m.n_features + 1u) / 2u;
    const auto factor = table_from(m.precisions, m.covariance == mixture_covariance::full ? k * triangle : 0u);
    uint32_t column = 0;  // first value of column j
    for (uint32_t j = 0; j < m.n_features; ++j) {
      float y = 0.0f;
      for (uint32_t i = 0; i <= j; ++i) {
        // x_i - mu_i is recomputed per column (the same bits each time): no
        // buffer of n differences on the stack.
        y += rounded((x[i] - table_read(mean, i)) * table_read(factor, column + i));
      }
      q += rounded(y * y);
      column += j + 1u;
    }
    return q;
  }
  const bool spherical = m.covariance == mixture_covariance::spherical;
  const auto factor = table_from(m.precisions, spherical ? k : k * m.n_features);
  for (uint32_t j = 0; j < m.n_features; ++j) {
    const float y = rounded((x[j] - table_read(mean, j)) * table_read(factor, spherical ? 0u : j));
    q += rounded(y * y);
  }
  return q;
}

/// The n_components weighted log-probabilities of `x` (scikit-learn's
/// _estimate_weighted_log_prob), written to `out`: constants[k] - Q_k / 2.
/// Stack: a few words.
template <typename M>
inline void mixture_weighted_log_prob(const M& m, const float* x, float* out) {
  for (uint32_t k = 0; k < m.n_components; ++k) {
    out[k] = table_read(m.constants, k) - rounded(0.5f * mixture_quadratic(m, x, k));
  }
}

/// Most likely component of `x` (scikit-learn's predict): the first largest
/// weighted log-probability. `scratch` holds n_components floats and keeps
/// them afterwards. Stack: a few words.
template <typename M>
inline int32_t mixture_label(const M& m, const float* x, float* scratch) {
  mixture_weighted_log_prob(m, x, scratch);
  return argmax(scratch, static_cast<int32_t>(m.n_components));
}

/// Log-likelihood of `x` under the mixture (scikit-learn's score_samples):
/// logsumexp_f of the weighted log-probabilities, which `scratch`
/// (n_components floats) holds afterwards. Stack: a few words.
template <typename M>
inline float mixture_score(const M& m, const float* x, float* scratch) {
  mixture_weighted_log_prob(m, x, scratch);
  return logsumexp_f(scratch, m.n_components);
}

/// Posterior probability of each component (scikit-learn's predict_proba),
/// written to `out` (n_components values): exp_f(weighted log-probability
/// - logsumexp_f of them all). Stack: a few words.
template <typename M>
inline void mixture_proba(const M& m, const float* x, float* out) {
  mixture_weighted_log_prob(m, x, out);
  const float total = logsumexp_f(out, m.n_components);
  for (uint32_t k = 0; k < m.n_components; ++k) {
    out[k] = exp_f(out[k] - total);
  }
}

/// An elliptic envelope's score (scikit-learn's score_samples): minus the
/// squared Mahalanobis distance of `x` from the location, -Q_0.
template <typename M>
inline float envelope_score(const M& m, const float* x) {
  return -mixture_quadratic(m, x, 0u);
}

/// An elliptic envelope's decision (scikit-learn's decision_function):
/// the score minus offset_ (constants[0]); below 0 an outlier.
template <typename M>
inline float envelope_decision(const M& m, const float* x) {
  return envelope_score(m, x) - table_read(m.constants, 0u);
}

/// +1 (inlier) where the decision is >= 0, else -1, as scikit-learn's
/// EllipticEnvelope.predict. NaN decides -1, as its comparison does.
template <typename M>
inline int32_t envelope_predict(const M& m, const float* x) {
  return envelope_decision(m, x) >= 0.0f ? 1 : -1;
}

/// Checks a model's layout against its tables, so that the kernels read only
/// table memory; the sizes are in elements. Returns status::bad_argument for
/// a null table or a zero n_features or n_components; status::bad_table for
/// an unknown covariance type or sizes beyond the kernels' 32-bit indices;
/// status::size_mismatch when a table does not have the elements the layout
/// needs (means: n_components * n_features; precisions: see
/// mixture_precision_count; constants: n_components); status::ok otherwise.
template <typename M>
inline status mixture_validate(const M& m, size_t n_means, size_t n_precisions, size_t n_constants) {
  if (m.means == NULL || m.precisions == NULL || m.constants == NULL || m.n_features == 0u ||
      m.n_components == 0u) {
    return status::bad_argument;
  }
  const uint64_t n_mean_values = static_cast<uint64_t>(m.n_features) * m.n_components;
  const uint64_t n_factor_values = mixture_precision_count(m.covariance, m.n_features, m.n_components);
  if (m.covariance > mixture_covariance::spherical || m.n_components > 0x7FFFFFFFu ||
      n_mean_values > 0xFFFFFFFFu || n_factor_values > 0xFFFFFFFFu) {
    return status::bad_table;
  }
  if (static_cast<uint64_t>(n_means) != n_mean_values || static_cast<uint64_t>(n_precisions) != n_factor_values ||
      static_cast<uint64_t>(n_constants) != m.n_components) {
    return status::size_mismatch;
  }
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_MIXTURE_HPP
