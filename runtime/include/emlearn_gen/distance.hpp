// emlearn-gen runtime: distances in float32 between a row `x` (caller
// memory) and one stored point (a row of a model table), shared by the
// nearest-neighbour models (neighbors.hpp) and the centroid-based ones.
//
// A stored point is n_features consecutive values of a model table starting
// at element `first`, read with table_read (program memory on AVR, far
// tables for large models), exactly as dense.hpp reads a weight row.
//
// Every kernel runs in the same order on every target: d_i = x[i] - p[i] in
// index order, the per-feature term rounded() before it is used (so no
// compiler contracts d * d + sum into a fused multiply-add), the sum starting
// at 0. Host and devices therefore compute the same bits.
//
// Rounding bounds (u = 2^-24, gamma(m) = m u / (1 - m u)), relative to the
// exact distance between the float32 values x[i] and p[i], valid while no
// term underflows below FLT_MIN or overflows: every term is >= 0, so the
// recursive sum of n terms carries at most gamma(n - 1) of the exact sum, and
// each term its own error on top (each bound is stated at its kernel).
// Underflowing terms add at most n * 2^-149 absolute in all.
//
// Stack: a few scalars, no arrays.
#ifndef EMLEARN_GEN_DISTANCE_HPP
#define EMLEARN_GEN_DISTANCE_HPP

#include "common.hpp"
#include "math.hpp"

namespace emlearn_gen {

/// The distances the kernels below compute; a generated header names one.
namespace distance_metric {
enum : uint8_t {
  sq_euclidean = 0,  ///< sum of (x - p)^2 (euclidean distance squared)
  manhattan = 1,     ///< sum of |x - p|
  chebyshev = 2,     ///< max of |x - p|
  minkowski = 3,     ///< sum of |x - p|^p (minkowski distance to the power p)
};
}  // namespace distance_metric

/// The largest metric code.
constexpr uint8_t distance_metric_max = distance_metric::minkowski;

/// Squared euclidean distance: sum over i, in index order, of
/// rounded(d_i * d_i) with d_i = x[i] - p[i] rounded to float.
/// Bound: |result - exact| <= gamma(n_features + 2) * exact (d_i carries
/// u, its square 2u + u, the sum gamma(n - 1); all relative, terms >= 0).
/// `points` is a model table (anything table_read reads), p[i] its element
/// first + i; `x` is caller memory. Stack: a few words.
template <typename P>
inline float sq_euclidean_distance(P points, uint32_t first, uint32_t n_features, const float* x) {
  const auto p = table_from(points, first);
  float sum = 0.0f;
  for (uint32_t i = 0; i < n_features; ++i) {
    const float d = x[i] - table_read(p, i);
    sum += rounded(d * d);
  }
  return sum;
}

/// Manhattan distance: sum over i, in index order, of |x[i] - p[i]|.
/// Bound: |result - exact| <= gamma(n_features) * exact (each difference
/// one rounding, the sum gamma(n - 1)). As sq_euclidean_distance otherwise.
template <typename P>
inline float manhattan_distance(P points, uint32_t first, uint32_t n_features, const float* x) {
  const auto p = table_from(points, first);
  float sum = 0.0f;
  for (uint32_t i = 0; i < n_features; ++i) {
    const float d = x[i] - table_read(p, i);
    sum += d < 0.0f ? -d : d;
  }
  return sum;
}

/// Chebyshev distance: the largest |x[i] - p[i]| (0 for no features).
/// Bound: |result - exact| <= u * exact (one rounding, the difference; the
/// maximum is exact). As sq_euclidean_distance otherwise.
template <typename P>
inline float chebyshev_distance(P points, uint32_t first, uint32_t n_features, const float* x) {
  const auto p = table_from(points, first);
  float largest = 0.0f;
  for (uint32_t i = 0; i < n_features; ++i) {
    const float d = x[i] - table_read(p, i);
    const float a = d < 0.0f ? -d : d;
    largest = a > largest ? a : largest;
  }
  return largest;
}

/// |a|^power for a >= 0 and power >= 1 as exp_f(rounded(power * log_f(a))),
/// 0 for a = 0. Relative error, while a^power is normal, at most
///   (1 + 1.8u) * exp(4.2u * |power * ln a|) - 1
/// (log_f: 3.1u of ln a, the product u, exp_f 1.8u of its result; the
/// argument's absolute error becomes the result's relative error).
inline float minkowski_term(float a, float power) {
  if (a == 0.0f) {
    return 0.0f;
  }
  return exp_f(rounded(power * log_f(a)));
}

/// Minkowski distance to the power p ("reduced" distance, what the
/// neighbour search ranks by, as scikit-learn's does): sum over i, in index
/// order, of minkowski_term(|x[i] - p[i]|, power); power >= 1.
/// Bound: with e_t = (1 + u)^power * (1 + 1.8u) * exp(4.2u * |power * ln a_t|) - 1
/// the relative error of term t (a_t = |x[t] - p[t]|; the difference's own
/// rounding is raised to the power), |result - exact| <=
/// ((1 + max e_t) (1 + u)^(n - 1) - 1) * exact. As sq_euclidean_distance
/// otherwise.
template <typename P>
inline float minkowski_reduced_distance(P points, uint32_t first, uint32_t n_features, const float* x,
                                        float power) {
  const auto p = table_from(points, first);
  float sum = 0.0f;
  for (uint32_t i = 0; i < n_features; ++i) {
    const float d = x[i] - table_read(p, i);
    sum += minkowski_term(d < 0.0f ? -d : d, power);
  }
  return sum;
}

/// The minkowski distance from its reduced form s = sum |d|^power:
/// exp_f(log_f(s) / power), 0 for s = 0. Relative error, with s exact and
/// the result normal, at most (1 + 1.8u) * exp(4.2u * |ln s / power|) - 1
/// (log_f 3.1u, the division u, exp_f 1.8u).
inline float minkowski_root(float reduced, float power) {
  if (reduced == 0.0f) {
    return 0.0f;
  }
  return exp_f(log_f(reduced) / power);
}

/// The distance `metric` (distance_metric) names, in its ranking form:
/// squared for sq_euclidean, reduced (to the power p) for minkowski.
/// `power` is read for minkowski only. An unknown metric gives 0 (the
/// models' validate functions refuse one). Stack: a few words.
template <typename P>
inline float metric_distance(uint8_t metric, P points, uint32_t first, uint32_t n_features, const float* x,
                             float power) {
  switch (metric) {
    case distance_metric::sq_euclidean:
      return sq_euclidean_distance(points, first, n_features, x);
    case distance_metric::manhattan:
      return manhattan_distance(points, first, n_features, x);
    case distance_metric::chebyshev:
      return chebyshev_distance(points, first, n_features, x);
    case distance_metric::minkowski:
      return minkowski_reduced_distance(points, first, n_features, x, power);
    default:
      return 0.0f;
  }
}

/// The true distance from metric_distance's ranking form: sqrt_f for
/// sq_euclidean (one more correctly rounded step, u), minkowski_root for
/// minkowski, unchanged for manhattan and chebyshev.
inline float metric_true_distance(uint8_t metric, float ranking, float power) {
  switch (metric) {
    case distance_metric::sq_euclidean:
      return sqrt_f(ranking);
    case distance_metric::minkowski:
      return minkowski_root(ranking, power);
    default:
      return ranking;
  }
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_DISTANCE_HPP
