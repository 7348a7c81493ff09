// Tests of postprocess.hpp: return codes, ring wrap-around, the tie rule of
// the vote, hysteresis on its thresholds and n-of-m counting.
#include <gtest/gtest.h>

#include <stdint.h>

#include <cmath>
#include <vector>

#include "emlearn_gen/postprocess.hpp"

namespace {

using emlearn_gen::status;

TEST(Postprocess, InitRefusesBadSizes) {
  float ring[6];
  emlearn_gen::moving_average average;
  EXPECT_EQ(emlearn_gen::moving_average_bytes(3u, 2u), sizeof ring);
  EXPECT_EQ(emlearn_gen::moving_average_init(&average, ring, sizeof ring, 3u, 2u), status::ok);
  EXPECT_EQ(emlearn_gen::moving_average_init(&average, ring, sizeof ring - 1u, 3u, 2u), status::size_mismatch);
  EXPECT_EQ(emlearn_gen::moving_average_init(&average, ring, sizeof ring, 0u, 2u), status::bad_argument);
  EXPECT_EQ(emlearn_gen::moving_average_init(&average, NULL, sizeof ring, 3u, 2u), status::bad_argument);
  emlearn_gen::exponential_smoothing smooth;
  EXPECT_EQ(emlearn_gen::exponential_smoothing_init(&smooth, ring, sizeof ring, 2u, 0.0f), status::bad_argument);
  EXPECT_EQ(emlearn_gen::exponential_smoothing_init(&smooth, ring, sizeof ring, 2u, NAN), status::bad_argument);
  EXPECT_EQ(emlearn_gen::exponential_smoothing_init(&smooth, ring, 4u, 2u, 0.5f), status::size_mismatch);
  int32_t labels[2];
  emlearn_gen::majority_vote vote;
  EXPECT_EQ(emlearn_gen::majority_vote_init(&vote, labels, sizeof labels, 3u), status::size_mismatch);
  emlearn_gen::hysteresis h;
  EXPECT_EQ(emlearn_gen::hysteresis_init(&h, 1.0f, 0.0f), status::bad_argument);
  EXPECT_EQ(emlearn_gen::hysteresis_init(&h, NAN, 1.0f), status::bad_argument);
  uint8_t events[3];
  emlearn_gen::n_of_m detector;
  EXPECT_EQ(emlearn_gen::n_of_m_init(&detector, events, sizeof events, 4u, 3u), status::bad_argument);
  EXPECT_EQ(emlearn_gen::n_of_m_init(&detector, events, 2u, 2u, 3u), status::size_mismatch);
}

TEST(Postprocess, MovingAverageWrapsAround) {
  float ring[3];
  emlearn_gen::moving_average average;
  ASSERT_EQ(emlearn_gen::moving_average_init(&average, ring, sizeof ring, 3u, 1u), status::ok);
  const float inputs[5] = {3.0f, 6.0f, 9.0f, 12.0f, 0.0f};
  const float want[5] = {3.0f, 4.5f, 6.0f, 9.0f, 7.0f};
  for (int i = 0; i < 5; ++i) {
    float out;
    emlearn_gen::moving_average_update(&average, &inputs[i], &out);
    EXPECT_EQ(out, want[i]) << i;
  }
  emlearn_gen::moving_average_reset(&average);
  float out;
  emlearn_gen::moving_average_update(&average, &inputs[1], &out);
  EXPECT_EQ(out, 6.0f);
}

TEST(Postprocess, ExponentialSmoothingStartsAtTheFirstInput) {
  float value[1];
  emlearn_gen::exponential_smoothing smooth;
  ASSERT_EQ(emlearn_gen::exponential_smoothing_init(&smooth, value, sizeof value, 1u, 0.5f), status::ok);
  const float inputs[3] = {4.0f, 8.0f, 0.0f};
  const float want[3] = {4.0f, 6.0f, 3.0f};
  for (int i = 0; i < 3; ++i) {
    float out;
    emlearn_gen::exponential_smoothing_update(&smooth, &inputs[i], &out);
    EXPECT_EQ(out, want[i]);
  }
}

TEST(Postprocess, MajorityVoteTiesGoToTheMostRecent) {
  int32_t ring[4];
  emlearn_gen::majority_vote vote;
  ASSERT_EQ(emlearn_gen::majority_vote_init(&vote, ring, sizeof ring, 4u), status::ok);
  const int32_t inputs[8] = {5, 5, -1, -1, 7, 7, 7, -1};
  // Windows: 5 | 5 5 | 5 5 -1 | 5 5 -1 -1 (tie: -1) | 5 -1 -1 7 | -1 -1 7 7 (tie: 7) | -1 7 7 7 | 7 7 7 -1
  const int32_t want[8] = {5, 5, 5, -1, -1, 7, 7, 7};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(emlearn_gen::majority_vote_update(&vote, inputs[i]), want[i]) << i;
  }
}

TEST(Postprocess, HysteresisChangesOnlyStrictlyBeyondItsThresholds) {
  emlearn_gen::hysteresis h;
  ASSERT_EQ(emlearn_gen::hysteresis_init(&h, 0.0f, 1.0f), status::ok);
  EXPECT_FALSE(emlearn_gen::hysteresis_update(&h, 1.0f));
  EXPECT_TRUE(emlearn_gen::hysteresis_update(&h, 1.5f));
  EXPECT_TRUE(emlearn_gen::hysteresis_update(&h, NAN));
  EXPECT_TRUE(emlearn_gen::hysteresis_update(&h, 0.0f));
  EXPECT_FALSE(emlearn_gen::hysteresis_update(&h, -0.5f));
  EXPECT_FALSE(emlearn_gen::hysteresis_update(&h, NAN));
}

TEST(Postprocess, NOfMCountsTheLastM) {
  uint8_t ring[3];
  emlearn_gen::n_of_m detector;
  ASSERT_EQ(emlearn_gen::n_of_m_init(&detector, ring, sizeof ring, 2u, 3u), status::ok);
  const bool inputs[7] = {true, false, true, false, false, true, true};
  const bool want[7] = {false, false, true, false, false, false, true};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(emlearn_gen::n_of_m_update(&detector, inputs[i]), want[i]) << i;
  }
}

}  // namespace
