// Host kernel of the linear family: runtime/include/emlearn_gen/linear.hpp
// over the tables of emlearn_gen/families/linear/.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/linear.hpp"

namespace emlearn_gen_host {
namespace {

class linear_kernel : public kernel {
 public:
  linear_kernel(tables& t, fields& f) {
    size_t n_weights = 0, n_intercepts = 0;
    m_.weights = t.get<float>("weights", &n_weights);
    m_.intercepts = t.get<float>("intercepts", &n_intercepts);
    m_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    m_.n_scores = static_cast<uint32_t>(f.get("n_scores", UINT32_MAX));
    m_.link = static_cast<uint8_t>(f.get("link", UINT8_MAX));
    check_status(emlearn_gen::linear_validate(m_, n_weights, n_intercepts), "invalid linear model");
  }

  uint32_t n_features() const override { return m_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::linear_model m = m_;
    const size_t floats = width * sizeof(float);
    if (name == "predict" && kind == output_kind::int_scalar) {
      return [m](const float* X, size_t n, void* out) {
        std::vector<float> scores(m.n_scores);
        int32_t* y = static_cast<int32_t*>(out);
        for (size_t i = 0; i < n; ++i) {
          y[i] = emlearn_gen::linear_label(m, X + i * m.n_features, scores.data());
        }
      };
    }
    if (kind == output_kind::float_vector) {
      if (name == "decision_function" && width == m.n_scores) {
        return per_row(m.n_features, floats, [m](const float* x, void* out) {
          emlearn_gen::linear_scores(m, x, static_cast<float*>(out));
        });
      }
      if (name == "predict_proba" && width == emlearn_gen::linear_n_classes(m)) {
        return per_row(m.n_features, floats, [m](const float* x, void* out) {
          emlearn_gen::linear_proba(m, x, static_cast<float*>(out));
        });
      }
      if (name == "predict" && width == m.n_scores) {
        return per_row(m.n_features, floats, [m](const float* x, void* out) {
          emlearn_gen::linear_predict(m, x, static_cast<float*>(out));
        });
      }
    }
    throw std::invalid_argument("the linear kernel has no entry point '" + name + "' of " +
                                kind_name(kind) + " output and width " + std::to_string(width));
  }

 private:
  emlearn_gen::linear_model m_{};
};

std::unique_ptr<kernel> make_linear(tables& t, fields& f) {
  return std::unique_ptr<kernel>(new linear_kernel(t, f));
}

const kernel_registration registration("linear", &make_linear, EMLEARN_GEN_LINEAR_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
