// Host kernel of the mlp family: runtime/include/emlearn_gen/mlp.hpp over
// the tables of emlearn_gen/families/mlp/.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/mlp.hpp"

namespace emlearn_gen_host {
namespace {

/// Runs `fn(x, a, b, out)` on each row, with the two scratch buffers of
/// max_width values (Real: float, or double for float64 weights) the header
/// keeps on its stack, allocated once per batch.
template <typename Real, typename Row>
entry_function with_scratch(const emlearn_gen::mlp_model_t<Real>& m, size_t out_stride, Row fn) {
  return [m, out_stride, fn](const float* X, size_t n, void* out) {
    std::vector<Real> a(m.max_width), b(m.max_width);
    for (size_t i = 0; i < n; ++i) {
      fn(X + i * m.n_features, a.data(), b.data(), static_cast<char*>(out) + i * out_stride);
    }
  };
}

/// The kernel of a perceptron whose weights, biases and sums are Real:
/// float (float32 and int8 weights) or double (float64 weights).
template <typename Real>
class mlp_kernel : public kernel {
 public:
  mlp_kernel(tables& t, fields& f, uint8_t weight_type) {
    size_t n_weights = 0, n_qweights = 0, n_scales = 0, n_biases = 0, n_sizes = 0;
    m_.weights = t.get<Real>("weights", &n_weights);
    m_.qweights = t.get<int8_t>("qweights", &n_qweights);
    m_.scales = t.get<float>("scales", &n_scales);
    m_.biases = t.get<Real>("biases", &n_biases);
    m_.sizes = t.get<uint32_t>("sizes", &n_sizes);
    m_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    m_.n_layers = static_cast<uint32_t>(f.get("n_layers", UINT32_MAX));
    m_.n_outputs = static_cast<uint32_t>(f.get("n_outputs", UINT32_MAX));
    m_.max_width = static_cast<uint32_t>(f.get("max_width", UINT32_MAX));
    m_.hidden_activation = static_cast<uint8_t>(f.get("hidden_activation", UINT8_MAX));
    m_.output_activation = static_cast<uint8_t>(f.get("output_activation", UINT8_MAX));
    m_.weight_type = weight_type;
    check_status(emlearn_gen::mlp_validate(m_, n_weights, n_qweights, n_scales, n_biases, n_sizes),
                 "invalid mlp model");
  }

  uint32_t n_features() const override { return m_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::mlp_model_t<Real> m = m_;
    const size_t floats = width * sizeof(float);
    if (name == "predict" && kind == output_kind::int_scalar) {
      return with_scratch(m, sizeof(int32_t), [m](const float* x, Real* a, Real* b, void* out) {
        *static_cast<int32_t*>(out) = emlearn_gen::mlp_label(m, x, a, b);
      });
    }
    if (name == "predict" && kind == output_kind::int_vector && width == m.n_outputs) {
      return with_scratch(m, width * sizeof(int32_t), [m](const float* x, Real* a, Real* b, void* out) {
        emlearn_gen::mlp_indicator(m, x, a, b, static_cast<int32_t*>(out));
      });
    }
    if (kind == output_kind::float_vector) {
      if (name == "predict" && width == m.n_outputs) {
        return with_scratch(m, floats, [m](const float* x, Real* a, Real* b, void* out) {
          emlearn_gen::mlp_predict(m, x, a, b, static_cast<float*>(out));
        });
      }
      if (name == "predict_proba" && width == (m.n_outputs == 1u ? 2u : m.n_outputs)) {
        return with_scratch(m, floats, [m](const float* x, Real* a, Real* b, void* out) {
          emlearn_gen::mlp_proba(m, x, a, b, static_cast<float*>(out));
        });
      }
    }
    throw std::invalid_argument("the mlp kernel has no entry point '" + name + "' of " + kind_name(kind) +
                                " output and width " + std::to_string(width));
  }

 private:
  emlearn_gen::mlp_model_t<Real> m_{};
};

std::unique_ptr<kernel> make_mlp(tables& t, fields& f) {
  const uint8_t weight_type = static_cast<uint8_t>(f.get("weight_type", UINT8_MAX));
  if (weight_type == emlearn_gen::mlp_weights::float64) {
    return std::unique_ptr<kernel>(new mlp_kernel<double>(t, f, weight_type));
  }
  return std::unique_ptr<kernel>(new mlp_kernel<float>(t, f, weight_type));
}

const kernel_registration registration("mlp", &make_mlp, EMLEARN_GEN_MLP_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
