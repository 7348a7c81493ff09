// Host kernel of the trees family: runtime/include/emlearn_gen/tree_ensemble.hpp
// over the tables of emlearn_gen/families/trees/pack.py.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/tree_ensemble.hpp"

namespace emlearn_gen_host {
namespace {

template <typename Real, typename Word>
class tree_kernel : public kernel {
 public:
  tree_kernel(tables& t, fields& f) {
    size_t n_nodes_bytes = 0, n_thresholds = 0, n_values = 0, n_codes_bytes = 0, n_roots_bytes = 0;
    f_.nodes = t.get<uint8_t>("nodes", &n_nodes_bytes);
    f_.thresholds = t.get<float>("thresholds", &n_thresholds);
    f_.leaves = t.get<Real>("leaves", &n_values);
    f_.leaf_codes = t.get<uint8_t>("leaf_codes", &n_codes_bytes);
    f_.roots = t.get<uint8_t>("roots", &n_roots_bytes);
    size_t n_real_constants = 0, n_float_constants = 0;
    f_.real_constants = t.get<Real>("real_constants", &n_real_constants);
    f_.float_constants = t.get<float>("float_constants", &n_float_constants);
    outlier_ = f.get("outlier", 1) != 0;
    f_.boost = static_cast<uint8_t>(f.get("boost", emlearn_gen::boost_link::samme));
    f_.n_nodes = static_cast<uint32_t>(f.get("n_nodes", UINT32_MAX));
    f_.n_leaves = static_cast<uint32_t>(f.get("n_leaves", UINT32_MAX));
    f_.n_trees = static_cast<uint32_t>(f.get("n_trees", UINT32_MAX));
    f_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    f_.leaf_width = static_cast<uint16_t>(f.get("leaf_width", UINT16_MAX));
    f_.feature_bits = static_cast<uint8_t>(f.get("feature_bits", 63));
    f_.ref_bits = static_cast<uint8_t>(f.get("ref_bits", 63));
    f_.thr_bits = static_cast<uint8_t>(f.get("thr_bits", 63));
    f_.root_bits = static_cast<uint8_t>(f.get("root_bits", 63));
    f_.value_bits = static_cast<uint8_t>(f.get("value_bits", 63));
    f_.n_thresholds = static_cast<uint32_t>(n_thresholds);
    f_.n_values = static_cast<uint32_t>(n_values);
    if (n_thresholds > UINT32_MAX || n_values > UINT32_MAX) {
      throw std::invalid_argument("trees: a table has more than 2**32 - 1 entries");
    }
    check_status(emlearn_gen::forest_validate<Word>(f_, n_nodes_bytes, n_roots_bytes, n_codes_bytes),
                 "invalid packed forest");
    if (f_.boost == emlearn_gen::boost_link::samme && n_real_constants != 1) {
      throw std::invalid_argument("invalid packed forest: AdaBoost needs the sum of its estimator weights");
    }
    if (outlier_ && (n_real_constants != 1 || n_float_constants != 2 || f_.leaf_width != 1)) {
      throw std::invalid_argument("invalid packed forest: an outlier detector needs 1 + 2 score constants and 1 value per leaf");
    }
  }

  uint32_t n_features() const override { return f_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::forest<Real>& f = f_;
    const uint32_t leaf_width = f_.leaf_width;
    if (name == "apply" && kind == output_kind::int_vector && width == f_.n_trees) {
      // Leaf row reached in every tree (host-only, for tests and tools).
      return per_row(f_.n_features, width * sizeof(int32_t), [f](const float* x, void* out) {
        int32_t* y = static_cast<int32_t*>(out);
        for (uint32_t t = 0; t < f.n_trees; ++t) {
          y[t] = static_cast<int32_t>(emlearn_gen::forest_leaf<Word>(f, t, x));
        }
      });
    }
    if (f_.boost != 0) {
      const uint32_t n_classes = f_.boost == emlearn_gen::boost_link::logistic ||
                                         f_.boost == emlearn_gen::boost_link::logistic2x
                                     ? 2u
                                     : leaf_width;
      if (name == "predict" && kind == output_kind::int_scalar && f_.boost != emlearn_gen::boost_link::identity) {
        return [f, leaf_width](const float* X, size_t n, void* out) {
          std::vector<Real> sums(leaf_width);
          for (size_t i = 0; i < n; ++i) {
            static_cast<int32_t*>(out)[i] = emlearn_gen::boost_label<Word>(f, X + i * f.n_features, sums.data());
          }
        };
      }
      const bool samme = f_.boost == emlearn_gen::boost_link::samme;
      const uint32_t n_decision = samme && leaf_width == 2u ? 1u : leaf_width;
      const bool raw = (name == "decision_function" || name == "predict") && width == n_decision;
      const bool proba = name == "predict_proba" && width == n_classes && f_.boost != emlearn_gen::boost_link::identity;
      if (kind == output_kind::float_vector && (raw || proba)) {
        return [f, leaf_width, width, proba](const float* X, size_t n, void* out) {
          std::vector<Real> sums(leaf_width);
          for (size_t i = 0; i < n; ++i) {
            float* y = static_cast<float*>(out) + i * width;
            if (proba) {
              emlearn_gen::boost_proba<Word>(f, X + i * f.n_features, sums.data(), y);
            } else {
              emlearn_gen::boost_raw<Word>(f, X + i * f.n_features, sums.data(), y);
            }
          }
        };
      }
      throw std::invalid_argument("the trees kernel has no boosted entry point '" + name + "' of width " +
                                  std::to_string(width));
    }
    if (outlier_) {
      if (name == "predict" && kind == output_kind::int_scalar) {
        return per_row(f_.n_features, sizeof(int32_t), [f](const float* x, void* out) {
          *static_cast<int32_t*>(out) = emlearn_gen::isolation_predict<Word>(f, x);
        });
      }
      if (name == "score_samples" && kind == output_kind::float_vector && width == 1) {
        return per_row(f_.n_features, sizeof(float), [f](const float* x, void* out) {
          *static_cast<float*>(out) = emlearn_gen::isolation_score<Word>(f, x);
        });
      }
      if (name == "decision_function" && kind == output_kind::float_vector && width == 1) {
        return per_row(f_.n_features, sizeof(float), [f](const float* x, void* out) {
          *static_cast<float*>(out) = emlearn_gen::isolation_decision<Word>(f, x);
        });
      }
    }
    if (width == leaf_width && kind == output_kind::float_vector &&
        (name == "predict" || name == "predict_proba")) {
      // The mean of the leaves, narrowed to float as the header narrows it.
      return [f, leaf_width](const float* X, size_t n, void* out) {
        std::vector<Real> mean(n * leaf_width);
        batch_mean(f, X, n, mean.data());
        float* y = static_cast<float*>(out);
        for (size_t i = 0; i < mean.size(); ++i) y[i] = emlearn_gen::to_float(mean[i]);
      };
    }
    if (name == "predict" && kind == output_kind::int_scalar) {
      // The class a generated classifier's predict() returns.
      return [f, leaf_width](const float* X, size_t n, void* out) {
        std::vector<Real> mean(n * leaf_width);
        batch_mean(f, X, n, mean.data());
        int32_t* y = static_cast<int32_t*>(out);
        for (size_t i = 0; i < n; ++i) {
          y[i] = emlearn_gen::argmax(mean.data() + i * leaf_width, static_cast<int32_t>(leaf_width));
        }
      };
    }
    throw std::invalid_argument("the trees kernel has no entry point '" + name + "' of " +
                                kind_name(kind) + " output and width " + std::to_string(width));
  }

 private:
  static void batch_mean(const emlearn_gen::forest<Real>& f, const float* X, size_t n, Real* out) {
    if (n == 1) {
      emlearn_gen::forest_mean<Word>(f, X, out);  // the header's own entry point
      return;
    }
    for (size_t start = 0; start < n; start += UINT32_MAX) {
      const size_t rows = n - start < UINT32_MAX ? n - start : UINT32_MAX;
      emlearn_gen::forest_mean_batch<Word>(f, X + start * f.n_features, static_cast<uint32_t>(rows),
                                           out + start * f.leaf_width);
    }
  }

  emlearn_gen::forest<Real> f_{};
  bool outlier_ = false;
};

std::unique_ptr<kernel> make_trees(tables& t, fields& f) {
  const uint64_t real_bits = f.get("real_bits", 64);
  const uint64_t word_bits = f.get("word_bits", 64);
  if (word_bits != 32 && word_bits != 64) throw std::invalid_argument("trees: word_bits must be 32 or 64");
  if (real_bits == 32) {
    if (word_bits == 32) return std::unique_ptr<kernel>(new tree_kernel<float, uint32_t>(t, f));
    return std::unique_ptr<kernel>(new tree_kernel<float, uint64_t>(t, f));
  }
  if (real_bits == 64) {
    if (word_bits == 32) return std::unique_ptr<kernel>(new tree_kernel<double, uint32_t>(t, f));
    return std::unique_ptr<kernel>(new tree_kernel<double, uint64_t>(t, f));
  }
  throw std::invalid_argument("trees: real_bits must be 32 or 64");
}

const kernel_registration registration("trees", &make_trees, EMLEARN_GEN_TREES_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
