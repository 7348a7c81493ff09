// Tests of fft.hpp and spectrum.hpp: the FFT against a direct DFT computed
// here in double, the return codes, the filterbank checks, and the
// features' edge cases. The accuracy bounds versus numpy/scipy are checked
// in tests/test_signal_spectrum.py.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>

#include <cmath>
#include <random>
#include <vector>

#include "emlearn_gen/fft.hpp"
#include "emlearn_gen/spectrum.hpp"

namespace {

namespace eg = emlearn_gen;
using eg::status;

const double kPi = 3.14159265358979323846;
const double kU = std::ldexp(1.0, -24);

std::vector<float> twiddles(uint32_t n) {
  std::vector<float> t(2 * n);
  for (uint32_t k = 0; k < n; ++k) {
    t[2 * k] = static_cast<float>(std::cos(2.0 * kPi * k / n));
    t[2 * k + 1] = static_cast<float>(std::sin(2.0 * kPi * k / n));
  }
  return t;
}

std::vector<float> run_rfft(const std::vector<float>& x, const float* window = nullptr) {
  const uint32_t n = static_cast<uint32_t>(x.size());
  const std::vector<float> t = twiddles(n);
  std::vector<float> out(2 * eg::rfft_bins(n), -1.0f);
  std::vector<float> scratch(eg::rfft_scratch_floats(n));
  EXPECT_EQ(eg::rfft(x.data(), n, window, t.data(), out.data(), scratch.data()), status::ok);
  return out;
}

TEST(Fft, MatchesADirectDftForMixedRadixLengths) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (uint32_t n : {1u, 2u, 3u, 5u, 6u, 9u, 12u, 15u, 20u, 25u, 30u, 45u, 48u, 60u, 64u, 100u, 120u, 250u}) {
    std::vector<float> x(n);
    double energy = 0.0;
    for (float& v : x) {
      v = normal(rng);
      energy += static_cast<double>(v) * static_cast<double>(v);
    }
    const std::vector<float> got = run_rfft(x);
    double error = 0.0;
    for (uint32_t k = 0; k < eg::rfft_bins(n); ++k) {
      double re = 0.0, im = 0.0;
      for (uint32_t j = 0; j < n; ++j) {
        const double xj = static_cast<double>(x[j]);
        re += xj * std::cos(2.0 * kPi * j * k / n);
        im -= xj * std::sin(2.0 * kPi * j * k / n);
      }
      error += std::pow(static_cast<double>(got[2 * k]) - re, 2) + std::pow(static_cast<double>(got[2 * k + 1]) - im, 2);
    }
    // Normwise, relative to sqrt(n) ||x||: a few u per stage at most.
    EXPECT_LE(std::sqrt(error), 100.0 * kU * std::sqrt(n * energy)) << "n = " << n;
  }
}

TEST(Fft, ImpulseGivesAFlatSpectrumExactly) {
  for (uint32_t n : {8u, 12u, 60u, 75u}) {
    std::vector<float> x(n, 0.0f);
    x[0] = 1.0f;
    const std::vector<float> got = run_rfft(x);
    for (uint32_t k = 0; k < eg::rfft_bins(n); ++k) {
      EXPECT_EQ(got[2 * k], 1.0f) << n << " " << k;
      EXPECT_EQ(got[2 * k + 1], 0.0f) << n << " " << k;
    }
  }
}

TEST(Fft, WindowIsAppliedFirst) {
  const uint32_t n = 20;
  std::vector<float> x(n), w(n), xw(n);
  for (uint32_t j = 0; j < n; ++j) {
    x[j] = static_cast<float>(j % 7) - 3.0f;
    w[j] = 0.5f - 0.5f * static_cast<float>(std::cos(2.0 * kPi * j / n));
    xw[j] = x[j] * w[j];
  }
  EXPECT_EQ(run_rfft(x, w.data()), run_rfft(xw));
}

TEST(Fft, RefusesUnsupportedLengthsAndNullPointers) {
  EXPECT_TRUE(eg::fft_length_supported(1000));
  EXPECT_FALSE(eg::fft_length_supported(7));
  EXPECT_FALSE(eg::fft_length_supported(0));
  EXPECT_FALSE(eg::fft_length_supported(eg::fft_max_length * 2u));
  const std::vector<float> x(14, 1.0f), t = twiddles(14);
  std::vector<float> out(16, -1.0f), scratch(56);
  EXPECT_EQ(eg::rfft(x.data(), 14, nullptr, t.data(), out.data(), scratch.data()), status::bad_argument);
  EXPECT_EQ(out[0], -1.0f);  // untouched
  EXPECT_EQ(eg::rfft(nullptr, 12, nullptr, t.data(), out.data(), scratch.data()), status::bad_argument);
  EXPECT_EQ(eg::rfft(x.data(), 12, nullptr, nullptr, out.data(), scratch.data()), status::bad_argument);
  EXPECT_EQ(eg::rfft(x.data(), 12, nullptr, t.data(), out.data(), nullptr), status::bad_argument);
}

TEST(Spectrum, KindsAndTheirFloor) {
  const uint32_t n = 12;
  std::vector<float> x(n, 0.0f);
  x[0] = 2.0f;  // |X[k]| = 2 everywhere
  const std::vector<float> t = twiddles(n);
  std::vector<float> out(eg::rfft_bins(n)), scratch(eg::spectrum_scratch_floats(n));
  ASSERT_EQ(eg::spectrum(x.data(), n, nullptr, t.data(), eg::spectrum_kind::power, 1e-10f, out.data(),
                         scratch.data()),
            status::ok);
  for (float v : out) EXPECT_EQ(v, 4.0f);
  ASSERT_EQ(eg::spectrum(x.data(), n, nullptr, t.data(), eg::spectrum_kind::magnitude, 1e-10f, out.data(),
                         scratch.data()),
            status::ok);
  for (float v : out) EXPECT_EQ(v, 2.0f);
  ASSERT_EQ(eg::spectrum(x.data(), n, nullptr, t.data(), eg::spectrum_kind::log_power, 1e-10f, out.data(),
                         scratch.data()),
            status::ok);
  for (float v : out) EXPECT_NEAR(v, 10.0 * std::log10(4.0), 8 * kU * 6.03);
  x[0] = 0.0f;
  ASSERT_EQ(eg::spectrum(x.data(), n, nullptr, t.data(), eg::spectrum_kind::log_power, 1e-10f, out.data(),
                         scratch.data()),
            status::ok);
  for (float v : out) EXPECT_NEAR(v, -100.0, 8 * kU * 100.0);
  EXPECT_EQ(eg::spectrum(x.data(), n, nullptr, t.data(), eg::spectrum_kind::log_power, 0.0f, out.data(),
                         scratch.data()),
            status::bad_argument);
}

TEST(Filterbank, ValidatesItsTables) {
  const uint16_t first[2] = {1, 2};
  const uint16_t offsets[3] = {0, 2, 5};
  const float weights[5] = {0.5f, 1.0f, 0.25f, 0.5f, 0.25f};
  eg::filterbank fb = {first, offsets, weights, 2, 8};
  EXPECT_EQ(eg::filterbank_validate(fb, 5), status::ok);
  EXPECT_EQ(eg::filterbank_validate(fb, 4), status::bad_table);
  fb.n_bins = 4;  // the second filter ends at bin 5
  EXPECT_EQ(eg::filterbank_validate(fb, 5), status::bad_table);
  fb.n_bins = 8;
  const uint16_t decreasing[3] = {0, 3, 2};
  fb.offsets = decreasing;
  EXPECT_EQ(eg::filterbank_validate(fb, 2), status::bad_table);
  fb.offsets = offsets;
  fb.n_filters = 0;
  EXPECT_EQ(eg::filterbank_validate(fb, 5), status::bad_argument);
  fb.n_filters = 2;
  const float spectrum[8] = {9.0f, 2.0f, 4.0f, 8.0f, 16.0f, 0.0f, 0.0f, 0.0f};
  float out[2];
  eg::filterbank_energies(fb, spectrum, false, 1e-10f, out);
  EXPECT_EQ(out[0], 0.5f * 2.0f + 1.0f * 4.0f);
  EXPECT_EQ(out[1], 0.25f * 4.0f + 0.5f * 8.0f + 0.25f * 16.0f);
}

TEST(Features, CentroidDominantTiesAndSilence) {
  const float spectrum[4] = {0.0f, 3.0f, 3.0f, 2.0f};
  EXPECT_EQ(eg::dominant_frequency(spectrum, 4, 10.0f), 10.0f);  // first of the equal largest
  EXPECT_FLOAT_EQ(eg::spectral_centroid(spectrum, 4, 10.0f), (3.0f + 6.0f + 6.0f) / 8.0f * 10.0f);
  const float silence[3] = {0.0f, 0.0f, 0.0f};
  EXPECT_EQ(eg::spectral_centroid(silence, 3, 10.0f), 0.0f);
  EXPECT_EQ(eg::dominant_frequency(silence, 3, 10.0f), 0.0f);
}

}  // namespace
