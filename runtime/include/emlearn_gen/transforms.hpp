// emlearn-gen runtime: feature transforms (scikit-learn's scalers, imputer,
// normalizer, binarizer, feature selectors and linear projections), run as a
// program of steps over one row.
//
// A model is a sequence of n_steps steps. Step s reads the n_in values the
// step before it wrote (the input row for step 0, n_in = n_features) and
// writes n_out values; the last writes n_outputs. Per step:
//   ops[s]                 the operation (transform_op)
//   shapes[3 s + 0]        n_out
//   shapes[3 s + 1]        first element of its parameters in `params`
//   shapes[3 s + 2]        first element of its indices in `indices`
// The operations, with p the step's parameters and idx its indices:
//   center_divide   y[i] = (x[i] - p[i]) / p[n + i]          (StandardScaler,
//                   RobustScaler, MaxAbsScaler: centre 0 or scale 1 where
//                   scikit-learn leaves them out, which is exact)
//   multiply_add    y[i] = x[i] * p[i] + p[n + i]             (MinMaxScaler)
//   clip            y[i] = min(max(x[i], p[0]), p[1])         (NaN stays NaN)
//   impute          y[i] = x[i] is NaN ? p[i] : x[i]         (SimpleImputer)
//   select          y[j] = x[idx[j]]                          (selectors)
//   normalize_l1    y[i] = x[i] / (sum |x|), 1 for a sum of 0 (Normalizer)
//   normalize_l2    y[i] = x[i] / sqrt(sum x^2), likewise
//   normalize_max   y[i] = x[i] / max |x|, likewise
//   binarize        y[i] = x[i] > p[0] ? 1 : 0               (Binarizer)
//   project         y[k] = sum over i, in index order, of
//                          p[n + k n + i] * (x[i] - p[i])    (PCA, TruncatedSVD)
//
// A program whose last step is a PCA projection may also have PCA's
// log-likelihood (score_samples): with d = x - mean the last step's input
// centred, and `quadratic` holding the upper triangle of a matrix q by rows
// and then a constant c,
//   score = (sum over i of d[i] * (sum over j >= i of q[i][j] * d[j])) + c
// (q is the precision matrix scaled by -1/2 on the diagonal and by -1 above
// it, c the Gaussian's log normalisation). `quadratic` is empty otherwise.
//
// NaN is a missing value, told apart by its bits (is_missing in
// common.hpp): a scaler passes it on as the one quiet NaN of quiet_nan()
// (targets' float arithmetic makes NaNs of different bits), clip and select
// pass it on as it is, impute replaces it. Normalizers, binarizers and
// projections are never given NaN (scikit-learn refuses it there, and so
// does the host). float arithmetic with every product rounded before it is
// added (rounded() in math.hpp) and sums in a fixed order, so host and
// devices compute the same bits.
//
// Stack: a few words. Intermediate rows live in caller scratch of
// 2 * max_width floats (max_width: the widest row between two steps; the
// generated header sizes it at compile time).
#ifndef EMLEARN_GEN_TRANSFORMS_HPP
#define EMLEARN_GEN_TRANSFORMS_HPP

#include "common.hpp"
#include "math.hpp"

/// Version of the table layout above; generated headers check it.
#define EMLEARN_GEN_TRANSFORMS_FORMAT 1

namespace emlearn_gen {

/// The operation of one transform step (see the header comment).
namespace transform_op {
enum : uint8_t {
  center_divide = 0,
  multiply_add = 1,
  clip = 2,
  impute = 3,
  select = 4,
  normalize_l1 = 5,
  normalize_l2 = 6,
  normalize_max = 7,
  binarize = 8,
  project = 9,
};
}  // namespace transform_op

/// Tables and layout of a transform program, known at run time (the host
/// runtime). Pointers refer to model tables (program memory on AVR).
///
/// The kernels take any type `M` with these members; generated headers pass
/// one whose members are all `static constexpr`. A table member may also be
/// anything table_read reads, such as a far_table.
struct transforms_model {
  const uint8_t* ops;        ///< n_steps operations
  const uint32_t* shapes;    ///< 3 per step: n_out, first parameter, first index
  const float* params;       ///< every step's parameters
  const uint32_t* indices;   ///< every select step's input indices
  const float* quadratic;    ///< score_samples: q's upper triangle, then c; or empty
  uint32_t n_steps;
  uint32_t n_features;
  uint32_t n_outputs;
  uint32_t max_width;        ///< widest row between two steps (0 for one step)
};

namespace detail {

// Number of parameters that step `op` reads, for n_in inputs and n_out outputs.
inline uint64_t transform_param_count(uint8_t op, uint32_t n_in, uint32_t n_out) {
  switch (op) {
    case transform_op::center_divide:
    case transform_op::multiply_add:
      return 2u * static_cast<uint64_t>(n_in);
    case transform_op::clip:
      return 2u;
    case transform_op::impute:
      return n_in;
    case transform_op::binarize:
      return 1u;
    case transform_op::project:
      return static_cast<uint64_t>(n_in) + static_cast<uint64_t>(n_in) * n_out;
    default:
      return 0u;
  }
}

// The divisor of a normalize step: the row's norm, or 1 where it is 0 (as
// scikit-learn's normalize leaves zero rows unchanged).
inline float transform_norm(uint8_t op, const float* x, uint32_t n) {
  float norm = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    const float a = x[i] < 0.0f ? -x[i] : x[i];
    if (op == transform_op::normalize_l1) {
      norm += a;
    } else if (op == transform_op::normalize_l2) {
      norm += rounded(x[i] * x[i]);
    } else if (a > norm) {
      norm = a;
    }
  }
  if (op == transform_op::normalize_l2) {
    norm = sqrt_f(norm);
  }
  return norm == 0.0f ? 1.0f : norm;
}

// One step: n_in values at x -> n_out values at y (x and y do not overlap).
template <typename M>
inline void transform_step(const M& m, uint32_t s, const float* x, uint32_t n_in, float* y) {
  const uint8_t op = table_read(m.ops, s);
  const uint32_t n_out = table_read(m.shapes, 3u * s);
  const auto p = table_from(m.params, table_read(m.shapes, 3u * s + 1u));
  switch (op) {
    case transform_op::center_divide:
      for (uint32_t i = 0; i < n_in; ++i) {
        y[i] = is_missing(x[i]) ? quiet_nan() : (x[i] - table_read(p, i)) / table_read(p, n_in + i);
      }
      break;
    case transform_op::multiply_add:
      for (uint32_t i = 0; i < n_in; ++i) {
        y[i] = is_missing(x[i]) ? quiet_nan() : rounded(x[i] * table_read(p, i)) + table_read(p, n_in + i);
      }
      break;
    case transform_op::clip: {
      const float lo = table_read(p, 0);
      const float hi = table_read(p, 1);
      for (uint32_t i = 0; i < n_in; ++i) {
        y[i] = is_missing(x[i]) || (x[i] >= lo && x[i] <= hi) ? x[i] : (x[i] < lo ? lo : hi);
      }
      break;
    }
    case transform_op::impute:
      for (uint32_t i = 0; i < n_in; ++i) {
        y[i] = is_missing(x[i]) ? table_read(p, i) : x[i];
      }
      break;
    case transform_op::select: {
      const auto idx = table_from(m.indices, table_read(m.shapes, 3u * s + 2u));
      for (uint32_t j = 0; j < n_out; ++j) {
        y[j] = x[table_read(idx, j)];
      }
      break;
    }
    case transform_op::normalize_l1:
    case transform_op::normalize_l2:
    case transform_op::normalize_max: {
      const float norm = transform_norm(op, x, n_in);
      for (uint32_t i = 0; i < n_in; ++i) {
        y[i] = x[i] / norm;
      }
      break;
    }
    case transform_op::binarize: {
      const float threshold = table_read(p, 0);
      for (uint32_t i = 0; i < n_in; ++i) {
        y[i] = x[i] > threshold ? 1.0f : 0.0f;
      }
      break;
    }
    default: {  // project: transforms_validate admits no other operation
      // Not dense_sums: the centring is taken inside each product, which
      // needs no buffer for the centred row and keeps PCA's accuracy where
      // the mean is large against the spread.
      const auto w = table_from(p, n_in);
      for (uint32_t k = 0; k < n_out; ++k) {
        const auto row = table_from(w, k * n_in);
        float sum = 0.0f;
        for (uint32_t i = 0; i < n_in; ++i) {
          sum += rounded(table_read(row, i) * (x[i] - table_read(p, i)));
        }
        y[k] = sum;
      }
      break;
    }
  }
}

}  // namespace detail

/// Runs the program on the row `x` (n_features values) and writes its
/// n_outputs values to `out`. `scratch` is caller memory of
/// 2 * max_width floats (unused, and may be null, when max_width is 0);
/// `out` must not overlap `x` or `scratch`. Stack: a few words.
template <typename M>
inline void transforms_run(const M& m, const float* x, float* out, float* scratch) {
  const float* in = x;
  uint32_t n_in = m.n_features;
  for (uint32_t s = 0; s < m.n_steps; ++s) {
    float* y = s + 1u == m.n_steps ? out : scratch + (s % 2u) * m.max_width;
    detail::transform_step(m, s, in, n_in, y);
    in = y;
    n_in = table_read(m.shapes, 3u * s);
  }
}

/// PCA's log-likelihood of the row `x` (scikit-learn's score_samples; see
/// the header comment), written to out[0]. Only for a program with a
/// `quadratic` table (transforms_validate checks it fits the last step).
/// `scratch` as for transforms_run. Stack: a few words.
template <typename M>
inline void transforms_score_samples(const M& m, const float* x, float* out, float* scratch) {
  const float* in = x;
  uint32_t n = m.n_features;
  const uint32_t last = m.n_steps - 1u;
  for (uint32_t s = 0; s < last; ++s) {
    float* y = scratch + (s % 2u) * m.max_width;
    detail::transform_step(m, s, in, n, y);
    in = y;
    n = table_read(m.shapes, 3u * s);
  }
  const auto mean = table_from(m.params, table_read(m.shapes, 3u * last + 1u));
  uint32_t q = 0;
  float sum = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    float inner = 0.0f;
    for (uint32_t j = i; j < n; ++j) {
      inner += rounded(table_read(m.quadratic, q++) * (in[j] - table_read(mean, j)));
    }
    sum += rounded((in[i] - table_read(mean, i)) * inner);
  }
  out[0] = sum + table_read(m.quadratic, q);
}

/// Checks a program against its tables, so that the kernels read and write
/// only the memory the layout gives them; sizes are in elements. Returns
/// status::bad_argument for a null table that has elements (ops and shapes
/// always have), or a zero count; status::bad_table
/// for an unknown operation, a step whose width does not follow from its
/// operation (n_out = n_in except for select and project), a select index
/// outside the step's input, a row between two steps wider than max_width,
/// or a last step that does not write n_outputs values; status::size_mismatch
/// when ops, shapes, params or indices do not have the elements the steps
/// read, or quadratic is neither empty nor n (n + 1) / 2 + 1 elements for a
/// last step that projects n inputs; status::ok otherwise.
template <typename M>
inline status transforms_validate(const M& m, size_t n_ops, size_t n_shapes, size_t n_params, size_t n_indices,
                                  size_t n_quadratic) {
  // params and indices may be empty (and null on the host) when no step reads them.
  if (m.ops == NULL || m.shapes == NULL || (m.params == NULL && n_params != 0u) ||
      (m.indices == NULL && n_indices != 0u) || m.n_steps == 0u || m.n_features == 0u || m.n_outputs == 0u) {
    return status::bad_argument;
  }
  if (static_cast<uint64_t>(n_ops) != m.n_steps || static_cast<uint64_t>(n_shapes) != 3u * uint64_t{m.n_steps}) {
    return status::size_mismatch;
  }
  uint32_t n_in = m.n_features;
  for (uint32_t s = 0; s < m.n_steps; ++s) {
    const uint8_t op = table_read(m.ops, s);
    const uint32_t n_out = table_read(m.shapes, 3u * s);
    const uint64_t first_param = table_read(m.shapes, 3u * s + 1u);
    const uint64_t first_index = table_read(m.shapes, 3u * s + 2u);
    if (op > transform_op::project || n_out == 0u ||
        (op != transform_op::select && op != transform_op::project && n_out != n_in) ||
        (s + 1u < m.n_steps && n_out > m.max_width) || (s + 1u == m.n_steps && n_out != m.n_outputs)) {
      return status::bad_table;
    }
    if (first_param + detail::transform_param_count(op, n_in, n_out) > n_params) {
      return status::size_mismatch;
    }
    if (op == transform_op::select) {
      if (first_index + n_out > n_indices) {
        return status::size_mismatch;
      }
      for (uint32_t j = 0; j < n_out; ++j) {
        if (table_read(m.indices, static_cast<uint32_t>(first_index) + j) >= n_in) {
          return status::bad_table;
        }
      }
    }
    if (n_quadratic != 0u && s + 1u == m.n_steps &&
        (op != transform_op::project || m.quadratic == NULL ||
         static_cast<uint64_t>(n_quadratic) != static_cast<uint64_t>(n_in) * (n_in + 1u) / 2u + 1u)) {
      return status::size_mismatch;
    }
    n_in = n_out;
  }
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_TRANSFORMS_HPP
