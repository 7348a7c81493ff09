// Tests of neighbors.hpp on small models made here: the search against a
// sort done here, weights (uniform, distance, distance 0), radius outliers,
// int16 storage read back, LOF's score from its definition, and the
// validation of layouts.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "emlearn_gen/neighbors.hpp"

namespace {

namespace kind = emlearn_gen::neighbors_kind;
using emlearn_gen::neighbors_model;
using emlearn_gen::status;

struct Model {
  std::vector<float> points, targets, kdist, lrd, params;
  std::vector<int16_t> labels;
  neighbors_model m;
};

// n points of 2 features on a grid with random offsets (no equal distances),
// labels cycling over 3 classes, one target each.
Model make_model(uint8_t model_kind, uint32_t n, uint32_t k, uint8_t weighting, float radius) {
  Model model;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> jitter(-0.3f, 0.3f);
  for (uint32_t j = 0; j < n; ++j) {
    model.points.push_back(static_cast<float>(j % 5) + jitter(rng));
    model.points.push_back(static_cast<float>(j / 5) + jitter(rng));
    model.labels.push_back(static_cast<int16_t>(j % 3));
    model.targets.push_back(static_cast<float>(j) * 0.5f - 3.0f);
    model.kdist.push_back(0.5f + 0.01f * static_cast<float>(j));
    model.lrd.push_back(1.0f + 0.02f * static_cast<float>(j));
  }
  model.params = {2.0f, radius * radius, -1.5f};
  neighbors_model& m = model.m;
  m = neighbors_model{};
  m.points = model.points.data();
  m.labels = model.labels.data();
  m.targets = model.targets.data();
  m.kdist = model.kdist.data();
  m.lrd = model.lrd.data();
  m.params = model.params.data();
  m.n_features = 2u;
  m.n_points = n;
  m.n_classes = 3u;
  m.n_outputs = 1u;
  m.k = k;
  m.outlier_class = 3u;
  m.kind = model_kind;
  m.metric = emlearn_gen::distance_metric::sq_euclidean;
  m.weighting = weighting;
  m.storage = emlearn_gen::neighbors_storage::float32;
  return model;
}

std::vector<uint32_t> sorted_by_distance(const Model& model, const float* x) {
  std::vector<uint32_t> order(model.m.n_points);
  std::iota(order.begin(), order.end(), 0u);
  std::vector<float> d(model.m.n_points);
  for (uint32_t j = 0; j < model.m.n_points; ++j) {
    d[j] = emlearn_gen::sq_euclidean_distance(model.points.data(), 2u * j, 2u, x);
  }
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return d[a] < d[b]; });
  return order;
}

TEST(Neighbors, SearchKeepsTheKNearestSortedAndTheFirstOfEqualDistances) {
  Model model = make_model(kind::knn_classifier, 20, 6, emlearn_gen::neighbors_weights::uniform, 0.0f);
  // Two equal points: the first in training order is kept.
  model.points[2 * 7] = model.points[2 * 3];
  model.points[2 * 7 + 1] = model.points[2 * 3 + 1];
  const float x[2] = {model.points[2 * 3] + 0.01f, model.points[2 * 3 + 1]};
  float best[6];
  uint32_t index[6];
  ASSERT_EQ(emlearn_gen::neighbors_search(model.m, x, best, index), 6u);
  const std::vector<uint32_t> want = sorted_by_distance(model, x);
  for (uint32_t i = 0; i < 6; ++i) {
    EXPECT_EQ(index[i], want[i]) << i;
  }
  EXPECT_EQ(index[0], 3u);
  EXPECT_EQ(index[1], 7u);
}

TEST(Neighbors, UniformVotesAndProbabilitiesAreCounts) {
  Model model = make_model(kind::knn_classifier, 20, 5, emlearn_gen::neighbors_weights::uniform, 0.0f);
  const float x[2] = {2.2f, 1.7f};
  float best[5], votes[3], proba[3];
  uint32_t index[5];
  const int32_t label = emlearn_gen::knn_label(model.m, x, best, index, votes);
  const std::vector<uint32_t> order = sorted_by_distance(model, x);
  float counts[3] = {0.0f, 0.0f, 0.0f};
  for (uint32_t i = 0; i < 5; ++i) {
    counts[model.labels[order[i]]] += 1.0f;
  }
  EXPECT_EQ(label, emlearn_gen::argmax(counts, 3));
  emlearn_gen::knn_proba(model.m, x, best, index, proba);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(proba[c], counts[c] / 5.0f) << c;
  }
}

TEST(Neighbors, DistanceWeightsCountOnlyRowsAtDistanceZero) {
  Model model = make_model(kind::knn_regressor, 20, 4, emlearn_gen::neighbors_weights::distance, 0.0f);
  const float* same = model.points.data() + 2 * 9;  // point 9 itself
  float best[4], out[1];
  uint32_t index[4];
  emlearn_gen::knn_predict(model.m, same, best, index, out);
  EXPECT_EQ(out[0], model.targets[9]);
  // Elsewhere: sum of w y over sum of w, w = 1 / distance.
  const float x[2] = {1.3f, 2.6f};
  emlearn_gen::knn_predict(model.m, x, best, index, out);
  const std::vector<uint32_t> order = sorted_by_distance(model, x);
  double num = 0.0, den = 0.0;
  for (uint32_t i = 0; i < 4; ++i) {
    const double dx = static_cast<double>(x[0] - model.points[2 * order[i]]);
    const double dy = static_cast<double>(x[1] - model.points[2 * order[i] + 1]);
    const double w = 1.0 / std::sqrt(dx * dx + dy * dy);
    num += w * static_cast<double>(model.targets[order[i]]);
    den += w;
  }
  EXPECT_NEAR(static_cast<double>(out[0]), num / den, 1e-5 * std::fabs(num / den) + 1e-6);
}

TEST(Neighbors, RadiusWithoutNeighboursGivesTheOutlierClassMinusOneOrNaN) {
  Model model = make_model(kind::radius_classifier, 20, 0, emlearn_gen::neighbors_weights::uniform, 0.8f);
  const float far[2] = {50.0f, 50.0f};
  float votes[3], proba[3];
  EXPECT_EQ(emlearn_gen::radius_label(model.m, far, votes), -1);
  emlearn_gen::radius_proba(model.m, far, proba);
  EXPECT_EQ(proba[0] + proba[1] + proba[2], 0.0f);
  model.m.outlier_class = 2u;
  EXPECT_EQ(emlearn_gen::radius_label(model.m, far, votes), 2);
  emlearn_gen::radius_proba(model.m, far, proba);
  EXPECT_EQ(proba[2], 1.0f);
  model.m.kind = kind::radius_regressor;
  float out[1];
  emlearn_gen::radius_predict(model.m, far, out);
  EXPECT_TRUE(std::isnan(out[0]));
  // Near the data: the mean of the targets within the radius.
  const float x[2] = {2.0f, 2.0f};
  emlearn_gen::radius_predict(model.m, x, out);
  double sum = 0.0;
  int count = 0;
  for (uint32_t j = 0; j < 20; ++j) {
    if (emlearn_gen::sq_euclidean_distance(model.points.data(), 2u * j, 2u, x) <= model.params[1]) {
      sum += static_cast<double>(model.targets[j]);
      ++count;
    }
  }
  ASSERT_GT(count, 0);
  EXPECT_NEAR(static_cast<double>(out[0]), sum / count, 1e-5);
}

TEST(Neighbors, Int16RowsReadAsScaledIntegersPlusOffset) {
  const int16_t q[4] = {-32768, 12, 32767, -5};
  const float scale[2] = {0.5f, 0.001f};
  const float offset[2] = {3.0f, -1.0f};
  const auto rows = emlearn_gen::make_scaled_rows(q, scale, offset);
  const auto second = emlearn_gen::table_from(rows, 2u);
  EXPECT_EQ(emlearn_gen::table_read(rows, 0u), -32768.0f * 0.5f + 3.0f);
  volatile float product = 12.0f * 0.001f;  // rounded before the offset is added
  EXPECT_EQ(emlearn_gen::table_read(rows, 1u), product + -1.0f);
  EXPECT_EQ(emlearn_gen::table_read(second, 0u), 32767.0f * 0.5f + 3.0f);
  const float x[2] = {1.0f, 2.0f};
  const float as_float[4] = {-32768.0f * 0.5f + 3.0f, product + -1.0f, 0.0f, 0.0f};
  EXPECT_EQ(emlearn_gen::sq_euclidean_distance(rows, 0u, 2u, x),
            emlearn_gen::sq_euclidean_distance(as_float, 0u, 2u, x));
}

TEST(Neighbors, LofScoreFollowsItsDefinition) {
  Model model = make_model(kind::lof, 15, 3, emlearn_gen::neighbors_weights::uniform, 0.0f);
  const float x[2] = {1.6f, 0.4f};
  float best[3];
  uint32_t index[3];
  const float score = emlearn_gen::lof_score(model.m, x, best, index);
  const std::vector<uint32_t> order = sorted_by_distance(model, x);
  double reach = 0.0;
  for (uint32_t i = 0; i < 3; ++i) {
    const double dx = static_cast<double>(x[0] - model.points[2 * order[i]]);
    const double dy = static_cast<double>(x[1] - model.points[2 * order[i] + 1]);
    reach += std::max(std::sqrt(dx * dx + dy * dy), static_cast<double>(model.kdist[order[i]]));
  }
  const double lrd = 1.0 / (reach / 3 + 1e-10);
  double ratios = 0.0;
  for (uint32_t i = 0; i < 3; ++i) {
    ratios += static_cast<double>(model.lrd[order[i]]) / lrd;
  }
  EXPECT_NEAR(static_cast<double>(score), -ratios / 3, 1e-5);
  EXPECT_EQ(emlearn_gen::lof_decision(model.m, x, best, index), score - model.params[2]);
  EXPECT_EQ(emlearn_gen::lof_predict(model.m, x, best, index), score - model.params[2] < 0.0f ? -1 : 1);
}

TEST(Neighbors, ValidateRefusesInconsistentLayouts) {
  Model model = make_model(kind::knn_classifier, 10, 3, emlearn_gen::neighbors_weights::uniform, 0.0f);
  auto validate = [](const neighbors_model& m, size_t n_points) {
    return emlearn_gen::neighbors_validate(m, n_points, 0, 0, 0, m.n_points, m.n_points, m.n_points, m.n_points, 0,
                                           0, 0, 3);
  };
  EXPECT_EQ(validate(model.m, 20), status::ok);
  EXPECT_EQ(validate(model.m, 19), status::size_mismatch);
  neighbors_model m = model.m;
  m.k = 11u;
  EXPECT_EQ(validate(m, 20), status::bad_table);
  m = model.m;
  m.metric = 9u;
  EXPECT_EQ(validate(m, 20), status::bad_table);
  m = model.m;
  model.labels[4] = 3;  // class 3 of 3
  EXPECT_EQ(validate(m, 20), status::bad_table);
  m.points = NULL;
  EXPECT_EQ(validate(m, 20), status::bad_argument);
}

}  // namespace
