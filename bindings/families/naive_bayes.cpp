// Host kernel of the naive Bayes family: runtime/include/emlearn_gen/naive_bayes.hpp
// over the tables of emlearn_gen/families/naive_bayes/.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/naive_bayes.hpp"

namespace emlearn_gen_host {
namespace {

class naive_bayes_kernel : public kernel {
 public:
  naive_bayes_kernel(tables& t, fields& f) {
    size_t n_weights = 0, n_means = 0, n_constants = 0, n_categories = 0, n_thresholds = 0;
    m_.weights = t.get<float>("weights", &n_weights);
    m_.means = t.get<float>("means", &n_means);
    m_.constants = t.get<float>("constants", &n_constants);
    m_.categories = t.get<int16_t>("categories", &n_categories);
    m_.thresholds = t.get<float>("thresholds", &n_thresholds);
    m_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    m_.n_classes = static_cast<uint32_t>(f.get("n_classes", UINT32_MAX));
    m_.kind = static_cast<uint8_t>(f.get("kind", UINT8_MAX));
    check_status(emlearn_gen::naive_bayes_validate(m_, n_weights, n_means, n_constants, n_categories,
                                                   n_thresholds),
                 "invalid naive Bayes model");
  }

  uint32_t n_features() const override { return m_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::naive_bayes_model m = m_;
    const size_t floats = width * sizeof(float);
    if (name == "predict" && kind == output_kind::int_scalar) {
      return [m](const float* X, size_t n, void* out) {
        std::vector<float> jll(m.n_classes);
        int32_t* y = static_cast<int32_t*>(out);
        for (size_t i = 0; i < n; ++i) {
          y[i] = emlearn_gen::naive_bayes_label(m, X + i * m.n_features, jll.data());
        }
      };
    }
    if (kind == output_kind::float_vector && width == m.n_classes) {
      if (name == "predict_joint_log_proba") {
        return per_row(m.n_features, floats, [m](const float* x, void* out) {
          emlearn_gen::naive_bayes_jll(m, x, static_cast<float*>(out));
        });
      }
      if (name == "predict_log_proba") {
        return per_row(m.n_features, floats, [m](const float* x, void* out) {
          emlearn_gen::naive_bayes_log_proba(m, x, static_cast<float*>(out));
        });
      }
      if (name == "predict_proba") {
        return per_row(m.n_features, floats, [m](const float* x, void* out) {
          emlearn_gen::naive_bayes_proba(m, x, static_cast<float*>(out));
        });
      }
    }
    throw std::invalid_argument("the naive_bayes kernel has no entry point '" + name + "' of " +
                                kind_name(kind) + " output and width " + std::to_string(width));
  }

 private:
  emlearn_gen::naive_bayes_model m_{};
};

std::unique_ptr<kernel> make_naive_bayes(tables& t, fields& f) {
  return std::unique_ptr<kernel>(new naive_bayes_kernel(t, f));
}

const kernel_registration registration("naive_bayes", &make_naive_bayes, EMLEARN_GEN_NAIVE_BAYES_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
