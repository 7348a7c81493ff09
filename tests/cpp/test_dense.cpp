// Tests of dense.hpp (the dense layer) and mlp.hpp (perceptrons on it), on
// small models made here, against references computed here in double
// precision and against the summation order the headers state.
#include <gtest/gtest.h>

#include <math.h>
#include <stdint.h>

#include <cmath>
#include <random>
#include <vector>

#include "emlearn_gen/dense.hpp"
#include "emlearn_gen/mlp.hpp"

namespace {

namespace act = emlearn_gen::dense_activation;
using emlearn_gen::mlp_model;
using emlearn_gen::status;

const double kU = std::ldexp(1.0, -24);

std::vector<float> random_values(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-scale, scale);
  std::vector<float> v(n);
  for (float& f : v) {
    f = value(rng);
  }
  return v;
}

TEST(DenseSums, SumInIndexOrderFromZeroWithTheBiasLastFromTheOffsets) {
  // Two layers' worth of table; the second layer starts at offsets 6 and 2.
  const std::vector<float> w = random_values(6 + 3 * 4, 1, 2.0f);
  const std::vector<float> b = random_values(2 + 3, 2, 2.0f);
  const std::vector<float> x = random_values(4, 3, 3.0f);
  float out[3];
  emlearn_gen::dense_sums(w.data(), 6u, b.data(), 2u, 4u, 3u, x.data(), out);
  for (uint32_t k = 0; k < 3; ++k) {
    volatile float sum = 0.0f;  // volatile: each product rounded, no FMA
    for (uint32_t i = 0; i < 4; ++i) {
      volatile float product = w[6 + k * 4 + i] * x[i];
      sum = sum + product;
    }
    EXPECT_EQ(out[k], sum + b[2 + k]) << k;
  }
}

TEST(DenseSums, MatchDoubleReferenceWithinTheSummationBound) {
  const uint32_t n_in = 37, n_out = 5;
  const std::vector<float> w = random_values(n_in * n_out, 4, 1.0f);
  const std::vector<float> b = random_values(n_out, 5, 1.0f);
  for (uint32_t seed = 10; seed < 60; ++seed) {
    const std::vector<float> x = random_values(n_in, seed, 4.0f);
    float out[n_out];
    emlearn_gen::dense_sums(w.data(), 0u, b.data(), 0u, n_in, n_out, x.data(), out);
    for (uint32_t k = 0; k < n_out; ++k) {
      double want = 0.0, magnitude = 0.0;
      for (uint32_t i = 0; i < n_in; ++i) {
        const double product = static_cast<double>(w[k * n_in + i]) * static_cast<double>(x[i]);
        want += product;
        magnitude += std::fabs(product);
      }
      want += static_cast<double>(b[k]);
      const double gamma = (n_in + 1) * kU / (1.0 - (n_in + 1) * kU);
      EXPECT_LE(std::fabs(static_cast<double>(out[k]) - want), gamma * (magnitude + std::fabs(static_cast<double>(b[k]))));
    }
  }
}

TEST(DenseActivate, EachActivationIsTheMathFunction) {
  const std::vector<float> s = {-3.5f, -0.25f, 0.0f, 0.5f, 7.0f};
  std::vector<float> v = s;
  emlearn_gen::dense_activate(v.data(), 5u, act::identity);
  EXPECT_EQ(v, s);
  v = s;
  emlearn_gen::dense_activate(v.data(), 5u, act::relu);
  EXPECT_EQ(v, (std::vector<float>{0.0f, 0.0f, 0.0f, 0.5f, 7.0f}));
  v = s;
  emlearn_gen::dense_activate(v.data(), 5u, act::logistic);
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(v[i], emlearn_gen::sigmoid_f(s[i]));
  }
  v = s;
  emlearn_gen::dense_activate(v.data(), 5u, act::tanh);
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(v[i], emlearn_gen::tanh_f(s[i]));
  }
  v = s;
  std::vector<float> softmax = s;
  emlearn_gen::softmax_f(softmax.data(), 5u);
  emlearn_gen::dense_activate(v.data(), 5u, act::softmax);
  EXPECT_EQ(v, softmax);
}

TEST(DenseLayer, IsTheSumsThenTheActivation) {
  const std::vector<float> w = random_values(3 * 4, 6, 1.0f);
  const std::vector<float> b = random_values(3, 7, 1.0f);
  const std::vector<float> x = random_values(4, 8, 2.0f);
  float sums[3], layer[3];
  emlearn_gen::dense_sums(w.data(), 0u, b.data(), 0u, 4u, 3u, x.data(), sums);
  emlearn_gen::dense_activate(sums, 3u, act::tanh);
  emlearn_gen::dense_layer(w.data(), 0u, b.data(), 0u, 4u, 3u, x.data(), layer, act::tanh);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(layer[k], sums[k]);
  }
}

// A perceptron with its tables, and the descriptor the kernels take.
struct Mlp {
  std::vector<uint32_t> sizes;
  std::vector<float> weights;
  std::vector<float> biases;
  std::vector<int8_t> qweights = std::vector<int8_t>(1, 0);  // unused: float weights
  std::vector<float> scales = std::vector<float>(1, 0.0f);
  uint8_t hidden;
  uint8_t output;
  uint8_t weight_type = emlearn_gen::mlp_weights::float32;

  Mlp(std::vector<uint32_t> widths, uint8_t hidden_activation, uint8_t output_activation, uint32_t seed)
      : sizes(widths), hidden(hidden_activation), output(output_activation) {
    for (size_t l = 0; l + 1 < sizes.size(); ++l) {
      const std::vector<float> w = random_values(sizes[l] * sizes[l + 1], seed + 2 * l, 1.0f);
      const std::vector<float> b = random_values(sizes[l + 1], seed + 2 * l + 1, 0.5f);
      weights.insert(weights.end(), w.begin(), w.end());
      biases.insert(biases.end(), b.begin(), b.end());
    }
  }
  uint32_t max_width() const {
    uint32_t widest = 0;
    for (size_t l = 1; l < sizes.size(); ++l) widest = sizes[l] > widest ? sizes[l] : widest;
    return widest;
  }
  mlp_model descriptor() const {
    return mlp_model{weights.data(), qweights.data(), scales.data(), biases.data(), sizes.data(), sizes.front(),
                     static_cast<uint32_t>(sizes.size() - 1), sizes.back(), max_width(), hidden, output, weight_type};
  }
  status validate() const {
    return emlearn_gen::mlp_validate(descriptor(), weights.size(), qweights.size(), scales.size(), biases.size(),
                                     sizes.size());
  }
  // The same model with int8 weights: q in [-127, 127], one scale a layer.
  Mlp quantized() const {
    Mlp q = *this;
    q.weight_type = emlearn_gen::mlp_weights::int8;
    q.qweights.clear();
    q.scales.clear();
    size_t first = 0;
    for (size_t l = 0; l + 1 < sizes.size(); ++l) {
      const size_t n = sizes[l] * sizes[l + 1];
      float largest = 0.0f;
      for (size_t i = first; i < first + n; ++i) largest = std::fabs(weights[i]) > largest ? std::fabs(weights[i]) : largest;
      const float scale = largest / 127.0f;
      q.scales.push_back(scale);
      for (size_t i = first; i < first + n; ++i) {
        q.qweights.push_back(static_cast<int8_t>(std::lrint(weights[i] / scale)));
      }
      first += n;
    }
    q.weights.assign(1, 0.0f);
    return q;
  }
};

// The forward pass in double precision: the last layer's sums.
std::vector<double> reference_sums(const Mlp& m, const std::vector<float>& x) {
  std::vector<double> in(x.begin(), x.end());
  size_t w = 0, b = 0;
  for (size_t l = 0; l + 1 < m.sizes.size(); ++l) {
    std::vector<double> out(m.sizes[l + 1]);
    for (size_t k = 0; k < out.size(); ++k) {
      double sum = 0.0;
      for (size_t i = 0; i < in.size(); ++i) sum += static_cast<double>(m.weights[w + k * in.size() + i]) * in[i];
      out[k] = sum + static_cast<double>(m.biases[b + k]);
      if (l + 2 < m.sizes.size()) {
        out[k] = m.hidden == act::relu ? (out[k] > 0 ? out[k] : 0.0) : std::tanh(out[k]);
      }
    }
    w += in.size() * out.size();
    b += out.size();
    in = out;
  }
  return in;
}

TEST(Mlp, SumsMatchADoubleForwardPass) {
  for (uint8_t hidden : {act::relu, act::tanh}) {
    const Mlp m({9, 7, 12, 3}, hidden, act::softmax, 20);
    ASSERT_EQ(m.validate(), status::ok);
    std::vector<float> a(m.max_width()), b(m.max_width());
    for (uint32_t seed = 100; seed < 140; ++seed) {
      const std::vector<float> x = random_values(9, seed, 2.0f);
      float sums[3];
      emlearn_gen::mlp_sums(m.descriptor(), x.data(), a.data(), b.data(), sums);
      const std::vector<double> want = reference_sums(m, x);
      for (int k = 0; k < 3; ++k) {
        // Loose: the contract's propagated bound is tested in Python; this
        // catches a wrong layer order, offset or activation.
        EXPECT_NEAR(static_cast<double>(sums[k]), want[k], 1e-4 * (1.0 + std::fabs(want[k])));
      }
    }
  }
}

TEST(Mlp, EachLayerIsOneDenseLayerOnTheTableOffsets) {
  const Mlp m({4, 5, 2}, act::relu, act::identity, 30);
  const std::vector<float> x = random_values(4, 31, 2.0f);
  float hidden[5], want[2], got[2], a[5], b[5];
  emlearn_gen::dense_layer(m.weights.data(), 0u, m.biases.data(), 0u, 4u, 5u, x.data(), hidden, act::relu);
  emlearn_gen::dense_layer(m.weights.data(), 20u, m.biases.data(), 5u, 5u, 2u, hidden, want, act::identity);
  emlearn_gen::mlp_predict(m.descriptor(), x.data(), a, b, got);
  EXPECT_EQ(got[0], want[0]);
  EXPECT_EQ(got[1], want[1]);
}

TEST(Mlp, LabelIndicatorAndProbaAgreeWithTheSums) {
  for (int layers = 1; layers <= 4; ++layers) {
    std::vector<uint32_t> widths(1, 6u);
    for (int l = 1; l < layers; ++l) widths.push_back(3u + 2u * static_cast<uint32_t>(l));
    widths.push_back(4u);
    const Mlp multi(widths, act::tanh, act::softmax, 40u + static_cast<uint32_t>(layers));
    std::vector<uint32_t> one = widths;
    one.back() = 1u;
    const Mlp binary(one, act::relu, act::logistic, 50u + static_cast<uint32_t>(layers));
    ASSERT_EQ(multi.validate(), status::ok);
    ASSERT_EQ(binary.validate(), status::ok);
    std::vector<float> a(multi.max_width()), b(multi.max_width());
    for (uint32_t seed = 0; seed < 30; ++seed) {
      const std::vector<float> x = random_values(6, 200 + seed, 3.0f);
      float sums[4], proba[4];
      int32_t indicator[4];
      emlearn_gen::mlp_sums(multi.descriptor(), x.data(), a.data(), b.data(), sums);
      EXPECT_EQ(emlearn_gen::mlp_label(multi.descriptor(), x.data(), a.data(), b.data()),
                emlearn_gen::argmax(sums, 4));
      emlearn_gen::mlp_indicator(multi.descriptor(), x.data(), a.data(), b.data(), indicator);
      for (int k = 0; k < 4; ++k) {
        EXPECT_EQ(indicator[k], sums[k] > 0.0f ? 1 : 0);
      }
      emlearn_gen::mlp_predict(multi.descriptor(), x.data(), a.data(), b.data(), proba);
      emlearn_gen::softmax_f(sums, 4u);
      for (int k = 0; k < 4; ++k) {
        EXPECT_EQ(proba[k], sums[k]);
      }
      // Binary: one logistic output p, probabilities {1 - p, p}.
      std::vector<float> a1(binary.max_width()), b1(binary.max_width());
      float s[1], two[2];
      emlearn_gen::mlp_sums(binary.descriptor(), x.data(), a1.data(), b1.data(), s);
      EXPECT_EQ(emlearn_gen::mlp_label(binary.descriptor(), x.data(), a1.data(), b1.data()), s[0] > 0.0f ? 1 : 0);
      emlearn_gen::mlp_proba(binary.descriptor(), x.data(), a1.data(), b1.data(), two);
      EXPECT_EQ(two[1], emlearn_gen::sigmoid_f(s[0]));
      EXPECT_EQ(two[0], 1.0f - two[1]);
    }
  }
}

TEST(DenseSumsScaled, SumTheIntegersInOrderThenScaleThenAddTheBias) {
  const std::vector<int8_t> q = {12, -127, 5, 0, 127, -3, 64, -64};
  const std::vector<float> b = {0.25f, -1.5f};
  const std::vector<float> x = random_values(4, 70, 3.0f);
  const float scale = 0.0123f;
  float out[2];
  emlearn_gen::dense_sums_scaled(q.data(), 0u, scale, b.data(), 0u, 4u, 2u, x.data(), out);
  for (int k = 0; k < 2; ++k) {
    volatile float sum = 0.0f;
    for (int i = 0; i < 4; ++i) {
      volatile float product = static_cast<float>(q[k * 4 + i]) * x[i];
      sum = sum + product;
    }
    volatile float scaled = sum * scale;
    EXPECT_EQ(out[k], scaled + b[k]) << k;
  }
}

TEST(Mlp, Int8WeightsAreTheirScaleTimesTheIntegers) {
  const Mlp m({7, 9, 3}, act::tanh, act::softmax, 80);
  const Mlp q = m.quantized();
  ASSERT_EQ(q.validate(), status::ok);
  // The float model with the dequantized weights scale * q ...
  Mlp dq = m;
  size_t first = 0;
  for (size_t l = 0; l + 1 < m.sizes.size(); ++l) {
    const size_t n = m.sizes[l] * m.sizes[l + 1];
    for (size_t i = first; i < first + n; ++i) {
      dq.weights[i] = static_cast<float>(q.qweights[i]) * q.scales[l];
    }
    first += n;
  }
  std::vector<float> a(m.max_width()), b(m.max_width());
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const std::vector<float> x = random_values(7, 300 + seed, 2.0f);
    float got[3];
    emlearn_gen::mlp_sums(q.descriptor(), x.data(), a.data(), b.data(), got);
    const std::vector<double> want = reference_sums(dq, x);
    for (int k = 0; k < 3; ++k) {
      // ... within float32 rounding; the quantization itself moves more.
      EXPECT_NEAR(static_cast<double>(got[k]), want[k], 1e-5 * (1.0 + std::fabs(want[k])));
    }
  }
}

TEST(MlpValidate, RefusesTablesThatDisagreeWithTheLayout) {
  const Mlp m({3, 4, 2}, act::relu, act::softmax, 60);
  ASSERT_EQ(m.validate(), status::ok);
  const size_t nw = m.weights.size(), nb = m.biases.size(), ns = m.sizes.size();
  mlp_model d = m.descriptor();
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw - 1, 1, 1, nb, ns), status::size_mismatch);
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw, 1, 1, nb + 1, ns), status::size_mismatch);
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw, 1, 1, nb, ns + 1), status::size_mismatch);
  // int8 weights: the integer table and one scale per layer are checked.
  const Mlp q = m.quantized();
  ASSERT_EQ(q.validate(), status::ok);
  EXPECT_EQ(emlearn_gen::mlp_validate(q.descriptor(), 1, nw - 1, 2, nb, ns), status::size_mismatch);
  EXPECT_EQ(emlearn_gen::mlp_validate(q.descriptor(), 1, nw, 1, nb, ns), status::size_mismatch);
  d.weight_type = 2;
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw, 1, 1, nb, ns), status::bad_table);
  d = m.descriptor();
  d.max_width = 3;  // buffers too small for the hidden layer
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw, 1, 1, nb, ns), status::bad_table);
  d = m.descriptor();
  d.n_features = 4;
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw, 1, 1, nb, ns), status::bad_table);
  d = m.descriptor();
  d.hidden_activation = act::softmax;  // scikit-learn has no softmax hidden layers
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw, 1, 1, nb, ns), status::bad_table);
  d = m.descriptor();
  d.output_activation = 9;
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw, 1, 1, nb, ns), status::bad_table);
  d = m.descriptor();
  d.weights = NULL;
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw, 1, 1, nb, ns), status::bad_argument);
  d = m.descriptor();
  d.n_layers = 0;
  EXPECT_EQ(emlearn_gen::mlp_validate(d, nw, 1, 1, nb, ns), status::bad_argument);
  // A layer of zero units.
  Mlp empty({3, 4, 2}, act::relu, act::softmax, 61);
  empty.sizes[1] = 0;
  EXPECT_EQ(emlearn_gen::mlp_validate(empty.descriptor(), nw, 1, 1, nb, ns), status::bad_table);
}

}  // namespace
