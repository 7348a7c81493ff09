// Host kernel of the svm family: runtime/include/emlearn_gen/svm.hpp over
// the tables of emlearn_gen/families/svm/.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/svm.hpp"

namespace emlearn_gen_host {
namespace {

/// The kernel of a support vector machine whose tables and sums are Real:
/// float (float32 models) or double (float64 models).
template <typename Real>
class svm_kernel_host : public kernel {
 public:
  svm_kernel_host(tables& t, fields& f, uint8_t real_bits) {
    size_t n_sv = 0, n_coef = 0, n_intercepts = 0, n_start = 0, n_params = 0, n_prob_a = 0, n_prob_b = 0;
    m_.support_vectors = t.get<Real>("support_vectors", &n_sv);
    m_.dual_coef = t.get<Real>("dual_coef", &n_coef);
    m_.intercepts = t.get<Real>("intercepts", &n_intercepts);
    m_.class_start = t.get<uint32_t>("class_start", &n_start);
    m_.params = t.get<Real>("params", &n_params);
    m_.prob_a = t.get<Real>("prob_a", &n_prob_a);
    m_.prob_b = t.get<Real>("prob_b", &n_prob_b);
    m_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    m_.n_sv = static_cast<uint32_t>(f.get("n_sv", UINT32_MAX));
    m_.n_classes = static_cast<uint32_t>(f.get("n_classes", UINT32_MAX));
    m_.degree = static_cast<uint32_t>(f.get("degree", UINT32_MAX));
    m_.kernel = static_cast<uint8_t>(f.get("kernel", UINT8_MAX));
    m_.ovr = static_cast<uint8_t>(f.get("ovr", UINT8_MAX));
    m_.break_ties = static_cast<uint8_t>(f.get("break_ties", UINT8_MAX));
    m_.has_proba = static_cast<uint8_t>(f.get("has_proba", UINT8_MAX));
    m_.real_bits = real_bits;
    check_status(emlearn_gen::svm_validate(m_, n_sv, n_coef, n_intercepts, n_start, n_params, n_prob_a, n_prob_b),
                 "invalid svm model");
  }

  uint32_t n_features() const override { return m_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::svm_model_t<Real> m = m_;
    const uint32_t n_decisions = emlearn_gen::svm_n_decisions(m);
    const bool classifier = m.n_classes >= 2u;
    if (name == "predict" && kind == output_kind::int_scalar) {
      if (classifier) {
        return [m, n_decisions](const float* X, size_t n, void* out) {
          std::vector<Real> dec(n_decisions);
          int32_t* y = static_cast<int32_t*>(out);
          for (size_t i = 0; i < n; ++i) {
            y[i] = emlearn_gen::svm_label(m, X + i * m.n_features, dec.data());
          }
        };
      }
      return per_row(m.n_features, sizeof(int32_t), [m](const float* x, void* out) {
        *static_cast<int32_t*>(out) = emlearn_gen::svm_outlier(m, x);
      });
    }
    if (kind == output_kind::float_vector) {
      if (classifier && name == "decision_function" && width == (m.n_classes == 2u ? 1u : m.ovr ? m.n_classes : n_decisions)) {
        return [m, n_decisions, width](const float* X, size_t n, void* out) {
          std::vector<Real> dec(n_decisions);
          float* values = static_cast<float*>(out);
          for (size_t i = 0; i < n; ++i) {
            emlearn_gen::svm_decisions(m, X + i * m.n_features, dec.data());
            emlearn_gen::svm_decision_function(m, dec.data(), values + i * width);
          }
        };
      }
      if (classifier && m.has_proba && name == "predict_proba" && width == m.n_classes) {
        return [m, n_decisions](const float* X, size_t n, void* out) {
          std::vector<Real> dec(n_decisions);
          std::vector<Real> scratch(emlearn_gen::svm_proba_scratch(m));
          float* proba = static_cast<float*>(out);
          for (size_t i = 0; i < n; ++i) {
            emlearn_gen::svm_decisions(m, X + i * m.n_features, dec.data());
            emlearn_gen::svm_proba(m, dec.data(), scratch.data(), proba + i * m.n_classes);
          }
        };
      }
      if (!classifier && width == 1u && (name == "predict" || name == "decision_function")) {
        return per_row(m.n_features, sizeof(float), [m](const float* x, void* out) {
          *static_cast<float*>(out) = emlearn_gen::svm_value(m, x);
        });
      }
      if (!classifier && width == 1u && name == "score_samples") {
        return per_row(m.n_features, sizeof(float), [m](const float* x, void* out) {
          *static_cast<float*>(out) = emlearn_gen::svm_score(m, x);
        });
      }
    }
    throw std::invalid_argument("the svm kernel has no entry point '" + name + "' of " + kind_name(kind) +
                                " output and width " + std::to_string(width));
  }

 private:
  emlearn_gen::svm_model_t<Real> m_{};
};

std::unique_ptr<kernel> make_svm(tables& t, fields& f) {
  const uint8_t real_bits = static_cast<uint8_t>(f.get("real_bits", UINT8_MAX));
  if (real_bits == 64u) {
    return std::unique_ptr<kernel>(new svm_kernel_host<double>(t, f, real_bits));
  }
  return std::unique_ptr<kernel>(new svm_kernel_host<float>(t, f, real_bits));
}

const kernel_registration registration("svm", &make_svm, EMLEARN_GEN_SVM_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
