// emlearn-gen runtime: multi-layer perceptrons (scikit-learn's MLPClassifier
// and MLPRegressor), a chain of dense layers (dense.hpp).
//
// A model is these tables:
//   `sizes`    n_layers + 1 widths: n_features, each hidden layer's, n_outputs;
//   `weights`  every layer's weights in layer order, each layer one row of
//              sizes[l] values per unit of layer l + 1 (scikit-learn's
//              coefs_[l] transposed), as float (float32 weights) or
//              real64 (float64 weights, float64.hpp); or, with int8 weights,
//   `qweights` the same, as int8_t integers q, and
//   `scales`   one float per layer, its weights being scale * q
//              (the table a model does not use holds one unused element);
//   `biases`   every layer's biases (intercepts_) in layer order, float
//              (real64 with float64 weights).
// Activations and sums are float32 with float32 and int8 weights, binary64
// (real64: sigmoid_r64, tanh_r64, softmax_r64) with float64 weights; the
// input rows are float either way, and float64 outputs are rounded to
// float once, at the end (to_float).
// Hidden layers apply `hidden_activation`; the last layer's sums become the
// outputs by `output_activation` (scikit-learn's out_activation_), or decide
// a label directly (mlp_label, mlp_indicator).
//
// Scratch: the hidden layers' values alternate between two caller buffers
// `a` and `b` of max_width values each (float, or real64 for float64
// weights), max_width being the widest of the hidden and output layers
// (generated headers put them on the stack, sized at compile time). The
// kernels themselves keep a few scalars on the stack.
#ifndef EMLEARN_GEN_MLP_HPP
#define EMLEARN_GEN_MLP_HPP

#include "common.hpp"
#include "dense.hpp"
#include "float64.hpp"
#include "math.hpp"

/// Version of the table layout above; generated headers check it.
#define EMLEARN_GEN_MLP_FORMAT 2

namespace emlearn_gen {

/// How a perceptron stores its weights.
namespace mlp_weights {
enum : uint8_t {
  float32 = 0,  ///< `weights`, float
  int8 = 1,     ///< `qweights`, int8_t, times the layer's `scales` entry
  float64 = 2,  ///< `weights` and `biases` real64, sums and activations in binary64
};
}  // namespace mlp_weights

/// Tables and layout of a perceptron, known at run time (the host runtime),
/// with weights and biases of type Real (float, or real64 for float64
/// weights). The kernels take any type `M` with these members; generated
/// headers pass a type whose members are all `static constexpr`. A table
/// member may also be anything table_read(table, index) reads, such as a
/// far_table.
template <typename Real>
struct mlp_model_t {
  const Real* weights;        ///< every layer's rows, layer after layer (float32, float64 weights)
  const int8_t* qweights;     ///< the same as integers (int8 weights)
  const float* scales;        ///< one per layer (int8 weights)
  const Real* biases;         ///< every layer's biases, layer after layer
  const uint32_t* sizes;      ///< n_layers + 1 widths
  uint32_t n_features;        ///< sizes[0]
  uint32_t n_layers;          ///< layers of weights: hidden layers + 1
  uint32_t n_outputs;         ///< sizes[n_layers]
  uint32_t max_width;         ///< widest of sizes[1..n_layers]: each scratch buffer's floats
  uint8_t hidden_activation;  ///< dense_activation of the hidden layers (not softmax)
  uint8_t output_activation;  ///< dense_activation of the outputs
  uint8_t weight_type;        ///< mlp_weights
};

/// A perceptron with float32 or int8 weights.
typedef mlp_model_t<float> mlp_model;

namespace detail {

// Sums of layer l into float `dest`: float32 or int8 weights.
template <typename M, typename In>
inline void mlp_layer_sums(const M& m, uint32_t l, uint32_t w_first, uint32_t b_first, uint32_t n_in,
                           uint32_t n_out, const In* in, float* dest) {
  if (m.weight_type == mlp_weights::int8) {
    dense_sums_scaled(m.qweights, w_first, table_read(m.scales, l), m.biases, b_first, n_in, n_out, in, dest);
  } else {
    dense_sums(m.weights, w_first, m.biases, b_first, n_in, n_out, in, dest);
  }
}

// Sums of layer l into binary64 `dest`: float64 weights.
template <typename M, typename In, typename Real>
inline void mlp_layer_sums(const M& m, uint32_t, uint32_t w_first, uint32_t b_first, uint32_t n_in,
                           uint32_t n_out, const In* in, Real* dest) {
  dense_sums(m.weights, w_first, m.biases, b_first, n_in, n_out, in, dest);
}

}  // namespace detail

/// The last layer's sums for `x` (before the output activation), written to
/// `out` (n_outputs values of the model's arithmetic type Real). Hidden
/// layers alternate between `a` and `b` (max_width values each): layer l
/// (from 0) writes to `a` when l is even, `b` when odd. `out` may be one of
/// them if it is not the last hidden layer's (mlp_spare picks the one that
/// is free). Stack: a few words.
template <typename M, typename Real>
inline void mlp_sums(const M& m, const float* x, Real* a, Real* b, Real* out) {
  // The first layer reads the float row; the others the Real values of the
  // layer before.
  uint32_t n_in = m.n_features;
  uint32_t n_out = table_read(m.sizes, 1u);
  Real* dest = m.n_layers == 1u ? out : a;
  detail::mlp_layer_sums(m, 0u, 0u, 0u, n_in, n_out, x, dest);
  uint32_t w_first = n_in * n_out;  // mlp_validate keeps every offset below 2^32
  uint32_t b_first = n_out;
  for (uint32_t l = 1; l < m.n_layers; ++l) {
    dense_activate(dest, n_out, m.hidden_activation);
    const Real* in = dest;
    n_in = n_out;
    n_out = table_read(m.sizes, l + 1u);
    dest = l + 1u == m.n_layers ? out : (l % 2u == 0u ? a : b);
    detail::mlp_layer_sums(m, l, w_first, b_first, n_in, n_out, in, dest);
    w_first += n_in * n_out;
    b_first += n_out;
  }
}

/// Of the buffers `a` and `b`, the one the last layer does not read: with
/// an odd number of layers the last hidden layer (if any) is in `b`.
template <typename M, typename Real>
inline Real* mlp_spare(const M& m, Real* a, Real* b) {
  return m.n_layers % 2u == 1u ? a : b;
}

/// Outputs of `x` as scikit-learn's forward pass computes them: the last
/// layer's sums through output_activation, n_outputs floats written to
/// `out` (regressors' predict; multi-class and multi-label predict_proba).
/// Float32 and int8 weights. Stack: a few words.
template <typename M>
inline void mlp_predict(const M& m, const float* x, float* a, float* b, float* out) {
  mlp_sums(m, x, a, b, out);
  dense_activate(out, m.n_outputs, m.output_activation);
}

/// The same with float64 weights: the outputs in binary64 (in the spare
/// buffer), each rounded to float once. Stack: a few words.
template <typename M>
inline void mlp_predict(const M& m, const float* x, real64* a, real64* b, float* out) {
  real64* outputs = mlp_spare(m, a, b);
  mlp_sums(m, x, a, b, outputs);
  dense_activate(outputs, m.n_outputs, m.output_activation);
  for (uint32_t k = 0; k < m.n_outputs; ++k) {
    out[k] = to_float(outputs[k]);
  }
}

/// Class probabilities of `x`, written to `out`: for one logistic output p,
/// the two values {1 - p, p} (scikit-learn's binary predict_proba); else the
/// n_outputs values of mlp_predict. `out` holds at least 2 floats when
/// n_outputs is 1. Stack: a few words.
template <typename M>
inline void mlp_proba(const M& m, const float* x, float* a, float* b, float* out) {
  mlp_predict(m, x, a, b, out);
  if (m.n_outputs == 1u) {
    const float p = out[0];
    out[0] = 1.0f - p;
    out[1] = p;
  }
}

/// The same with float64 weights: 1 - p in binary64, as scikit-learn
/// computes it, then rounded to float.
template <typename M>
inline void mlp_proba(const M& m, const float* x, real64* a, real64* b, float* out) {
  real64* outputs = mlp_spare(m, a, b);
  mlp_sums(m, x, a, b, outputs);
  dense_activate(outputs, m.n_outputs, m.output_activation);
  if (m.n_outputs == 1u) {
    out[0] = to_float(subtract(f64::real_from_bits<real64>(f64::one), outputs[0]));
    out[1] = to_float(outputs[0]);
    return;
  }
  for (uint32_t k = 0; k < m.n_outputs; ++k) {
    out[k] = to_float(outputs[k]);
  }
}

/// Predicted class of `x`, an index into the model's classes: with one
/// output, 1 if its sum is > 0 (the logistic output is above 1/2) and 0
/// otherwise; with more, the first largest sum (the largest softmax output).
/// Deciding on the sums rather than on the activated outputs keeps every bit
/// of the difference that the rounding of the outputs would lose. `a` and
/// `b` are float, or real64 with float64 weights. Stack: a few words.
template <typename M, typename Real>
inline int32_t mlp_label(const M& m, const float* x, Real* a, Real* b) {
  Real* sums = mlp_spare(m, a, b);
  mlp_sums(m, x, a, b, sums);
  if (m.n_outputs == 1u) {
    return sums[0] > zero<Real>() ? 1 : 0;
  }
  return argmax(sums, static_cast<int32_t>(m.n_outputs));
}

/// Multi-label prediction of `x`: out[k] = 1 where output k's sum is > 0
/// (its logistic output is above 1/2), else 0; n_outputs values, as
/// scikit-learn's indicator matrix. Stack: a few words.
template <typename M, typename Real>
inline void mlp_indicator(const M& m, const float* x, Real* a, Real* b, int32_t* out) {
  Real* sums = mlp_spare(m, a, b);
  mlp_sums(m, x, a, b, sums);
  for (uint32_t k = 0; k < m.n_outputs; ++k) {
    out[k] = sums[k] > zero<Real>() ? 1 : 0;
  }
}

/// Checks a model's layout against its tables, so that the kernels read only
/// table memory and write only max_width floats to each buffer: `n_weights`,
/// `n_qweights`, `n_scales`, `n_biases` and `n_sizes` are the sizes of the
/// tables in elements (of the weight tables, only those of the model's
/// weight_type are checked). Returns status::bad_argument for a null table
/// or a zero n_features, n_layers or n_outputs; status::bad_table for an
/// unknown activation (or a softmax hidden activation) or weight type (or
/// one its tables' element type does not match),
/// sizes that disagree with n_features, n_outputs or max_width, a zero
/// width, or offsets beyond the kernels' 32-bit range;
/// status::size_mismatch when a table's length is not what the sizes make
/// it; status::ok otherwise.
template <typename M>
inline status mlp_validate(const M& m, size_t n_weights, size_t n_qweights, size_t n_scales, size_t n_biases,
                           size_t n_sizes) {
  if (m.weights == NULL || m.qweights == NULL || m.scales == NULL || m.biases == NULL || m.sizes == NULL ||
      m.n_features == 0u || m.n_layers == 0u || m.n_outputs == 0u) {
    return status::bad_argument;
  }
  if (m.hidden_activation >= dense_activation::softmax || m.output_activation > dense_activation_max ||
      m.weight_type > mlp_weights::float64 || m.n_outputs > 0x7FFFFFFFu ||
      // float64 weights, and only they, are binary64 tables.
      (m.weight_type == mlp_weights::float64) != (sizeof(table_read(m.weights, 0u)) == 8u)) {
    return status::bad_table;
  }
  if (static_cast<uint64_t>(n_sizes) != static_cast<uint64_t>(m.n_layers) + 1u) {
    return status::size_mismatch;
  }
  if (table_read(m.sizes, 0u) != m.n_features || table_read(m.sizes, m.n_layers) != m.n_outputs) {
    return status::bad_table;
  }
  uint64_t weights = 0;
  uint64_t biases = 0;
  uint32_t widest = 0;
  for (uint32_t l = 0; l < m.n_layers; ++l) {
    const uint32_t n_in = table_read(m.sizes, l);
    const uint32_t n_out = table_read(m.sizes, l + 1u);
    if (n_out == 0u) {
      return status::bad_table;
    }
    widest = n_out > widest ? n_out : widest;
    weights += static_cast<uint64_t>(n_in) * n_out;
    biases += n_out;
    if (weights > 0xFFFFFFFFu || biases > 0xFFFFFFFFu) {
      return status::bad_table;
    }
  }
  if (widest != m.max_width) {
    return status::bad_table;
  }
  const bool int8 = m.weight_type == mlp_weights::int8;
  if (static_cast<uint64_t>(int8 ? n_qweights : n_weights) != weights ||
      (int8 && static_cast<uint64_t>(n_scales) != m.n_layers) || static_cast<uint64_t>(n_biases) != biases) {
    return status::size_mismatch;
  }
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_MLP_HPP
