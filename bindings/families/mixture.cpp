// Host kernel of the mixture family: runtime/include/emlearn_gen/mixture.hpp
// over the tables of emlearn_gen/families/mixture/ (Gaussian mixtures and
// elliptic envelopes).
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/mixture.hpp"

namespace emlearn_gen_host {
namespace {

class mixture_kernel : public kernel {
 public:
  mixture_kernel(tables& t, fields& f) {
    size_t n_means = 0, n_precisions = 0, n_constants = 0;
    m_.means = t.get<float>("means", &n_means);
    m_.precisions = t.get<float>("precisions", &n_precisions);
    m_.constants = t.get<float>("constants", &n_constants);
    m_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    m_.n_components = static_cast<uint32_t>(f.get("n_components", UINT32_MAX));
    m_.covariance = static_cast<uint8_t>(f.get("covariance", UINT8_MAX));
    envelope_ = f.get("envelope", 1) != 0;
    check_status(emlearn_gen::mixture_validate(m_, n_means, n_precisions, n_constants), "invalid mixture model");
  }

  uint32_t n_features() const override { return m_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::mixture_model m = m_;
    if (envelope_) {
      if (name == "predict" && kind == output_kind::int_scalar) {
        return per_row(m.n_features, sizeof(int32_t), [m](const float* x, void* out) {
          *static_cast<int32_t*>(out) = emlearn_gen::envelope_predict(m, x);
        });
      }
      if (name == "score_samples" && kind == output_kind::float_vector && width == 1) {
        return per_row(m.n_features, sizeof(float), [m](const float* x, void* out) {
          *static_cast<float*>(out) = emlearn_gen::envelope_score(m, x);
        });
      }
      if (name == "decision_function" && kind == output_kind::float_vector && width == 1) {
        return per_row(m.n_features, sizeof(float), [m](const float* x, void* out) {
          *static_cast<float*>(out) = emlearn_gen::envelope_decision(m, x);
        });
      }
    } else {
      if (name == "predict" && kind == output_kind::int_scalar) {
        return [m](const float* X, size_t n, void* out) {
          std::vector<float> scratch(m.n_components);
          int32_t* y = static_cast<int32_t*>(out);
          for (size_t i = 0; i < n; ++i) {
            y[i] = emlearn_gen::mixture_label(m, X + i * m.n_features, scratch.data());
          }
        };
      }
      if (name == "score_samples" && kind == output_kind::float_vector && width == 1) {
        return [m](const float* X, size_t n, void* out) {
          std::vector<float> scratch(m.n_components);
          float* y = static_cast<float*>(out);
          for (size_t i = 0; i < n; ++i) {
            y[i] = emlearn_gen::mixture_score(m, X + i * m.n_features, scratch.data());
          }
        };
      }
      if (name == "predict_proba" && kind == output_kind::float_vector && width == m.n_components) {
        return per_row(m.n_features, width * sizeof(float), [m](const float* x, void* out) {
          emlearn_gen::mixture_proba(m, x, static_cast<float*>(out));
        });
      }
    }
    throw std::invalid_argument("the mixture kernel has no entry point '" + name + "' of " + kind_name(kind) +
                                " output and width " + std::to_string(width));
  }

 private:
  emlearn_gen::mixture_model m_{};
  bool envelope_ = false;
};

std::unique_ptr<kernel> make_mixture(tables& t, fields& f) {
  return std::unique_ptr<kernel>(new mixture_kernel(t, f));
}

const kernel_registration registration("mixture", &make_mixture, EMLEARN_GEN_MIXTURE_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
