// emlearn-gen runtime: nearest-neighbour models (scikit-learn's
// KNeighborsClassifier, KNeighborsRegressor, RadiusNeighborsClassifier,
// RadiusNeighborsRegressor, NearestCentroid and LocalOutlierFactor with
// novelty=True), on the distance kernels of distance.hpp.
//
// The models keep their training rows (`points`, n_points rows of
// n_features) in float32, or as int16 integers q with a scale and an offset
// per feature (storage int16: the value is rounded(q * scale) + offset,
// computed the same way on every target). A row's distance to every point is
// computed in point order in its ranking form (squared for euclidean, to the
// power p for minkowski; metric_distance); the true distance
// (metric_true_distance) is taken only where a weight or a reachability
// needs it.
//
//   k nearest (kinds knn_*, lof): the k smallest ranking distances, kept
//     sorted in caller scratch (`best`, `index`, k each); a point replaces
//     the current k-th only if strictly nearer, and goes after the points of
//     equal distance, so of points at equal distance the first in training
//     order is kept (a stable sort). Where scikit-learn's own distances put
//     several points at the k-th place its choice is unspecified: such rows
//     are in the contract's tie zone.
//   radius (kinds radius_*): every point whose ranking distance is <= the
//     radius in ranking form (params[1]).
//   weights: uniform (1 per neighbour) or distance (1 / true distance);
//     with distance weights, if some neighbour is at distance exactly 0 only
//     those neighbours count, with weight 1 (scikit-learn's _get_weights).
//   classifiers: votes[c] sums the weights of class c's neighbours in
//     neighbour order; the label is the first largest vote (numpy's
//     argmax, scikit-learn's choice on a tie of votes); probabilities are
//     votes[c] / (sum of votes, in class order).
//   regressors: output o is (sum of w y_o) / (sum of w), each product
//     rounded, in neighbour order (uniform: sum of y_o / count).
//   centroid (NearestCentroid): the points are the class centroids; predict
//     is the first nearest centroid (uniform priors) or, with priors, the
//     first largest score; score_c = priors[c] - D_c with D_c the squared
//     euclidean distance (or the squared manhattan distance) between x / std
//     and the scaled centroid c (scaled_points), x[i] / std[i] in caller
//     scratch; probabilities are softmax_f of the scores.
//   lof (LocalOutlierFactor, novelty=True): with the k nearest points j,
//     reach_j = max(true distance, kdist[j]); lrd = 1 / (mean reach + 1e-10);
//     score_samples = -(sum over j of lrd[j] / lrd) / k; decision_function
//     = score_samples - params[2]; predict +1 where decision >= 0, else -1.
//
// No neighbour within the radius: RadiusNeighborsClassifier predicts its
// outlier class (outlier_class < n_classes) with probability 1, or, where
// the model has none (scikit-learn raises ValueError; the host raises it
// too), the label -1 and probabilities all 0. RadiusNeighborsRegressor
// writes NaN to every output, as scikit-learn does.
//
// Stack: the kernels keep a few scalars and no arrays; the buffers are the
// caller's (the generated header's entry points keep them on their stack,
// sized at compile time and stated in the banner).
#ifndef EMLEARN_GEN_NEIGHBORS_HPP
#define EMLEARN_GEN_NEIGHBORS_HPP

#include "common.hpp"
#include "distance.hpp"
#include "math.hpp"

/// Version of the table layout above; generated headers check it.
#define EMLEARN_GEN_NEIGHBORS_FORMAT 1

namespace emlearn_gen {

/// Which model the tables hold.
namespace neighbors_kind {
enum : uint8_t {
  knn_classifier = 0,
  knn_regressor = 1,
  radius_classifier = 2,
  radius_regressor = 3,
  centroid = 4,
  lof = 5,
};
}  // namespace neighbors_kind

/// How neighbours are weighted.
namespace neighbors_weights {
enum : uint8_t {
  uniform = 0,   ///< 1 each
  distance = 1,  ///< 1 / distance; only the neighbours at distance 0 if any
};
}  // namespace neighbors_weights

/// How the points are stored.
namespace neighbors_storage {
enum : uint8_t {
  float32 = 0,  ///< `points`
  int16 = 1,    ///< `qpoints`: rounded(q * qscales[i]) + qoffsets[i]
};
}  // namespace neighbors_storage

/// Elements of the `params` table.
namespace neighbors_param {
enum : uint32_t {
  power = 0,   ///< minkowski p
  radius = 1,  ///< radius in ranking form (squared for euclidean, to the power p for minkowski)
  offset = 2,  ///< LocalOutlierFactor's offset_
  count = 3,
};
}  // namespace neighbors_param

/// Tables and layout of a neighbours model, known at run time (the host
/// runtime). Pointers refer to model tables (program memory on AVR); a
/// table the kind does not read may be null on the host. Generated headers
/// pass a type with the same members, all static constexpr; a table member
/// may also be anything table_read reads, such as a far_table.
struct neighbors_model {
  const float* points;         ///< float32 storage: n_points * n_features
  const int16_t* qpoints;      ///< int16 storage: n_points * n_features
  const float* qscales;        ///< int16 storage: per feature
  const float* qoffsets;       ///< int16 storage: per feature
  const int16_t* labels;       ///< classifiers: class index of each point
  const float* targets;        ///< regressors: n_points * n_outputs
  const float* kdist;          ///< lof: each point's k-distance
  const float* lrd;            ///< lof: each point's local reachability density
  const float* scaled_points;  ///< centroid: centroids / std, n_classes * n_features
  const float* stds;           ///< centroid: per feature, the divisor of x (1 where std is 0)
  const float* priors;         ///< centroid: per class, 2 log prior
  const float* params;         ///< neighbors_param
  uint32_t n_features;
  uint32_t n_points;
  uint32_t n_classes;      ///< classifiers and centroid
  uint32_t n_outputs;      ///< regressors
  uint32_t k;              ///< knn and lof: neighbours per row
  uint32_t outlier_class;  ///< radius classifier: class of rows without neighbours; n_classes: none
  uint8_t kind;            ///< neighbors_kind
  uint8_t metric;          ///< distance_metric
  uint8_t weighting;       ///< neighbors_weights
  uint8_t storage;         ///< neighbors_storage
  uint8_t use_priors;      ///< centroid: predict by scores (1) or by the nearest centroid (0)
};

/// int16 rows read as floats: element i of a row is
/// rounded(q[i] * scale[i]) + offset[i]; table_from moves along `q` only,
/// so a row must start at a multiple of n_features (every point does).
/// Each table has a type of its own: far tables of different sizes (AVR)
/// are different types.
template <typename Q, typename S, typename O>
struct scaled_rows {
  Q q;
  S scale;
  O offset;
};

template <typename Q, typename S, typename O>
inline scaled_rows<Q, S, O> make_scaled_rows(Q q, S scale, O offset) {
  scaled_rows<Q, S, O> rows = {q, scale, offset};
  return rows;
}

template <typename Q, typename S, typename O>
inline auto table_from(scaled_rows<Q, S, O> rows, uint32_t first)
    -> scaled_rows<decltype(table_from(Q(), 0u)), S, O> {
  return make_scaled_rows(table_from(rows.q, first), rows.scale, rows.offset);
}

template <typename Q, typename S, typename O>
inline float table_read(scaled_rows<Q, S, O> rows, uint32_t i) {
  return rounded(static_cast<float>(table_read(rows.q, i)) * table_read(rows.scale, i)) +
         table_read(rows.offset, i);
}

/// Ranking distance (distance.hpp's metric_distance) between `x` and point
/// `j`. Stack: a few words.
template <typename M>
inline float neighbors_rank(const M& m, uint32_t j, const float* x) {
  const float power = table_read(m.params, static_cast<uint32_t>(neighbors_param::power));
  // j * n_features < 2^32: neighbors_validate checks the table sizes.
  if (m.storage == neighbors_storage::int16) {
    return metric_distance(m.metric, make_scaled_rows(m.qpoints, m.qscales, m.qoffsets), j * m.n_features,
                           m.n_features, x, power);
  }
  return metric_distance(m.metric, m.points, j * m.n_features, m.n_features, x, power);
}

/// The weight of a neighbour at ranking distance `rank`; `exact` says some
/// neighbour of the row is at distance 0 (then only those count, with 1).
template <typename M>
inline float neighbors_weight(const M& m, float rank, bool exact) {
  if (m.weighting == neighbors_weights::uniform) {
    return 1.0f;
  }
  if (exact) {
    return rank == 0.0f ? 1.0f : 0.0f;
  }
  return 1.0f / metric_true_distance(m.metric, rank, table_read(m.params, static_cast<uint32_t>(neighbors_param::power)));
}

/// The min(k, n_points) points nearest to `x`, nearest first, into `best`
/// (ranking distances) and `index` (point numbers), both caller scratch of
/// k elements; returns how many. Stack: a few words.
template <typename M>
inline uint32_t neighbors_search(const M& m, const float* x, float* best, uint32_t* index) {
  uint32_t count = 0;
  for (uint32_t j = 0; j < m.n_points; ++j) {
    const float d = neighbors_rank(m, j, x);
    if (count == m.k && !(d < best[count - 1])) {
      continue;
    }
    uint32_t pos = count < m.k ? count++ : m.k - 1;
    while (pos > 0 && d < best[pos - 1]) {
      best[pos] = best[pos - 1];
      index[pos] = index[pos - 1];
      --pos;
    }
    best[pos] = d;
    index[pos] = j;
  }
  return count;
}

namespace detail {

// Adds each neighbour's weight to its class's vote; votes has n_classes.
template <typename M>
inline void knn_votes(const M& m, const float* best, const uint32_t* index, uint32_t count, float* votes) {
  for (uint32_t c = 0; c < m.n_classes; ++c) {
    votes[c] = 0.0f;
  }
  const bool exact = count > 0 && best[0] == 0.0f;  // sorted: the nearest first
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t c = static_cast<uint32_t>(table_read(m.labels, index[i]));
    votes[c] += neighbors_weight(m, best[i], exact);
  }
}

// Radius votes; returns the number of neighbours within the radius.
template <typename M>
inline uint32_t radius_votes(const M& m, const float* x, float* votes, bool exact) {
  const float radius = table_read(m.params, static_cast<uint32_t>(neighbors_param::radius));
  for (uint32_t c = 0; c < m.n_classes; ++c) {
    votes[c] = 0.0f;
  }
  uint32_t count = 0;
  bool zero = false;
  for (uint32_t j = 0; j < m.n_points; ++j) {
    const float d = neighbors_rank(m, j, x);
    if (d <= radius) {
      ++count;
      zero = zero || d == 0.0f;
      votes[static_cast<uint32_t>(table_read(m.labels, j))] += neighbors_weight(m, d, exact);
    }
  }
  // Distance weights and a neighbour at distance 0: count again, those only.
  if (zero && !exact && m.weighting == neighbors_weights::distance) {
    return radius_votes(m, x, votes, true);
  }
  return count;
}

// Radius regression sums: out[o] = sum of w y_o, returns the sum of w
// through `total` and the number of neighbours.
template <typename M>
inline uint32_t radius_sums(const M& m, const float* x, float* out, float* total, bool exact) {
  const float radius = table_read(m.params, static_cast<uint32_t>(neighbors_param::radius));
  for (uint32_t o = 0; o < m.n_outputs; ++o) {
    out[o] = 0.0f;
  }
  *total = 0.0f;
  uint32_t count = 0;
  bool zero = false;
  for (uint32_t j = 0; j < m.n_points; ++j) {
    const float d = neighbors_rank(m, j, x);
    if (d <= radius) {
      ++count;
      zero = zero || d == 0.0f;
      const float w = neighbors_weight(m, d, exact);
      const auto y = table_from(m.targets, j * m.n_outputs);
      for (uint32_t o = 0; o < m.n_outputs; ++o) {
        out[o] += rounded(w * table_read(y, o));
      }
      *total += w;
    }
  }
  if (zero && !exact && m.weighting == neighbors_weights::distance) {
    return radius_sums(m, x, out, total, true);
  }
  return count;
}

// Votes to probabilities: each over their sum in class order; all 0 stays 0.
inline void votes_to_proba(float* votes, uint32_t n) {
  float total = 0.0f;
  for (uint32_t c = 0; c < n; ++c) {
    total += votes[c];
  }
  if (total == 0.0f) {
    return;
  }
  for (uint32_t c = 0; c < n; ++c) {
    votes[c] = votes[c] / total;
  }
}

// Centroid scores: priors[c] - D_c (see the top of the file); xs is caller
// scratch of n_features.
template <typename M>
inline void centroid_scores(const M& m, const float* x, float* xs, float* scores) {
  for (uint32_t i = 0; i < m.n_features; ++i) {
    xs[i] = x[i] / table_read(m.stds, i);
  }
  for (uint32_t c = 0; c < m.n_classes; ++c) {
    float d;
    if (m.metric == distance_metric::manhattan) {
      const float l1 = manhattan_distance(m.scaled_points, c * m.n_features, m.n_features, xs);
      d = rounded(l1 * l1);
    } else {
      d = sq_euclidean_distance(m.scaled_points, c * m.n_features, m.n_features, xs);
    }
    scores[c] = table_read(m.priors, c) - d;
  }
}

// The nearest centroid's class (the first of equal distances).
template <typename M>
inline int32_t centroid_nearest(const M& m, const float* x) {
  int32_t label = 0;
  float nearest = 0.0f;
  for (uint32_t c = 0; c < m.n_classes; ++c) {
    const float d = neighbors_rank(m, c, x);
    if (c == 0 || d < nearest) {
      nearest = d;
      label = static_cast<int32_t>(c);
    }
  }
  return label;
}

}  // namespace detail

/// k-nearest-neighbour label: the first largest vote. `best`, `index`
/// (k each) and `votes` (n_classes) are caller scratch. Stack: a few words.
template <typename M>
inline int32_t knn_label(const M& m, const float* x, float* best, uint32_t* index, float* votes) {
  const uint32_t count = neighbors_search(m, x, best, index);
  detail::knn_votes(m, best, index, count, votes);
  return argmax(votes, static_cast<int32_t>(m.n_classes));
}

/// k-nearest-neighbour class probabilities, written to `out` (n_classes).
/// `best` and `index` (k each) are caller scratch. Stack: a few words.
template <typename M>
inline void knn_proba(const M& m, const float* x, float* best, uint32_t* index, float* out) {
  const uint32_t count = neighbors_search(m, x, best, index);
  detail::knn_votes(m, best, index, count, out);
  detail::votes_to_proba(out, m.n_classes);
}

/// k-nearest-neighbour regression, written to `out` (n_outputs). `best`
/// and `index` (k each) are caller scratch. Stack: a few words.
template <typename M>
inline void knn_predict(const M& m, const float* x, float* best, uint32_t* index, float* out) {
  const uint32_t count = neighbors_search(m, x, best, index);
  const bool exact = count > 0 && best[0] == 0.0f;
  float total = 0.0f;
  for (uint32_t o = 0; o < m.n_outputs; ++o) {
    out[o] = 0.0f;
  }
  for (uint32_t i = 0; i < count; ++i) {
    const float w = neighbors_weight(m, best[i], exact);
    const auto y = table_from(m.targets, index[i] * m.n_outputs);
    for (uint32_t o = 0; o < m.n_outputs; ++o) {
      out[o] += m.weighting == neighbors_weights::uniform ? table_read(y, o) : rounded(w * table_read(y, o));
    }
    total += w;
  }
  for (uint32_t o = 0; o < m.n_outputs; ++o) {
    out[o] = out[o] / total;
  }
}

/// Radius-neighbours label: the first largest vote; without neighbours the
/// outlier class, or -1 where the model has none. `votes` (n_classes) is
/// caller scratch. Stack: a few words.
template <typename M>
inline int32_t radius_label(const M& m, const float* x, float* votes) {
  if (detail::radius_votes(m, x, votes, false) == 0u) {
    return m.outlier_class < m.n_classes ? static_cast<int32_t>(m.outlier_class) : -1;
  }
  return argmax(votes, static_cast<int32_t>(m.n_classes));
}

/// Radius-neighbours class probabilities, written to `out` (n_classes);
/// without neighbours 1 for the outlier class, or all 0 where the model has
/// none. Stack: a few words.
template <typename M>
inline void radius_proba(const M& m, const float* x, float* out) {
  if (detail::radius_votes(m, x, out, false) == 0u) {
    if (m.outlier_class < m.n_classes) {
      out[m.outlier_class] = 1.0f;
    }
    return;
  }
  detail::votes_to_proba(out, m.n_classes);
}

/// Radius-neighbours regression, written to `out` (n_outputs): NaN without
/// neighbours. Stack: a few words.
template <typename M>
inline void radius_predict(const M& m, const float* x, float* out) {
  float total = 0.0f;
  if (detail::radius_sums(m, x, out, &total, false) == 0u) {
    for (uint32_t o = 0; o < m.n_outputs; ++o) {
      out[o] = detail::quiet_nan();
    }
    return;
  }
  for (uint32_t o = 0; o < m.n_outputs; ++o) {
    out[o] = out[o] / total;
  }
}

/// Nearest-centroid label: by the nearest centroid, or with priors by the
/// first largest score. `xs` (n_features) and `scores` (n_classes) are
/// caller scratch. Stack: a few words.
template <typename M>
inline int32_t centroid_label(const M& m, const float* x, float* xs, float* scores) {
  if (m.use_priors == 0u) {
    return detail::centroid_nearest(m, x);
  }
  detail::centroid_scores(m, x, xs, scores);
  return argmax(scores, static_cast<int32_t>(m.n_classes));
}

/// Values centroid_decision writes: 1 for two classes, else n_classes.
template <typename M>
inline uint32_t centroid_decision_width(const M& m) {
  return m.n_classes == 2u ? 1u : m.n_classes;
}

/// Nearest-centroid decision_function, written to `out`
/// (centroid_decision_width(m) values): scores[1] - scores[0] for two
/// classes, else the n_classes scores. `xs` (n_features) and `scores`
/// (n_classes) are caller scratch.
template <typename M>
inline void centroid_decision(const M& m, const float* x, float* xs, float* scores, float* out) {
  detail::centroid_scores(m, x, xs, scores);
  if (m.n_classes == 2u) {
    out[0] = scores[1] - scores[0];
    return;
  }
  for (uint32_t c = 0; c < m.n_classes; ++c) {
    out[c] = scores[c];
  }
}

/// Nearest-centroid probabilities: softmax_f of the scores, written to
/// `out` (n_classes). `xs` (n_features) is caller scratch.
template <typename M>
inline void centroid_proba(const M& m, const float* x, float* xs, float* out) {
  detail::centroid_scores(m, x, xs, out);
  softmax_f(out, m.n_classes);
}

/// LocalOutlierFactor's score_samples (see the top of the file). `best` and
/// `index` (k each) are caller scratch. Stack: a few words.
template <typename M>
inline float lof_score(const M& m, const float* x, float* best, uint32_t* index) {
  const uint32_t count = neighbors_search(m, x, best, index);
  const float power = table_read(m.params, static_cast<uint32_t>(neighbors_param::power));
  const float n = static_cast<float>(count);
  float reach = 0.0f;
  for (uint32_t i = 0; i < count; ++i) {
    const float d = metric_true_distance(m.metric, best[i], power);
    const float kd = table_read(m.kdist, index[i]);
    reach += d > kd ? d : kd;
  }
  const float lrd = 1.0f / (reach / n + 1e-10f);
  float ratios = 0.0f;
  for (uint32_t i = 0; i < count; ++i) {
    ratios += table_read(m.lrd, index[i]) / lrd;
  }
  return -(ratios / n);
}

/// LocalOutlierFactor's decision_function: lof_score - offset.
template <typename M>
inline float lof_decision(const M& m, const float* x, float* best, uint32_t* index) {
  return lof_score(m, x, best, index) - table_read(m.params, static_cast<uint32_t>(neighbors_param::offset));
}

/// LocalOutlierFactor's predict: -1 (outlier) where the decision is < 0,
/// else +1.
template <typename M>
inline int32_t lof_predict(const M& m, const float* x, float* best, uint32_t* index) {
  return lof_decision(m, x, best, index) < 0.0f ? -1 : 1;
}

/// Checks a model's layout against its tables (sizes in elements), so that
/// the kernels read only table memory. Returns status::bad_argument for a
/// null table the kind reads or a zero count it needs; status::bad_table
/// for an unknown kind, metric, weighting or storage, k of 0 or above
/// n_points, a count beyond 32 bits, or a label out of range;
/// status::size_mismatch when a table the kind reads has not the elements
/// the layout needs; status::ok otherwise.
template <typename M>
inline status neighbors_validate(const M& m, size_t n_points_table, size_t n_qpoints, size_t n_qscales,
                                 size_t n_qoffsets, size_t n_labels, size_t n_targets, size_t n_kdist,
                                 size_t n_lrd, size_t n_scaled, size_t n_stds, size_t n_priors,
                                 size_t n_params) {
  if (m.n_features == 0u || m.n_points == 0u || m.params == NULL) {
    return status::bad_argument;
  }
  if (m.kind > neighbors_kind::lof || m.metric > distance_metric_max || m.weighting > neighbors_weights::distance ||
      m.storage > neighbors_storage::int16) {
    return status::bad_table;
  }
  const uint64_t cells = static_cast<uint64_t>(m.n_points) * m.n_features;
  if (cells > 0xFFFFFFFFu || n_params != neighbors_param::count) {
    return cells > 0xFFFFFFFFu ? status::bad_table : status::size_mismatch;
  }
  const bool classifier = m.kind == neighbors_kind::knn_classifier || m.kind == neighbors_kind::radius_classifier ||
                          m.kind == neighbors_kind::centroid;
  const bool regressor = m.kind == neighbors_kind::knn_regressor || m.kind == neighbors_kind::radius_regressor;
  const bool searches = m.kind == neighbors_kind::knn_classifier || m.kind == neighbors_kind::knn_regressor ||
                        m.kind == neighbors_kind::lof;
  if ((classifier && m.n_classes == 0u) || (regressor && m.n_outputs == 0u)) {
    return status::bad_argument;
  }
  if (searches && (m.k == 0u || m.k > m.n_points)) {
    return status::bad_table;
  }
  if (m.storage == neighbors_storage::int16) {
    if (m.qpoints == NULL || m.qscales == NULL || m.qoffsets == NULL) {
      return status::bad_argument;
    }
    if (n_qpoints != cells || n_qscales != m.n_features || n_qoffsets != m.n_features) {
      return status::size_mismatch;
    }
  } else {
    if (m.points == NULL) {
      return status::bad_argument;
    }
    if (n_points_table != cells) {
      return status::size_mismatch;
    }
  }
  if (m.kind == neighbors_kind::centroid) {
    if (m.n_points != m.n_classes || m.scaled_points == NULL || m.stds == NULL || m.priors == NULL) {
      return m.n_points != m.n_classes ? status::bad_table : status::bad_argument;
    }
    if (n_scaled != cells || n_stds != m.n_features || n_priors != m.n_classes) {
      return status::size_mismatch;
    }
    return status::ok;
  }
  if (classifier) {
    if (m.labels == NULL) {
      return status::bad_argument;
    }
    if (n_labels != m.n_points) {
      return status::size_mismatch;
    }
    for (uint32_t j = 0; j < m.n_points; ++j) {
      const int16_t c = table_read(m.labels, j);
      if (c < 0 || static_cast<uint32_t>(c) >= m.n_classes) {
        return status::bad_table;
      }
    }
    if (m.outlier_class > m.n_classes) {
      return status::bad_table;
    }
  }
  if (regressor) {
    if (m.targets == NULL) {
      return status::bad_argument;
    }
    if (static_cast<uint64_t>(m.n_points) * m.n_outputs > 0xFFFFFFFFu) {
      return status::bad_table;
    }
    if (static_cast<uint64_t>(n_targets) != static_cast<uint64_t>(m.n_points) * m.n_outputs) {
      return status::size_mismatch;
    }
  }
  if (m.kind == neighbors_kind::lof) {
    if (m.kdist == NULL || m.lrd == NULL) {
      return status::bad_argument;
    }
    if (n_kdist != m.n_points || n_lrd != m.n_points) {
      return status::size_mismatch;
    }
  }
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_NEIGHBORS_HPP
