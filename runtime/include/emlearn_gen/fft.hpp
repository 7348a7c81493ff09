// emlearn-gen runtime: FFT of real input, mixed radix (lengths whose only
// prime factors are 2, 3 and 5).
//
// Header-only, heap-free, exception-free C++11, C headers only. The result
// is the one-sided spectrum numpy.fft.rfft defines: n / 2 + 1 complex bins
//   X[k] = sum_j x[j] e^(-2 pi i j k / n),  k = 0 .. n / 2,
// unscaled, stored as interleaved (real, imaginary) floats.
//
// Method: for even n, the n / 2 complex values z[j] = x[2j] + i x[2j + 1]
// (the input's own memory layout) get a complex FFT of length m = n / 2, and
// one more pass splits it into the spectra of the even and odd samples and
// combines them; for odd n, a complex FFT of length m = n on x + 0i. The
// complex FFT is a Stockham autosort FFT (no bit reversal), one stage per
// factor of m: radix 4 while 4 divides what is left, then 2, 3, 5.
//
// The twiddle factors come from a table the caller (a generator, or Python)
// computes in float64 and rounds to float32: no sin/cos of any C library is
// used, so every target gets the same bits. Every product that feeds a sum
// goes through rounded(), so no compiler contracts it into a fused
// multiply-add on some target and not on another.
#ifndef EMLEARN_GEN_FFT_HPP
#define EMLEARN_GEN_FFT_HPP

#include <stddef.h>
#include <stdint.h>

#include "common.hpp"
#include "math.hpp"

namespace emlearn_gen {

/// Largest FFT length: keeps every index (up to 4n) inside 32 bits with room.
constexpr uint32_t fft_max_length = 16777216ul;  // 2^24

/// Number of bins of the one-sided spectrum of n real samples: n / 2 + 1.
inline uint32_t rfft_bins(uint32_t n) { return n / 2u + 1u; }

/// Floats of twiddle table rfft needs: 2n, the pairs
/// (cos(2 pi k / n), sin(2 pi k / n)) for k = 0 .. n - 1.
inline uint32_t rfft_twiddle_floats(uint32_t n) { return 2u * n; }

/// Floats of scratch rfft needs: two buffers of the complex FFT of length
/// m (2m floats each): 2n for even n, 4n for odd n.
inline uint32_t rfft_scratch_floats(uint32_t n) { return (n % 2u == 0u) ? 2u * n : 4u * n; }

/// True if rfft supports length n: 1 <= n <= fft_max_length and n has no
/// prime factor other than 2, 3 and 5.
inline bool fft_length_supported(uint32_t n) {
  if (n == 0u || n > fft_max_length) {
    return false;
  }
  const uint32_t primes[3] = {2u, 3u, 5u};
  for (uint32_t p = 0; p < 3u; ++p) {
    while (n % primes[p] == 0u) {
      n /= primes[p];
    }
  }
  return n == 1u;
}

namespace fft_detail {

/// A complex value in float.
struct cpx {
  float re;
  float im;
};

/// a * (c - i s), the product with the forward twiddle e^(-i theta) whose
/// table entry is (c, s) = (cos theta, sin theta).
inline cpx times_conj(cpx a, float c, float s) {
  const cpx out = {rounded(a.re * c) + rounded(a.im * s), rounded(a.im * c) - rounded(a.re * s)};
  return out;
}

inline cpx load(const float* buffer, uint32_t i) {
  const cpx out = {buffer[2u * i], buffer[2u * i + 1u]};
  return out;
}

inline void store(float* buffer, uint32_t i, cpx v) {
  buffer[2u * i] = v.re;
  buffer[2u * i + 1u] = v.im;
}

/// The radix of the next stage, given what is left of m to factor: 4 first
/// (fewest stages, its butterfly multiplies by nothing), then 2, 3, 5.
inline uint32_t next_radix(uint32_t left) {
  if (left % 4u == 0u) {
    return 4u;
  }
  if (left % 2u == 0u) {
    return 2u;
  }
  return (left % 3u == 0u) ? 3u : 5u;
}

/// The length-R DFT y[q] = sum_r v[r] e^(-2 pi i r q / R) in place, R in
/// {2, 3, 4, 5}. Radix 2 and 4 only add (the factors are +-1, +-i); radix 3
/// and 5 multiply by the R-th roots of unity (c[t], s[t]) = (cos, sin) of
/// 2 pi t / R, taken from the twiddle table, and sum the terms in r order.
inline void butterfly(cpx* v, uint32_t radix, const float* c, const float* s) {
  if (radix == 2u) {
    const cpx a = v[0], b = v[1];
    v[0].re = a.re + b.re;
    v[0].im = a.im + b.im;
    v[1].re = a.re - b.re;
    v[1].im = a.im - b.im;
    return;
  }
  if (radix == 4u) {
    const cpx s02 = {v[0].re + v[2].re, v[0].im + v[2].im};
    const cpx d02 = {v[0].re - v[2].re, v[0].im - v[2].im};
    const cpx s13 = {v[1].re + v[3].re, v[1].im + v[3].im};
    const cpx d13 = {v[1].re - v[3].re, v[1].im - v[3].im};
    // -i (d13) = d13.im - i d13.re
    v[0].re = s02.re + s13.re;
    v[0].im = s02.im + s13.im;
    v[1].re = d02.re + d13.im;
    v[1].im = d02.im - d13.re;
    v[2].re = s02.re - s13.re;
    v[2].im = s02.im - s13.im;
    v[3].re = d02.re - d13.im;
    v[3].im = d02.im + d13.re;
    return;
  }
  cpx y[5];
  for (uint32_t q = 0; q < radix; ++q) {
    y[q] = v[0];
    for (uint32_t r = 1; r < radix; ++r) {
      const uint32_t t = (r * q) % radix;
      const cpx term = (t == 0u) ? v[r] : times_conj(v[r], c[t], s[t]);
      y[q].re = y[q].re + term.re;
      y[q].im = y[q].im + term.im;
    }
  }
  for (uint32_t q = 0; q < radix; ++q) {
    v[q] = y[q];
  }
}

/// One Stockham stage of radix R of a complex FFT of length m: src holds
/// the results of the stages so far (their radices multiply to ns), dst
/// receives them with this stage's. The twiddle table is of length n = m *
/// stride.
template <typename T>
inline void stage(const float* src, float* dst, uint32_t m, uint32_t radix, uint32_t ns, T twiddles,
                  uint32_t stride) {
  float c[5] = {1.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  float s[5] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  const uint32_t n = m * stride;
  for (uint32_t t = 1; t < radix; ++t) {  // the R-th roots of unity, index t n / R
    c[t] = table_read(twiddles, 2u * (t * (n / radix)));
    s[t] = table_read(twiddles, 2u * (t * (n / radix)) + 1u);
  }
  const uint32_t span = m / radix;          // distance between a butterfly's inputs
  const uint32_t step = m / (ns * radix);   // twiddle exponent unit, in steps of 2 pi / m
  for (uint32_t j = 0; j < span; ++j) {
    const uint32_t k = j % ns;
    cpx v[5];
    for (uint32_t r = 0; r < radix; ++r) {
      v[r] = load(src, j + r * span);
      if (r != 0u && k != 0u) {
        const uint32_t index = (k * r * step) * stride;  // < n
        v[r] = times_conj(v[r], table_read(twiddles, 2u * index), table_read(twiddles, 2u * index + 1u));
      }
    }
    butterfly(v, radix, c, s);
    const uint32_t first = (j / ns) * ns * radix + k;
    for (uint32_t r = 0; r < radix; ++r) {
      store(dst, first + r * ns, v[r]);
    }
  }
}

/// Complex FFT of length m of the values in a (2m floats), using b (2m
/// floats) as the other buffer; returns the buffer that holds the result.
template <typename T>
inline float* complex_fft(float* a, float* b, uint32_t m, T twiddles, uint32_t stride) {
  uint32_t ns = 1u;
  while (ns < m) {
    const uint32_t radix = next_radix(m / ns);
    stage(a, b, m, radix, ns, twiddles, stride);
    float* t = a;
    a = b;
    b = t;
    ns *= radix;
  }
  return a;
}

/// The spectrum of n = 2m real samples from Z, the length-m FFT of
/// z[j] = x[2j] + i x[2j + 1]: with E and O the spectra of the even and odd
/// samples, E[k] = (Z[k] + conj Z[m - k]) / 2, O[k] = (Z[k] - conj Z[m - k]) / 2i
/// and X[k] = E[k] + e^(-2 pi i k / n) O[k], k = 0 .. m (Z[m] = Z[0]).
/// Bins k and m - k are computed from the same two values, so out may be z.
template <typename T>
inline void split_real(const float* z, uint32_t m, T twiddles, float* out) {
  const cpx z0 = load(z, 0);
  const cpx first = {z0.re + z0.im, 0.0f};
  const cpx last = {z0.re - z0.im, 0.0f};
  for (uint32_t k = 1; k <= m / 2u; ++k) {
    const cpx a = load(z, k);
    const cpx b = load(z, m - k);
    // Bin k from (a, b), bin m - k from (b, a): the same formula.
    const cpx pair[2] = {a, b};
    cpx result[2];
    for (uint32_t side = 0; side < 2u; ++side) {
      const cpx p = pair[side], q = pair[1u - side];
      const uint32_t bin = side == 0u ? k : m - k;
      const cpx even = {0.5f * (p.re + q.re), 0.5f * (p.im - q.im)};
      const cpx odd = {0.5f * (p.im + q.im), 0.5f * (q.re - p.re)};
      const cpx turned =
          times_conj(odd, table_read(twiddles, 2u * bin), table_read(twiddles, 2u * bin + 1u));
      result[side].re = even.re + turned.re;
      result[side].im = even.im + turned.im;
    }
    store(out, k, result[0]);
    store(out, m - k, result[1]);  // k == m - k: the same value twice
  }
  store(out, 0, first);
  store(out, m, last);
}

/// Puts sample j of n (value v) where rfft's complex FFT reads it in
/// `scratch`: even n, the samples as they lie in memory are the complex
/// values z; odd n, x + 0i.
inline void place_sample(float* scratch, uint32_t n, uint32_t j, float v) {
  if (n % 2u == 0u) {
    scratch[j] = v;
  } else {
    scratch[2u * j] = v;
    scratch[2u * j + 1u] = 0.0f;
  }
}

/// The one-sided spectrum (2 rfft_bins(n) floats to out) of the n samples
/// place_sample put in scratch (rfft_scratch_floats(n) floats); the
/// twiddles are any table table_read reads (a pointer or a far table), so
/// the transforms program can run it on its own tables.
template <typename T>
inline void rfft_placed(float* scratch, uint32_t n, T twiddles, float* out) {
  const bool even = n % 2u == 0u;
  const uint32_t m = even ? n / 2u : n;
  const float* z = complex_fft(scratch, scratch + 2u * m, m, twiddles, n / m);
  if (even) {
    split_real(z, m, twiddles, out);
  } else {
    for (uint32_t k = 0; k < 2u * (n / 2u + 1u); ++k) {
      out[k] = z[k];
    }
  }
}

}  // namespace fft_detail

/// One-sided FFT of n real samples, as numpy.fft.rfft(x * window).
///   x:        n samples (caller memory);
///   window:   n factors the samples are multiplied by first (a table, read
///             with table_read), or nullptr for none; each product is
///             rounded once, as x[j] * window[j] in float;
///   twiddles: rfft_twiddle_floats(n) = 2n floats (a table): cos(2 pi k / n),
///             sin(2 pi k / n) for k = 0 .. n - 1, interleaved;
///   out:      2 rfft_bins(n) = 2 (n / 2 + 1) floats, bin k's real part at
///             2k and imaginary part at 2k + 1;
///   scratch:  rfft_scratch_floats(n) floats (2n for even n, 4n for odd n),
///             not overlapping x or out.
/// Returns status::bad_argument for a null pointer or a length
/// fft_length_supported() refuses; out is then untouched.
/// Error, normwise over the bins, against the exact spectrum X of the
/// float32 x * window: ||X^ - X||_2 <= e(n) sqrt(n) ||x * window||_2 with
/// e(n) a sum of one constant per stage (4.3u to 5.3u for radix 2 and 4,
/// 14u and 23u for radix 3 and 5) plus 4.8u for the split of even n and u
/// for the window, so growing like log2 n (emlearn_gen.signal.spectrum.
/// rfft_error_bound computes it; docs/signal.md derives it). Stack: a few
/// dozen words; no recursion. Time: O(n (sum of the factors of n)).
inline status rfft(const float* x, uint32_t n, const float* window, const float* twiddles, float* out,
                   float* scratch) {
  if (x == nullptr || twiddles == nullptr || out == nullptr || scratch == nullptr || !fft_length_supported(n)) {
    return status::bad_argument;
  }
  for (uint32_t j = 0; j < n; ++j) {
    fft_detail::place_sample(scratch, n, j, window == nullptr ? x[j] : x[j] * table_read(window, j));
  }
  fft_detail::rfft_placed(scratch, n, twiddles, out);
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_FFT_HPP
