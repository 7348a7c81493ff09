// emlearn-gen runtime: streaming filters for sensor signals.
//
// - IIR filtering by a cascade of second-order sections, as
//   scipy.signal.sosfilt computes it (Direct Form II transposed), with the
//   state of every channel kept between calls.
// - FIR filtering (scipy.signal.lfilter(h, [1.0], x)), optionally decimated
//   by an integer factor q: only the outputs at stream positions 0, q, 2q, ...
//   are computed, which is scipy.signal.upfirdn(h, x, down=q) cut to
//   ceil(n / q) samples, i.e. scipy.signal.decimate(x, q, ftype='fir',
//   zero_phase=False) when given the same filter. The phase of the kept
//   samples is part of the state, so blocks of any size give the same stream.
//
// Samples are interleaved: a block of n samples of C channels is n * C
// floats, sample-major (x[i * C + c]). Coefficients are model tables (read
// through table_read: program memory on AVR); samples and state are the
// caller's RAM. No heap, no exceptions, no scratch memory.
//
// float arithmetic in a fixed order, every product rounded on its own
// (rounded() in math.hpp) so that no compiler fuses it into a multiply-add:
// the host and every device compute the same bits. How far that is from
// scipy's float64 is stated in docs/signal.md.
#ifndef EMLEARN_GEN_FILTERS_HPP
#define EMLEARN_GEN_FILTERS_HPP

#include "common.hpp"
#include "math.hpp"

namespace emlearn_gen {

// --------------------------------------------------------------------------
// Second-order sections

/// A cascade of second-order sections. The kernels take any type `F` with
/// these members (generated code may make them static constexpr).
struct sos_filter {
  /// Table of n_sections rows b0 b1 b2 a0 a1 a2 (scipy's `sos` layout);
  /// a0 must be 1, as scipy requires.
  const float* sos;
  uint32_t n_sections;
  uint32_t n_channels;
};

/// Floats of state a filter needs: n_sections * 2 * n_channels, laid out as
/// scipy's `zi` of a (samples, channels) input filtered along axis 0:
/// state[(s * 2 + k) * n_channels + c] is zi[s, k, c].
constexpr uint32_t sos_state_floats(uint32_t n_sections, uint32_t n_channels) {
  return n_sections * 2u * n_channels;
}

/// Checks a filter against its table of `n_sos` floats.
/// Returns bad_argument for zero sections or channels or a null table,
/// size_mismatch when n_sos != 6 * n_sections, bad_table when some a0 != 1.
template <typename F>
inline status sos_validate(const F& f, size_t n_sos) {
  if (f.n_sections == 0u || f.n_channels == 0u || f.sos == NULL) {
    return status::bad_argument;
  }
  if (n_sos / 6u != f.n_sections || n_sos % 6u != 0u) {
    return status::size_mismatch;
  }
  for (uint32_t s = 0; s < f.n_sections; ++s) {
    if (!(table_read(f.sos, s * 6u + 3u) == 1.0f)) {
      return status::bad_table;
    }
  }
  return status::ok;
}

/// Zeroes the state (sos_state_floats floats): the filter starts at rest,
/// as sosfilt without `zi`.
template <typename F>
inline void sos_reset(const F& f, float* state) {
  const uint32_t n = sos_state_floats(f.n_sections, f.n_channels);
  for (uint32_t i = 0; i < n; ++i) {
    state[i] = 0.0f;
  }
}

/// Sets the state to the steady state of a constant input equal to each
/// channel's `first` sample: state = zi_unit[s][k] * first[c], where
/// `zi_unit` (a table of n_sections * 2 floats) is scipy.signal.sosfilt_zi
/// (sos) rounded to float. Call it before filtering the first block, with
/// that block's first sample, for sosfilt(sos, x, zi=sosfilt_zi(sos) * x[0]).
/// `zi_unit` is any table table_read reads (a pointer or a far table).
template <typename F, typename Z>
inline void sos_steady_state(const F& f, Z zi_unit, const float* first, float* state) {
  const uint32_t channels = f.n_channels;
  for (uint32_t j = 0; j < f.n_sections * 2u; ++j) {
    const float unit = table_read(zi_unit, j);
    for (uint32_t c = 0; c < channels; ++c) {
      state[j * channels + c] = unit * first[c];
    }
  }
}

/// Filters `n_samples` interleaved samples of x into y (n_samples *
/// n_channels floats each; y may be x), continuing from `state` and leaving
/// it ready for the next block. Per section, as scipy's sosfilt:
///   y  = b0 x + z0;   z0 = (b1 x - a1 y) + z1;   z1 = b2 x - a2 y.
/// Returns bad_argument if a buffer is null while n_samples > 0.
/// Stack: a few scalars.
template <typename F>
inline status sos_filter_block(const F& f, float* state, const float* x, float* y, uint32_t n_samples) {
  if (n_samples == 0u) {
    return status::ok;
  }
  if (state == NULL || x == NULL || y == NULL) {
    return status::bad_argument;
  }
  const uint32_t channels = f.n_channels;
  for (uint32_t i = 0; i < n_samples; ++i) {
    for (uint32_t c = 0; c < channels; ++c) {
      float v = x[i * channels + c];
      for (uint32_t s = 0; s < f.n_sections; ++s) {
        const float b0 = table_read(f.sos, s * 6u);
        const float b1 = table_read(f.sos, s * 6u + 1u);
        const float b2 = table_read(f.sos, s * 6u + 2u);
        const float a1 = table_read(f.sos, s * 6u + 4u);
        const float a2 = table_read(f.sos, s * 6u + 5u);
        float* z0 = state + (s * 2u) * channels + c;
        float* z1 = z0 + channels;
        const float out = rounded(b0 * v) + *z0;
        *z0 = (rounded(b1 * v) - rounded(a1 * out)) + *z1;
        *z1 = rounded(b2 * v) - rounded(a2 * out);
        v = out;
      }
      y[i * channels + c] = v;
    }
  }
  return status::ok;
}

// --------------------------------------------------------------------------
// FIR filters and decimation

/// An FIR filter y[n] = sum_k taps[k] x[n - k], keeping every
/// `decimation`-th output. The kernels take any type `F` with these members.
struct fir_filter {
  const float* taps;    ///< table of n_taps floats
  uint32_t n_taps;
  uint32_t n_channels;
  uint32_t decimation;  ///< q >= 1; 1 keeps every output
};

/// Where a stream is: the caller's history of the last n_taps samples of
/// every channel (fir_history_floats floats), the ring position of the
/// newest one, and the stream position of the next sample modulo q.
struct fir_state {
  float* history;  ///< history[j * n_channels + c], a ring of n_taps rows
  uint32_t newest;
  uint32_t phase;
};

/// Floats of history a filter needs: n_taps * n_channels.
constexpr uint32_t fir_history_floats(uint32_t n_taps, uint32_t n_channels) { return n_taps * n_channels; }

/// Checks a filter against its table of `n_taps` floats.
/// Returns bad_argument for zero taps, channels or decimation or a null
/// table, size_mismatch when the table's length is not f.n_taps.
template <typename F>
inline status fir_validate(const F& f, size_t n_taps) {
  if (f.n_taps == 0u || f.n_channels == 0u || f.decimation == 0u || f.taps == NULL) {
    return status::bad_argument;
  }
  return n_taps == f.n_taps ? status::ok : status::size_mismatch;
}

/// Starts a stream at rest (zero history, as lfilter without `zi`), at
/// stream position 0, whose output is kept.
template <typename F>
inline void fir_reset(const F& f, fir_state* s) {
  const uint32_t n = fir_history_floats(f.n_taps, f.n_channels);
  for (uint32_t i = 0; i < n; ++i) {
    s->history[i] = 0.0f;
  }
  s->newest = 0u;
  s->phase = 0u;
}

/// Samples (rows of n_channels floats) that the next `n_samples` input
/// samples produce from stream phase `phase`: at most ceil(n_samples / q).
inline uint32_t fir_output_count(uint32_t decimation, uint32_t phase, uint32_t n_samples) {
  const uint32_t first = (decimation - phase % decimation) % decimation;
  return n_samples > first ? (n_samples - first - 1u) / decimation + 1u : 0u;
}

/// Filters `n_samples` interleaved samples of x, writing the kept outputs to
/// y (fir_output_count(q, s->phase, n_samples) rows of n_channels floats;
/// y may be x, as an output never lands after the input it comes from) and
/// their number to *n_out. Sums the products newest sample first.
/// Returns bad_argument if a buffer is null while n_samples > 0.
/// Stack: a few scalars.
template <typename F>
inline status fir_filter_block(const F& f, fir_state* s, const float* x, uint32_t n_samples, float* y,
                               uint32_t* n_out) {
  if (n_out == NULL || s == NULL) {
    return status::bad_argument;
  }
  *n_out = 0u;
  if (n_samples == 0u) {
    return status::ok;
  }
  if (s->history == NULL || x == NULL || y == NULL) {
    return status::bad_argument;
  }
  const uint32_t channels = f.n_channels;
  const uint32_t taps = f.n_taps;
  uint32_t written = 0u;
  for (uint32_t i = 0; i < n_samples; ++i) {
    s->newest = s->newest + 1u == taps ? 0u : s->newest + 1u;
    float* row = s->history + s->newest * channels;
    for (uint32_t c = 0; c < channels; ++c) {
      row[c] = x[i * channels + c];
    }
    const bool keep = s->phase == 0u;
    s->phase = s->phase + 1u == f.decimation ? 0u : s->phase + 1u;
    if (!keep) {
      continue;
    }
    for (uint32_t c = 0; c < channels; ++c) {
      uint32_t j = s->newest;
      float sum = rounded(table_read(f.taps, 0u) * s->history[j * channels + c]);
      for (uint32_t k = 1; k < taps; ++k) {
        j = j == 0u ? taps - 1u : j - 1u;
        sum = sum + rounded(table_read(f.taps, k) * s->history[j * channels + c]);
      }
      y[written * channels + c] = sum;
    }
    ++written;
  }
  *n_out = written;
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_FILTERS_HPP
