// Tests of window_stats.hpp: the statistics against long double references
// computed here, their conventions, the argument checks, and the same
// kernel as a transforms program's window_stats step.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>

#include <cmath>
#include <vector>

#include "emlearn_gen/transforms.hpp"
#include "emlearn_gen/window_stats.hpp"

namespace {

using emlearn_gen::status;
namespace wf = emlearn_gen::window_feature;

const std::vector<uint8_t> kAll = {0, 1, 2, 3, 4, 5, 6, 7};

std::vector<float> stats(const std::vector<float>& x, uint32_t n_samples, uint32_t n_channels,
                         const std::vector<uint8_t>& features = kAll) {
  std::vector<float> out(features.size() * n_channels, -12345.0f);
  EXPECT_EQ(emlearn_gen::window_stats(x.data(), n_samples, n_channels, features.data(),
                                      static_cast<uint32_t>(features.size()), out.data()),
            status::ok);
  return out;
}

// n u / (1 - n u), Higham's bound on n roundings, u = 2^-24.
double gamma(double n) {
  const double u = std::ldexp(1.0, -24);
  return n * u / (1.0 - n * u);
}

TEST(WindowStats, EveryFeatureOfEveryChannelAgainstLongDouble) {
  const uint32_t n = 50, channels = 3;
  std::vector<float> x(n * channels);
  for (uint32_t s = 0; s < n; ++s) {
    x[s * channels + 0] = static_cast<float>(std::sin(0.3 * s) * 2.5);
    x[s * channels + 1] = 1000.0f + static_cast<float>(s % 7) * 0.125f;  // offset far above the spread
    x[s * channels + 2] = static_cast<float>(s) * 1e-3f - 0.02f;
  }
  const std::vector<float> y = stats(x, n, channels);
  for (uint32_t c = 0; c < channels; ++c) {
    long double sum = 0, squares = 0, abs_sum = 0;
    long double lo = static_cast<long double>(x[c]), hi = lo;
    uint32_t crossings = 0;
    for (uint32_t s = 0; s < n; ++s) {
      const long double v = static_cast<long double>(x[s * channels + c]);
      sum += v;
      abs_sum += std::fabs(v);
      squares += v * v;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      if (s > 0 && (x[(s - 1) * channels + c] < 0.0f) != (x[s * channels + c] < 0.0f)) ++crossings;
    }
    const long double mean = sum / n;
    long double deviations = 0;
    for (uint32_t s = 0; s < n; ++s) {
      const long double d = static_cast<long double>(x[s * channels + c]) - mean;
      deviations += d * d;
    }
    const double A = static_cast<double>(abs_sum / n);
    const double mean_err = gamma(n + 1) * A;
    EXPECT_NEAR(y[wf::mean * channels + c], static_cast<double>(mean), mean_err) << c;
    EXPECT_EQ(y[wf::minimum * channels + c], static_cast<float>(lo)) << c;
    EXPECT_EQ(y[wf::maximum * channels + c], static_cast<float>(hi)) << c;
    EXPECT_EQ(y[wf::zero_crossings * channels + c], static_cast<float>(crossings)) << c;
    EXPECT_NEAR(y[wf::energy * channels + c], static_cast<double>(squares), gamma(n) * static_cast<double>(squares));
    const double rms = std::sqrt(static_cast<double>(squares / n));
    EXPECT_NEAR(y[wf::rms * channels + c], rms, (gamma(n + 1) / 2 + gamma(2)) * rms) << c;
    const double var = static_cast<double>(deviations / n);
    const double var_err = gamma(n + 3) * (var + mean_err * mean_err) + mean_err * mean_err;
    const double std_dev = std::sqrt(var);
    EXPECT_NEAR(y[wf::standard_deviation * channels + c], std_dev,
                var_err / (std_dev + std::sqrt(std::fmax(var - var_err, 0.0))) + gamma(2) * std_dev)
        << c;
    EXPECT_EQ(y[wf::peak_to_peak * channels + c], static_cast<float>(hi - lo)) << c;
  }
}

TEST(WindowStats, ZerosCountAsNonNegativeForCrossings) {
  EXPECT_EQ(stats({1.0f, 0.0f, 1.0f}, 3, 1, {wf::zero_crossings})[0], 0.0f);
  EXPECT_EQ(stats({-1.0f, 0.0f, -1.0f}, 3, 1, {wf::zero_crossings})[0], 2.0f);
  EXPECT_EQ(stats({-1.0f, -0.0f, 1.0f}, 3, 1, {wf::zero_crossings})[0], 1.0f);
}

TEST(WindowStats, OneSampleAndAConstantWindow) {
  const std::vector<float> one = stats({-2.5f}, 1, 1);
  EXPECT_EQ(one[wf::mean], -2.5f);
  EXPECT_EQ(one[wf::standard_deviation], 0.0f);
  EXPECT_EQ(one[wf::rms], 2.5f);
  EXPECT_EQ(one[wf::energy], 6.25f);
  EXPECT_EQ(one[wf::zero_crossings], 0.0f);
  const std::vector<float> constant = stats(std::vector<float>(64, 3.7f), 64, 1);
  // The rounded mean of equal samples may miss them by its bound, which
  // the deviation then shows (numpy's is as far from 0 in float64 terms).
  EXPECT_LE(constant[wf::standard_deviation], gamma(65) * 3.7 * 1.0001);
  EXPECT_EQ(constant[wf::peak_to_peak], 0.0f);
}

TEST(WindowStats, FeaturesInTheOrderAsked) {
  const std::vector<float> x = {1.0f, -4.0f, 3.0f, 2.0f};  // 2 samples x 2 channels
  const std::vector<float> y = stats(x, 2, 2, {wf::maximum, wf::minimum});
  EXPECT_EQ(y, (std::vector<float>{3.0f, 2.0f, 1.0f, -4.0f}));
}

TEST(WindowStats, BadArgumentsWriteNothing) {
  const std::vector<float> x(6, 1.0f);
  std::vector<float> out(6, 7.0f);
  const uint8_t bad_code[1] = {8};
  EXPECT_EQ(emlearn_gen::window_stats(x.data(), 0u, 6u, kAll.data(), 1u, out.data()), status::bad_argument);
  EXPECT_EQ(emlearn_gen::window_stats(x.data(), 6u, 0u, kAll.data(), 1u, out.data()), status::bad_argument);
  EXPECT_EQ(emlearn_gen::window_stats(x.data(), 6u, 1u, kAll.data(), 0u, out.data()), status::bad_argument);
  EXPECT_EQ(emlearn_gen::window_stats(static_cast<const float*>(NULL), 6u, 1u, kAll.data(), 1u, out.data()),
            status::bad_argument);
  EXPECT_EQ(emlearn_gen::window_stats(x.data(), 6u, 1u, kAll.data(), 1u, static_cast<float*>(NULL)),
            status::bad_argument);
  EXPECT_EQ(emlearn_gen::window_stats(x.data(), 6u, 1u, bad_code, 1u, out.data()), status::bad_table);
  EXPECT_EQ(emlearn_gen::window_stats(x.data(), EMLEARN_GEN_WINDOW_MAX_SAMPLES + 1u, 1u, kAll.data(), 1u,
                                      out.data()),
            status::bad_argument);
  EXPECT_EQ(emlearn_gen::window_stats_validate(65536u, 65536u, kAll.data(), 1u), status::bad_argument);
  EXPECT_EQ(out, std::vector<float>(6, 7.0f));
}

// A one-step transforms program: window_stats of n_samples x n_channels.
struct WindowProgram {
  std::vector<uint8_t> ops = {emlearn_gen::transform_op::window_stats};
  std::vector<uint32_t> shapes;
  std::vector<float> params = {0.0f, 0.0f};
  std::vector<uint32_t> indices;
  WindowProgram(uint32_t n_samples, uint32_t n_channels, const std::vector<uint32_t>& codes, uint32_t n_out) {
    shapes = {n_out, 0u, 0u, 0u, n_samples * n_channels};
    indices = {n_samples, n_channels, static_cast<uint32_t>(codes.size())};
    indices.insert(indices.end(), codes.begin(), codes.end());
  }
  emlearn_gen::transforms_model descriptor() const {
    return emlearn_gen::transforms_model{ops.data(), shapes.data(), params.data(), indices.data(), params.data(),
                                         1u, shapes[4], shapes[0], 0u};
  }
  status validate() const {
    return emlearn_gen::transforms_validate(descriptor(), ops.size(), shapes.size(), params.size(), indices.size(),
                                            0u);
  }
};

TEST(WindowStats, AsATransformsStepItIsTheKernel) {
  const WindowProgram p(4, 2, {wf::energy, wf::mean, wf::zero_crossings}, 6);
  ASSERT_EQ(p.validate(), status::ok);
  const std::vector<float> x = {0.5f, -1.0f, -0.25f, 2.0f, 3.0f, -7.0f, -1.5f, 0.125f};
  std::vector<float> out(6);
  emlearn_gen::transforms_run(p.descriptor(), x.data(), out.data(), static_cast<float*>(NULL));
  EXPECT_EQ(out, stats(x, 4, 2, {wf::energy, wf::mean, wf::zero_crossings}));
}

TEST(WindowStats, TransformsRefusesWindowStepsThatDoNotFit) {
  EXPECT_EQ(WindowProgram(4, 2, {wf::mean}, 3).validate(), status::bad_table);      // 1 x 2 outputs, not 3
  EXPECT_EQ(WindowProgram(4, 2, {9u}, 2).validate(), status::bad_table);            // no feature 9
  EXPECT_EQ(WindowProgram(0, 2, {wf::mean}, 2).validate(), status::bad_argument);   // an empty slice
  WindowProgram wrong_slice(4, 2, {wf::mean}, 2);
  wrong_slice.indices[0] = 3;  // 3 x 2 samples in a slice of 8
  EXPECT_EQ(wrong_slice.validate(), status::bad_table);
  WindowProgram short_indices(4, 2, {wf::mean, wf::rms}, 4);
  short_indices.indices.pop_back();  // n_f says 2 codes, 1 is there
  EXPECT_EQ(short_indices.validate(), status::size_mismatch);
}

}  // namespace
