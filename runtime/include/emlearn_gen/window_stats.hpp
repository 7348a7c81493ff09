// emlearn-gen runtime: statistics of a window of multi-channel sensor data.
//
// A window is n_samples x n_channels floats, samples-major with the
// channels interleaved: sample s of channel c is x[s * n_channels + c] (one
// row of a 2-D array of windows, as an accelerometer's FIFO delivers them).
// For each channel the kernel computes, in float32:
//   mean            sum of the samples in sample order, / n_samples
//   std             population deviation (ddof 0, as numpy.std):
//                   sqrt_f(sum of (x - mean)^2 / n_samples), two passes,
//                   the second on the rounded mean
//   min, max        smallest and largest sample (exact)
//   rms             sqrt_f(energy / n_samples)
//   zero_crossings  how many consecutive pairs of samples differ in sign,
//                   where a sample is negative if x < 0: an exact zero
//                   (+0 or -0) counts as non-negative, so 1, 0, 1 has no
//                   crossing and -1, 0, -1 has two (exact; at most
//                   n_samples - 1)
//   peak_to_peak    max - min (one rounding)
//   energy          sum of squares (not their mean), in sample order
// Every product is rounded before it is added (rounded() in math.hpp) and
// every sum runs in sample order, so every target computes the same bits.
// The bounds against float64 on the same float32 samples are stated in
// emlearn_gen/signal/window_stats.py (window_stats_bound) and docs/signal.md.
//
// NaN is not a valid sample: the host refuses it; on a device a NaN sample
// gives NaN or meaningless values for its channel. Samples whose square
// overflows float32 (|x| > 1.8e19) give infinite energy, rms and std.
#ifndef EMLEARN_GEN_WINDOW_STATS_HPP
#define EMLEARN_GEN_WINDOW_STATS_HPP

#include "common.hpp"
#include "math.hpp"

namespace emlearn_gen {

/// The statistics window_stats computes (see the header comment), by code
/// (Python names: mean, std, min, max, rms, zero_crossings, peak_to_peak,
/// energy; no macro-prone names such as min and max here).
namespace window_feature {
enum : uint8_t {
  mean = 0,
  standard_deviation = 1,
  minimum = 2,
  maximum = 3,
  rms = 4,
  zero_crossings = 5,
  peak_to_peak = 6,
  energy = 7,
};
}  // namespace window_feature

/// Number of window_feature codes: a valid code is below it.
#define EMLEARN_GEN_WINDOW_FEATURE_COUNT 8u

/// The largest window: sample counts up to 2^24 are exact in float.
#define EMLEARN_GEN_WINDOW_MAX_SAMPLES 16777216u

namespace detail {

// Every statistic of one channel (the samples at x[0], x[stride], ...),
// into v[code] for each window_feature code. All eight are computed
// whatever is asked: two passes of a few operations per sample and two
// square roots per channel.
inline void window_channel(const float* x, uint32_t n_samples, uint32_t stride, float* v) {
  float sum = 0.0f;
  float squares = 0.0f;
  float lo = x[0];
  float hi = x[0];
  uint32_t crossings = 0;
  bool negative = x[0] < 0.0f;
  for (uint32_t s = 0; s < n_samples; ++s) {
    const float xi = x[s * stride];
    sum += xi;
    squares += rounded(xi * xi);
    lo = xi < lo ? xi : lo;
    hi = xi > hi ? xi : hi;
    const bool below = xi < 0.0f;
    crossings += below != negative ? 1u : 0u;
    negative = below;
  }
  const float n = static_cast<float>(n_samples);
  const float mean = sum / n;
  float deviations = 0.0f;
  for (uint32_t s = 0; s < n_samples; ++s) {
    const float d = x[s * stride] - mean;
    deviations += rounded(d * d);
  }
  v[window_feature::mean] = mean;
  v[window_feature::standard_deviation] = sqrt_f(deviations / n);
  v[window_feature::minimum] = lo;
  v[window_feature::maximum] = hi;
  v[window_feature::rms] = sqrt_f(squares / n);
  v[window_feature::zero_crossings] = static_cast<float>(crossings);
  v[window_feature::peak_to_peak] = hi - lo;
  v[window_feature::energy] = squares;
}

}  // namespace detail

/// Checks the arguments of window_stats without reading the window:
/// status::bad_argument for a count of zero, more than
/// EMLEARN_GEN_WINDOW_MAX_SAMPLES samples, or a window or output of 2^32
/// floats or more; status::bad_table for a feature code of
/// EMLEARN_GEN_WINDOW_FEATURE_COUNT or more; status::ok otherwise.
template <typename T>
inline status window_stats_validate(uint32_t n_samples, uint32_t n_channels, T features, uint32_t n_features) {
  if (n_samples == 0u || n_samples > EMLEARN_GEN_WINDOW_MAX_SAMPLES || n_channels == 0u || n_features == 0u) {
    return status::bad_argument;
  }
  const uint64_t channels = n_channels;
  if (channels * n_samples > 0xFFFFFFFFu || channels * n_features > 0xFFFFFFFFu) {
    return status::bad_argument;
  }
  for (uint32_t k = 0; k < n_features; ++k) {
    if (static_cast<uint32_t>(table_read(features, k)) >= EMLEARN_GEN_WINDOW_FEATURE_COUNT) {
      return status::bad_table;
    }
  }
  return status::ok;
}

/// Statistics of one window `x` (n_samples * n_channels floats, samples-
/// major, RAM) into `out` (n_features * n_channels floats, RAM), feature-
/// major: out[k * n_channels + c] is feature `features[k]` of channel c.
/// `features` is a table of n_features window_feature codes (any integer
/// type; read with table_read, so on AVR in program memory, e.g. declared
/// with EMLEARN_GEN_TABLE_ATTR). `out` must not overlap `x`.
/// Returns status::bad_argument for a null `x` or `out`, else
/// window_stats_validate's status; writes nothing unless it is ok.
/// Stack: 8 floats and a few words. No scratch.
template <typename T>
inline status window_stats(const float* x, uint32_t n_samples, uint32_t n_channels, T features, uint32_t n_features,
                           float* out) {
  if (x == NULL || out == NULL) {
    return status::bad_argument;
  }
  const status checked = window_stats_validate(n_samples, n_channels, features, n_features);
  if (checked != status::ok) {
    return checked;
  }
  float v[EMLEARN_GEN_WINDOW_FEATURE_COUNT];
  for (uint32_t c = 0; c < n_channels; ++c) {
    detail::window_channel(x + c, n_samples, n_channels, v);
    for (uint32_t k = 0; k < n_features; ++k) {
      out[k * n_channels + c] = v[static_cast<uint32_t>(table_read(features, k))];
    }
  }
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_WINDOW_STATS_HPP
