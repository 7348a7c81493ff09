// Tests of filters.hpp: the return codes, the state layout, in-place
// filtering and decimation phases, against references computed here in
// double precision from the same float coefficients.
#include <gtest/gtest.h>

#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "emlearn_gen/filters.hpp"

namespace {

using emlearn_gen::fir_filter;
using emlearn_gen::fir_state;
using emlearn_gen::sos_filter;
using emlearn_gen::status;

// Two sections of a stable low-pass (poles of radius 0.5 and 0.8).
const std::vector<float> kSos = {0.2f, 0.4f, 0.2f, 1.0f, -0.5f, 0.25f, 1.0f, 2.0f, 1.0f, 1.0f, -1.2f, 0.64f};

std::vector<float> noise(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

// Direct Form II transposed in double, one channel of an interleaved signal.
std::vector<double> sosfilt_reference(const std::vector<float>& sos, const std::vector<float>& x, uint32_t channels,
                                      uint32_t c) {
  const size_t sections = sos.size() / 6;
  std::vector<double> z(2 * sections, 0.0), y;
  for (size_t i = c; i < x.size(); i += channels) {
    double v = static_cast<double>(x[i]);
    for (size_t s = 0; s < sections; ++s) {
      double k[6];
      for (size_t j = 0; j < 6; ++j) k[j] = static_cast<double>(sos[6 * s + j]);
      const double out = k[0] * v + z[2 * s];
      z[2 * s] = k[1] * v - k[4] * out + z[2 * s + 1];
      z[2 * s + 1] = k[2] * v - k[5] * out;
      v = out;
    }
    y.push_back(v);
  }
  return y;
}

TEST(Filters, SosValidateNamesWhatIsWrong) {
  sos_filter f{kSos.data(), 2u, 1u};
  EXPECT_EQ(emlearn_gen::sos_validate(f, kSos.size()), status::ok);
  EXPECT_EQ(emlearn_gen::sos_validate(f, kSos.size() - 1u), status::size_mismatch);
  std::vector<float> bad = kSos;
  bad[9] = 2.0f;  // a0 of the second section
  EXPECT_EQ(emlearn_gen::sos_validate(sos_filter{bad.data(), 2u, 1u}, bad.size()), status::bad_table);
  EXPECT_EQ(emlearn_gen::sos_validate(sos_filter{kSos.data(), 0u, 1u}, 0u), status::bad_argument);
  EXPECT_EQ(emlearn_gen::sos_validate(sos_filter{kSos.data(), 2u, 0u}, kSos.size()), status::bad_argument);
  EXPECT_EQ(emlearn_gen::sos_validate(sos_filter{NULL, 2u, 1u}, kSos.size()), status::bad_argument);
  float state[4] = {0};
  EXPECT_EQ(emlearn_gen::sos_filter_block(f, state, NULL, state, 1u), status::bad_argument);
  EXPECT_EQ(emlearn_gen::sos_filter_block(f, NULL, NULL, NULL, 0u), status::ok);
}

TEST(Filters, SosInPlaceAndPerChannelMatchDoubleReference) {
  const uint32_t channels = 3u;
  const sos_filter f{kSos.data(), 2u, channels};
  std::vector<float> x = noise(300 * channels, 1u);
  std::vector<float> y = x;
  std::vector<float> state(emlearn_gen::sos_state_floats(2u, channels));
  emlearn_gen::sos_reset(f, state.data());
  ASSERT_EQ(emlearn_gen::sos_filter_block(f, state.data(), y.data(), y.data(), 300u), status::ok);
  for (uint32_t c = 0; c < channels; ++c) {
    const std::vector<double> want = sosfilt_reference(kSos, x, channels, c);
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(static_cast<double>(y[i * channels + c]), want[i], 1e-5) << "channel " << c << " sample " << i;
    }
  }
}

TEST(Filters, SteadyStateOfAConstantInputStaysThere) {
  // For H(1) = 1 sections, the steady state of a constant c outputs c.
  const std::vector<float> sos = {0.25f, 0.5f, 0.25f, 1.0f, 0.0f, 0.0f};  // H(1) = 1, FIR section
  const float zi[2] = {0.75f, 0.25f};  // sosfilt_zi of that section
  const sos_filter f{sos.data(), 1u, 2u};
  const float first[2] = {2.0f, -4.0f};
  float state[4];
  emlearn_gen::sos_steady_state(f, zi, first, state);
  EXPECT_EQ(state[0], 1.5f);   // zi[0][0] * channel 0
  EXPECT_EQ(state[1], -3.0f);  // zi[0][0] * channel 1
  EXPECT_EQ(state[2], 0.5f);   // zi[0][1] * channel 0
  float x[8] = {2.0f, -4.0f, 2.0f, -4.0f, 2.0f, -4.0f, 2.0f, -4.0f};
  ASSERT_EQ(emlearn_gen::sos_filter_block(f, state, x, x, 4u), status::ok);
  for (int i = 0; i < 8; i += 2) {
    EXPECT_EQ(x[i], 2.0f);
    EXPECT_EQ(x[i + 1], -4.0f);
  }
}

TEST(Filters, FirValidateAndOutputCount) {
  const float taps[3] = {1.0f, 2.0f, 3.0f};
  EXPECT_EQ(emlearn_gen::fir_validate(fir_filter{taps, 3u, 1u, 2u}, 3u), status::ok);
  EXPECT_EQ(emlearn_gen::fir_validate(fir_filter{taps, 3u, 1u, 2u}, 2u), status::size_mismatch);
  EXPECT_EQ(emlearn_gen::fir_validate(fir_filter{taps, 3u, 1u, 0u}, 3u), status::bad_argument);
  EXPECT_EQ(emlearn_gen::fir_validate(fir_filter{taps, 0u, 1u, 1u}, 0u), status::bad_argument);
  // Kept positions 0, 3, 6, ...: from phase p, the first kept sample is (3 - p) % 3.
  EXPECT_EQ(emlearn_gen::fir_output_count(3u, 0u, 1u), 1u);
  EXPECT_EQ(emlearn_gen::fir_output_count(3u, 0u, 4u), 2u);
  EXPECT_EQ(emlearn_gen::fir_output_count(3u, 1u, 2u), 0u);
  EXPECT_EQ(emlearn_gen::fir_output_count(3u, 1u, 3u), 1u);
  EXPECT_EQ(emlearn_gen::fir_output_count(3u, 2u, 1u), 0u);
  EXPECT_EQ(emlearn_gen::fir_output_count(3u, 2u, 2u), 1u);
  EXPECT_EQ(emlearn_gen::fir_output_count(3u, 2u, 0u), 0u);
  EXPECT_EQ(emlearn_gen::fir_output_count(1u, 0u, 5u), 5u);
}

TEST(Filters, FirDecimatesInPlaceAcrossBlocks) {
  const float taps[4] = {0.5f, -0.25f, 0.125f, 2.0f};
  const uint32_t channels = 2u, q = 3u, n = 50u;
  const fir_filter f{taps, 4u, channels, q};
  const std::vector<float> x = noise(n * channels, 2u);
  std::vector<float> history(emlearn_gen::fir_history_floats(4u, channels));
  fir_state s{history.data(), 0u, 0u};
  emlearn_gen::fir_reset(f, &s);
  std::vector<float> y;
  for (uint32_t start = 0; start < n;) {
    const uint32_t size = std::min<uint32_t>(1u + start % 7u, n - start);
    std::vector<float> block(x.begin() + start * channels, x.begin() + (start + size) * channels);
    uint32_t kept = 99u;
    ASSERT_EQ(emlearn_gen::fir_filter_block(f, &s, block.data(), size, block.data(), &kept), status::ok);
    EXPECT_EQ(kept, emlearn_gen::fir_output_count(q, start % q, size));
    y.insert(y.end(), block.begin(), block.begin() + kept * channels);
    start += size;
  }
  ASSERT_EQ(y.size(), ((n + q - 1u) / q) * channels);
  for (uint32_t j = 0; j * q < n; ++j) {
    for (uint32_t c = 0; c < channels; ++c) {
      double want = 0.0;
      for (uint32_t k = 0; k < 4u && k <= j * q; ++k) {
        want += static_cast<double>(taps[k]) * static_cast<double>(x[(j * q - k) * channels + c]);
      }
      EXPECT_NEAR(static_cast<double>(y[j * channels + c]), want, 1e-5);
    }
  }
  EXPECT_EQ(s.phase, n % q);
  uint32_t kept = 0u;
  EXPECT_EQ(emlearn_gen::fir_filter_block(f, &s, NULL, 1u, NULL, &kept), status::bad_argument);
  EXPECT_EQ(emlearn_gen::fir_filter_block(f, &s, NULL, 1u, NULL, NULL), status::bad_argument);
}

}  // namespace
