// emlearn-gen runtime: feature transforms (scikit-learn's scalers, imputer,
// missing-value indicator, normalizer, binarizer, discretizer, polynomial
// features, B-spline bases, elementwise functions, feature selectors and
// linear projections), run as a program of steps over one row.
//
// A model is a sequence of n_steps steps. Step s reads the n_in values the
// step before it wrote (the input row for step 0, n_in = n_features) and
// writes n_out values; the last writes n_outputs. A step transforms one
// slice of its row, `count` values from `first` on, into `width` values
// (width = n_out - (n_in - count)); the values before the slice are copied
// in front of its result and those after it behind (a ColumnTransformer is
// a select that lays out every transformer's columns side by side, then the
// steps of each transformer on its slice). Per step:
//   ops[s]                 the operation (transform_op)
//   shapes[5 s + 0]        n_out
//   shapes[5 s + 1]        first element of its parameters in `params`
//   shapes[5 s + 2]        first element of its indices in `indices`
//   shapes[5 s + 3]        first: where the slice starts
//   shapes[5 s + 4]        count: how many values the slice has
// The operations on the slice x (n = count values) giving y, with p the
// step's parameters and idx its indices:
//   center_divide   y[i] = (x[i] - p[i]) / p[n + i]          (StandardScaler,
//                   RobustScaler, MaxAbsScaler: centre 0 or scale 1 where
//                   scikit-learn leaves them out, which is exact)
//   multiply_add    y[i] = x[i] * p[i] + p[n + i]             (MinMaxScaler)
//   clip            y[i] = min(max(x[i], p[0]), p[1])
//   impute          y[i] = x[i] is NaN ? p[i] : x[i]         (SimpleImputer)
//   select          y[j] = x[idx[j]]                          (selectors,
//                   ColumnTransformer's columns)
//   normalize_l1    y[i] = x[i] / (sum |x|), 1 for a sum of 0 (Normalizer)
//   normalize_l2    y[i] = x[i] / sqrt(sum x^2), likewise
//   normalize_max   y[i] = x[i] / max |x|, likewise
//   binarize        y[i] = x[i] > p[0] ? 1 : 0               (Binarizer)
//   project         y[k] = sum over i, in index order, of
//                          p[n + k n + i] * (x[i] - p[i])    (PCA, TruncatedSVD)
//   missing_flags   y[i] = x[i] is NaN ? 1 : 0               (MissingIndicator)
//   polynomial      y[k] = the product, left to right, of the inputs that
//                   idx lists for output k: idx holds, output after output,
//                   a count d then d input indices (d = 0: y[k] = 1)
//                   (PolynomialFeatures)
//   discretize      y[i] = how many of feature i's thresholds are <= x[i];
//                   idx[i] is that count, the thresholds follow one another
//                   in p, ascending (KBinsDiscretizer, ordinal)
//   function        y[i] = f(x[i]) for the elementwise function idx[0]
//                   (transform_function; FunctionTransformer)
//   spline          each feature's B-spline basis (SplineTransformer):
//                   idx = degree k (<= 3), extrapolation (spline_mode),
//                   n_t knots per feature, n_s splines per feature, n_kept
//                   outputs per feature (n_s, or n_s - 1 without the last
//                   spline), n_b boundary splines. p holds, feature after
//                   feature, its n_t knots t (ascending), then for constant
//                   and linear extrapolation 4 n_b values: the first n_b
//                   splines' values at t[k] and their slopes there, the last
//                   n_b splines' values at t[n_t - k - 1] and their slopes.
//                   y[n_kept i + j] is spline j of x[i], evaluated by
//                   Cox-de Boor on the knot interval t[l] <= x < t[l + 1]
//                   (k <= l < n_t - k - 1; the first or last interval
//                   beyond them). Outside [t[k], t[n_t - k - 1]]: continue
//                   extrapolates the end pieces (it is also what an
//                   extrapolation="error" step writes on the device: the
//                   host refuses such rows as scikit-learn does); constant
//                   writes the boundary values, linear value + slope *
//                   (x - boundary), the other splines 0; periodic maps x
//                   into [t[k], t[n_t - k - 1]) first and adds spline
//                   n_s + j into spline j (j < k). NaN (handle_missing=
//                   "zeros") gives 0 for all of the feature's splines.
//   window_stats    statistics of a window of n_s samples x n_c channels
//                   (the slice, samples-major: n = n_s n_c) by window_stats()
//                   of window_stats.hpp: idx = n_s, n_c, n_f, then n_f
//                   window_feature codes; y[k n_c + c] is feature k of
//                   channel c (w = n_f n_c). A signal step: its input is the
//                   whole window (emlearn_gen.signal.WindowFeatures).
//   spectrum        a spectral transformer of emlearn_gen.signal on a window
//                   of n_fft samples x n_c channels (samples-major), channel
//                   by channel: idx = n_fft, n_c, kind (spectrum_mode),
//                   value (spectrum_kind for spectrum and features; the
//                   log flag for mel), windowed (0 or 1), n_f filters, n_m
//                   MFCCs, then the filterbank's first_bin[n_f] and
//                   offsets[n_f + 1] (spectrum.hpp's filterbank); p = amin,
//                   bin_hz, the twiddles (2 n_fft), the window (n_fft, if
//                   windowed), the filterbank's weights (offsets[n_f]), the
//                   DCT matrix (n_m x n_f). Per channel: n_fft / 2 + 1 bins
//                   (Spectrum), n_f mel energies (MelSpectrum), n_m MFCCs
//                   (MFCC) or centroid and dominant frequency
//                   (SpectralFeatures), channel-major. Needs
//                   rfft_scratch_floats(n_fft) + 2 rfft_bins(n_fft) (+ n_f
//                   for MFCCs) floats of op scratch.
//   sos_filter      IIR second-order sections (filters.hpp) over a window
//                   of n_s samples x n_c channels from the filter's initial
//                   state, each window on its own (emlearn_gen.signal.
//                   SOSFilter's transform): idx = n_s, n_c, n_sec, steady
//                   (0: at rest; 1: sosfilt_zi times the first sample);
//                   p = the sections (6 n_sec), then zi_unit (2 n_sec) when
//                   steady. w = n. Op scratch: the state, 2 n_sec n_c floats.
//   fir_filter      FIR filter with decimation q (filters.hpp) over a window
//                   from rest (FIRFilter's transform): idx = n_s, n_c,
//                   n_taps, q; p = the taps. w = ceil(n_s / q) n_c. Op
//                   scratch: the history, n_taps n_c floats.
//
// A program whose last step is a PCA projection of its whole row may also
// have PCA's log-likelihood (score_samples): with d = x - mean the last
// step's input centred, and `quadratic` holding the upper triangle of a
// matrix q by rows and then a constant c,
//   score = (sum over i of d[i] * (sum over j >= i of q[i][j] * d[j])) + c
// (q is the precision matrix scaled by -1/2 on the diagonal and by -1 above
// it, c the Gaussian's log normalisation). `quadratic` is empty otherwise.
//
// NaN is a missing value, told apart by its bits (is_missing in
// common.hpp): arithmetic passes it on as the one quiet NaN of quiet_nan()
// (targets' float arithmetic makes NaNs of different bits), clip and select
// pass it on as it is, impute replaces it, missing_flags reports it.
// Normalizers, binarizers, projections, discretizers and polynomials are
// never given NaN where scikit-learn refuses it (so does the host). float
// arithmetic with every product rounded before it is added (rounded() in
// math.hpp) and sums in a fixed order, so host and devices compute the same
// bits.
//
// Stack: a few words (a spectrum step: rfft's few dozen). Intermediate
// rows live in caller scratch of transforms_scratch_floats(m) floats: two
// rows of max_width floats (the widest row between two steps), then the op
// scratch the signal steps need (the most any step needs; the generated
// header sizes it at compile time).
#ifndef EMLEARN_GEN_TRANSFORMS_HPP
#define EMLEARN_GEN_TRANSFORMS_HPP

#include "common.hpp"
#include "math.hpp"
#include "filters.hpp"
#include "spectrum.hpp"
#include "window_stats.hpp"

/// Version of the table layout above; generated headers check it (2: the
/// window_stats operation; 3: the spectrum, sos_filter and fir_filter
/// operations and their op scratch).
#define EMLEARN_GEN_TRANSFORMS_FORMAT 3

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
  missing_flags = 10,
  polynomial = 11,
  discretize = 12,
  function = 13,
  spline = 14,
  window_stats = 15,
  spectrum = 16,
  sos_filter = 17,
  fir_filter = 18,
};
}  // namespace transform_op

/// What a spectrum step computes per channel (see the header comment).
namespace spectrum_mode {
enum : uint8_t {
  bins = 0,      ///< the spectrum of its kind (Spectrum)
  mel = 1,       ///< filterbank energies of the power spectrum, dB with the log flag (MelSpectrum)
  mfcc = 2,      ///< DCT of the log filterbank energies (MFCC)
  features = 3,  ///< centroid and dominant frequency of the spectrum of its kind (SpectralFeatures)
};
}  // namespace spectrum_mode

/// Extrapolation of a spline step beyond its base knots (see the header comment).
namespace spline_mode {
enum : uint8_t {
  continued = 0,  ///< the end pieces go on (scikit-learn's "continue", and "error" on the device)
  constant = 1,   ///< the boundary values
  linear = 2,     ///< the boundary values and slopes
  periodic = 3,   ///< x taken modulo the base interval
};
}  // namespace spline_mode

/// The largest degree a spline step evaluates (4 basis values on the stack).
#define EMLEARN_GEN_SPLINE_MAX_DEGREE 3

/// The elementwise functions of a `function` step: numpy's log, log1p, exp,
/// expm1, sqrt, absolute and square, computed with math.hpp's functions.
namespace transform_function {
enum : uint8_t {
  natural_log = 0,            ///< log_f(x)
  log_plus_one = 1,           ///< log_f(1 + x)
  exponential = 2,            ///< exp_f(x)
  exponential_minus_one = 3,  ///< exp_f(x) - 1
  square_root = 4,            ///< sqrt_f(x)
  absolute = 5,               ///< |x|
  squared = 6,                ///< x * x
};
}  // namespace transform_function

/// Tables and layout of a transform program, known at run time (the host
/// runtime). Pointers refer to model tables (program memory on AVR).
///
/// The kernels take any type `M` with these members; generated headers pass
/// one whose members are all `static constexpr`. A table member may also be
/// anything table_read reads, such as a far_table.
struct transforms_model {
  const uint8_t* ops;        ///< n_steps operations
  const uint32_t* shapes;    ///< 5 per step: n_out, first parameter, first index, slice first, slice count
  const float* params;       ///< every step's parameters
  const uint32_t* indices;   ///< every step's indices
  const float* quadratic;    ///< score_samples: q's upper triangle, then c; or empty
  uint32_t n_steps;
  uint32_t n_features;
  uint32_t n_outputs;
  uint32_t max_width;        ///< widest row between two steps (0 for one step)
};

namespace detail {

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

// f(x) of a function step; NaN in gives the one quiet NaN out.
inline float transform_apply(uint32_t f, float x) {
  if (is_missing(x)) {
    return quiet_nan();
  }
  switch (f) {
    case transform_function::natural_log:
      return log_f(x);
    case transform_function::log_plus_one:
      return log_f(1.0f + x);
    case transform_function::exponential:
      return exp_f(x);
    case transform_function::exponential_minus_one:
      return exp_f(x) - 1.0f;
    case transform_function::square_root:
      return sqrt_f(x);
    case transform_function::absolute:
      return x < 0.0f ? -x : x;
    default:  // squared: transforms_validate admits no other function
      return x * x;
  }
}

// floor(v) for a finite float: exact, as every float of magnitude 2^23 or
// more is an integer already.
inline float floor_float(float v) {
  if (!(v < 8388608.0f && v > -8388608.0f)) {
    return v;
  }
  const float whole = static_cast<float>(static_cast<int32_t>(v));
  return whole > v ? whole - 1.0f : whole;
}

// x of a periodic spline mapped into [t0, t0 + period) as scikit-learn
// does (t0 + (x - t0) mod period), in float32: the quotient's floor may be
// one off near a multiple of the period, which lands x just outside the
// interval, where the end piece goes on to the same value.
inline float spline_wrap(float x, float t0, float period) {
  const float d = x - t0;
  const float q = floor_float(d / period);
  return t0 + (d - rounded(q * period));
}

// The k + 1 B-splines of degree k that are nonzero on the knot interval
// t[l] <= x < t[l + 1] (splines l - k .. l), by Cox-de Boor's recursion in
// scipy's order (_deBoor_D), into b[0..k].
template <typename T>
inline void spline_basis(const T& t, uint32_t l, uint32_t k, float x, float* b) {
  float prev[EMLEARN_GEN_SPLINE_MAX_DEGREE + 1];
  b[0] = 1.0f;
  for (uint32_t j = 1; j <= k; ++j) {
    for (uint32_t i = 0; i < j; ++i) {
      prev[i] = b[i];
    }
    b[0] = 0.0f;
    for (uint32_t i = 1; i <= j; ++i) {
      const float right = table_read(t, l + i);
      const float left = table_read(t, l + i - j);
      if (right == left) {  // a repeated knot: the converter admits none
        b[i] = 0.0f;
        continue;
      }
      const float w = prev[i - 1] / (right - left);
      b[i - 1] += rounded(w * (right - x));
      b[i] = rounded(w * (x - left));
    }
  }
}

// One feature's splines of a spline step: x -> y[0..n_kept).
template <typename T>
inline void spline_feature(const T& p, const uint32_t* shape, float x, float* y) {
  const uint32_t k = shape[0], mode = shape[1], n_t = shape[2], n_s = shape[3], n_kept = shape[4], n_b = shape[5];
  for (uint32_t j = 0; j < n_kept; ++j) {
    y[j] = 0.0f;
  }
  if (is_missing(x)) {
    return;
  }
  const uint32_t last = n_t - k - 1u;  // t[k] .. t[last]: the base knots
  const float lo = table_read(p, k);
  const float hi = table_read(p, last);
  if ((mode == spline_mode::constant || mode == spline_mode::linear) && (x < lo || x > hi)) {
    const bool below = x < lo;
    const auto bound = table_from(p, n_t + (below ? 0u : 2u * n_b));
    const uint32_t first = below ? 0u : n_s - n_b;
    for (uint32_t j = 0; j < n_b; ++j) {
      float v = table_read(bound, j);
      const float slope = table_read(bound, n_b + j);
      if (mode == spline_mode::linear && slope != 0.0f) {
        v += rounded((x - (below ? lo : hi)) * slope);
      }
      if (first + j < n_kept) {
        y[first + j] = v;
      }
    }
    return;
  }
  if (mode == spline_mode::periodic) {
    x = spline_wrap(x, lo, hi - lo);
  }
  uint32_t l = k;
  while (l + 1u < last && x >= table_read(p, l + 1u)) {
    ++l;
  }
  float b[EMLEARN_GEN_SPLINE_MAX_DEGREE + 1];
  spline_basis(p, l, k, x, b);
  for (uint32_t i = 0; i <= k; ++i) {
    uint32_t j = l - k + i;
    if (j >= n_s) {  // periodic: spline n_s + j is spline j
      j -= n_s;
    }
    if (j < n_kept) {
      y[j] += b[i];
    }
  }
}

// Indices of a spectrum step at fixed positions (the header comment).
namespace spectrum_index {
enum : uint32_t { n_fft = 0, n_channels = 1, mode = 2, kind = 3, windowed = 4, n_filters = 5, n_mfcc = 6, tables = 7 };
}

// Values a spectrum step writes per channel.
inline uint64_t spectrum_outputs(uint32_t mode, uint32_t n_fft, uint32_t n_filters, uint32_t n_mfcc) {
  switch (mode) {
    case spectrum_mode::bins:
      return rfft_bins(n_fft);
    case spectrum_mode::mel:
      return n_filters;
    case spectrum_mode::mfcc:
      return n_mfcc;
    default:  // features: centroid, dominant frequency
      return 2u;
  }
}

// Op scratch of a spectrum step: rfft's buffers, the complex bins, and for
// MFCCs the log-mel energies.
inline uint64_t spectrum_work(uint32_t mode, uint32_t n_fft, uint32_t n_filters) {
  return static_cast<uint64_t>(rfft_scratch_floats(n_fft)) + 2u * static_cast<uint64_t>(rfft_bins(n_fft)) +
         (mode == spectrum_mode::mfcc ? n_filters : 0u);
}

// A spectrum step on one window (n_fft samples x n_c channels at x): per
// channel, the samples times the window (one rounding each, as rfft) into
// rfft's buffers, the FFT, then the values of the step's mode, channel-major
// into y. `work`: spectrum_work floats. The same kernels and order of
// operations as emlearn_gen.signal's transformers, so the same bits.
template <typename P, typename I>
inline void transform_spectrum(P p, I idx, const float* x, float* y, float* work) {
  const uint32_t n = table_read(idx, spectrum_index::n_fft);
  const uint32_t channels = table_read(idx, spectrum_index::n_channels);
  const uint32_t mode = table_read(idx, spectrum_index::mode);
  const uint32_t kind = table_read(idx, spectrum_index::kind);
  const bool windowed = table_read(idx, spectrum_index::windowed) != 0u;
  const uint32_t n_filters = table_read(idx, spectrum_index::n_filters);
  const uint32_t n_mfcc = table_read(idx, spectrum_index::n_mfcc);
  const float amin = table_read(p, 0u);
  const float bin_hz = table_read(p, 1u);
  const auto twiddles = table_from(p, 2u);
  const auto window = table_from(p, 2u + 2u * n);
  const auto first_bin = table_from(idx, static_cast<uint32_t>(spectrum_index::tables));
  const auto offsets = table_from(idx, spectrum_index::tables + n_filters);
  const auto weights = table_from(p, 2u + 2u * n + (windowed ? n : 0u));
  const uint32_t n_bins = rfft_bins(n);
  float* bins = work + rfft_scratch_floats(n);
  float* mel = bins + 2u * n_bins;
  const uint32_t per_channel = static_cast<uint32_t>(spectrum_outputs(mode, n, n_filters, n_mfcc));
  for (uint32_t c = 0; c < channels; ++c) {
    for (uint32_t j = 0; j < n; ++j) {
      const float sample = x[j * channels + c];
      fft_detail::place_sample(work, n, j, windowed ? sample * table_read(window, j) : sample);
    }
    fft_detail::rfft_placed(work, n, twiddles, bins);
    float* out = y + c * per_channel;
    // Mel energies come from the power spectrum; the other modes from their kind.
    const bool filtered = mode == spectrum_mode::mel || mode == spectrum_mode::mfcc;
    const spectrum_kind values = filtered ? spectrum_kind::power : static_cast<spectrum_kind>(kind);
    if (mode == spectrum_mode::bins) {
      spectrum_values(bins, n_bins, values, amin, out);
      continue;
    }
    spectrum_values(bins, n_bins, values, amin, bins);  // in place: value k after bin k is read
    if (mode == spectrum_mode::mel) {
      filterbank_energies_of(first_bin, offsets, weights, n_filters, bins, kind != 0u, amin, out);
    } else if (mode == spectrum_mode::mfcc) {
      filterbank_energies_of(first_bin, offsets, weights, n_filters, bins, true, amin, mel);
      matrix_vector(table_from(weights, table_read(offsets, n_filters)), mel, n_filters, n_mfcc, out);
    } else {
      out[0] = spectral_centroid(bins, n_bins, bin_hz);
      out[1] = dominant_frequency(bins, n_bins, bin_hz);
    }
  }
}

// Second-order sections over tables of any kind table_read reads.
template <typename T>
struct table_sos {
  T sos;
  uint32_t n_sections;
  uint32_t n_channels;
};

// An FIR filter over tables of any kind table_read reads.
template <typename T>
struct table_fir {
  T taps;
  uint32_t n_taps;
  uint32_t n_channels;
  uint32_t decimation;
};

// An sos_filter step on one window, from the filter's initial state
// (state: 2 n_sec n_c floats of `work`).
template <typename P, typename I>
inline void transform_sos(P p, I idx, const float* x, float* y, float* work) {
  const uint32_t n_samples = table_read(idx, 0u);
  const table_sos<P> f = {p, table_read(idx, 2u), table_read(idx, 1u)};
  if (table_read(idx, 3u) != 0u) {
    sos_steady_state(f, table_from(p, 6u * f.n_sections), x, work);
  } else {
    sos_reset(f, work);
  }
  (void)sos_filter_block(f, work, x, y, n_samples);  // no null buffer: transforms_validate sized them
}

// A fir_filter step on one window, from rest (history: n_taps n_c floats of `work`).
template <typename P, typename I>
inline void transform_fir(P p, I idx, const float* x, float* y, float* work) {
  const table_fir<P> f = {p, table_read(idx, 2u), table_read(idx, 1u), table_read(idx, 3u)};
  fir_state state = {work, 0u, 0u};
  fir_reset(f, &state);
  uint32_t written = 0u;
  (void)fir_filter_block(f, &state, x, table_read(idx, 0u), y, &written);
}

// The operation of step s on its slice: n values at x -> w values at y;
// `work` is the op scratch of the signal steps (transform_op_work floats).
template <typename M>
inline void transform_slice(const M& m, uint32_t s, uint8_t op, const float* x, uint32_t n, float* y, uint32_t w,
                            float* work) {
  const auto p = table_from(m.params, table_read(m.shapes, 5u * s + 1u));
  const auto idx = table_from(m.indices, table_read(m.shapes, 5u * s + 2u));
  switch (op) {
    case transform_op::center_divide:
      for (uint32_t i = 0; i < n; ++i) {
        y[i] = is_missing(x[i]) ? quiet_nan() : (x[i] - table_read(p, i)) / table_read(p, n + i);
      }
      break;
    case transform_op::multiply_add:
      for (uint32_t i = 0; i < n; ++i) {
        y[i] = is_missing(x[i]) ? quiet_nan() : rounded(x[i] * table_read(p, i)) + table_read(p, n + i);
      }
      break;
    case transform_op::clip: {
      const float lo = table_read(p, 0);
      const float hi = table_read(p, 1);
      for (uint32_t i = 0; i < n; ++i) {
        y[i] = is_missing(x[i]) || (x[i] >= lo && x[i] <= hi) ? x[i] : (x[i] < lo ? lo : hi);
      }
      break;
    }
    case transform_op::impute:
      for (uint32_t i = 0; i < n; ++i) {
        y[i] = is_missing(x[i]) ? table_read(p, i) : x[i];
      }
      break;
    case transform_op::select:
      for (uint32_t j = 0; j < w; ++j) {
        y[j] = x[table_read(idx, j)];
      }
      break;
    case transform_op::normalize_l1:
    case transform_op::normalize_l2:
    case transform_op::normalize_max: {
      const float norm = transform_norm(op, x, n);
      for (uint32_t i = 0; i < n; ++i) {
        y[i] = x[i] / norm;
      }
      break;
    }
    case transform_op::binarize: {
      const float threshold = table_read(p, 0);
      for (uint32_t i = 0; i < n; ++i) {
        y[i] = x[i] > threshold ? 1.0f : 0.0f;
      }
      break;
    }
    case transform_op::project: {
      // Not dense_sums: the centring is taken inside each product, which
      // needs no buffer for the centred row and keeps PCA's accuracy where
      // the mean is large against the spread.
      const auto weights = table_from(p, n);
      for (uint32_t k = 0; k < w; ++k) {
        const auto row = table_from(weights, k * n);
        float sum = 0.0f;
        for (uint32_t i = 0; i < n; ++i) {
          sum += rounded(table_read(row, i) * (x[i] - table_read(p, i)));
        }
        y[k] = sum;
      }
      break;
    }
    case transform_op::missing_flags:
      for (uint32_t i = 0; i < n; ++i) {
        y[i] = is_missing(x[i]) ? 1.0f : 0.0f;
      }
      break;
    case transform_op::polynomial: {
      uint32_t at = 0;
      for (uint32_t k = 0; k < w; ++k) {
        const uint32_t degree = table_read(idx, at++);
        float product = 1.0f;
        for (uint32_t d = 0; d < degree; ++d) {
          product = d == 0u ? x[table_read(idx, at)] : product * x[table_read(idx, at)];
          ++at;
        }
        y[k] = product;
      }
      break;
    }
    case transform_op::discretize: {
      uint32_t at = 0;
      for (uint32_t i = 0; i < n; ++i) {
        const uint32_t n_thresholds = table_read(idx, i);
        uint32_t bin = 0;
        while (bin < n_thresholds && x[i] >= table_read(p, at + bin)) {
          ++bin;
        }
        at += n_thresholds;
        y[i] = static_cast<float>(bin);
      }
      break;
    }
    case transform_op::spline: {
      uint32_t shape[6];
      for (uint32_t i = 0; i < 6u; ++i) {
        shape[i] = table_read(idx, i);
      }
      const uint32_t per_feature = shape[2] + 4u * shape[5];
      for (uint32_t i = 0; i < n; ++i) {
        spline_feature(table_from(p, i * per_feature), shape, x[i], y + i * shape[4]);
      }
      break;
    }
    case transform_op::window_stats:
      // transforms_validate checked the shape (window_stats_validate).
      (void)window_stats(x, table_read(idx, 0), table_read(idx, 1), table_from(idx, 3), table_read(idx, 2), y);
      break;
    case transform_op::spectrum:
      transform_spectrum(p, idx, x, y, work);
      break;
    case transform_op::sos_filter:
      transform_sos(p, idx, x, y, work);
      break;
    case transform_op::fir_filter:
      transform_fir(p, idx, x, y, work);
      break;
    default: {  // function: transforms_validate admits no other operation
      const uint32_t f = table_read(idx, 0);
      for (uint32_t i = 0; i < n; ++i) {
        y[i] = transform_apply(f, x[i]);
      }
      break;
    }
  }
}

// One step: n_in values at x -> n_out values at y (x and y do not overlap);
// `work`: the op scratch.
template <typename M>
inline void transform_step(const M& m, uint32_t s, const float* x, uint32_t n_in, float* y, float* work) {
  const uint8_t op = table_read(m.ops, s);
  const uint32_t n_out = table_read(m.shapes, 5u * s);
  const uint32_t first = table_read(m.shapes, 5u * s + 3u);
  const uint32_t count = table_read(m.shapes, 5u * s + 4u);
  const uint32_t width = n_out - (n_in - count);
  for (uint32_t i = 0; i < first; ++i) {
    y[i] = x[i];
  }
  transform_slice(m, s, op, x + first, count, y + first, width, work);
  for (uint32_t i = first + count; i < n_in; ++i) {
    y[i - count + width] = x[i];
  }
}

// Parameters and indices that step `op` reads, for a slice of n values
// giving w; for polynomial and discretize, the indices' own counts decide
// (transforms_validate walks them).
inline uint64_t transform_param_count(uint8_t op, uint32_t n, uint32_t w) {
  switch (op) {
    case transform_op::center_divide:
    case transform_op::multiply_add:
      return 2u * static_cast<uint64_t>(n);
    case transform_op::clip:
      return 2u;
    case transform_op::impute:
      return n;
    case transform_op::binarize:
      return 1u;
    case transform_op::project:
      return static_cast<uint64_t>(n) + static_cast<uint64_t>(n) * w;
    default:
      return 0u;
  }
}

// Checks a spline step's six indices at `at` against its slice of n values
// giving w (and that its knots and boundary values fit `params`).
template <typename M>
inline status transform_check_spline(const M& m, uint64_t at, uint64_t first_param, uint32_t n, uint32_t w,
                                     size_t n_indices, size_t n_params) {
  if (at + 6u > n_indices) {
    return status::size_mismatch;
  }
  uint64_t v[6];
  for (uint32_t i = 0; i < 6u; ++i) {
    v[i] = table_read(m.indices, static_cast<uint32_t>(at + i));
  }
  const uint64_t k = v[0], mode = v[1], n_t = v[2], n_s = v[3], n_kept = v[4], n_b = v[5];
  const bool bounded = mode == spline_mode::constant || mode == spline_mode::linear;
  // Every spline but the periodic ones has its own k + 1 knots' support.
  const uint64_t n_full = mode == spline_mode::periodic ? n_s + k : n_s;
  if (k > EMLEARN_GEN_SPLINE_MAX_DEGREE || mode > spline_mode::periodic || n_s == 0u || n_t != n_full + k + 1u ||
      (n_kept != n_s && n_kept + 1u != n_s) || n_kept == 0u || n_b > n_s || (!bounded && n_b != 0u) ||
      static_cast<uint64_t>(w) != n_kept * n) {
    return status::bad_table;
  }
  if (first_param + (n_t + 4u * n_b) * n > n_params) {
    return status::size_mismatch;
  }
  return status::ok;
}

// Checks a window_stats step's indices at `at` (n_s, n_c, n_f, n_f codes)
// against its slice of n values giving w.
template <typename M>
inline status transform_check_window(const M& m, uint64_t at, uint32_t n, uint32_t w, size_t n_indices) {
  if (at + 3u > n_indices) {
    return status::size_mismatch;
  }
  const uint32_t n_samples = table_read(m.indices, static_cast<uint32_t>(at));
  const uint32_t n_channels = table_read(m.indices, static_cast<uint32_t>(at + 1u));
  const uint32_t n_features = table_read(m.indices, static_cast<uint32_t>(at + 2u));
  if (at + 3u + n_features > n_indices) {
    return status::size_mismatch;
  }
  const auto codes = table_from(m.indices, static_cast<uint32_t>(at + 3u));
  if (window_stats_validate(n_samples, n_channels, codes, n_features) != status::ok ||
      static_cast<uint64_t>(n_samples) * n_channels != n || static_cast<uint64_t>(n_features) * n_channels != w) {
    return status::bad_table;
  }
  return status::ok;
}

// The most op scratch one step may ask for: its bytes stay within 32 bits.
constexpr uint64_t transform_max_work = 0x1FFFFFFFu;

// Checks a spectrum step's indices at `at` (see the header comment) and the
// parameters they call for against its slice of n values giving w.
template <typename M>
inline status transform_check_spectrum(const M& m, uint64_t at, uint64_t first_param, uint32_t n, uint32_t w,
                                       size_t n_indices, size_t n_params) {
  if (at + spectrum_index::tables > n_indices) {
    return status::size_mismatch;
  }
  uint32_t v[spectrum_index::tables];
  for (uint32_t i = 0; i < spectrum_index::tables; ++i) {
    v[i] = table_read(m.indices, static_cast<uint32_t>(at + i));
  }
  const uint32_t n_fft = v[spectrum_index::n_fft], channels = v[spectrum_index::n_channels];
  const uint32_t mode = v[spectrum_index::mode], kind = v[spectrum_index::kind];
  const uint32_t n_filters = v[spectrum_index::n_filters], n_mfcc = v[spectrum_index::n_mfcc];
  const bool filtered = mode == spectrum_mode::mel || mode == spectrum_mode::mfcc;
  const uint32_t kinds = mode == spectrum_mode::bins ? 3u : 2u;  // features: power or magnitude; mel: log or not
  if (!fft_length_supported(n_fft) || channels == 0u || mode > spectrum_mode::features || kind >= kinds ||
      v[spectrum_index::windowed] > 1u || (filtered && n_filters == 0u) || (!filtered && n_filters != 0u) ||
      (mode == spectrum_mode::mfcc ? (n_mfcc == 0u || n_mfcc > n_filters) : n_mfcc != 0u) ||
      static_cast<uint64_t>(n_fft) * channels != n ||
      spectrum_outputs(mode, n_fft, n_filters, n_mfcc) * channels != w ||
      spectrum_work(mode, n_fft, n_filters) > transform_max_work) {
    return status::bad_table;
  }
  const uint64_t tables = at + spectrum_index::tables;
  if (tables + 2u * static_cast<uint64_t>(n_filters) + 1u > n_indices) {
    return status::size_mismatch;
  }
  // The filterbank, as filterbank_validate checks it.
  const uint64_t offsets = tables + n_filters;
  if (table_read(m.indices, static_cast<uint32_t>(offsets)) != 0u) {
    return status::bad_table;
  }
  for (uint32_t f = 0; f < n_filters; ++f) {
    const uint32_t begin = table_read(m.indices, static_cast<uint32_t>(offsets + f));
    const uint32_t end = table_read(m.indices, static_cast<uint32_t>(offsets + f + 1u));
    const uint64_t first_bin = table_read(m.indices, static_cast<uint32_t>(tables + f));
    if (end < begin || first_bin + (end - begin) > rfft_bins(n_fft)) {
      return status::bad_table;
    }
  }
  const uint64_t n_weights = table_read(m.indices, static_cast<uint32_t>(offsets + n_filters));
  const uint64_t needed = 2u + 2u * static_cast<uint64_t>(n_fft) + (v[spectrum_index::windowed] ? n_fft : 0u) +
                          n_weights + static_cast<uint64_t>(n_mfcc) * n_filters;
  if (first_param + needed > n_params) {
    return status::size_mismatch;
  }
  // A floor of the logarithms must be positive (spectrum() refuses others).
  const bool logarithms = filtered ? (mode == spectrum_mode::mfcc || kind != 0u)
                                   : (mode == spectrum_mode::bins &&
                                      kind == static_cast<uint32_t>(spectrum_kind::log_power));
  if (logarithms && !(table_read(m.params, static_cast<uint32_t>(first_param)) > 0.0f)) {
    return status::bad_table;
  }
  return status::ok;
}

// Checks an sos_filter or fir_filter step's indices at `at` (n_s, n_c, then
// n_sec and steady, or n_taps and q) and its parameters against its slice
// of n values giving w.
template <typename M>
inline status transform_check_filter(const M& m, uint8_t op, uint64_t at, uint64_t first_param, uint32_t n,
                                     uint32_t w, size_t n_indices, size_t n_params) {
  if (at + 4u > n_indices) {
    return status::size_mismatch;
  }
  uint32_t v[4];
  for (uint32_t i = 0; i < 4u; ++i) {
    v[i] = table_read(m.indices, static_cast<uint32_t>(at + i));
  }
  const uint32_t n_samples = v[0], channels = v[1];
  if (n_samples == 0u || channels == 0u || v[2] == 0u || static_cast<uint64_t>(n_samples) * channels != n) {
    return status::bad_table;
  }
  if (op == transform_op::fir_filter) {
    const uint32_t q = v[3];
    if (q == 0u || static_cast<uint64_t>(fir_output_count(q, 0u, n_samples)) * channels != w ||
        static_cast<uint64_t>(v[2]) * channels > transform_max_work) {
      return status::bad_table;
    }
    return first_param + v[2] > n_params ? status::size_mismatch : status::ok;
  }
  const uint64_t n_sections = v[2];
  if (v[3] > 1u || 2u * n_sections * channels > transform_max_work) {
    return status::bad_table;
  }
  if (first_param + (v[3] ? 8u : 6u) * n_sections > n_params) {
    return status::size_mismatch;
  }
  for (uint64_t s = 0; s < n_sections; ++s) {  // a0 = 1, as sos_validate demands
    if (!(table_read(m.params, static_cast<uint32_t>(first_param + 6u * s + 3u)) == 1.0f)) {
      return status::bad_table;
    }
  }
  return status::ok;
}

// Checks the indices of a select, polynomial, discretize, function, spline,
// window_stats, spectrum or filter step (and, for discretize and spline, that their parameters fit
// `params`); returns status::ok, bad_table or size_mismatch as
// transforms_validate does.
template <typename M>
inline status transform_check_indices(const M& m, uint8_t op, uint64_t first_index, uint64_t first_param, uint32_t n,
                                      uint32_t w, size_t n_indices, size_t n_params) {
  uint64_t at = first_index;
  if (op == transform_op::select) {
    for (uint32_t j = 0; j < w; ++j, ++at) {
      if (at >= n_indices) {
        return status::size_mismatch;
      }
      if (table_read(m.indices, static_cast<uint32_t>(at)) >= n) {
        return status::bad_table;
      }
    }
  } else if (op == transform_op::polynomial) {
    for (uint32_t k = 0; k < w; ++k) {
      if (at >= n_indices) {
        return status::size_mismatch;
      }
      const uint32_t degree = table_read(m.indices, static_cast<uint32_t>(at++));
      if (at + degree > n_indices) {
        return status::size_mismatch;
      }
      for (uint32_t d = 0; d < degree; ++d, ++at) {
        if (table_read(m.indices, static_cast<uint32_t>(at)) >= n) {
          return status::bad_table;
        }
      }
    }
  } else if (op == transform_op::discretize) {
    if (at + n > n_indices) {
      return status::size_mismatch;
    }
    uint64_t thresholds = 0;
    for (uint32_t i = 0; i < n; ++i) {
      thresholds += table_read(m.indices, static_cast<uint32_t>(at + i));
    }
    if (first_param + thresholds > n_params) {
      return status::size_mismatch;
    }
  } else if (op == transform_op::function) {
    if (at >= n_indices) {
      return status::size_mismatch;
    }
    if (table_read(m.indices, static_cast<uint32_t>(at)) > transform_function::squared) {
      return status::bad_table;
    }
  } else if (op == transform_op::spline) {
    return transform_check_spline(m, at, first_param, n, w, n_indices, n_params);
  } else if (op == transform_op::window_stats) {
    return transform_check_window(m, at, n, w, n_indices);
  } else if (op == transform_op::spectrum) {
    return transform_check_spectrum(m, at, first_param, n, w, n_indices, n_params);
  } else if (op == transform_op::sos_filter || op == transform_op::fir_filter) {
    return transform_check_filter(m, op, at, first_param, n, w, n_indices, n_params);
  }
  return status::ok;
}

// Floats of op scratch step s needs (its signal kernel's buffers; 0 for
// the other operations). Its indices must have passed transforms_validate.
template <typename M>
inline uint64_t transform_op_work(const M& m, uint32_t s) {
  const uint8_t op = table_read(m.ops, s);
  const auto idx = table_from(m.indices, table_read(m.shapes, 5u * s + 2u));
  if (op == transform_op::spectrum) {
    return spectrum_work(table_read(idx, spectrum_index::mode), table_read(idx, spectrum_index::n_fft),
                         table_read(idx, spectrum_index::n_filters));
  }
  if (op == transform_op::sos_filter) {
    return 2u * static_cast<uint64_t>(table_read(idx, 2u)) * table_read(idx, 1u);
  }
  if (op == transform_op::fir_filter) {
    return static_cast<uint64_t>(table_read(idx, 2u)) * table_read(idx, 1u);
  }
  return 0u;
}

// The most op scratch any step of the program needs.
template <typename M>
inline uint64_t transforms_work_floats(const M& m) {
  uint64_t most = 0u;
  for (uint32_t s = 0; s < m.n_steps; ++s) {
    const uint64_t need = transform_op_work(m, s);
    most = need > most ? need : most;
  }
  return most;
}

}  // namespace detail

/// Floats of scratch transforms_run and transforms_score_samples need for
/// a program that passed transforms_validate: two rows of max_width floats
/// between the steps, then the buffers of its signal steps (an FFT's, a
/// filter's state). A generated header sizes this at compile time.
template <typename M>
inline uint64_t transforms_scratch_floats(const M& m) {
  return 2u * static_cast<uint64_t>(m.max_width) + detail::transforms_work_floats(m);
}

/// Runs the program on the row `x` (n_features values) and writes its
/// n_outputs values to `out`. `scratch` is caller memory of
/// transforms_scratch_floats(m) floats (unused, and may be null, when that
/// is 0); `out` must not overlap `x` or `scratch`. Stack: a few words, and
/// rfft's few dozen for a spectrum step.
template <typename M>
inline void transforms_run(const M& m, const float* x, float* out, float* scratch) {
  const float* in = x;
  uint32_t n_in = m.n_features;
  float* work = scratch == NULL ? scratch : scratch + 2u * m.max_width;
  for (uint32_t s = 0; s < m.n_steps; ++s) {
    float* y = s + 1u == m.n_steps ? out : scratch + (s % 2u) * m.max_width;
    detail::transform_step(m, s, in, n_in, y, work);
    in = y;
    n_in = table_read(m.shapes, 5u * s);
  }
}

/// PCA's log-likelihood of the row `x` (scikit-learn's score_samples; see
/// the header comment), written to out[0]. Only for a program with a
/// `quadratic` table (transforms_validate checks it fits the last step).
/// `scratch` as for transforms_run. Stack: as transforms_run.
template <typename M>
inline void transforms_score_samples(const M& m, const float* x, float* out, float* scratch) {
  const float* in = x;
  uint32_t n = m.n_features;
  const uint32_t last = m.n_steps - 1u;
  float* work = scratch == NULL ? scratch : scratch + 2u * m.max_width;
  for (uint32_t s = 0; s < last; ++s) {
    float* y = scratch + (s % 2u) * m.max_width;
    detail::transform_step(m, s, in, n, y, work);
    in = y;
    n = table_read(m.shapes, 5u * s);
  }
  const auto mean = table_from(m.params, table_read(m.shapes, 5u * last + 1u));
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
/// always have), or a zero count; status::bad_table for an unknown
/// operation or function, a slice outside its row, a slice width that does
/// not follow from its operation (the slice's own size except for select,
/// project, polynomial, spline, window_stats, spectrum and fir_filter), a
/// window_stats step whose counts or codes window_stats_validate refuses or
/// do not fit its slice, a spectrum step of an unsupported FFT length, an
/// unknown mode or kind, a filterbank that leaves the spectrum or a floor of
/// its logarithms that is not positive, a filter step whose sections have
/// a0 != 1, a signal step whose op scratch would exceed 2^29 floats, a
/// spline step's counts that do not fit one another or a degree above
/// EMLEARN_GEN_SPLINE_MAX_DEGREE, an index outside the slice, a row between
/// two steps wider than max_width, or a last step that does not write n_outputs
/// values; status::size_mismatch when ops, shapes, params or indices do not
/// have the elements the steps read, or quadratic is neither empty nor
/// n (n + 1) / 2 + 1 elements for a last step that projects its whole row
/// of n values; status::ok otherwise.
template <typename M>
inline status transforms_validate(const M& m, size_t n_ops, size_t n_shapes, size_t n_params, size_t n_indices,
                                  size_t n_quadratic) {
  // params and indices may be empty (and null on the host) when no step reads them.
  if (m.ops == NULL || m.shapes == NULL || (m.params == NULL && n_params != 0u) ||
      (m.indices == NULL && n_indices != 0u) || m.n_steps == 0u || m.n_features == 0u || m.n_outputs == 0u) {
    return status::bad_argument;
  }
  if (static_cast<uint64_t>(n_ops) != m.n_steps || static_cast<uint64_t>(n_shapes) != 5u * uint64_t{m.n_steps}) {
    return status::size_mismatch;
  }
  uint32_t n_in = m.n_features;
  for (uint32_t s = 0; s < m.n_steps; ++s) {
    const uint8_t op = table_read(m.ops, s);
    const uint32_t n_out = table_read(m.shapes, 5u * s);
    const uint64_t first_param = table_read(m.shapes, 5u * s + 1u);
    const uint64_t first_index = table_read(m.shapes, 5u * s + 2u);
    const uint64_t first = table_read(m.shapes, 5u * s + 3u);
    const uint32_t count = table_read(m.shapes, 5u * s + 4u);
    if (op > transform_op::fir_filter || count == 0u || first + count > n_in || n_out < n_in - count + 1u) {
      return status::bad_table;
    }
    const uint32_t width = n_out - (n_in - count);
    const bool resizes = op == transform_op::select || op == transform_op::project ||
                         op == transform_op::polynomial || op == transform_op::spline ||
                         op == transform_op::window_stats || op == transform_op::spectrum ||
                         op == transform_op::fir_filter;
    if ((!resizes && width != count) || (s + 1u < m.n_steps && n_out > m.max_width) ||
        (s + 1u == m.n_steps && n_out != m.n_outputs)) {
      return status::bad_table;
    }
    if (first_param + detail::transform_param_count(op, count, width) > n_params) {
      return status::size_mismatch;
    }
    const status indices = detail::transform_check_indices(m, op, first_index, first_param, count, width,
                                                           n_indices, n_params);
    if (indices != status::ok) {
      return indices;
    }
    if (n_quadratic != 0u && s + 1u == m.n_steps &&
        (op != transform_op::project || count != n_in || m.quadratic == NULL ||
         static_cast<uint64_t>(n_quadratic) != static_cast<uint64_t>(n_in) * (n_in + 1u) / 2u + 1u)) {
      return status::size_mismatch;
    }
    n_in = n_out;
  }
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_TRANSFORMS_HPP
