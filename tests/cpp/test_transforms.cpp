// Tests of transforms.hpp on small programs made here, against references
// computed here from the same float tables, operation by operation.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cmath>
#include <limits>
#include <vector>

#include "emlearn_gen/transforms.hpp"

namespace {

using emlearn_gen::status;
using emlearn_gen::transforms_model;
namespace op = emlearn_gen::transform_op;

// A program with its tables, built step by step, and the descriptor the kernels take.
struct Program {
  std::vector<uint8_t> ops;
  std::vector<uint32_t> shapes;
  std::vector<float> params;
  std::vector<uint32_t> indices;
  std::vector<float> quadratic;
  uint32_t n_features;
  uint32_t width;  // of the row the last step wrote

  explicit Program(uint32_t n) : n_features(n), width(n) {}

  // A step on the whole row.
  Program& step(uint8_t code, uint32_t n_out, std::vector<float> p, std::vector<uint32_t> idx = {}) {
    return slice(code, n_out, 0, width, p, idx);
  }
  // A step on `count` values from `first` on.
  Program& slice(uint8_t code, uint32_t n_out, uint32_t first, uint32_t count, std::vector<float> p,
                 std::vector<uint32_t> idx = {}) {
    ops.push_back(code);
    shapes.push_back(n_out);
    shapes.push_back(static_cast<uint32_t>(params.size()));
    shapes.push_back(static_cast<uint32_t>(indices.size()));
    shapes.push_back(first);
    shapes.push_back(count);
    params.insert(params.end(), p.begin(), p.end());
    indices.insert(indices.end(), idx.begin(), idx.end());
    width = n_out;
    return *this;
  }

  uint32_t max_width() const {
    uint32_t widest = 0;
    for (size_t s = 0; s + 1 < ops.size(); ++s) {
      widest = shapes[5 * s] > widest ? shapes[5 * s] : widest;
    }
    return widest;
  }
  transforms_model descriptor() const {
    return transforms_model{ops.data(),   shapes.data(), params.data(), indices.data(), quadratic.data(),
                            static_cast<uint32_t>(ops.size()), n_features, width, max_width()};
  }
  status validate() const {
    return emlearn_gen::transforms_validate(descriptor(), ops.size(), shapes.size(), params.size(), indices.size(),
                                            quadratic.size());
  }
  std::vector<float> run(const std::vector<float>& x) const {
    std::vector<float> out(width), scratch(2 * max_width() + 1);
    emlearn_gen::transforms_run(descriptor(), x.data(), out.data(), scratch.data());
    return out;
  }
};

TEST(Transforms, ScalersClipAndImputeComputeAsWritten) {
  Program p(3);
  p.step(op::impute, 3, {1.5f, -2.0f, 0.25f})
      .step(op::center_divide, 3, {0.5f, 1.0f, -3.0f, 2.0f, 0.3f, 7.0f})
      .step(op::multiply_add, 3, {1.7f, -0.2f, 3.0f, 0.1f, 0.0f, -1.0f})
      .step(op::clip, 3, {-1.0f, 1.0f});
  ASSERT_EQ(p.validate(), status::ok);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {nan, 0.75f, -9.0f};
  const std::vector<float> y = p.run(x);
  const float in[3] = {1.5f, 0.75f, -9.0f};
  for (int i = 0; i < 3; ++i) {
    volatile float centred = in[i] - p.params[3 + i];
    volatile float scaled = centred / p.params[6 + i];
    volatile float product = scaled * p.params[9 + i];
    volatile float shifted = product + p.params[12 + i];
    const float want = shifted < -1.0f ? -1.0f : (shifted > 1.0f ? 1.0f : shifted);
    EXPECT_EQ(y[i], want) << i;
  }
}

TEST(Transforms, NaNThroughAScalerIsTheOneQuietNaN) {
  Program p(1);
  p.step(op::center_divide, 1, {1.0f, 2.0f});
  ASSERT_EQ(p.validate(), status::ok);
  uint32_t bits = 0xFFC12345u;  // a negative NaN with a payload
  float x;
  memcpy(&x, &bits, sizeof x);
  const float y = p.run({x})[0];
  uint32_t got;
  memcpy(&got, &y, sizeof got);
  EXPECT_EQ(got, 0x7FC00000u);
}

TEST(Transforms, SelectNormalizeBinarizeAndProject) {
  Program p(4);
  p.step(op::select, 3, {}, {3u, 0u, 3u}).step(op::normalize_l2, 3, {}).step(op::binarize, 3, {0.5f});
  ASSERT_EQ(p.validate(), status::ok);
  const std::vector<float> y = p.run({3.0f, 9.0f, 9.0f, 4.0f});
  // (4, 3, 4) / sqrt(41): 0.62, 0.47, 0.62.
  EXPECT_EQ(y, (std::vector<float>{1.0f, 0.0f, 1.0f}));

  Program zero(2);
  zero.step(op::normalize_l1, 2, {}).step(op::normalize_max, 2, {});
  ASSERT_EQ(zero.validate(), status::ok);
  EXPECT_EQ(zero.run({0.0f, -0.0f}), (std::vector<float>{0.0f, -0.0f}));  // a zero row stays as it is
  // l1: (-0.75, 0.25); then max: divided by 0.75.
  EXPECT_EQ(zero.run({-3.0f, 1.0f}), (std::vector<float>{-1.0f, 0.25f / 0.75f}));

  Program proj(3);
  proj.step(op::project, 2, {1.0f, 2.0f, 3.0f, 0.5f, -1.0f, 0.1f, 2.0f, 0.0f, 0.3f});
  ASSERT_EQ(proj.validate(), status::ok);
  const std::vector<float> x = {1.3f, -0.7f, 4.0f};
  const std::vector<float> got = proj.run(x);
  for (int k = 0; k < 2; ++k) {
    float sum = 0.0f;
    for (int i = 0; i < 3; ++i) {
      volatile float d = x[i] - proj.params[i];
      volatile float t = proj.params[3 + 3 * k + i] * d;
      sum += t;
    }
    EXPECT_EQ(got[k], sum) << k;
  }
}

TEST(Transforms, ScoreSamplesIsTheQuadraticFormOfTheLastStepsInput) {
  Program p(2);
  p.step(op::center_divide, 2, {0.0f, 0.0f, 2.0f, 2.0f}).step(op::project, 1, {0.5f, -0.5f, 1.0f, 1.0f});
  p.quadratic = {-0.5f, 0.25f, -1.5f, -3.0f};  // q00, q01, q11, c
  ASSERT_EQ(p.validate(), status::ok);
  std::vector<float> scratch(2 * p.max_width());
  float score = 0.0f;
  const float x[2] = {3.0f, -1.0f};
  emlearn_gen::transforms_score_samples(p.descriptor(), x, &score, scratch.data());
  const double d0 = 1.5 - 0.5, d1 = -0.5 + 0.5;
  EXPECT_FLOAT_EQ(score, static_cast<float>(d0 * (-0.5 * d0 + 0.25 * d1) + d1 * (-1.5 * d1) - 3.0));
}

TEST(Transforms, SlicesAreTransformedInPlaceOfTheirValues) {
  // x = (a, b, c, d): keep a, project (b, c) to one value, keep d; then
  // flag the missing values of the last two.
  Program p(4);
  p.slice(op::project, 3, 1, 2, {1.0f, 0.0f, 2.0f, -1.0f}).slice(op::missing_flags, 3, 1, 2, {});
  ASSERT_EQ(p.validate(), status::ok);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(p.run({5.0f, 3.0f, 0.5f, nan}), (std::vector<float>{5.0f, 0.0f, 1.0f}));
  Program q(4);
  q.slice(op::project, 3, 1, 2, {1.0f, 0.0f, 2.0f, -1.0f});
  EXPECT_EQ(q.run({5.0f, 3.0f, 0.5f, 7.0f}), (std::vector<float>{5.0f, 2.0f * 2.0f - 0.5f, 7.0f}));
}

TEST(Transforms, PolynomialDiscretizeAndFunctions) {
  Program poly(2);
  // 1, x0, x1, x0^2, x0 x1, x1^2
  poly.step(op::polynomial, 6, {}, {0u, 1u, 0u, 1u, 1u, 2u, 0u, 0u, 2u, 0u, 1u, 2u, 1u, 1u});
  ASSERT_EQ(poly.validate(), status::ok);
  EXPECT_EQ(poly.run({3.0f, -0.5f}), (std::vector<float>{1.0f, 3.0f, -0.5f, 9.0f, -1.5f, 0.25f}));

  Program bins(2);
  bins.step(op::discretize, 2, {0.0f, 1.0f, 2.0f, 10.0f}, {3u, 1u});
  ASSERT_EQ(bins.validate(), status::ok);
  EXPECT_EQ(bins.run({1.0f, 9.9f}), (std::vector<float>{2.0f, 0.0f}));
  EXPECT_EQ(bins.run({-1.0f, 10.0f}), (std::vector<float>{0.0f, 1.0f}));

  Program fn(3);
  fn.step(op::function, 3, {}, {emlearn_gen::transform_function::log_plus_one});
  ASSERT_EQ(fn.validate(), status::ok);
  const std::vector<float> y = fn.run({0.0f, 1.0f, -1.0f});
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], emlearn_gen::log_f(2.0f));
  EXPECT_TRUE(std::isinf(y[2]) && y[2] < 0.0f);

  Program bad(3);
  bad.step(op::function, 3, {}, {99u});
  EXPECT_EQ(bad.validate(), status::bad_table);
}

TEST(Transforms, ValidateRefusesWhatWouldReadOutsideTheTables) {
  Program good(2);
  good.step(op::select, 1, {}, {1u});
  ASSERT_EQ(good.validate(), status::ok);

  Program out_of_row(2);
  out_of_row.step(op::select, 1, {}, {2u});
  EXPECT_EQ(out_of_row.validate(), status::bad_table);

  Program unknown(2);
  unknown.step(99, 2, {});
  EXPECT_EQ(unknown.validate(), status::bad_table);

  Program wrong_width(2);
  wrong_width.step(op::center_divide, 3, {0, 0, 1, 1});
  EXPECT_EQ(wrong_width.validate(), status::bad_table);

  Program short_params(2);
  short_params.step(op::center_divide, 2, {0, 0, 1});
  EXPECT_EQ(short_params.validate(), status::size_mismatch);

  Program bad_quadratic(2);
  bad_quadratic.step(op::project, 1, {0, 0, 1, 1});
  bad_quadratic.quadratic = {1.0f, 2.0f};
  EXPECT_EQ(bad_quadratic.validate(), status::size_mismatch);

  Program not_projected(2);
  not_projected.step(op::impute, 2, {0, 0});
  not_projected.quadratic = {1.0f, 2.0f, 3.0f, 4.0f};
  EXPECT_EQ(not_projected.validate(), status::size_mismatch);

  Program beyond_row(3);
  beyond_row.slice(op::missing_flags, 3, 2, 2, {});
  EXPECT_EQ(beyond_row.validate(), status::bad_table);

  Program bad_degree(2);
  bad_degree.step(op::polynomial, 1, {}, {3u, 0u, 1u});
  EXPECT_EQ(bad_degree.validate(), status::size_mismatch);

  Program short_thresholds(2);
  short_thresholds.step(op::discretize, 2, {0.5f}, {1u, 1u});
  EXPECT_EQ(short_thresholds.validate(), status::size_mismatch);

  transforms_model empty = good.descriptor();
  empty.n_steps = 0;
  EXPECT_EQ(emlearn_gen::transforms_validate(empty, 0, 0, 0, 1, 0), status::bad_argument);
}

// B-spline i of degree k on knots t at x, by its recursive definition, in
// double (0 outside its support [t[i], t[i + k + 1])).
double textbook_spline(const std::vector<double>& t, size_t i, size_t k, double x) {
  if (k == 0) {
    return t[i] <= x && x < t[i + 1] ? 1.0 : 0.0;
  }
  double left = 0.0, right = 0.0;
  if (t[i + k] > t[i]) {
    left = (x - t[i]) / (t[i + k] - t[i]) * textbook_spline(t, i, k - 1, x);
  }
  if (t[i + k + 1] > t[i + 1]) {
    right = (t[i + k + 1] - x) / (t[i + k + 1] - t[i + 1]) * textbook_spline(t, i + 1, k - 1, x);
  }
  return left + right;
}

// The polynomial of knot interval l of spline i, at any x (beyond the
// interval too), in double: the spline's value at 3 k + 1 points inside the
// interval, interpolated by Lagrange's formula (exact for degree <= 3).
double piece_spline(const std::vector<double>& t, size_t l, size_t i, size_t k, double x) {
  const size_t m = k + 1;
  double sum = 0.0;
  for (size_t a = 0; a < m; ++a) {
    const double xa = t[l] + (t[l + 1] - t[l]) * (a + 0.5) / m;
    double term = textbook_spline(t, i, k, xa);
    for (size_t b = 0; b < m; ++b) {
      if (b != a) {
        const double xb = t[l] + (t[l + 1] - t[l]) * (b + 0.5) / m;
        term *= (x - xb) / (xa - xb);
      }
    }
    sum += term;
  }
  return sum;
}

// A one-feature spline step's program: knots t, degree k, mode, splines n_s,
// kept n_kept, then 4 n_b boundary values.
Program spline_program(const std::vector<double>& t, uint32_t k, uint32_t mode, uint32_t n_s, uint32_t n_kept,
                       const std::vector<float>& boundary = {}) {
  std::vector<float> p(t.begin(), t.end());
  p.insert(p.end(), boundary.begin(), boundary.end());
  Program prog(1);
  prog.step(op::spline, n_kept, p,
            {k, mode, static_cast<uint32_t>(t.size()), n_s, n_kept, static_cast<uint32_t>(boundary.size() / 4)});
  return prog;
}

TEST(Transforms, SplineBasisIsCoxDeBoorWithTheEndPiecesContinued) {
  // Cubic, base knots 0, 0.5, 1.5, 3 (uneven), three knots beyond each end.
  const std::vector<double> t = {-1.5, -1.0, -0.5, 0.0, 0.5, 1.5, 3.0, 4.5, 6.0, 7.5};
  const uint32_t k = 3, n_s = 6;
  Program p = spline_program(t, k, emlearn_gen::spline_mode::continued, n_s, n_s);
  ASSERT_EQ(p.validate(), status::ok);
  for (double x : {-0.7, 0.0, 0.2, 0.5, 1.0, 2.9, 3.0, 3.6}) {
    // The interval the runtime evaluates: the first or last beyond the base knots.
    size_t l = k;
    while (l + 1 < t.size() - k - 1 && x >= t[l + 1]) {
      ++l;
    }
    const std::vector<float> y = p.run({static_cast<float>(x)});
    double total = 0.0;
    for (size_t j = 0; j < n_s; ++j) {
      const double want = j + k >= l && j <= l ? piece_spline(t, l, j, k, x) : 0.0;
      EXPECT_NEAR(y[j], want, 2e-6) << "x " << x << " spline " << j;
      total += static_cast<double>(y[j]);
    }
    EXPECT_NEAR(total, 1.0, 1e-6) << x;  // a partition of unity, also beyond the knots
  }
  // Without the last spline, and NaN (handle_missing="zeros") as zeros.
  Program no_bias = spline_program(t, k, emlearn_gen::spline_mode::continued, n_s, n_s - 1);
  ASSERT_EQ(no_bias.validate(), status::ok);
  const std::vector<float> full = p.run({1.25f});
  EXPECT_EQ(no_bias.run({1.25f}), std::vector<float>(full.begin(), full.end() - 1));
  EXPECT_EQ(p.run({std::numeric_limits<float>::quiet_NaN()}), std::vector<float>(n_s, 0.0f));
}

TEST(Transforms, SplineExtrapolatesConstantLinearAndPeriodic) {
  // Quadratic, base knots 0..3; 2 boundary splines each side.
  const std::vector<double> t = {-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0};
  const uint32_t k = 2, n_s = 5;
  const std::vector<float> boundary = {0.5f, 0.5f, -1.0f, 1.0f, 0.5f, 0.5f, -1.0f, 1.0f};
  Program constant = spline_program(t, k, emlearn_gen::spline_mode::constant, n_s, n_s, boundary);
  Program linear = spline_program(t, k, emlearn_gen::spline_mode::linear, n_s, n_s, boundary);
  ASSERT_EQ(constant.validate(), status::ok);
  ASSERT_EQ(linear.validate(), status::ok);
  EXPECT_EQ(constant.run({-4.0f}), (std::vector<float>{0.5f, 0.5f, 0.0f, 0.0f, 0.0f}));
  EXPECT_EQ(constant.run({9.0f}), (std::vector<float>{0.0f, 0.0f, 0.0f, 0.5f, 0.5f}));
  // value + slope * (x - boundary): below 0 by 4, above 3 by 6.
  EXPECT_EQ(linear.run({-4.0f}), (std::vector<float>{4.5f, -3.5f, 0.0f, 0.0f, 0.0f}));
  EXPECT_EQ(linear.run({9.0f}), (std::vector<float>{0.0f, 0.0f, 0.0f, -5.5f, 6.5f}));
  // Inside the base knots both are the splines themselves.
  const std::vector<float> inside = linear.run({1.3f});
  for (size_t j = 0; j < n_s; ++j) {
    EXPECT_NEAR(inside[j], textbook_spline(t, j, k, 1.3), 1e-6) << j;
  }

  // Periodic: base knots 0..4 (period 4), 4 splines; spline 4 + j is spline j.
  const std::vector<double> tp = {-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
  Program periodic = spline_program(tp, k, emlearn_gen::spline_mode::periodic, 4, 4);
  ASSERT_EQ(periodic.validate(), status::ok);
  for (double x : {0.0, 0.3, 1.7, 3.9}) {
    std::vector<double> want(4, 0.0);
    for (size_t b = 0; b < 6; ++b) {
      want[b % 4] += textbook_spline(tp, b, k, x);
    }
    for (double shift : {0.0, 4.0, -8.0, 40.0}) {
      const std::vector<float> y = periodic.run({static_cast<float>(x + shift)});
      for (size_t j = 0; j < 4; ++j) {
        EXPECT_NEAR(y[j], want[j], 1e-5) << "x " << x + shift << " spline " << j;
      }
    }
  }
}

TEST(Transforms, ValidateRefusesSplineCountsThatDoNotFit) {
  const std::vector<double> t = {-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0};
  EXPECT_EQ(spline_program(t, 2, 0, 5, 5).validate(), status::ok);
  // Degree 4 (the stack holds 4 values), knots that do not give 5 splines,
  // an unknown mode, kept splines that are neither all nor all but one.
  EXPECT_EQ(spline_program(t, 4, 0, 3, 3).validate(), status::bad_table);
  EXPECT_EQ(spline_program(t, 2, 0, 4, 4).validate(), status::bad_table);
  EXPECT_EQ(spline_program(t, 2, 7, 5, 5).validate(), status::bad_table);
  EXPECT_EQ(spline_program(t, 2, 0, 5, 3).validate(), status::bad_table);
  // Boundary values only for constant and linear, and all of them present.
  EXPECT_EQ(spline_program(t, 2, 0, 5, 5, {1, 2, 3, 4}).validate(), status::bad_table);
  Program short_boundary = spline_program(t, 2, 1, 5, 5, {1, 2, 3, 4});
  short_boundary.indices.back() = 2;
  EXPECT_EQ(short_boundary.validate(), status::size_mismatch);
  Program short_indices = spline_program(t, 2, 0, 5, 5);
  short_indices.indices.pop_back();
  EXPECT_EQ(short_indices.validate(), status::size_mismatch);
}

}  // namespace
