// emlearn-gen runtime: spectra of windows of samples, and features of them:
// power, magnitude and log-power spectra, mel filterbank energies, MFCCs
// (DCT-II, orthonormal), spectral centroid and dominant frequency.
//
// Header-only, heap-free, exception-free C++11, C headers only. The window,
// the twiddles, the mel filterbank and the DCT matrix are tables a generator
// (or Python, emlearn_gen/signal/spectrum.py) computes in float64 and rounds
// to float32; they are read with table_read, so AVR keeps them in flash.
// Conventions and error bounds: docs/signal.md.
#ifndef EMLEARN_GEN_SPECTRUM_HPP
#define EMLEARN_GEN_SPECTRUM_HPP

#include <stddef.h>
#include <stdint.h>

#include "common.hpp"
#include "fft.hpp"
#include "math.hpp"

namespace emlearn_gen {

/// What a spectrum holds per bin of X = rfft(x * window):
enum class spectrum_kind : uint8_t {
  power = 0,      ///< |X[k]|^2 (no scaling by n)
  magnitude = 1,  ///< |X[k]|
  log_power = 2,  ///< 10 log10(max(|X[k]|^2, amin)), decibels
};

/// 10 / ln 10, rounded to float: 10 log10(p) = db_per_neper * ln(p).
constexpr float db_per_neper = 4.342944819032518f;

/// 10 log10(max(p, amin)) with the runtime's log_f (same bits everywhere).
/// A NaN p gives NaN. amin must be positive.
inline float power_to_db(float p, float amin) {
  const float floored = (p > amin || is_missing(p)) ? p : amin;
  return db_per_neper * log_f(floored);
}

/// The n_bins values of `kind` from a complex spectrum (interleaved real,
/// imaginary: 2 n_bins floats, as rfft writes it) into out (n_bins floats).
/// out may be `bins` itself (value k is written after bin k is read).
/// amin: the floor of log_power (positive), unused by the other kinds.
inline void spectrum_values(const float* bins, uint32_t n_bins, spectrum_kind kind, float amin, float* out) {
  for (uint32_t k = 0; k < n_bins; ++k) {
    const float re = bins[2u * k], im = bins[2u * k + 1u];
    const float power = rounded(re * re) + rounded(im * im);
    if (kind == spectrum_kind::magnitude) {
      out[k] = sqrt_f(power);
    } else if (kind == spectrum_kind::log_power) {
      out[k] = power_to_db(power, amin);
    } else {
      out[k] = power;
    }
  }
}

/// Floats of scratch spectrum() needs: the complex bins and rfft's scratch.
inline uint32_t spectrum_scratch_floats(uint32_t n) { return 2u * rfft_bins(n) + rfft_scratch_floats(n); }

/// The spectrum of `kind` of one window of n samples: rfft(x * window),
/// then spectrum_values.
///   x: n samples; window: n factors (a table) or nullptr;
///   twiddles: 2n floats (a table, see rfft); out: rfft_bins(n) floats;
///   scratch: spectrum_scratch_floats(n) floats, not overlapping x or out.
/// Returns what rfft returns (status::bad_argument for null pointers or an
/// unsupported n), or status::bad_argument when log_power's amin is not
/// positive.
inline status spectrum(const float* x, uint32_t n, const float* window, const float* twiddles, spectrum_kind kind,
                       float amin, float* out, float* scratch) {
  if (kind == spectrum_kind::log_power && !(amin > 0.0f)) {
    return status::bad_argument;
  }
  if (out == nullptr || scratch == nullptr) {
    return status::bad_argument;
  }
  float* bins = scratch;
  const status s = rfft(x, n, window, twiddles, bins, scratch + 2u * rfft_bins(n));
  if (s != status::ok) {
    return s;
  }
  spectrum_values(bins, rfft_bins(n), kind, amin, out);
  return status::ok;
}

/// A triangular filterbank over the bins of a spectrum, stored sparsely:
/// filter f has weights[offsets[f] .. offsets[f + 1]) for the bins from
/// first_bin[f] on. All three are tables.
struct filterbank {
  const uint16_t* first_bin;  ///< n_filters entries
  const uint16_t* offsets;    ///< n_filters + 1 entries, offsets[0] = 0, non-decreasing
  const float* weights;       ///< offsets[n_filters] entries
  uint16_t n_filters;
  uint16_t n_bins;  ///< length of the spectrum it applies to
};

/// status::ok if the tables are consistent: offsets start at 0 and never
/// decrease, every filter stays inside n_bins, and n_weights (the length of
/// the weights table) is offsets[n_filters]. Otherwise status::bad_table
/// (status::bad_argument for null tables or no filter).
inline status filterbank_validate(const filterbank& fb, uint32_t n_weights) {
  if (fb.first_bin == nullptr || fb.offsets == nullptr || fb.weights == nullptr || fb.n_filters == 0u) {
    return status::bad_argument;
  }
  if (table_read(fb.offsets, 0u) != 0u) {
    return status::bad_table;
  }
  for (uint32_t f = 0; f < fb.n_filters; ++f) {
    const uint32_t begin = table_read(fb.offsets, f), end = table_read(fb.offsets, f + 1u);
    if (end < begin || table_read(fb.first_bin, f) + (end - begin) > fb.n_bins) {
      return status::bad_table;
    }
  }
  return table_read(fb.offsets, fb.n_filters) == n_weights ? status::ok : status::bad_table;
}

/// Energies of the filters of a filterbank held in any tables table_read
/// reads (pointers or far tables): first_bin and offsets (n_filters and
/// n_filters + 1 entries) and weights, as in `filterbank`; the rest as
/// filterbank_energies.
template <typename I, typename W>
inline void filterbank_energies_of(I first_bin, I offsets, W weights, uint32_t n_filters, const float* spectrum_in,
                                   bool log, float amin, float* out) {
  for (uint32_t f = 0; f < n_filters; ++f) {
    const uint32_t begin = table_read(offsets, f), end = table_read(offsets, f + 1u);
    const float* bins = spectrum_in + table_read(first_bin, f);
    float sum = 0.0f;
    for (uint32_t i = begin; i < end; ++i) {
      sum = sum + rounded(table_read(weights, i) * bins[i - begin]);
    }
    out[f] = log ? power_to_db(sum, amin) : sum;
  }
}

/// Energies of the filters: out[f] = sum_j weights[offsets[f] + j] *
/// spectrum[first_bin[f] + j], summed in bin order. spectrum: fb.n_bins
/// floats (power, or magnitude); out: fb.n_filters floats. With `log`,
/// each energy e becomes power_to_db(e, amin). The tables must pass
/// filterbank_validate.
inline void filterbank_energies(const filterbank& fb, const float* spectrum_in, bool log, float amin, float* out) {
  filterbank_energies_of(fb.first_bin, fb.offsets, fb.weights, fb.n_filters, spectrum_in, log, amin, out);
}

/// out = matrix * in: matrix is an n_out x n_in table, row-major (for the
/// MFCCs, the orthonormal DCT-II matrix, as scipy.fft.dct(type=2,
/// norm='ortho') computes, of its first n_out rows); in: n_in floats; out:
/// n_out floats, not overlapping in. Each sum is in index order. The matrix
/// is any table table_read reads (a pointer or a far table).
template <typename T>
inline void matrix_vector(T matrix, const float* in, uint32_t n_in, uint32_t n_out, float* out) {
  for (uint32_t i = 0; i < n_out; ++i) {
    float sum = 0.0f;
    for (uint32_t j = 0; j < n_in; ++j) {
      sum = sum + rounded(table_read(matrix, i * n_in + j) * in[j]);
    }
    out[i] = sum;
  }
}

/// Spectral centroid of a spectrum (power or magnitude: n_bins >= 1
/// non-negative values), in Hz: (sum_k k S[k] / sum_k S[k]) * bin_hz,
/// bin_hz = sample_rate / n_fft. An all-zero spectrum gives 0.
inline float spectral_centroid(const float* spectrum_in, uint32_t n_bins, float bin_hz) {
  float weighted = 0.0f, total = 0.0f;
  for (uint32_t k = 0; k < n_bins; ++k) {
    weighted = weighted + rounded(static_cast<float>(k) * spectrum_in[k]);
    total = total + spectrum_in[k];
  }
  if (!(total > 0.0f)) {
    return 0.0f;
  }
  return rounded(weighted / total) * bin_hz;
}

/// Frequency of the largest bin of a spectrum, in Hz: argmax * bin_hz, the
/// first of equal largest bins (as numpy.argmax). n_bins >= 1.
inline float dominant_frequency(const float* spectrum_in, uint32_t n_bins, float bin_hz) {
  return static_cast<float>(argmax(spectrum_in, static_cast<int32_t>(n_bins))) * bin_hz;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_SPECTRUM_HPP
