// emlearn-gen runtime: the dense layer, one matrix-vector product with bias
// and activation, shared by the linear models (linear.hpp) and the
// multi-layer perceptrons (mlp.hpp):
//
//   out[k] = act(sum over i of w[k][i] * x[i] + b[k]),   k < n_out, i < n_in
//
// in float32, or in binary64 (float64.hpp's real64: weights, biases, sums
// and activations; the input of the first layer is float and is widened
// exactly). The weights are one row of n_in values per output (row-major),
// read from a model table through table_read (program memory on AVR, far
// tables for large models); the input `x` and the output `out` are caller
// memory (RAM).
//
// Every sum runs in the same order on every target: it starts at 0, adds
// each product in index order, each product rounded to float before it is
// added (rounded(), math.hpp), so no compiler can contract it into a fused
// multiply-add; the bias comes last, as in scikit-learn's X @ W + b. Host
// and devices therefore compute the same bits. The kernels are written once
// with add and multiply (float64.hpp; the float overloads below round
// exactly as `sum += rounded(w * x)`), so a float32 model's bits do not
// depend on which type the binary64 models use.
//
// Stack: the kernels keep a few scalars on the stack and no arrays; the only
// buffers are the caller's (`x`, `out`), so a layer's width does not change
// their stack use.
#ifndef EMLEARN_GEN_DENSE_HPP
#define EMLEARN_GEN_DENSE_HPP

#include "common.hpp"
#include "float64.hpp"
#include "math.hpp"

namespace emlearn_gen {

/// What a dense layer applies to its sums (scikit-learn's MLP activations).
namespace dense_activation {
enum : uint8_t {
  identity = 0,  ///< the sums unchanged
  relu = 1,      ///< max(s, 0)
  logistic = 2,  ///< sigmoid_f(s) (math.hpp), scikit-learn's expit
  tanh = 3,      ///< tanh_f(s) (math.hpp)
  softmax = 4,   ///< softmax_f over the whole layer (math.hpp)
};
}  // namespace dense_activation

// float32's add and multiply, so the kernels below serve float and real64
// alike: the product rounded before any sum uses it (rounded(), math.hpp).
inline float add(float a, float b) { return a + b; }
inline float multiply(float a, float b) { return rounded(a * b); }
inline float negate(float x) { return -x; }

/// The largest activation code (dense_validate_activation).
constexpr uint8_t dense_activation_max = dense_activation::softmax;

/// Applies `activation` in place to the n values at `v` (caller memory).
/// Elementwise for relu, logistic and tanh; softmax over the n values.
/// An unknown activation leaves the values unchanged (the models' validate
/// functions refuse one). Stack: a few words.
inline void dense_activate(float* v, uint32_t n, uint8_t activation) {
  switch (activation) {
    case dense_activation::relu:
      for (uint32_t k = 0; k < n; ++k) {
        v[k] = v[k] > 0.0f ? v[k] : 0.0f;
      }
      break;
    case dense_activation::logistic:
      for (uint32_t k = 0; k < n; ++k) {
        v[k] = sigmoid_f(v[k]);
      }
      break;
    case dense_activation::tanh:
      for (uint32_t k = 0; k < n; ++k) {
        v[k] = tanh_f(v[k]);
      }
      break;
    case dense_activation::softmax:
      softmax_f(v, n);
      break;
    default:
      break;
  }
}

/// dense_activate in binary64 (Real is real64): relu, sigmoid_r64, tanh_r64,
/// softmax_r64 (float64.hpp). Stack: a few words.
template <typename Real>
inline void dense_activate(Real* v, uint32_t n, uint8_t activation) {
  switch (activation) {
    case dense_activation::relu:
      for (uint32_t k = 0; k < n; ++k) {
        v[k] = v[k] > zero<Real>() ? v[k] : zero<Real>();
      }
      break;
    case dense_activation::logistic:
      for (uint32_t k = 0; k < n; ++k) {
        v[k] = sigmoid_r64(v[k]);
      }
      break;
    case dense_activation::tanh:
      for (uint32_t k = 0; k < n; ++k) {
        v[k] = tanh_r64(v[k]);
      }
      break;
    case dense_activation::softmax:
      softmax_r64(v, n);
      break;
    default:
      break;
  }
}

namespace detail {

// An input of a layer in the layer's arithmetic type Real: a float input
// widened (exact), a Real one as it is.
template <typename Real, typename In>
struct dense_input {
  static Real get(In x) { return widen<Real>(x); }
};
template <typename Real>
struct dense_input<Real, Real> {
  static Real get(Real x) { return x; }
};

}  // namespace detail

/// Sums of one dense layer, without activation:
///   out[k] = (sum over i, in index order, of w[k][i] * x[i]) + b[k]
/// where w[k][i] is element w_first + k * n_in + i of `weights` and b[k]
/// element b_first + k of `biases`; the sum starts at 0 and each product is
/// rounded (to float, or binary64) before it is added. `weights` and `biases` are model
/// tables (anything table_read reads) of the arithmetic type Real (float, or
/// real64), as is `out`; `x` (n_in values) is float or Real (a float input
/// is widened exactly); `x` and `out` (n_out values) are caller memory and
/// must not overlap. The tables are taken by
/// value (a pointer, or an empty far_table): a reference would odr-use a
/// generated header's static constexpr members, which C++11 then wants
/// defined out of line. The caller guarantees
/// w_first + n_out * n_in and b_first + n_out fit 32 bits (the models'
/// validate functions check their tables' sizes). Stack: a few words.
template <typename W, typename B, typename In, typename Real>
inline void dense_sums(W weights, uint32_t w_first, B biases, uint32_t b_first, uint32_t n_in,
                       uint32_t n_out, const In* x, Real* out) {
  for (uint32_t k = 0; k < n_out; ++k) {
    const auto row = table_from(weights, w_first + k * n_in);
    Real sum = zero<Real>();
    for (uint32_t i = 0; i < n_in; ++i) {
      sum = add(sum, multiply(table_read(row, i), detail::dense_input<Real, In>::get(x[i])));
    }
    out[k] = add(sum, table_read(biases, b_first + k));
  }
}

/// Sums of one dense layer whose weights are integers q (int8 quantized)
/// with one scale for the layer, w[k][i] = scale * q[k][i]:
///   out[k] = rounded((sum over i, in index order, of q[k][i] * x[i]) * scale) + b[k]
/// each product rounded before it is added, the scale applied once per
/// output. q[k][i] is element w_first + k * n_in + i of `qweights` (int8_t),
/// b[k] element b_first + k of `biases`; otherwise as dense_sums. Against
/// the real sum with weights scale * q this is within the bound of
/// dense_sums with those weights: each q is exact in float, so the products
/// and sums round as in dense_sums, and the scale adds one rounding.
/// Stack: a few words.
template <typename Q, typename B>
inline void dense_sums_scaled(Q qweights, uint32_t w_first, float scale, B biases, uint32_t b_first,
                              uint32_t n_in, uint32_t n_out, const float* x, float* out) {
  for (uint32_t k = 0; k < n_out; ++k) {
    const auto row = table_from(qweights, w_first + k * n_in);
    float sum = 0.0f;
    for (uint32_t i = 0; i < n_in; ++i) {
      sum += rounded(static_cast<float>(table_read(row, i)) * x[i]);
    }
    out[k] = rounded(sum * scale) + table_read(biases, b_first + k);
  }
}

/// One dense layer: dense_sums, then `activation` (dense_activation) over
/// the n_out values in place. Stack: a few words.
template <typename W, typename B>
inline void dense_layer(W weights, uint32_t w_first, B biases, uint32_t b_first, uint32_t n_in,
                        uint32_t n_out, const float* x, float* out, uint8_t activation) {
  dense_sums(weights, w_first, biases, b_first, n_in, n_out, x, out);
  dense_activate(out, n_out, activation);
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_DENSE_HPP
