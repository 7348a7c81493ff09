// emlearn-gen runtime: centroid clusterings (scikit-learn's KMeans and
// MiniBatchKMeans).
//
// A model is n_clusters centres of n_features values each (`centers`, row
// by row). Every entry point starts from the squared euclidean distance of
// x to each centre, sq_euclidean_distance in distance.hpp (differences,
// squares and sums in float32 in index order), so host and devices compute
// the same bits:
//   label:    the index of the first nearest centre (scikit-learn's predict);
//   transform: sqrt_f of each squared distance (scikit-learn's transform);
//   nearest squared distance: the smallest squared distance, a row's term
//             of scikit-learn's inertia (score is minus their sum).
// scikit-learn itself decides labels on ||c||^2 - 2 x.c and computes
// transform as sqrt(||x||^2 - 2 x.c + ||c||^2) in float64; the differences
// here have no such cancellation (the numeric contract bounds both).
//
// Stack: the kernels keep a few scalars on the stack and no arrays.
#ifndef EMLEARN_GEN_CLUSTERS_HPP
#define EMLEARN_GEN_CLUSTERS_HPP

#include "common.hpp"
#include "distance.hpp"
#include "math.hpp"

/// Version of the table layout above; generated headers check it.
#define EMLEARN_GEN_CLUSTERS_FORMAT 1

namespace emlearn_gen {

/// Tables and layout of a clustering, known at run time (the host runtime).
/// `centers` refers to a model table (program memory on AVR).
///
/// The kernels take any type `M` with these members; generated headers pass
/// one whose members are all `static constexpr`. The table member may also
/// be anything table_read reads, such as a far_table.
struct clusters_model {
  const float* centers;  ///< n_clusters * n_features, centre by centre
  uint32_t n_features;
  uint32_t n_clusters;
};

/// Squared euclidean distance of `x` to centre j. Stack: a few words.
template <typename M>
inline float clusters_sq_distance(const M& m, const float* x, uint32_t j) {
  // j * n_features < 2^32: clusters_validate checks the table size.
  return sq_euclidean_distance(m.centers, j * m.n_features, m.n_features, x);
}

/// Index of the first nearest centre and its squared distance (`nearest`),
/// as scikit-learn's argmin takes the first of equal distances. NaN
/// distances are never nearer: centre 0 if all are NaN. Stack: a few words.
template <typename M>
inline int32_t clusters_nearest(const M& m, const float* x, float* nearest) {
  int32_t best = 0;
  float best_distance = clusters_sq_distance(m, x, 0u);
  for (uint32_t j = 1; j < m.n_clusters; ++j) {
    const float d = clusters_sq_distance(m, x, j);
    if (d < best_distance) {
      best_distance = d;
      best = static_cast<int32_t>(j);
    }
  }
  *nearest = best_distance;
  return best;
}

/// The cluster of `x` (scikit-learn's predict): the index of the first
/// nearest centre. Stack: a few words.
template <typename M>
inline int32_t clusters_label(const M& m, const float* x) {
  float nearest;
  return clusters_nearest(m, x, &nearest);
}

/// Squared distance of `x` to its nearest centre: the row's term of
/// scikit-learn's inertia (KMeans.score is minus the sum over rows).
/// Stack: a few words.
template <typename M>
inline float clusters_nearest_sq_distance(const M& m, const float* x) {
  float nearest;
  clusters_nearest(m, x, &nearest);
  return nearest;
}

/// Euclidean distance of `x` to every centre (scikit-learn's transform),
/// written to `out` (n_clusters values): sqrt_f of the squared distances.
/// Stack: a few words.
template <typename M>
inline void clusters_transform(const M& m, const float* x, float* out) {
  for (uint32_t j = 0; j < m.n_clusters; ++j) {
    out[j] = sqrt_f(clusters_sq_distance(m, x, j));
  }
}

/// Checks a model's layout against its table (`n_centers` elements), so that
/// the kernels read only table memory. Returns status::bad_argument for a
/// null table or a zero n_features or n_clusters; status::bad_table when
/// the centres hold 2^32 values or more or n_clusters does not fit int32;
/// status::size_mismatch unless n_centers is n_clusters * n_features;
/// status::ok otherwise.
template <typename M>
inline status clusters_validate(const M& m, size_t n_centers) {
  if (m.centers == NULL || m.n_features == 0u || m.n_clusters == 0u) {
    return status::bad_argument;
  }
  const uint64_t want = static_cast<uint64_t>(m.n_features) * m.n_clusters;
  if (want > 0xFFFFFFFFu || m.n_clusters > 0x7FFFFFFFu) {
    return status::bad_table;
  }
  return static_cast<uint64_t>(n_centers) == want ? status::ok : status::size_mismatch;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_CLUSTERS_HPP
