// Host kernel of the neighbors family: runtime/include/emlearn_gen/neighbors.hpp
// over the tables of emlearn_gen/families/neighbors/.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/neighbors.hpp"

namespace emlearn_gen_host {
namespace {

namespace kind_ = emlearn_gen::neighbors_kind;

class neighbors_kernel : public kernel {
 public:
  neighbors_kernel(tables& t, fields& f) {
    size_t n_points = 0, n_qpoints = 0, n_qscales = 0, n_qoffsets = 0, n_labels = 0, n_targets = 0;
    size_t n_kdist = 0, n_lrd = 0, n_scaled = 0, n_stds = 0, n_priors = 0, n_params = 0;
    m_.points = t.get<float>("points", &n_points);
    m_.qpoints = t.get<int16_t>("qpoints", &n_qpoints);
    m_.qscales = t.get<float>("qscales", &n_qscales);
    m_.qoffsets = t.get<float>("qoffsets", &n_qoffsets);
    m_.labels = t.get<int16_t>("labels", &n_labels);
    m_.targets = t.get<float>("targets", &n_targets);
    m_.kdist = t.get<float>("kdist", &n_kdist);
    m_.lrd = t.get<float>("lrd", &n_lrd);
    m_.scaled_points = t.get<float>("scaled_points", &n_scaled);
    m_.stds = t.get<float>("stds", &n_stds);
    m_.priors = t.get<float>("priors", &n_priors);
    m_.params = t.get<float>("params", &n_params);
    m_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    m_.n_points = static_cast<uint32_t>(f.get("n_points", UINT32_MAX));
    m_.n_classes = static_cast<uint32_t>(f.get("n_classes", UINT32_MAX));
    m_.n_outputs = static_cast<uint32_t>(f.get("n_outputs", UINT32_MAX));
    m_.k = static_cast<uint32_t>(f.get("k", UINT32_MAX));
    m_.outlier_class = static_cast<uint32_t>(f.get("outlier_class", UINT32_MAX));
    m_.kind = static_cast<uint8_t>(f.get("kind", UINT8_MAX));
    m_.metric = static_cast<uint8_t>(f.get("metric", UINT8_MAX));
    m_.weighting = static_cast<uint8_t>(f.get("weighting", UINT8_MAX));
    m_.storage = static_cast<uint8_t>(f.get("storage", UINT8_MAX));
    m_.use_priors = static_cast<uint8_t>(f.get("use_priors", 1));
    check_status(emlearn_gen::neighbors_validate(m_, n_points, n_qpoints, n_qscales, n_qoffsets, n_labels,
                                                 n_targets, n_kdist, n_lrd, n_scaled, n_stds, n_priors,
                                                 n_params),
                 "invalid neighbors model");
  }

  uint32_t n_features() const override { return m_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::neighbors_model m = m_;
    const size_t floats = width * sizeof(float);
    // Scratch as the header keeps it: k best distances and indices, and a
    // vote or score per class, or x / std (centroid).
    const size_t k = m.k > 0u ? m.k : 1u;
    const size_t classes = m.n_classes > 0u ? m.n_classes : 1u;
    if (kind == output_kind::int_scalar && name == "predict") {
      switch (m.kind) {
        case kind_::knn_classifier:
          return per_row_scratch(m, k, classes, [](const emlearn_gen::neighbors_model& mm, const float* x,
                                                    float* best, uint32_t* index, float* votes, void* out) {
            *static_cast<int32_t*>(out) = emlearn_gen::knn_label(mm, x, best, index, votes);
          }, sizeof(int32_t));
        case kind_::radius_classifier:
          return per_row_scratch(m, 1, classes, [](const emlearn_gen::neighbors_model& mm, const float* x, float*,
                                                    uint32_t*, float* votes, void* out) {
            *static_cast<int32_t*>(out) = emlearn_gen::radius_label(mm, x, votes);
          }, sizeof(int32_t));
        case kind_::centroid:
          return per_row_scratch(m, m.n_features, classes, [](const emlearn_gen::neighbors_model& mm, const float* x,
                                                               float* xs, uint32_t*, float* scores, void* out) {
            *static_cast<int32_t*>(out) = emlearn_gen::centroid_label(mm, x, xs, scores);
          }, sizeof(int32_t));
        case kind_::lof:
          return per_row_scratch(m, k, 1, [](const emlearn_gen::neighbors_model& mm, const float* x, float* best,
                                              uint32_t* index, float*, void* out) {
            *static_cast<int32_t*>(out) = emlearn_gen::lof_predict(mm, x, best, index);
          }, sizeof(int32_t));
        default:
          break;
      }
    }
    if (kind == output_kind::float_vector) {
      const bool classifier = m.kind == kind_::knn_classifier || m.kind == kind_::radius_classifier ||
                              m.kind == kind_::centroid;
      if (classifier && name == "predict_proba" && width == m.n_classes) {
        if (m.kind == kind_::knn_classifier) {
          return per_row_scratch(m, k, 1, [](const emlearn_gen::neighbors_model& mm, const float* x, float* best,
                                              uint32_t* index, float*, void* out) {
            emlearn_gen::knn_proba(mm, x, best, index, static_cast<float*>(out));
          }, floats);
        }
        if (m.kind == kind_::radius_classifier) {
          return per_row(m.n_features, floats, [m](const float* x, void* out) {
            emlearn_gen::radius_proba(m, x, static_cast<float*>(out));
          });
        }
        return per_row_scratch(m, m.n_features, 1, [](const emlearn_gen::neighbors_model& mm, const float* x,
                                                       float* xs, uint32_t*, float*, void* out) {
          emlearn_gen::centroid_proba(mm, x, xs, static_cast<float*>(out));
        }, floats);
      }
      if (m.kind == kind_::centroid && name == "decision_function" &&
          width == (m.n_classes == 2u ? 1u : m.n_classes)) {
        return per_row_scratch(m, m.n_features, classes, [](const emlearn_gen::neighbors_model& mm, const float* x,
                                                             float* xs, uint32_t*, float* scores, void* out) {
          emlearn_gen::centroid_decision(mm, x, xs, scores, static_cast<float*>(out));
        }, floats);
      }
      if (m.kind == kind_::knn_regressor && name == "predict" && width == m.n_outputs) {
        return per_row_scratch(m, k, 1, [](const emlearn_gen::neighbors_model& mm, const float* x, float* best,
                                            uint32_t* index, float*, void* out) {
          emlearn_gen::knn_predict(mm, x, best, index, static_cast<float*>(out));
        }, floats);
      }
      if (m.kind == kind_::radius_regressor && name == "predict" && width == m.n_outputs) {
        return per_row(m.n_features, floats, [m](const float* x, void* out) {
          emlearn_gen::radius_predict(m, x, static_cast<float*>(out));
        });
      }
      if (m.kind == kind_::lof && width == 1u && (name == "score_samples" || name == "decision_function")) {
        const bool decision = name == "decision_function";
        return [m, k, decision](const float* X, size_t n, void* out) {
          std::vector<float> best(k);
          std::vector<uint32_t> index(k);
          float* values = static_cast<float*>(out);
          for (size_t i = 0; i < n; ++i) {
            const float* x = X + i * m.n_features;
            values[i] = decision ? emlearn_gen::lof_decision(m, x, best.data(), index.data())
                                 : emlearn_gen::lof_score(m, x, best.data(), index.data());
          }
        };
      }
    }
    throw std::invalid_argument("the neighbors kernel has no entry point '" + name + "' of " + kind_name(kind) +
                                " output and width " + std::to_string(width));
  }

 private:
  typedef void (*row_fn)(const emlearn_gen::neighbors_model&, const float*, float*, uint32_t*, float*, void*);

  // Runs `fn` on each row with scratch of `n_first` floats and indices and
  // `n_second` floats, allocated once per batch.
  static entry_function per_row_scratch(const emlearn_gen::neighbors_model& m, size_t n_first, size_t n_second,
                                        row_fn fn, size_t out_stride) {
    return [m, n_first, n_second, fn, out_stride](const float* X, size_t n, void* out) {
      std::vector<float> first(n_first), second(n_second);
      std::vector<uint32_t> index(n_first);
      for (size_t i = 0; i < n; ++i) {
        fn(m, X + i * m.n_features, first.data(), index.data(), second.data(),
           static_cast<char*>(out) + i * out_stride);
      }
    };
  }

  emlearn_gen::neighbors_model m_{};
};

std::unique_ptr<kernel> make_neighbors(tables& t, fields& f) {
  return std::unique_ptr<kernel>(new neighbors_kernel(t, f));
}

const kernel_registration registration("neighbors", &make_neighbors, EMLEARN_GEN_NEIGHBORS_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
